"""Hypothesis strategies for valid random Prisma schemas (PostgreSQL) and random edits to them.

A schema is generated as a small model (`Spec`) and rendered to text, so an edit can change one thing
(a field's type, a default, an index, a relation's action, an enum value, a map…) and the rendering keeps
the whole schema valid: foreign-key fields always take the type of the id they reference.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from hypothesis import strategies as st

MODEL_NAMES = ["User", "Post", "Tag", "Order", "Item", "Team", "Note"]
FIELD_NAMES = ["name", "title", "count", "price", "active", "createdAt", "data", "blob", "slug", "score"]
ENUM_NAMES = ["Role", "Status"]
ENUM_VALUES = ["A", "B", "C", "D", "ACTIVE", "DONE"]
ACTIONS = ["Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"]
INDEX_TYPES = ["BTree", "Hash"]
SCHEMA_NAMES = ["public", "auth", "billing"]
UNSUPPORTED = ['Unsupported("circle")', 'Unsupported("tsvector")', 'Unsupported("int4range")']
# A composite id: `@@id([id, key])`, and foreign keys of two columns to it.
COMPOSITE_KEY = "key String @db.VarChar(20)"

# scalar -> native types usable with it (None: the scalar's own type)
NATIVE: dict[str, list[str | None]] = {
    "String": [None, None, "Text", "VarChar(50)", "VarChar(255)", "Char(10)", "Uuid", "Inet", "Xml"],
    "Int": [None, None, "SmallInt", "Integer"],
    "BigInt": [None, "BigInt"],
    "Float": [None, None, "Real", "DoublePrecision"],
    "Decimal": [None, "Decimal(10,2)", "Decimal(8,3)", "Money"],
    "Boolean": [None],
    "DateTime": [None, None, "Timestamptz(3)", "Timestamp(6)", "Date", "Time(3)"],
    "Json": [None, "Json"],
    "Bytes": [None],
}
SCALARS = list(NATIVE)


@dataclass
class FieldSpec:
    name: str
    type: str  # a scalar or an enum name
    modifier: str = ""  # "", "?", "[]"
    native: str | None = None
    default: str | None = None  # the text inside @default(...)
    unique: bool = False
    map: str | None = None
    updated_at: bool = False


@dataclass
class IdSpec:
    kind: str  # "autoincrement", "bigautoincrement", "uuid", "cuid", "dbuuid", "plainint", "plainstring"

    @property
    def composite(self) -> bool:
        return self.kind == "composite"

    def render(self) -> str:
        return {
            "composite": "Int",
            "autoincrement": "Int @id @default(autoincrement())",
            "bigautoincrement": "BigInt @id @default(autoincrement())",
            "uuid": "String @id @default(uuid())",
            "cuid": "String @id @default(cuid())",
            "dbuuid": 'String @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid',
            "plainint": "Int @id",
            "plainstring": "String @id @db.VarChar(30)",
        }[self.kind]

    def fk_type(self) -> str:
        return {
            "composite": "Int",
            "autoincrement": "Int",
            "bigautoincrement": "BigInt",
            "uuid": "String",
            "cuid": "String",
            "dbuuid": "String @db.Uuid",
            "plainint": "Int",
            "plainstring": "String @db.VarChar(30)",
        }[self.kind]


@dataclass
class IndexSpec:
    fields: list[str]
    unique: bool = False
    map: str | None = None
    type: str | None = None  # Hash / BTree / Gin (non-unique only)
    desc: bool = False
    ops: str | None = None  # an operator class on the first field


@dataclass
class ModelSpec:
    name: str
    id: IdSpec
    fields: list[FieldSpec] = field(default_factory=list)
    indexes: list[IndexSpec] = field(default_factory=list)
    map: str | None = None


@dataclass
class RelationSpec:
    kind: str  # "1:n", "1:1", "m:n"
    source: str  # the model holding the foreign key (1:n, 1:1)
    target: str
    optional: bool = True
    on_delete: str | None = None
    on_update: str | None = None
    map: str | None = None


@dataclass
class Spec:
    models: list[ModelSpec] = field(default_factory=list)
    enums: dict[str, list[str]] = field(default_factory=dict)
    relations: list[RelationSpec] = field(default_factory=list)
    relation_mode_prisma: bool = False
    extensions: list[str] = field(default_factory=list)
    # Multi-schema: the datasource's `schemas` (empty: not set) and the `@@schema` of models and enums
    # by name (one not placed goes to the first schema).
    schemas: list[str] = field(default_factory=list)
    placement: dict[str, str] = field(default_factory=dict)

    def schema_of(self, block: str) -> str:
        placed = self.placement.get(block)
        return placed if placed in self.schemas else self.schemas[0]

    def model(self, name: str) -> ModelSpec:
        return next(m for m in self.models if m.name == name)


# ----- rendering ------------------------------------------------------------------------------------


def render(spec: Spec) -> str:
    source = '  provider = "postgresql"\n'
    if spec.relation_mode_prisma:
        source += '  relationMode = "prisma"\n'
    out = []
    if spec.extensions:
        source += f"  extensions = [{', '.join(spec.extensions)}]\n"
        preview = '  previewFeatures = ["postgresqlExtensions"]\n'
        out.append('generator client {\n  provider = "prisma-client"\n' + preview + "}\n")
    if spec.schemas:
        source += f"  schemas = [{', '.join(f'{chr(34)}{s}{chr(34)}' for s in spec.schemas)}]\n"
    out.append("datasource db {\n" + source + "}\n")
    for name, values in spec.enums.items():
        placed = f'  @@schema("{spec.schema_of(name)}")\n' if spec.schemas else ""
        out.append(f"enum {name} {{\n" + "".join(f"  {v}\n" for v in values) + placed + "}\n")
    for model in spec.models:
        out.append(_render_model(spec, model))
    return "\n".join(out)


def _relation_name(spec: Spec, index: int) -> str | None:
    rel = spec.relations[index]
    same_pair = [r for r in spec.relations if {r.source, r.target} == {rel.source, rel.target}]
    if rel.source == rel.target or len(same_pair) > 1:
        return f"r{index}"
    return None


def _render_model(spec: Spec, model: ModelSpec) -> str:
    lines = [f"  id {model.id.render()}"] + ([f"  {COMPOSITE_KEY}"] if model.id.composite else [])
    block: list[str] = ["  @@id([id, key])"] if model.id.composite else []
    for f in model.fields:
        lines.append("  " + _render_field(f))
    for index, rel in enumerate(spec.relations):
        if spec.relation_mode_prisma and rel.source == rel.target and rel.kind != "m:n":
            continue  # Prisma refuses every self-relation holding a key in this mode on PostgreSQL
        name = _relation_name(spec, index)
        named = f'"{name}", ' if name else ""
        allowed = ("Cascade", "Restrict", "SetNull") if spec.relation_mode_prisma else tuple(ACTIONS)
        if rel.kind == "m:n":
            if spec.model(rel.source).id.composite or spec.model(rel.target).id.composite:
                continue  # Prisma's implicit many-to-many needs a single-field id on both sides
            if rel.source == model.name:
                lines.append(f"  m{index} {rel.target}[]" + (f' @relation("{name}")' if name else ""))
            if rel.target == model.name:
                lines.append(f"  n{index} {rel.source}[]" + (f' @relation("{name}")' if name else ""))
            continue
        if rel.source == model.name:
            target = spec.model(rel.target)
            q = "?" if rel.optional else ""
            composite = target.id.composite
            if composite:
                args = [f"fields: [r{index}Id, r{index}Key]", "references: [id, key]"]
            else:
                args = [f"fields: [r{index}Id]", "references: [id]"]
            if rel.on_delete in allowed:
                args.append(f"onDelete: {rel.on_delete}")
            if rel.on_update in allowed:
                args.append(f"onUpdate: {rel.on_update}")
            if rel.map:
                args.append(f'map: "{rel.map}"')
            lines.append(f"  rel{index} {rel.target}{q} @relation({named}{', '.join(args)})")
            fk_type = target.id.fk_type()
            scalar, _, native = fk_type.partition(" ")
            unique = " @unique" if rel.kind == "1:1" and not composite else ""
            lines.append(f"  r{index}Id {scalar}{q}{unique}{(' ' + native) if native else ''}")
            if composite:
                lines.append(f"  r{index}Key String{q} @db.VarChar(20)")
                if rel.kind == "1:1":
                    block.append(f"  @@unique([r{index}Id, r{index}Key])")
        if rel.target == model.name:
            many = "[]" if rel.kind == "1:n" else "?"
            lines.append(f"  back{index} {rel.source}{many}" + (f' @relation("{name}")' if name else ""))
    # Prisma refuses two indexes of one name (the default name comes from the columns) and any index
    # on an Xml column: such indexes are left out rather than making the schema invalid.
    by_name = {f.name: f for f in model.fields}
    taken: set[tuple[bool, tuple[str, ...]]] = {(True, (f.map or f.name,)) for f in model.fields if f.unique}
    for ix in model.indexes:
        key = (ix.unique, tuple(by_name[n].map or n for n in ix.fields))
        if key in taken or any(by_name[n].native == "Xml" for n in ix.fields) or not _fits(ix, by_name):
            continue
        taken.add(key)
        lines.append("  " + _render_index(ix))
    lines += block
    if model.map:
        lines.append(f'  @@map("{model.map}")')
    if spec.schemas:
        lines.append(f'  @@schema("{spec.schema_of(model.name)}")')
    return f"model {model.name} {{\n" + "\n".join(lines) + "\n}\n"


def _fits(ix: IndexSpec, by_name: dict[str, FieldSpec]) -> bool:
    """An index still valid for its fields after edits changed their types."""
    if any(_unsupported(by_name[n]) for n in ix.fields):
        return False
    first = by_name[ix.fields[0]]
    is_list = first.modifier == "[]"
    if ix.type == "Gin":
        # json[] has no comparison function: PostgreSQL refuses a GIN index on it (jsonb[] is fine).
        plain_json = first.type == "Json" and first.native == "Json"
        return (is_list and first.type in SCALARS and ix.ops in (None, "ArrayOps") and not plain_json) or (
            first.type == "Json" and not is_list and ix.ops != "ArrayOps" and first.native is None
        )
    return not any(by_name[n].modifier == "[]" or by_name[n].type == "Json" for n in ix.fields)


def _unsupported(f: FieldSpec) -> bool:
    return f.type.startswith("Unsupported(")


def _render_field(f: FieldSpec) -> str:
    parts = [f.name, f"{f.type}{f.modifier}"]
    if f.default is not None:
        parts.append(f"@default({f.default})")
    if f.updated_at:
        parts.append("@updatedAt")
    if f.unique and f.native != "Xml":
        parts.append("@unique")
    if f.map:
        parts.append(f'@map("{f.map}")')
    if f.native:
        parts.append(f"@db.{f.native}")
    return " ".join(parts)


def _render_index(ix: IndexSpec) -> str:
    first = f"{ix.fields[0]}(sort: Desc)" if ix.desc and ix.type != "Hash" else ix.fields[0]
    if ix.ops:
        first = f"{ix.fields[0]}(ops: {ix.ops})"
    refs = [first, *ix.fields[1:]]
    args = [f"[{', '.join(refs)}]"]
    if ix.map:
        args.append(f'map: "{ix.map}"')
    if ix.type:
        args.append(f"type: {ix.type}")
    return f"@@{'unique' if ix.unique else 'index'}({', '.join(args)})"


# ----- strategies -------------------------------------------------------------------------------------

_LITERALS: dict[str, list[str]] = {
    "String": ['"hello"', '""', '"it\'s"', '"a\\"b"'],
    "Int": ["0", "42", "-7"],
    "BigInt": ["0", "9007199254740993"],
    "Float": ["0", "1.5", "-2.25"],
    "Decimal": ["0", "1.5", '"9.99"'],
    "Boolean": ["true", "false"],
    "DateTime": ["now()", '"2024-01-02T03:04:05.000Z"'],
    "Json": ['"{}"', '"{\\"a\\": 1}"', '"[1, 2]"'],
    "Bytes": ['""', '"aGVsbG8="'],
}


@st.composite
def field_specs(draw: st.DrawFn, name: str, enums: dict[str, list[str]]) -> FieldSpec:
    if draw(st.integers(0, 11)) == 0:
        return FieldSpec(name, draw(st.sampled_from(UNSUPPORTED)), draw(st.sampled_from(["", "?"])))
    type_name = draw(st.sampled_from(SCALARS + list(enums)))
    modifier = draw(st.sampled_from(["", "", "?", "[]"]))
    native = draw(st.sampled_from(NATIVE[type_name])) if type_name in NATIVE else None
    spec = FieldSpec(name, type_name, modifier, native)
    if draw(st.integers(0, 2)) == 0:
        spec.default = _default_for(draw, spec, enums)
    if modifier != "[]" and type_name not in ("Json",) and draw(st.integers(0, 6)) == 0:
        spec.unique = True
    if draw(st.integers(0, 8)) == 0:
        spec.map = f"{name}_col"
    if type_name == "DateTime" and modifier != "[]" and spec.default is None and draw(st.integers(0, 6)) == 0:
        spec.updated_at = True
    return spec


def _default_for(draw: st.DrawFn, f: FieldSpec, enums: dict[str, list[str]]) -> str | None:
    if _unsupported(f):
        return None
    if f.type in enums:
        values = enums[f.type]
        if f.modifier == "[]":
            return "[" + ", ".join(draw(st.lists(st.sampled_from(values), max_size=2))) + "]"
        return draw(st.sampled_from(values))
    literals = _LITERALS[f.type]
    if f.type == "String" and f.native in ("Uuid", "Inet", "Xml"):
        return 'dbgenerated("gen_random_uuid()")' if f.native == "Uuid" and f.modifier != "[]" else None
    if f.type == "DateTime" and f.native in ("Date", "Time(3)"):
        literals = ["now()"]
    if f.type == "Decimal" and f.native == "Money":
        literals = ["0", "1.5"]
    if f.modifier == "[]":
        items = [x for x in literals if x != "now()"]
        if not items:
            return None
        return "[" + ", ".join(draw(st.lists(st.sampled_from(items), max_size=2))) + "]"
    return draw(st.sampled_from(literals))


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    spec = Spec()
    spec.relation_mode_prisma = draw(st.integers(0, 9)) == 0
    if draw(st.integers(0, 9)) == 0:
        spec.extensions = draw(
            st.lists(st.sampled_from(["citext", "pgcrypto", "hstore"]), unique=True, min_size=1)
        )
    for name in draw(st.lists(st.sampled_from(ENUM_NAMES), unique=True, max_size=2)):
        spec.enums[name] = draw(st.lists(st.sampled_from(ENUM_VALUES), unique=True, min_size=1, max_size=4))
    names = draw(st.lists(st.sampled_from(MODEL_NAMES), unique=True, min_size=1, max_size=4))
    for name in names:
        id_kind = draw(
            st.sampled_from(
                [
                    "autoincrement",
                    "autoincrement",
                    "uuid",
                    "cuid",
                    "dbuuid",
                    "bigautoincrement",
                    "plainint",
                    "composite",
                ]
            )
        )
        model = ModelSpec(name, IdSpec(id_kind))
        for fname in draw(st.lists(st.sampled_from(FIELD_NAMES), unique=True, max_size=5)):
            model.fields.append(draw(field_specs(fname, spec.enums)))
        _fix_maps(model)
        for _ in range(draw(st.integers(0, 2))):
            ix = draw(index_specs(model))
            if ix is not None:
                model.indexes.append(ix)
        if draw(st.integers(0, 8)) == 0:
            model.map = name.lower() + "s"
        spec.models.append(model)
    for _ in range(draw(st.integers(0, 3))):
        spec.relations.append(draw(relation_specs(spec)))
    if draw(st.integers(0, 3)) == 0:  # a quarter of the schemas use two or three database schemas
        spec.schemas = draw(st.lists(st.sampled_from(SCHEMA_NAMES), unique=True, min_size=2, max_size=3))
        for block in [*spec.enums, *(m.name for m in spec.models)]:
            spec.placement[block] = draw(st.sampled_from(spec.schemas))
    return spec


def _indexable(model: ModelSpec) -> list[FieldSpec]:
    return [f for f in model.fields if f.modifier != "[]" and f.type not in ("Json",) and not _unsupported(f)]


@st.composite
def index_specs(draw: st.DrawFn, model: ModelSpec) -> IndexSpec | None:
    gin = [f for f in model.fields if (f.modifier == "[]" and f.type in SCALARS) or f.type == "Json"]
    if gin and draw(st.integers(0, 3)) == 0:
        target = draw(st.sampled_from(gin))
        ops = None
        if draw(st.booleans()):
            ops = (
                "ArrayOps" if target.modifier == "[]" else draw(st.sampled_from(["JsonbOps", "JsonbPathOps"]))
            )
        return IndexSpec([target.name], False, type="Gin", ops=ops)
    candidates = _indexable(model)
    if not candidates:
        return None
    chosen = draw(
        st.lists(st.sampled_from([f.name for f in candidates]), unique=True, min_size=1, max_size=2)
    )
    unique = draw(st.booleans())
    ix = IndexSpec(chosen, unique)
    if draw(st.integers(0, 4)) == 0:
        ix.map = f"{model.name.lower()}_{'_'.join(chosen)}_{'uq' if unique else 'ix'}"
    if not unique and draw(st.integers(0, 4)) == 0:
        ix.type = draw(st.sampled_from(INDEX_TYPES)) if len(chosen) == 1 else "BTree"
    if draw(st.integers(0, 5)) == 0:
        ix.desc = True
    return ix


@st.composite
def relation_specs(draw: st.DrawFn, spec: Spec) -> RelationSpec:
    names = [m.name for m in spec.models]
    kind = draw(st.sampled_from(["1:n", "1:n", "1:1", "m:n"]))
    source, target = draw(st.sampled_from(names)), draw(st.sampled_from(names))
    if kind == "m:n" and source == target:
        kind = "1:n"
    optional = draw(st.booleans()) or source == target
    rel = RelationSpec(kind, source, target, optional)
    if kind != "m:n":
        if draw(st.booleans()):
            actions = ACTIONS if optional else [a for a in ACTIONS if a != "SetNull"]
            rel.on_delete = draw(st.sampled_from(actions))
        if draw(st.integers(0, 3)) == 0:
            actions = ACTIONS if optional else [a for a in ACTIONS if a != "SetNull"]
            rel.on_update = draw(st.sampled_from(actions))
        if draw(st.integers(0, 6)) == 0:
            rel.map = f"fk_{source.lower()}_{len(spec.relations)}"
    return rel


def _fix_maps(model: ModelSpec) -> None:
    """Two fields must not map to the same column."""
    for f in model.fields:
        if f.map and any(g.name == f.map for g in model.fields):
            f.map = None


# ----- edits ------------------------------------------------------------------------------------------

EDITS = [
    "move_block",
    "add_schema",
    "add_field",
    "drop_field",
    "change_type",
    "toggle_optional",
    "change_default",
    "toggle_unique",
    "add_index",
    "drop_index",
    "map_field",
    "add_model",
    "drop_model",
    "add_enum_value",
    "drop_enum_value",
    "change_action",
    "add_relation",
    "drop_relation",
    "change_id",
    "change_native",
    "map_model",
    "toggle_relation_mode",
    "add_extension",
]


@st.composite
def edited(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with one to three random edits."""
    new = copy.deepcopy(spec)
    for _ in range(draw(st.integers(1, 3))):
        _edit(draw, new, draw(st.sampled_from(EDITS)))
    return new


