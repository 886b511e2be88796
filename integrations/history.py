"""An integration's history: its steps' changes and its own events, merged, newest first.

``MergedHistory`` reads lazily, as a queryset does: ``count()`` counts both sources (two
queries) and a slice reads each source only up to the slice's end (two queries) before merging,
so a page costs the same whatever the length of the history. Django's ``Paginator`` (the admin,
the pages) and DRF's pagination (the API) take it as they take a queryset.
"""

from integrations.models import IntegrationEvent


def newest_first(row) -> tuple:
    """Sort key: newest first; within one instant (a kick-off writes one event and a row a step),
    the integration's event first, then the steps' rows in the order they were written."""
    return (-row.at.timestamp(), 0 if isinstance(row, IntegrationEvent) else 1, row.pk)


class MergedHistory:
    def __init__(self, step_changes, events=None):
        self.step_changes = step_changes.select_related("step", "by")
        self.events = events.select_related("by") if events is not None else None

    def count(self) -> int:
        return self.step_changes.count() + (self.events.count() if self.events is not None else 0)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if isinstance(key, int):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        if stop is None:
            stop = self.count()
        rows = list(self.step_changes.order_by("-at", "id")[:stop])
        if self.events is not None:
            rows += list(self.events.order_by("-at", "id")[:stop])
        rows.sort(key=newest_first)
        return rows[start:stop]
