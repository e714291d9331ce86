"""The datasource settings that change the SQL: `relationMode` (with "prisma", Prisma creates no foreign
keys) and `extensions = [...]` (CREATE EXTENSION, behind the `postgresqlExtensions` preview feature), and
the refusal of what stays outside the subset (multiple schemas), named as such."""

from __future__ import annotations

from sandbox.migrate.sqlschema import Extension
from sandbox.prisma.ast import (
    ArrayValue,
    ConfigBlock,
    ConstantValue,
    FunctionCall,
    PrismaSchema,
    Property,
    StringValue,
)
from sandbox.prisma.errors import Span

RELATION_MODES = ("prisma", "foreignKeys")
EXTENSION_ARGUMENTS = ("map", "schema", "version")
MULTI_SCHEMA = (
    "Multiple database schemas (`schemas = [...]` and `@@schema`) are outside Migration Lab's schema "
    "subset: keep every model and enum in the `public` schema."
)


def datasource(schema: PrismaSchema) -> ConfigBlock | None:
    return next((i for i in schema.items if isinstance(i, ConfigBlock) and i.kind == "datasource"), None)


def preview_features(schema: PrismaSchema) -> set[str]:
    found: set[str] = set()
    for block in schema.items:
        if isinstance(block, ConfigBlock) and block.kind == "generator":
            for prop in block.properties:
                if prop.name == "previewFeatures" and isinstance(prop.value, ArrayValue):
                    found |= {i.value for i in prop.value.items if isinstance(i, StringValue)}
    return found


def relation_mode(schema: PrismaSchema) -> str:
    source = datasource(schema)
    mode = source.get("relationMode") or source.get("referentialIntegrity") if source else None
    return mode or "foreignKeys"


def extensions(schema: PrismaSchema) -> list[Extension]:
    source = datasource(schema)
    prop = _property(source, "extensions") if source else None
    if prop is None or not isinstance(prop.value, ArrayValue):
        return []
    found = []
    for item in prop.value.items:
        if isinstance(item, ConstantValue):
            found.append(Extension(item.name))
        elif isinstance(item, FunctionCall):
            args = {a.name: a.value.value for a in item.args if isinstance(a.value, StringValue)}
            found.append(Extension(args.get("map", item.name), args.get("schema"), args.get("version")))
    return found


def check(schema: PrismaSchema, source: ConfigBlock) -> list[tuple[Span, str]]:
    problems: list[tuple[Span, str]] = []
    for name in ("relationMode", "referentialIntegrity"):
        prop = _property(source, name)
        if prop is None:
            continue
        value = prop.value.value if isinstance(prop.value, StringValue) else None
        if value not in RELATION_MODES:
            shown = f'"{value}"' if value is not None else "this value"
            problems.append(
                (
                    prop.span,
                    f"Error validating datasource `{name}`: Invalid relation mode setting: {shown}. "
                    'Supported values: "prisma", "foreignKeys"',
                )
            )
    prop = _property(source, "schemas")
    if prop is not None:
        problems.append((prop.span, MULTI_SCHEMA))
    prop = _property(source, "extensions")
    if prop is not None:
        problems += _check_extensions(schema, prop)
    return problems


def _check_extensions(schema: PrismaSchema, prop: Property) -> list[tuple[Span, str]]:
    if "postgresqlExtensions" not in preview_features(schema):
        message = (
            "The `extensions` property is only available with the `postgresqlExtensions` preview feature."
        )
        return [(prop.span, message)]
    if not isinstance(prop.value, ArrayValue):
        return [(prop.value.span, "Expected a list of extensions, for example `extensions = [citext]`.")]
    problems: list[tuple[Span, str]] = []
    for item in prop.value.items:
        if isinstance(item, StringValue):
            problems.append(
                (
                    item.span,
                    f'Expected a constant or function value, but received string value `"{item.value}"`.',
                )
            )
        elif isinstance(item, FunctionCall):
            for arg in item.args:
                if arg.name not in EXTENSION_ARGUMENTS or not isinstance(arg.value, StringValue):
                    problems.append(
                        (
                            arg.span,
                            f"An extension takes `map`, `schema` and `version` as strings, for example "
                            f'`{item.name}(version: "1.0")`.',
                        )
                    )
        elif not isinstance(item, ConstantValue):
            problems.append((item.span, "Expected an extension name, for example `citext`."))
    return problems


def _property(source: ConfigBlock, name: str) -> Property | None:
    return next((p for p in source.properties if p.name == name), None)