def _edit(draw: st.DrawFn, spec: Spec, kind: str) -> None:
    if kind == "toggle_relation_mode":
        spec.relation_mode_prisma = not spec.relation_mode_prisma
        return
    if kind in ("move_block", "add_schema"):
        if not spec.schemas:
            return
        if kind == "add_schema":
            free = [s for s in SCHEMA_NAMES if s not in spec.schemas]
            if free:
                spec.schemas.append(draw(st.sampled_from(free)))
        blocks = [*spec.enums, *(m.name for m in spec.models)]
        if blocks:
            spec.placement[draw(st.sampled_from(blocks))] = draw(st.sampled_from(spec.schemas))
        return
    if kind == "add_extension":
        free = [e for e in ("citext", "pgcrypto", "hstore") if e not in spec.extensions]
        if free:
            spec.extensions.append(draw(st.sampled_from(free)))
        return
    if not spec.models:
        return
    model = draw(st.sampled_from(spec.models))
    fields = model.fields
    if kind == "add_field":
        free = [n for n in FIELD_NAMES if all(f.name != n for f in fields)]
        if free:
            fields.insert(
                draw(st.integers(0, len(fields))), draw(field_specs(draw(st.sampled_from(free)), spec.enums))
            )
            _fix_maps(model)
    elif (
        kind
        in (
            "drop_field",
            "change_type",
            "toggle_optional",
            "change_default",
            "toggle_unique",
            "map_field",
            "change_native",
        )
        and fields
    ):
        f = draw(st.sampled_from(fields))
        if kind == "drop_field":
            fields.remove(f)
            model.indexes = [ix for ix in model.indexes if f.name not in ix.fields]
        elif kind == "change_type":
            new = draw(field_specs(f.name, spec.enums))
            new.modifier, new.map = f.modifier, f.map
            if new.modifier == "[]":
                new.unique = False
                new.updated_at = False
            fields[fields.index(f)] = new
            if new.modifier == "[]" or new.type == "Json" or _unsupported(new):
                new.modifier = "?" if _unsupported(new) and new.modifier == "[]" else new.modifier
                model.indexes = [ix for ix in model.indexes if f.name not in ix.fields]
            if new.default is not None and new.modifier == "[]" and not new.default.startswith("["):
                new.default = None
        elif kind == "toggle_optional":
            if f.modifier == "[]":
                return
            f.modifier = "" if f.modifier == "?" else "?"
        elif kind == "change_default":
            f.default = (
                None if f.default is not None and draw(st.booleans()) else _default_for(draw, f, spec.enums)
            )
            if f.default is not None:
                f.updated_at = False
        elif kind == "toggle_unique":
            if f.modifier != "[]" and f.type != "Json" and not _unsupported(f):
                f.unique = not f.unique
        elif kind == "map_field":
            f.map = None if f.map else f"{f.name}_col"
            _fix_maps(model)
        elif kind == "change_native" and f.type in NATIVE:
            f.native = draw(st.sampled_from(NATIVE[f.type]))
            if f.default is not None:
                f.default = _default_for(draw, f, spec.enums)
    elif kind == "add_index":
        ix = draw(index_specs(model))
        if ix is not None:
            model.indexes.append(ix)
    elif kind == "drop_index" and model.indexes:
        model.indexes.pop(draw(st.integers(0, len(model.indexes) - 1)))
    elif kind == "add_model":
        free = [n for n in MODEL_NAMES if all(m.name != n for m in spec.models)]
        if free:
            name = draw(st.sampled_from(free))
            new_model = ModelSpec(name, IdSpec(draw(st.sampled_from(["autoincrement", "uuid", "dbuuid"]))))
            for fname in draw(st.lists(st.sampled_from(FIELD_NAMES), unique=True, max_size=3)):
                new_model.fields.append(draw(field_specs(fname, spec.enums)))
            _fix_maps(new_model)
            spec.models.append(new_model)
    elif kind == "drop_model" and len(spec.models) > 1:
        spec.models.remove(model)
        spec.relations = [r for r in spec.relations if model.name not in (r.source, r.target)]
    elif kind in ("add_enum_value", "drop_enum_value") and spec.enums:
        name = draw(st.sampled_from(list(spec.enums)))
        values = spec.enums[name]
        if kind == "add_enum_value":
            free = [v for v in ENUM_VALUES if v not in values]
            if free:
                values.insert(draw(st.integers(0, len(values))), draw(st.sampled_from(free)))
        elif len(values) > 1:
            gone = draw(st.sampled_from(values))
            values.remove(gone)
            _drop_enum_value_uses(spec, name, gone)
    elif kind == "change_action" and spec.relations:
        rel = draw(st.sampled_from(spec.relations))
        if rel.kind != "m:n":
            actions = ACTIONS if rel.optional else [a for a in ACTIONS if a != "SetNull"]
            rel.on_delete = draw(st.sampled_from([None, *actions]))
    elif kind == "add_relation":
        spec.relations.append(draw(relation_specs(spec)))
    elif kind == "drop_relation" and spec.relations:
        spec.relations.pop(draw(st.integers(0, len(spec.relations) - 1)))
    elif kind == "change_id":
        model.id = IdSpec(
            draw(
                st.sampled_from(
                    [
                        "autoincrement",
                        "bigautoincrement",
                        "uuid",
                        "cuid",
                        "dbuuid",
                        "plainint",
                        "plainstring",
                        "composite",
                    ]
                )
            )
        )
    elif kind == "map_model":
        model.map = None if model.map else model.name.lower() + "s"


def _drop_enum_value_uses(spec: Spec, enum: str, gone: str) -> None:
    for model in spec.models:
        for f in model.fields:
            if f.type == enum and f.default is not None and gone in f.default.strip("[]").split(", "):
                f.default = None


@st.composite
def pairs(draw: st.DrawFn) -> tuple[str, str]:
    before = draw(specs())
    after = draw(edited(before))
    return render(before), render(after)
