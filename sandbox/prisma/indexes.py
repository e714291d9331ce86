"""Index arguments on PostgreSQL: a field's `sort:`, `length:` and `ops:` inside `@@index([...])`,
`@@unique([...])` and `@@id([...])` (and `sort:`/`length:` on `@unique`/`@id`), and `type:` on `@@index`.
Prisma's rules and messages (checked against its engine), and what they give in SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sandbox.prisma.ast import (
    Argument,
    Attribute,
    ConstantValue,
    Field,
    FunctionCall,
    NumberValue,
    StringValue,
    index_ref_args,
)
from sandbox.prisma.errors import Span

INDEX_TYPES = {
    "BTree": "BTREE",
    "Hash": "HASH",
    "Gist": "GIST",
    "Gin": "GIN",
    "SpGist": "SPGIST",
    "Brin": "BRIN",
}
_BRIN_FAMILIES = [
    "Bit", "VarBit", "Bpchar", "Bytea", "Date", "Float4", "Float8", "Inet", "Int2", "Int4", "Int8",
    "Numeric", "Oid", "Text", "Timestamp", "TimestampTz", "Time", "TimeTz", "Uuid",
]  # fmt: skip
# Prisma's named operator classes -> the index type they belong to.
OPCLASS_INDEX_TYPE: dict[str, str] = {
    "InetOps": "Gist",
    "JsonbOps": "Gin",
    "JsonbPathOps": "Gin",
    "ArrayOps": "Gin",
    "TextOps": "SpGist",
    "InetInclusionOps": "Brin",
    **{
        f"{family}{kind}Ops": "Brin"
        for family in _BRIN_FAMILIES
        for kind in ("MinMax", "Bloom", "MinMaxMulti")
    },
}
_NO_MULTI = {"Bit", "VarBit", "Bpchar", "Bytea", "Text"}  # families without a minmax_multi class
_NO_BLOOM = {"Bit", "VarBit"}
for _family in _BRIN_FAMILIES:
    if _family in _NO_MULTI:
        del OPCLASS_INDEX_TYPE[f"{_family}MinMaxMultiOps"]
    if _family in _NO_BLOOM:
        del OPCLASS_INDEX_TYPE[f"{_family}BloomOps"]


def opclass_sql(name: str) -> str:
    """`JsonbPathOps` -> `jsonb_path_ops`, `Int4MinMaxMultiOps` -> `int4_minmax_multi_ops`."""
    if name == "InetOps" or name == "TextOps" or name == "ArrayOps":
        return name[:-3].lower() + "_ops"
    if name.startswith("Jsonb"):
        return "jsonb_" + ("path_ops" if name == "JsonbPathOps" else "ops")
    family = next(f for f in sorted(_BRIN_FAMILIES, key=len, reverse=True) if name.startswith(f))
    rest = name[len(family) : -3]
    kind = {"MinMax": "minmax", "Bloom": "bloom", "MinMaxMulti": "minmax_multi", "Inclusion": "inclusion"}[
        rest
    ]
    return f"{family.lower()}_{kind}_ops"


@dataclass
class IndexDetails:
    sorts: list[str | None]
    opclasses: list[str | None]
    algorithm: str | None


def details(attr: Attribute) -> IndexDetails:
    """Sorts, operator classes and method of a validated `@@index`/`@@unique`/`@@id`/`@unique`."""
    if attr.block:
        arg = attr.arg("fields", positional=True)
        per_field = index_ref_args(arg.value) if arg is not None else []
    else:
        per_field = [attr.args]
    sorts: list[str | None] = []
    opclasses: list[str | None] = []
    for args in per_field:
        sort = _named(args, "sort")
        sorts.append(sort.name.upper() if isinstance(sort, ConstantValue) else None)
        ops = _named(args, "ops")
        if isinstance(ops, ConstantValue):
            opclasses.append(opclass_sql(ops.name))
        elif isinstance(ops, FunctionCall) and ops.args and isinstance(ops.args[0].value, StringValue):
            opclasses.append(ops.args[0].value.value)
        else:
            opclasses.append(None)
    kind = attr.arg("type") if attr.block and attr.name == "index" else None
    algorithm = INDEX_TYPES.get(kind.value.name) if kind and isinstance(kind.value, ConstantValue) else None
    return IndexDetails(
        sorts if any(sorts) else [],
        opclasses if any(opclasses) else [],
        None if algorithm == "BTREE" else algorithm,
    )


def _native(field: Field) -> str | None:
    native = next((a for a in field.attributes if a.name.startswith("db.")), None)
    return native.name[3:] if native is not None else None


def _named(args: list[Argument], name: str) -> object:
    return next((a.value for a in args if a.name == name), None)


def check(attr: Attribute, fields: list[Field | None]) -> list[tuple[Span, str]]:
    """Problems with the index arguments of `attr` (a block attribute over `fields`, or a field's
    `@id`/`@unique` when `fields` holds that one field)."""
    label = f"@@{attr.name}" if attr.block else f"@{attr.name}"
    where = "the primary key" if attr.name == "id" else "an index definition"
    problems: list[tuple[Span, str]] = []
    kind_arg = attr.arg("type") if attr.block and attr.name == "index" else None
    index_type = "BTree"
    if kind_arg is not None:
        if not isinstance(kind_arg.value, ConstantValue) or kind_arg.value.name not in INDEX_TYPES:
            shown = kind_arg.value.name if isinstance(kind_arg.value, ConstantValue) else "this value"
            problems.append(
                (kind_arg.span, f'Error parsing attribute "@index": Unknown index type: {shown}.')
            )
            return problems
        index_type = kind_arg.value.name
    if attr.block:
        arg = attr.arg("fields", positional=True)
        per_field = index_ref_args(arg.value) if arg is not None else []
    else:
        per_field = [attr.args]
    for args, field in zip(per_field, fields, strict=False):
        for argument in args:
            problems += _check_field_argument(attr, label, where, index_type, argument, field)
    if index_type == "Gin":
        for args, field in zip(per_field, fields, strict=False):
            if field is None or _named(args, "ops") is not None:
                continue
            if field.type.name == "Json" and not field.list and _native(field) == "Json":
                problems.append(
                    (
                        attr.span,
                        f'Error parsing attribute "{label}": The Gin index field type `Json` has no default '
                        "operator class.",
                    )
                )
            elif not (field.list or field.type.name == "Json" or field.type.raw is not None):
                problems.append(
                    (
                        attr.span,
                        f'Error parsing attribute "{label}": The Gin index type does not support the type of '
                        f"the field `{field.name}`.",
                    )
                )
    return problems


def _check_field_argument(
    attr: Attribute, label: str, where: str, index_type: str, argument: Argument, field: Field | None
) -> list[tuple[Span, str]]:
    value, span = argument.value, argument.span
    prefix = f'Error parsing attribute "{label}": '
    if argument.name == "length":
        if not isinstance(value, NumberValue):
            return [(span, f"{prefix}The length argument takes a number.")]
        return [(span, f"{prefix}The length argument is not supported in {where} with the current connector")]
    if argument.name == "sort":
        if not isinstance(value, ConstantValue) or value.name not in ("Asc", "Desc"):
            return [(span, "Unexpected token. Expected one of: Asc, Desc")]
        if attr.name == "id":
            return [
                (
                    span,
                    f"{prefix}The sort argument is not supported in the primary key with the current "
                    "connector",
                )
            ]
        if index_type == "Hash":
            return [(span, f"{prefix}Hash type does not support sort option.")]
        return []
    if argument.name == "ops":
        if attr.name != "index":
            return [
                (span, f"{prefix}Operator classes can only be defined to fields in an @@index attribute.")
            ]
        if isinstance(value, FunctionCall) and value.name == "raw":
            if len(value.args) != 1 or not isinstance(value.args[0].value, StringValue):
                return [
                    (
                        span,
                        f'{prefix}`raw()` takes the operator class name as a string: `raw("gin_trgm_ops")`.',
                    )
                ]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", value.args[0].value.value):
                return [
                    (span, f"{prefix}`raw()` takes the name of an operator class, such as `gin_trgm_ops`.")
                ]
            return []
        if not isinstance(value, ConstantValue) or value.name not in OPCLASS_INDEX_TYPE:
            shown = value.name if isinstance(value, ConstantValue | FunctionCall) else "this value"
            return [(span, f"Unexpected token. Expected one of: Invalid operator class: {shown}")]
        if OPCLASS_INDEX_TYPE[value.name] != index_type:
            return [
                (
                    span,
                    f"{prefix}The given operator class `{value.name}` is not supported with the "
                    f"`{index_type}` index type.",
                )
            ]
        if field is not None and value.name.startswith("Jsonb") and field.type.name != "Json":
            return [
                (
                    span,
                    f"{prefix}The given operator class `{value.name}` points to the field `{field.name}` "
                    "that is not of Json type.",
                )
            ]
        if field is not None and value.name.startswith("Jsonb") and _native(field) == "Json":
            return [
                (
                    span,
                    f"{prefix}The given operator class `{value.name}` does not support native type `Json` of "
                    f"field `{field.name}`.",
                )
            ]
        if field is not None and value.name == "ArrayOps" and not field.list:
            return [
                (
                    span,
                    f"{prefix}The given operator class `ArrayOps` expects the field `{field.name}` to be "
                    "a list.",
                )
            ]
        return []
    return []  # Prisma ignores other names here
