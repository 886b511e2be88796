"""Queries whose SQL is written once per process, then run again with other values.

Making a queryset and compiling it (Django resolving each lookup, join and selected column, then
writing the SQL) cost more CPU than running it on a page-sized answer: the API's token look-up and
its list's count, page ids and rows took about 2 ms of a 5 ms request at 10 integrations, their
SQL's execution a tenth of that. ``CompiledQuery`` makes its queryset once per database with
stand-in values in its parameters' places, keeps the SQL and the compiler (which knows how each
selected column is read back: dates on SQLite, JSON, related objects), and runs it again with the
real values put where the stand-ins were. What comes back is what the queryset would give
(model instances, ``values()`` dicts, ``values_list()`` tuples), as a list; or, from ``tuples()``,
a ``values_list()``'s rows read straight off the cursor (``_Written.tuples``).

Only values that reach the SQL unchanged as parameters can stand in (integers, text compared
exactly); a queryset whose other inputs vary is kept apart by its caller (a key per variant).
"""

import copy
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

try:
    from psycopg import adapters as psycopg_adapters
    from psycopg.pq import Format
except ImportError:  # SQLite alone
    psycopg_adapters = None


class CompiledQuery:
    """``build(*stand_ins)``'s SQL, written once per database; ``rows(*values)`` runs it with ``values``
    in the stand-ins' places and gives the list ``build(*values)`` would.

    Each stand-in must appear exactly once among the compiled SQL's parameters (checked as it is
    written): a value Django transforms on its way into the SQL (a ``LIKE`` pattern, a date on
    SQLite) cannot stand in.
    """

    def __init__(self, build: Callable[..., QuerySet], stand_ins=()):
        self.build, self.stand_ins = build, tuple(stand_ins)
        self._written = {}

    def written(self, using: str = DEFAULT_DB_ALIAS) -> "_Written":
        connection = connections[using]
        key = (using, connection.vendor)
        found = self._written.get(key)
        if found is None:
            found = self._written[key] = _Written(self.build(*self.stand_ins), self.stand_ins, connection)
        return found

    def sql(self, *values, using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
        """The SQL and its parameters for ``values``."""
        written = self.written(using)
        return written.sql, written.params(values)

    def rows(self, *values, using: str = DEFAULT_DB_ALIAS) -> list:
        written = self.written(using)
        return written.run(written.params(values), using)

    def tuples(self, *values, using: str = DEFAULT_DB_ALIAS) -> list:
        """The rows of a ``values_list()`` queryset for ``values``, each a sequence of its columns' values
        as the queryset gives them (``_Written.tuples``)."""
        written = self.written(using)
        return written.tuples(written.params(values), using)


class _Written:
    """A queryset compiled once: its SQL, which of its parameters are stand-ins, its compiler."""

    def __init__(self, queryset: QuerySet, stand_ins: tuple, connection):
        self.queryset = queryset
        self.compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = self.compiler.as_sql()
        # How each selected column is read back, worked out once too (about 36 us for the list's 45 columns).
        self.converters = self.compiler.get_converters([s[0] for s in self.compiler.select[: self.compiler.col_count]])
        self.fixed = list(params)
        self.slots = []  # (position among the parameters, index among the values)
        for index, stand_in in enumerate(stand_ins):
            found = [position for position, value in enumerate(params) if value == stand_in]
            if len(found) != 1:
                raise ValueError(f"The stand-in {stand_in!r} is {len(found)} of the SQL's parameters, not one.")
            self.slots.append((found[0], index))

    def params(self, values) -> list:
        params = self.fixed.copy()
        for position, index in self.slots:
            params[position] = values[index]
        return params

    def run(self, params: list, using: str) -> list:
        template = self.queryset
        query = _WrittenQuery(template.query, self, params, connections[using])
        queryset = type(template)(model=template.model, query=query, using=using, hints=template._hints)
        queryset._iterable_class, queryset._fields = template._iterable_class, template._fields
        return list(template._iterable_class(queryset))

    def tuples(self, params: list, using: str) -> list:
        """The rows off a plain cursor, the columns' converters applied (each row a list when a column has one).

        Django's row readers make each row by name and chunk the fetch; a page's 50 rows need neither.
        On PostgreSQL the cursor reads moments with psycopg's compiled loader: Django's tz-aware loader
        is pure Python (a third of the API list's read). The connection's zone is Django's (set when it
        connects), so each moment is the same instant as Django's own, with that zone's tzinfo.
        """
        connection = connections[using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and psycopg_adapters is not None:
                cursor.cursor.adapters.register_loader(_TIMESTAMPTZ, _COMPILED_MOMENTS)
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            # Column by column (``SQLCompiler.apply_converters`` goes row by row, through a generator).
            rows = [list(row) for row in rows]
            for position, (converters, expression) in self.converters.items():
                for row in rows:
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
        return rows


if psycopg_adapters is not None:
    _TIMESTAMPTZ = psycopg_adapters.types["timestamptz"].oid
    # psycopg's own (compiled with psycopg[binary]), not the one Django registers on its connections.
    _COMPILED_MOMENTS = psycopg_adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class _WrittenQuery:
    """The template's query for Django's row readers (``ModelIterable``, ``ValuesIterable``...), whose compiler
    runs the SQL already written. Only ever iterated at once by ``_Written.run``: it is no queryset to filter."""

    def __init__(self, query, written: _Written, params: list, connection):
        self._query, self._written, self._params, self._connection = query, written, params, connection

    def __getattr__(self, name):
        return getattr(self._query, name)

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        compiler = copy.copy(self._written.compiler)
        compiler.connection = self._connection
        sql, params = self._written.sql, self._params
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        compiler.get_converters = lambda expressions: self._written.converters
        return compiler
