"""Prisma's validation rules for the subset: names, types, attributes, defaults, unique criteria and
constraint names. Messages use Prisma's own wording where it is clear (so the course teaches what
the real tool prints); relations are checked in `relations.py`."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from sandbox.prisma import datasource, defaults, indexes, names
from sandbox.prisma.ast import (
    Attribute,
    ConfigBlock,
    Enum,
    Field,
    FunctionCall,
    Model,
    NumberValue,
    PrismaSchema,
    StringValue,
    field_refs,
    index_refs,
)
from sandbox.prisma.errors import Diagnostic, Span
from sandbox.prisma.relations import check_relations
from sandbox.prisma.types import NATIVE_TYPES, SCALARS

# attribute -> named arguments it accepts; "" is the name of the positional argument.
FIELD_ATTRIBUTES = {
    "id": {"map", "sort", "length"},
    "unique": {"map", "sort", "length"},
    "default": {"", "value", "map"},
    "updatedAt": set(),
    "ignore": set(),
    "map": {"", "name"},
    "relation": {"", "name", "fields", "references", "onDelete", "onUpdate", "map"},
}
BLOCK_ATTRIBUTES = {
    "id": {"", "fields", "map", "name"},
    "unique": {"", "fields", "map", "name"},
    "index": {"", "fields", "map", "name", "type"},
    "map": {"", "name"},
    "ignore": set(),
}
PROVIDERS = ("postgresql", "postgres")


def validate(schema: PrismaSchema) -> list[Diagnostic]:
    return _Validator(schema).run()


class _Validator:
    def __init__(self, schema: PrismaSchema):
        self.schema = schema
        self.diagnostics: list[Diagnostic] = []
        self.models = {m.name: m for m in schema.models}
        self.enums = {e.name: e for e in schema.enums}

    def error(self, span: Span, message: str) -> None:
        self.diagnostics.append(Diagnostic.at(span, message))

    def run(self) -> list[Diagnostic]:
        self._config()
        self._top_names()
        for enum in self.schema.enums:
            self._enum(enum)
        for model in self.schema.models:
            self._model(model)
        self._constraint_names()
        relations, problems = check_relations(self.schema)
        self.schema.relations = relations
        self.diagnostics.extend(problems)
        for span, message in datasource.check_relation_mode(self.schema, relations):
            self.error(span, message)
        return self.diagnostics

    # ----- blocks ----------------------------------------------------------------------------------
    def _config(self) -> None:
        sources = [i for i in self.schema.items if isinstance(i, ConfigBlock) and i.kind == "datasource"]
        for extra in sources[1:]:
            self.error(extra.name_span, "You defined more than one datasource. This is not allowed yet.")
        for source in sources[:1]:
            provider = source.provider
            if provider is None:
                self.error(
                    source.name_span, f'The datasource `{source.name}` needs `provider = "postgresql"`.'
                )
            elif provider not in PROVIDERS:
                prop = next(p for p in source.properties if p.name == "provider")
                self.error(
                    prop.value.span,
                    f'Migration Lab runs PostgreSQL: the provider must be "postgresql", not "{provider}".',
                )
            for span, message in datasource.check(self.schema, source):
                self.error(span, message)
        for span, message in datasource.check_namespaces(self.schema):
            self.error(span, message)

    def _top_names(self) -> None:
        seen: dict[str, str] = {}
        tables: dict[tuple[str | None, str], str] = {}
        for block in self.schema.models + self.schema.enums:
            if block.name in SCALARS:
                self.error(
                    block.name_span, f'"{block.name}" is a reserved scalar type name and cannot be used.'
                )
            elif block.name in seen:
                self.error(
                    block.name_span,
                    f'The {block.kind} "{block.name}" cannot be defined because a {seen[block.name]} '
                    "with that name already exists.",
                )
            else:
                seen[block.name] = block.kind
        for model in self.schema.models:
            # Table names are unique per database schema (multi-schema places them with @@schema).
            key = (datasource.block_namespace(model), model.db_name)
            if key in tables and tables[key] != model.name:
                where = model.attribute("map")
                self.error(
                    (where or model).span if where else model.name_span,
                    f'The model with database name "{model.db_name}" could not be defined because another '
                    f'model with this name exists: "{tables[key]}"',
                )
            tables.setdefault(key, model.name)

    def _enum(self, enum: Enum) -> None:
        if not enum.values:
            self.error(enum.span, "An enum must have at least one value.")
        seen: set[str] = set()
        db_names: set[str] = set()
        for value in enum.values:
            if value.name[0].isdigit():
                self.error(value.span, "The name of an enum value must not start with a number.")
            if value.name in seen:
                self.error(value.span, f'Value "{value.name}" is already defined on enum "{enum.name}".')
            elif value.db_name in db_names:
                self.error(
                    value.span,
                    f'The database name "{value.db_name}" is used by two values of enum "{enum.name}".',
                )
            seen.add(value.name)
            db_names.add(value.db_name)
            for attr in value.attributes:
                if attr.name != "map":
                    self.error(attr.name_span, f'Attribute not known: "@{attr.name}".')
                else:
                    self._arguments(attr, FIELD_ATTRIBUTES["map"])
                    self._map_name(attr)
        for attr in enum.attributes:
            if attr.name == "schema":
                continue  # datasource.check_namespaces
            if attr.name != "map":
                self.error(attr.name_span, f'Attribute not known: "@@{attr.name}".')
            else:
                self._arguments(attr, BLOCK_ATTRIBUTES["map"])
                self._map_name(attr)

    def _model(self, model: Model) -> None:
        seen: set[str] = set()
        columns: dict[str, str] = {}
        for field in model.fields:
            if field.name in seen:
                self.error(
                    field.name_span, f'Field "{field.name}" is already defined on model "{model.name}".'
                )
                continue
            seen.add(field.name)
            kind = self._field_type(field)
            if kind in ("scalar", "enum", "unsupported"):
                if field.db_name in columns:
                    self.error(
                        field.name_span,
                        f'Field "{field.name}" and field "{columns[field.db_name]}" of model "{model.name}" '
                        f'both use the column name "{field.db_name}": give one of them another @map.',
                    )
                columns.setdefault(field.db_name, field.name)
            self._field_attributes(model, field, kind)
        self._block_attributes(model)
        self._unique_criteria(model)

    def _field_type(self, field: Field) -> str | None:
        name = field.type.name
        if field.type.raw is not None:
            return "unsupported"
        if name in SCALARS:
            return "scalar"
        if name in self.enums:
            return "enum"
        if name in self.models:
            return "relation"
        candidates = list(SCALARS) + list(self.models) + list(self.enums)
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        close = close or [c for c in candidates if c.lower() == name.lower()]
        hint = f" Did you mean `{close[0]}`?" if close else ""
        self.error(
            Span(
                field.type.span.line,
                field.type.span.column,
                field.type.span.line,
                field.type.span.column + len(name),
            ),
            f"Type `{name}` is neither a built-in type, nor refers to another model, composite type, or enum."
            + hint,
        )
        return None

    # ----- attributes ------------------------------------------------------------------------------
    def _arguments(self, attr: Attribute, allowed: set[str]) -> None:
        sign = "@@" if attr.block else "@"
        named: set[str] = set()
        for arg in attr.args:
            key = arg.name or ""
            if key not in allowed:
                if key:
                    expected = ", ".join(f"`{a}`" for a in sorted(allowed - {""})) or "no arguments"
                    self.error(
                        arg.span, f"No such argument `{key}` in `{sign}{attr.name}` (expected {expected})."
                    )
                else:
                    self.error(arg.span, f"`{sign}{attr.name}` takes no unnamed argument.")
            elif key in named:
                self.error(
                    arg.span, f"The argument `{key or 'value'}` of `{sign}{attr.name}` is given twice."
                )
            named.add(key)

    def _map_name(self, attr: Attribute) -> None:
        arg = attr.arg("name", positional=True)
        sign = "@@" if attr.block else "@"
        if arg is None:
            self.error(
                attr.span,
                f'Error parsing attribute "{sign}map": expected a name, for example {sign}map("name").',
            )
        elif not isinstance(arg.value, StringValue) or not arg.value.value:
            self.error(arg.span, f'Error parsing attribute "{sign}map": the name must be a non-empty string.')

    def _field_attributes(self, model: Model, field: Field, kind: str | None) -> None:
        seen: set[str] = set()
        for attr in field.attributes:
            base = "db" if attr.name.startswith("db.") else attr.name
            if base in seen:
                self.error(attr.name_span, f'Attribute "@{base}" can only be defined once.')
                continue
            seen.add(base)
            if base == "db":
                self._native_type(field, kind, attr)
                continue
            if attr.name not in FIELD_ATTRIBUTES:
                self.error(attr.name_span, f'Attribute not known: "@{attr.name}".')
                continue
            self._arguments(attr, FIELD_ATTRIBUTES[attr.name])
            if kind is None:
                continue  # the type is unknown: its error is enough
            if attr.name in ("id", "unique"):
                for span, message in indexes.check(attr, [field]):
                    self.error(span, message)
            prefix = f'Error parsing attribute "@{attr.name}": '
            if kind == "relation" and attr.name in ("id", "unique", "default", "updatedAt", "map"):
                scalar = _relation_scalars(field)
                hint = f" Did you mean to put it on `{scalar}`?" if scalar else ""
                what = {"default": "Cannot set a default value on a relation field."}.get(
                    attr.name,
                    f"The field `{field.name}` is a relation field and cannot be marked with `{attr.name}`. "
                    f"Only scalar fields can be made {'unique' if attr.name == 'unique' else 'so'}.{hint}",
                )
                self.error(attr.span, prefix + what)
                continue
            if attr.name == "relation" and kind != "relation":
                self.error(
                    attr.span, prefix + "`@relation` can only be used on a field whose type is a model."
                )
            elif attr.name == "id" and (field.optional or field.list):
                self.error(attr.span, prefix + "Fields that are marked as id must be required.")
            elif attr.name == "updatedAt":
                if field.type.name != "DateTime":
                    self.error(
                        attr.span, prefix + "Fields that are marked with @updatedAt must be of type DateTime."
                    )
                elif field.list:
                    self.error(attr.span, prefix + "Fields that are marked with @updatedAt cannot be lists.")
            elif attr.name == "map":
                self._map_name(attr)
            elif attr.name == "default" and kind == "unsupported":
                value = defaults.default_value(attr)
                if not (isinstance(value, FunctionCall) and value.name == "dbgenerated"):
                    self.error(
                        attr.span,
                        prefix + 'Only @default(dbgenerated("...")) can be used for Unsupported types.',
                    )
            elif attr.name == "default":
                for span, message in defaults.check(field, kind, attr, self.enums.get(field.type.name)):
                    self.error(span, prefix + message)
        self._map_args(field.attributes)

    def _map_args(self, attributes: list[Attribute]) -> None:
        for attr in attributes:
            arg = attr.arg("map")
            if arg is not None and not isinstance(arg.value, StringValue):
                self.error(arg.span, "The `map` argument must be a string.")

    def _native_type(self, field: Field, kind: str | None, attr: Attribute) -> None:
        name = attr.name[3:]
        native = NATIVE_TYPES.get(name)
        if kind in ("enum", "relation", "unsupported"):
            self.error(attr.name_span, f'Attribute not known: "@{attr.name}".')
            return
        if native is None:
            close = difflib.get_close_matches(name, list(NATIVE_TYPES), n=1, cutoff=0.5)
            hint = f" Did you mean `@db.{close[0]}`?" if close else ""
            self.error(attr.name_span, f"Native type {name} is not supported for postgresql connector.{hint}")
            return
        if kind is None:
            return
        if native.scalar != field.type.name:
            self.error(
                attr.name_span,
                f"Native type {name} is not compatible with declared field type {field.type.name}, "
                f"expected field type {native.scalar}.",
            )
            return
        args = attr.args
        if any(a.name is not None for a in args):
            self.error(attr.span, f"Native type {name} takes only unnamed arguments.")
            return
        if any(not isinstance(a.value, NumberValue) or not a.value.text.isdigit() for a in args):
            shown = ", ".join(defaults.value_text(a.value) for a in args)
            self.error(attr.span, f"Expected a nonnegative integer, but found ({shown}).")
        elif native.exact_args and len(args) not in (0, native.max_args):
            shown = ", ".join(defaults.value_text(a.value) for a in args)
            self.error(attr.span, f"Expected two nonnegative integers, but found ({shown}).")
        elif len(args) > native.max_args:
            self.error(
                attr.span,
                f"Native type {name} takes {native.max_args} optional arguments, but received {len(args)}.",
            )

    def _block_attributes(self, model: Model) -> None:
        for attr in model.attributes:
            if attr.name == "schema":
                continue  # datasource.check_namespaces
            if attr.name not in BLOCK_ATTRIBUTES:
                self.error(attr.name_span, f'Attribute not known: "@@{attr.name}".')
                continue
            self._arguments(attr, BLOCK_ATTRIBUTES[attr.name])
            if attr.name == "map":
                self._map_name(attr)
                continue
            if attr.name == "ignore":
                continue  # the table is still created: Prisma Client leaves it out
            self._criterion(model, attr)
        self._map_args(model.attributes)
        counts = {n: sum(1 for a in model.attributes if a.name == n) for n in ("id", "map")}
        for name, count in counts.items():
            if count > 1:
                self.error(model.attribute(name).span, f'Attribute "@@{name}" can only be defined once.')  # type: ignore[union-attr]
        field_ids = [f for f in model.fields if f.attribute("id")]
        if len(field_ids) > 1:
            self.error(
                model.name_span,
                f'Error validating model "{model.name}": At most one field must be marked as the id field '
                "with the `@id` attribute.",
            )
        if field_ids and counts["id"]:
            self.error(
                model.name_span,
                f'Error validating model "{model.name}": Each model must have at most one id criteria. '
                "You can't have `@id` and `@@id` at the same time.",
            )

    def _criterion(self, model: Model, attr: Attribute) -> None:
        arg = attr.arg("fields", positional=True)
        words = {"id": "id definition", "unique": "unique index definition", "index": "index definition"}
        what = words[attr.name]
        prefix = f'Error validating model "{model.name}": '
        refs = index_refs(arg.value) if arg is not None else None
        if arg is None or refs is None or not refs:
            self.error(
                attr.span, f"{prefix}The {what} needs a list of fields, for example `@@{attr.name}([a, b])`."
            )
            return
        unknown = [r.name for r in refs if model.field(r.name) is None]
        if unknown:
            self.error(attr.span, f"{prefix}The {what} refers to the unknown fields: {', '.join(unknown)}.")
            return
        relational = [r.name for r in refs if model.known_field(r.name).type.name in self.models]
        if relational:
            self.error(
                attr.span,
                f"{prefix}The {what} refers to the relation fields {', '.join(relational)}. "
                f"{what[0].upper() + what[1:]}s must reference only scalar fields.",
            )
            return
        for span, message in indexes.check(attr, [model.field(r.name) for r in refs]):
            self.error(span, message)
        if attr.name == "id":
            optional = [r.name for r in refs if model.known_field(r.name).optional]
            if optional:
                self.error(
                    attr.span,
                    f"{prefix}The id definition refers to the optional field `{optional[0]}`. "
                    "ID definitions must reference only required fields.",
                )

    def _unique_criteria(self, model: Model) -> None:
        if model.attribute("ignore") is not None:
            return  # Prisma lets an ignored model go without one
        for field in model.fields:
            if field.attribute("id") or (field.attribute("unique") and not field.optional and not field.list):
                return
        for attr in model.attributes:
            if attr.name in ("id", "unique"):
                arg = attr.arg("fields", positional=True)
                refs = index_refs(arg.value) if arg else None
                if refs and all((f := model.field(r.name)) is not None and not f.optional for r in refs):
                    return
        self.error(
            model.name_span,
            f'Error validating model "{model.name}": Each model must have at least one unique criteria that '
            "has only required fields. Either mark a single field with `@id`, `@unique` or add a multi field "
            "criterion with `@@id([])` or `@@unique([])` to the model.",
        )

    def _constraint_names(self) -> None:
        """Primary keys, unique constraints and indexes share one namespace per database schema."""
        seen: dict[tuple[str | None, str], list[tuple[str, Span]]] = {}
        for label, attr, name, schema in _constraints(self.schema):
            seen.setdefault((schema, name), []).append((label, attr.span))
        for (_, name), uses in seen.items():
            if len(uses) > 1:
                for label, span in uses:
                    self.error(
                        span,
                        f'Error parsing attribute "{label}": The given constraint name `{name}` has to be '
                        "unique in the following namespace: global for primary key, indexes and unique "
                        "constraints. Please provide a different name using the `map` argument.",
                    )


def _constraints(schema: PrismaSchema) -> Iterator[tuple[str, Attribute, str, str | None]]:
    """(attribute label, attribute, database name) of every primary key, unique and index; a duplicate
    model or a second id is already an error of its own, so it is left out here."""
    seen: set[str] = set()
    for model in schema.models:
        if model.name in seen:
            continue
        seen.add(model.name)
        namespace = datasource.block_namespace(model)
        has_id = False
        for field in model.fields:
            for kind in ("id", "unique"):
                attr = field.attribute(kind)
                if attr is not None and not (kind == "id" and has_id):
                    has_id = has_id or kind == "id"
                    yield f"@{kind}", attr, constraint_name(model, attr, [field.db_name]), namespace
        for attr in model.attributes:
            if attr.name in ("id", "unique", "index") and not (attr.name == "id" and has_id):
                has_id = has_id or attr.name == "id"
                arg = attr.arg("fields", positional=True)
                refs = index_refs(arg.value) if arg else None
                if not refs and attr.arg("map") is None and attr.arg("name") is None:
                    continue  # its fields could not be read (said once): no name to compare
                fields = [model.field(r.name) for r in refs or []]
                cols = [f.db_name for f in fields if f is not None]
                yield f"@@{attr.name}", attr, constraint_name(model, attr, cols), namespace


def constraint_name(model: Model, attr: Attribute, columns: list[str]) -> str:
    """The database name of an @id/@unique/@@id/@@unique/@@index: `map:` (or `name:` on @@index,
    its legacy spelling), else Prisma's default."""
    for key in ("map", "name") if attr.name == "index" else ("map",):
        arg = attr.arg(key)
        if arg is not None and isinstance(arg.value, StringValue):
            return arg.value.value
    table = model.db_name
    if attr.name == "id":
        return names.primary_key_name(table)
    if attr.name == "unique":
        return names.unique_name(table, columns)
    return names.index_name(table, columns)


def _relation_scalars(field: Field) -> str | None:
    attr = field.attribute("relation")
    arg = attr.arg("fields") if attr else None
    refs = field_refs(arg.value) if arg else None
    return refs[0].name if refs and len(refs) == 1 else None
