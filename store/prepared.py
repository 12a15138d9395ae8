"""The submission's statements, compiled once and run on the driver's own cursor.

A citizen's report is seven statements in one transaction on the SQLite writer thread, the one
thread every report in the process waits for. SQLAlchemy spent 50 to 100 µs executing each of
them (the cache key, the compiled-cache look-up, parameters processed through its layers, a
result object), twenty times what SQLite took to run them: most of a submission's CPU
(bench/load.py --profile). Here a statement stays a SQLAlchemy construct, written once for both
databases, and is compiled once per database and shape of its parameters; running it passes
the parameters through the same bind processors SQLAlchemy would (UTC datetimes, booleans) to
the driver's cursor in the connection's own transaction.

Only for what needs no translation back: the rows come as the driver gives them, so a
statement whose result columns SQLAlchemy would convert (a datetime on SQLite, say) is refused
when first compiled, rather than handing back text where a datetime was meant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, bindparam
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

# Well below SQLite's 32,766 parameters even for the widest table.
_ROWS_PER_INSERT = 50


def _row_name(key: str, row: int) -> str:
    return f"{key}__{row}"


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    # The values the statement carries itself (`role == "coordinator"`), by name.
    constants: Mapping[str, Any]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        constants = self.constants
        return [
            value if process is None else process(value)
            for value, process in zip(
                (values[n] if n in values else constants[n] for n in self.names),
                self.processors,
                strict=True,
            )
        ]


class Prepared:
    """`statement`, run straight on the driver. Expanding IN lists are compiled per length."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, tuple[str, ...], tuple[int, ...]], _Plan] = {}
        # A plain INSERT takes many rows as one statement of many VALUES, one per keys and
        # number of rows. Not with ON CONFLICT DO UPDATE: it refuses two rows of one statement
        # on the same key.
        self._many_values = (
            isinstance(statement, Insert)
            and not statement._multi_values
            and not statement._values
            and statement._returning == ()
            and statement._post_values_clause is None
        )
        self._row_statements: dict[tuple[tuple[str, ...], int], Prepared] = {}

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows (RETURNING's too), as tuples in the select's order."""
        plan = self._plan(conn, values)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(plan.sql, plan.parameters(values))
            found: list[tuple[Any, ...]] = (
                [tuple(row) for row in cursor.fetchall()] if cursor.description else []
            )
            return found
        finally:
            cursor.close()

    def first(self, conn: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(conn, values)
        return found[0] if found else None

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """All `rows`, for statements that return nothing; all rows must have the keys of the
        first. A plain INSERT takes them in one statement of many VALUES (compiled once per
        number of rows): on PostgreSQL every execution is a round trip to the server, and
        asyncpg's executemany cost more than the insert itself."""
        if not rows:
            return
        if len(rows) == 1:
            self.rows(conn, rows[0])
            return
        if not self._many_values:
            plan = self._plan(conn, rows[0])
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(plan.sql, [plan.parameters(row) for row in rows])
            finally:
                cursor.close()
            return
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            keys = tuple(chunk[0])
            shape = (keys, len(chunk))
            statement = self._row_statements.get(shape)
            if statement is None:
                statement = self._row_statements[shape] = self._rows_statement(*shape)
            statement.rows(
                conn, {_row_name(key, i): row[key] for i, row in enumerate(chunk) for key in keys}
            )

    def _rows_statement(self, keys: tuple[str, ...], count: int) -> Prepared:
        statement = self.statement
        assert isinstance(statement, Insert)
        columns = statement.table.c
        # Typed: only the first row's parameters would take their column's type by themselves,
        # and the rest would skip its conversion (UTC datetimes, booleans).
        return Prepared(
            statement.values(
                [
                    {key: bindparam(_row_name(key, i), type_=columns[key].type) for key in keys}
                    for i in range(count)
                ]
            )
        )

    def _plan(self, conn: Connection, values: Mapping[str, Any]) -> _Plan:
        lengths = tuple(len(v) for v in values.values() if isinstance(v, list | tuple))
        key = (conn.dialect.name, tuple(values), lengths)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(conn, values)
        return plan

    def _compile(self, conn: Connection, values: Mapping[str, Any]) -> _Plan:
        compiled = self.statement.compile(dialect=conn.dialect, column_keys=list(values))
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            raise TypeError("only positional SQL statements can be prepared")
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Column defaults SQLAlchemy computes in Python would be left out.
            raise TypeError("every column with a Python default must be given a value")
        for column in compiled._result_columns:
            if column[3]._cached_result_processor(conn.dialect, None) is not None:
                raise TypeError(f"result column {column[0]!r} would need converting")
        if compiled.literal_execute_params or compiled.post_compile_params:
            # Expanding IN lists: the statement for lists of these lengths, its own names.
            expanded = compiled.construct_expanded_state(dict(values), escape_names=False)
            names: Sequence[str] = expanded.positiontup or ()
            sql = expanded.statement
            expansion = {
                expanded_name: original
                for original, expanded_names in expanded.parameter_expansion.items()
                for expanded_name in expanded_names
            }
            return _ExpandedPlan(
                sql,
                tuple(names),
                _processors(expanded.processors, names, expansion),
                _constants(compiled, names, values),
                expansion,
            )
        names = compiled.positiontup
        return _Plan(
            str(compiled),
            tuple(names),
            _processors(compiled._bind_processors, names, {}),
            _constants(compiled, names, values),
        )


def _processors(
    found: Mapping[str, Any], names: Sequence[str], expansion: Mapping[str, str]
) -> tuple[Callable[[Any], Any] | None, ...]:
    chosen = [found.get(n) or found.get(expansion.get(n, n)) for n in names]
    if not all(p is None or callable(p) for p in chosen):
        raise TypeError("tuple parameters cannot be prepared")
    return tuple(chosen)


def _constants(
    compiled: SQLCompiler, names: Sequence[str], values: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        name: compiled.binds[name].effective_value
        for name in names
        if name not in values and name in compiled.binds
    }


@dataclass(frozen=True)
class _ExpandedPlan(_Plan):
    expansion: Mapping[str, str]

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        # Each expanded name stands for one item of its list, in order.
        out: list[Any] = []
        seen: dict[str, int] = {}
        for name, process in zip(self.names, self.processors, strict=True):
            original = self.expansion.get(name)
            if original is None:
                value = values[name] if name in values else self.constants[name]
            else:
                index = seen.get(original, 0)
                seen[original] = index + 1
                value = values[original][index]
            out.append(value if process is None else process(value))
        return out
