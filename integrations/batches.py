"""Walking many rows a batch at a time, so a sweep's queries grow with its batches, not its rows.

The daily sweeps (the stored standing, the reminders, the weekly digest) each read every running
integration with its steps and events. Loading them all at once holds the whole portfolio in
memory; loading them one by one costs queries per integration. ``in_batches`` reads them
``size`` at a time, each batch with the queryset's ``select_related`` and ``prefetch_related``.
"""

from collections.abc import Callable, Iterator

from django.db.models import QuerySet


def in_batches(
    queryset: QuerySet, size: int = 500, progress_to: Callable[[int, int], None] | None = None
) -> Iterator[list]:
    """Yield the rows of ``queryset`` as lists of at most ``size``, in primary-key order.

    One query lists the matching keys first; then each batch costs one query plus one per
    prefetched relation, however many rows it holds. A batch is read with ``queryset``'s filters
    again, so a row that stopped matching since the keys were listed is left out.
    ``progress_to(done, total)`` is called each time the caller has finished with a batch.
    """
    if size < 1:
        raise ValueError(f"A batch holds at least one row, not {size}.")
    keys = list(queryset.prefetch_related(None).order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(keys), size):
        batch = list(queryset.filter(pk__in=keys[start : start + size]).order_by("pk"))
        if batch:
            yield batch
        done += len(batch)
        if progress_to:
            progress_to(done, len(keys))
