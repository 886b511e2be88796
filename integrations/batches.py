"""Walking many rows a batch at a time, so a sweep's queries grow with its batches, not its rows.

The daily sweeps (the stored standing, the reminders, the weekly digest) each read every running
integration with its steps and events. Loading them all at once holds the whole portfolio in
memory; loading them one by one costs queries per integration. ``in_batches`` reads them
``size`` at a time, each batch with the queryset's ``select_related`` and ``prefetch_related``.
``write_changes`` writes a batch's changed columns back in one query.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator

from django.db.models import Case, F, QuerySet, Value, When


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


def write_changes(model, changes: dict[int, dict]) -> int:
    """Write ``{pk: {column attname: new value}}`` into ``model``'s rows in one UPDATE; returns rows written.

    Only the rows and columns given are written, and rows sharing a value share one ``WHEN pk IN (...)``:
    a day's refresh moves few values, and a column's values repeat across a batch (the same dates, the
    same delays). Django's ``bulk_update`` builds one ``WHEN`` per row and column, whose Python cost
    dominated the daily sweeps.
    """
    if not changes:
        return 0
    by_column: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for pk, values in changes.items():
        for name, value in values.items():
            by_column[name][value].append(pk)
    assignments = {}
    for name, groups in by_column.items():
        field = model._meta.get_field(name)
        whens = [When(pk__in=pks, then=Value(value, output_field=field)) for value, pks in groups.items()]
        assignments[field.attname] = Case(*whens, default=F(field.attname), output_field=field)
    return model._base_manager.filter(pk__in=list(changes)).update(**assignments)
