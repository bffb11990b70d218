"""The portable subset: what the warehouse SQL may contain, checked on its sqlglot tree.

A study of the audit's SQL on PostgreSQL and Spark found constructs that fail and, worse,
constructs that run and answer differently (docs/warehouse.md). The portable statements are
therefore written in a small subset that means the same on every engine sqlglot renders it for:
plain SELECTs with CTEs (recursive ones too), joins with ON, GROUP BY, UNION ALL, window
functions for numbering and minimums, CASE, COALESCE, casts to a few types, arithmetic where a
division always divides a DOUBLE, and the macros of auditor/warehouse/dialects.py for
everything engines disagree on (time, regular expressions, NULL-skipping least/greatest,
collation). No lists, lambdas, structs, ASOF, EXCLUDE, FILTER, QUALIFY, USING, regular
expressions or date functions outside a macro. `check` refuses anything else, naming it.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from auditor.warehouse.dialects import MACROS

READ = ""  # the portable text is parsed in sqlglot's neutral dialect

ALLOWED: tuple[type[exp.Expression], ...] = (
    # statements and clauses
    exp.Select, exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.With, exp.CTE,
    exp.Union, exp.Subquery, exp.Table, exp.TableAlias, exp.Alias, exp.Order, exp.Ordered,
    exp.Window, exp.WindowSpec, exp.Star, exp.Column, exp.Identifier, exp.Tuple,
    # values and operators
    exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Not, exp.And, exp.Or, exp.EQ, exp.NEQ,
    exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.NullSafeNEQ, exp.NullSafeEQ, exp.In,
    exp.Between, exp.Like, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe,
    exp.Case, exp.If, exp.Cast, exp.DataType, exp.DataTypeParam,
    # functions that mean the same everywhere
    exp.Coalesce, exp.Nullif, exp.Count, exp.Min, exp.Max, exp.Sum, exp.RowNumber,
    exp.Substring, exp.Length, exp.Trim, exp.Floor, exp.Ceil, exp.Abs,
    exp.Replace,  # a plain substring replacement everywhere (no patterns)
)
CAST_TYPES = frozenset({
    exp.DataType.Type.BIGINT, exp.DataType.Type.INT, exp.DataType.Type.DOUBLE,
    exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DECIMAL, exp.DataType.Type.DATE,
})
JOIN_KINDS = frozenset({"", "INNER", "LEFT", "FULL", "CROSS"})


class NotPortable(ValueError):
    """A construct outside the portable subset."""


def parse(sql: str) -> exp.Expression:
    """Parse one portable statement or expression and check it."""
    tree = sqlglot.parse_one(sql, read=READ)
    check(tree)
    return tree


def check(tree: exp.Expression) -> None:
    """Raise NotPortable naming the first construct outside the subset."""
    for node in tree.walk():
        _check_node(node)


def _check_node(node: exp.Expression) -> None:
    if isinstance(node, exp.Anonymous):
        if node.name.upper() not in MACROS:
            raise NotPortable(f"function '{node.name}' is not in the portable subset")
        return
    if not isinstance(node, ALLOWED):
        raise NotPortable(f"'{_snippet(node)}' ({type(node).__name__}) is not in the portable "
                          "subset")
    if isinstance(node, exp.Join):
        _check_join(node)
    elif isinstance(node, exp.Cast):
        _check_cast(node)
    elif isinstance(node, exp.Div) and not _is_double(node.this):
        raise NotPortable(f"'{_snippet(node)}': a division must divide CAST(... AS DOUBLE) "
                          "(integer division differs per engine)")
    elif isinstance(node, exp.Select):
        _check_select(node)
    elif isinstance(node, exp.Like) and "\\" in node.expression.sql():
        raise NotPortable(f"'{_snippet(node)}': LIKE escapes differ per engine")
    elif isinstance(node, exp.Union) and node.args.get("distinct"):
        raise NotPortable(f"'{_snippet(node)}': only UNION ALL")
    elif isinstance(node, exp.Window) and not isinstance(
            node.this, exp.RowNumber | exp.Min | exp.Max | exp.Count | exp.Sum):
        raise NotPortable(f"'{_snippet(node)}': window functions are row_number, min, max, "
                          "count and sum")
    elif isinstance(node, exp.Star) and any(
            node.args.get(k) for k in ("except", "except_", "replace", "rename")):
        raise NotPortable(f"'{_snippet(node)}': no EXCLUDE / REPLACE")


def _check_join(node: exp.Join) -> None:
    kind = (node.side or node.kind or "").upper()
    if node.args.get("method"):  # ASOF, POSITIONAL, ...
        raise NotPortable(f"'{_snippet(node)}': {node.args['method']} joins are not portable")
    if node.args.get("using"):
        raise NotPortable(f"'{_snippet(node)}': join with ON, not USING")
    if kind not in JOIN_KINDS or node.kind and node.kind.upper() not in ("INNER", "OUTER", "CROSS"):
        raise NotPortable(f"'{_snippet(node)}': {kind or node.kind} joins are not portable")
    if kind != "CROSS" and node.args.get("on") is None:
        raise NotPortable(f"'{_snippet(node)}': a join needs ON")


def _check_cast(node: exp.Cast) -> None:
    target = node.to
    if target.this not in CAST_TYPES or target.expressions and target.this != \
            exp.DataType.Type.DECIMAL:
        raise NotPortable(f"'{_snippet(node)}': casts are to BIGINT, INT, DOUBLE, VARCHAR, "
                          "BOOLEAN, TIMESTAMP or DECIMAL(p, s)")
    if node.args.get("safe") or isinstance(node, exp.TryCast):
        raise NotPortable(f"'{_snippet(node)}': TRY_CAST is not portable")


def _check_select(node: exp.Select) -> None:
    for key in ("qualify", "limit", "offset", "distinct", "sample", "laterals", "pivots"):
        if node.args.get(key):
            raise NotPortable(f"'{_snippet(node)[:60]}...': {key.upper()} is not portable")


def _is_double(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DOUBLE


def _snippet(node: exp.Expression) -> str:
    text = node.sql(dialect=READ)
    return text if len(text) <= 80 else text[:77] + "..."
