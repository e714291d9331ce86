"""The datasource settings that change the SQL: `relationMode` (with "prisma", Prisma creates no foreign
keys), `extensions = [...]` (CREATE EXTENSION, behind the `postgresqlExtensions` preview feature) and
`schemas = [...]` (multi-schema: every model and enum placed with `@@schema`)."""

from __future__ import annotations

from sandbox.migrate.sqlschema import Extension
from sandbox.prisma.ast import (
    ArrayValue,
    ConfigBlock,
    ConstantValue,
    Enum,
    FunctionCall,
    Model,
    PrismaSchema,
    Property,
    Relation,
    StringValue,
)
from sandbox.prisma.errors import Span

RELATION_MODES = ("prisma", "foreignKeys")
EXTENSION_ARGUMENTS = ("map", "schema", "version")
DEFAULT_NAMESPACE = "public"
MISSING_SCHEMA = "This {kind} is missing an `@@schema` attribute."
SCHEMA_ARGUMENT = 'Error parsing attribute "@@schema": expected a schema name, for example @@schema("auth").'
UNKNOWN_SCHEMA = (
    "This schema is not defined in the datasource. Read more on `@@schema` at https://pris.ly/d/multi-schema"
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
        problems += _check_schemas(prop)
    prop = _property(source, "extensions")
    if prop is not None:
        problems += _check_extensions(schema, prop)
    return problems


def _modifies(relation: Relation) -> bool:
    """Whether a change on the referenced side changes this one (Prisma follows only such relations):
    an action other than NoAction or Restrict, the defaults included (SetNull on optional, Cascade)."""
    required = any((f := relation.model.field(n)) is not None and not f.optional for n in relation.fields)
    on_delete = relation.on_delete or ("Restrict" if required else "SetNull")
    on_update = relation.on_update or "Cascade"
    return not (on_delete in ("NoAction", "Restrict") and on_update in ("NoAction", "Restrict"))


def _implicit_note(relation: Relation) -> str:
    implicit = []
    if relation.on_delete is None:
        required = any((f := relation.model.field(n)) is not None and not f.optional for n in relation.fields)
        implicit.append(f"`onDelete`: `{'Restrict' if required else 'SetNull'}`")
    if relation.on_update is None:
        implicit.append("`onUpdate`: `Cascade`")
    return f" (Implicit default {', and '.join(implicit)})" if implicit else ""


def _cycles(relations: list[Relation]) -> list[tuple[Span, str]]:
    """Relations that lead back to their own model through others (Prisma's "Reference causes a cycle")."""
    acting = [r for r in relations if _modifies(r)]
    problems: list[tuple[Span, str]] = []
    for relation in acting:
        path = _path_back(relation, acting)
        if path is None:
            continue
        shown = " → ".join(f"{r.model.name}.{r.field.name}" for r in path)
        problems.append(
            (
                relation.field.span,
                "Error validating: Reference causes a cycle. One of the @relation attributes in this cycle "
                "must have `onDelete` and `onUpdate` referential actions set to `NoAction`. "
                f"Cycle path: {shown}."
                f"{_implicit_note(relation)} Read more at https://pris.ly/d/cyclic-referential-actions",
            )
        )
    return problems


def _path_back(start: Relation, relations: list[Relation]) -> list[Relation] | None:
    queue: list[list[Relation]] = [[start]]
    seen = {id(start.target)}
    while queue:
        path = queue.pop(0)
        here = path[-1].target
        for nxt in relations:
            if nxt.model is not here:
                continue
            if nxt.target is start.model:
                return [*path, nxt]
            if id(nxt.target) not in seen:
                seen.add(id(nxt.target))
                queue.append([*path, nxt])
    return None


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


def namespaces(schema: PrismaSchema) -> list[str]:
    """The datasource's `schemas = [...]` (multi-schema), in the order written; empty when not set."""
    source = datasource(schema)
    prop = _property(source, "schemas") if source is not None else None
    if prop is None or not isinstance(prop.value, ArrayValue):
        return []
    return [item.value for item in prop.value.items if isinstance(item, StringValue)]


def block_namespace(block: Model | Enum) -> str | None:
    """The `@@schema("...")` of a model or enum, None without one."""
    attr = block.attribute("schema")
    arg = attr.arg("name", positional=True) if attr is not None else None
    return arg.value.value if arg is not None and isinstance(arg.value, StringValue) else None


def check_namespaces(schema: PrismaSchema) -> list[tuple[Span, str]]:
    """Prisma's multi-schema rules: with `schemas` set every model and enum names one of them in `@@schema`;
    without it, any `@@schema` names a schema the datasource does not define."""
    listed = set(namespaces(schema))
    source = datasource(schema)
    if not listed and source is not None and _property(source, "schemas") is not None:
        return []  # an unusable `schemas` is its own error; Prisma stops there
    problems: list[tuple[Span, str]] = []
    for block in [*schema.models, *schema.enums]:
        attrs = [a for a in block.attributes if a.name == "schema"]
        if not attrs:
            if listed:
                message = MISSING_SCHEMA.format(kind=block.kind)
                if isinstance(block, Model):
                    message = f'Error validating model "{block.name}": {message}'

                problems.append((block.span, message))
            continue
        for attr in attrs:
            arg = attr.arg("name", positional=True)
            if arg is None or not isinstance(arg.value, StringValue) or len(attr.args) != 1:
                problems.append((attr.span, SCHEMA_ARGUMENT))
            elif arg.value.value not in listed:
                problems.append((arg.value.span, UNKNOWN_SCHEMA))
        if len(attrs) > 1:
            problems.append((attrs[1].span, 'Attribute "@@schema" can only be defined once.'))
    return problems


def _check_schemas(prop: Property) -> list[tuple[Span, str]]:
    value = prop.value
    if not isinstance(value, ArrayValue) or not all(isinstance(i, StringValue) for i in value.items):
        return [(value.span, 'Expected a list of schema names, for example `schemas = ["public", "auth"]`.')]
    if not value.items:
        return [(prop.span, "If provided, the schemas array can not be empty.")]
    seen: set[str] = set()
    for item in value.items:
        assert isinstance(item, StringValue)
        if item.value in seen:
            return [(prop.span, "Duplicated schema names are not allowed")]
        seen.add(item.value)
    return []


def _property(source: ConfigBlock, name: str) -> Property | None:
    return next((p for p in source.properties if p.name == name), None)


PRISMA_MODE_ACTIONS = ("Cascade", "Restrict", "SetNull")


def check_relation_mode(schema: PrismaSchema, relations: list[Relation]) -> list[tuple[Span, str]]:
    """With `relationMode = "prisma"` Prisma emulates referential actions, and on PostgreSQL refuses
    NoAction and SetDefault, and any self-relation whose actions are not both NoAction (so, in effect, any
    self-relation with foreign keys held): its rules and words."""
    if relation_mode(schema) != "prisma":
        return []
    problems: list[tuple[Span, str]] = []
    for relation in relations:
        if relation.kind == "m:n":
            continue
        span = relation.field.span
        for action in (relation.on_delete, relation.on_update):
            if action is None or action in PRISMA_MODE_ACTIONS:
                continue
            allowed = ", ".join(f"`{a}`" for a in PRISMA_MODE_ACTIONS)
            message = f"Error validating: Invalid referential action: `{action}`. Allowed values: ({allowed})"
            if action == "NoAction":
                message += (
                    '. `NoAction` is not implemented for Postgres when using `relationMode = "prisma"`, you '
                    "could try using `Restrict` instead. Learn more at https://pris.ly/d/relation-mode"
                )
            problems.append((span, message))
        if relation.model is relation.target and _modifies(relation):
            implicit = []
            if relation.on_delete is None:
                required = any(
                    (f := relation.model.field(name)) is not None and not f.optional
                    for name in relation.fields
                )
                implicit.append(f"`onDelete`: `{'Restrict' if required else 'SetNull'}`")
            if relation.on_update is None:
                implicit.append("`onUpdate`: `Cascade`")
            note = f" (Implicit default {', and '.join(implicit)})" if implicit else ""
            problems.append(
                (
                    span,
                    "Error validating: A self-relation must have `onDelete` and `onUpdate` referential "
                    f"actions set to `NoAction` in one of the @relation attributes.{note} Read more at "
                    "https://pris.ly/d/cyclic-referential-actions",
                )
            )
    problems += _cycles([r for r in relations if r.kind != "m:n" and r.model is not r.target])
    return problems
