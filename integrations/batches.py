"""Walking many rows a batch at a time, so a sweep's queries grow with its batches, not its rows.

The daily sweeps (the stored standing, the reminders, the weekly digest) each read every running
integration with its steps and events. Loading them all at once holds the whole portfolio in
memory; loading them one by one costs queries per integration. ``in_batches`` reads them
``size`` at a time, each batch with the queryset's ``select_related`` and ``prefetch_related``.
``write_changes`` writes a batch's changed columns back in one query; ``insert_rows`` writes a batch's new
rows a statement per ``INSERT_BATCH`` rows; ``update_rows`` writes the given fields of many model instances in one statement.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator

from django.db import connections, router
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    ForeignKey,
    IntegerField,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.constants import OnConflict

INSERT_BATCH = 500  # rows per INSERT statement
# Fields whose Python values (str, int, bool, None) the database drivers take as they are: no adapting per value.
_TAKEN_AS_THEY_ARE = (CharField, TextField, IntegerField, BooleanField, ForeignKey)


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


def insert_rows(model, rows: list[dict], ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` (``{attname: value}``, every row the same names; the other columns get their field's
    default) into ``model``'s table, ``INSERT_BATCH`` rows per statement. With ``ignore_conflicts`` a row
    breaking a unique constraint is left out quietly, as ``bulk_create(ignore_conflicts=True)`` does.

    What ``bulk_create`` writes, without a model instance per row and the compiling of every value of it,
    which were most of a sweep's writing time: each value is adapted only where its field needs it (dates,
    JSON), by the field itself. No ``pre_save`` (``auto_now``) and no signals, as ``bulk_create``.
    """
    if not rows:
        return
    meta, connection = model._meta, connections[router.db_for_write(model)]
    given = list(rows[0])
    fields = [meta.get_field(name) for name in given]
    defaults = [
        (f.column, f.get_db_prep_save(f.get_default(), connection))
        for f in meta.concrete_fields
        if not f.primary_key and f.attname not in given
    ]
    adapt = [None if isinstance(f, _TAKEN_AS_THEY_ARE) else f for f in fields]
    columns = [f.column for f in fields] + [column for column, _ in defaults]
    fixed = [value for _, value in defaults]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = "{} {} ({}) VALUES ({}) {}".format(
        connection.ops.insert_statement(on_conflict=on_conflict),
        connection.ops.quote_name(meta.db_table),
        ", ".join(connection.ops.quote_name(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
        connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or "",
    ).rstrip()
    params = [
        [
            value if field is None or value is None else field.get_db_prep_save(value, connection)
            for field, value in zip(adapt, (row[name] for name in given), strict=True)
        ]
        + fixed
        for row in rows
    ]
    with connection.cursor() as cursor:
        for first in range(0, len(params), INSERT_BATCH):
            cursor.executemany(sql, params[first : first + INSERT_BATCH])


def update_rows(objs, fields: list[str], where: dict | None = None) -> set:
    """Write ``fields`` of each of ``objs`` (instances of one model, saved before) to its row, in one
    ``UPDATE ... FROM (VALUES ...)`` statement; the keys of the rows written.

    ``where`` (``{field name: value}``): only the rows whose columns still hold these values are
    written (a claim still ours), in the same statement. What ``bulk_update(objs, fields)`` writes,
    without its ``CASE WHEN pk = ...`` per row and field, whose building took most of a drain's CPU,
    nor a statement per row for the database to parse and plan. Each value is adapted by its field,
    as ``save`` does (and cast to its column's type on PostgreSQL, where a column of the VALUES list
    would otherwise be text); no ``pre_save`` (``auto_now``) and no signals, as ``bulk_update``.
    SQLite needs 3.35 or later (``RETURNING``); it takes ``max_query_params`` values per statement.
    """
    objs = list({obj.pk: obj for obj in objs}.values())  # a row written twice: its last values, as one after another
    if not objs:
        return set()
    meta = objs[0]._meta
    connection = connections[router.db_for_write(type(objs[0]))]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), meta.pk
    columns = [meta.get_field(name) for name in fields]
    conditions = [(meta.get_field(name), value) for name, value in (where or {}).items()]

    def given(n: int, field) -> str:
        value = f"v.column{n}"
        return f"CAST({value} AS {field.db_type(connection)})" if connection.vendor == "postgresql" else value

    checks = [f"{table}.{quote(pk.column)} = {given(1, pk)}"]
    check_params = []
    for field, value in conditions:
        if value is None:
            checks.append(f"{table}.{quote(field.column)} IS NULL")
        else:
            checks.append(f"{table}.{quote(field.column)} = %s")
            check_params.append(field.get_db_prep_value(value, connection))
    adapt = [None if isinstance(field, _TAKEN_AS_THEY_ARE) else field for field in columns]
    per_row = len(columns) + 1
    most = connection.features.max_query_params
    per_statement = max(1, (most - len(check_params)) // per_row) if most else len(objs)
    written = set()
    with connection.cursor() as cursor:
        for first in range(0, len(objs), per_statement):
            chunk = objs[first : first + per_statement]
            params = []
            for obj in chunk:
                params.append(obj.pk)
                params += [
                    value if field is None or value is None else field.get_db_prep_save(value, connection)
                    for field, value in zip(adapt, (getattr(obj, f.attname) for f in columns), strict=True)
                ]
            row = "({})".format(", ".join(["%s"] * per_row))
            sql = "UPDATE {} SET {} FROM (VALUES {}) AS v WHERE {} RETURNING {}.{}".format(
                table,
                ", ".join(f"{quote(field.column)} = {given(n, field)}" for n, field in enumerate(columns, start=2)),
                ", ".join([row] * len(chunk)),
                " AND ".join(checks),
                table,
                quote(pk.column),
            )
            cursor.execute(sql, params + check_params)
            written.update(key for (key,) in cursor.fetchall())
    return written
