"""The syntax tree of a Prisma schema, with positions, comments and blank lines (for the formatter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.prisma.errors import Span


@dataclass
class StringValue:
    value: str
    span: Span


@dataclass
class NumberValue:
    text: str  # kept as written: Prisma renders `1.0` and `2.50` verbatim
    span: Span


@dataclass
class ConstantValue:
    """A bare identifier: `true`, an enum value, `Cascade`, a field name in `fields: [a]`."""

    name: str
    span: Span


@dataclass
class FunctionCall:
    name: str
    args: list[Argument]
    span: Span


@dataclass
class ArrayValue:
    items: list[Expression]
    span: Span


Expression = StringValue | NumberValue | ConstantValue | FunctionCall | ArrayValue


@dataclass
class Argument:
    name: str | None
    value: Expression
    span: Span


@dataclass
class Attribute:
    """`@id`, `@db.VarChar(20)` (name `db.VarChar`), `@@index([a])` (name `index`, block=True)."""

    name: str
    args: list[Argument]
    span: Span
    name_span: Span
    block: bool = False
    comment: Comment | None = None  # trailing comment, for a block attribute on its own line

    def arg(self, name: str, positional: bool = False) -> Argument | None:
        """The argument called `name`, or the first unnamed one when `positional`."""
        for a in self.args:
            if a.name == name:
                return a
        if positional:
            return next((a for a in self.args if a.name is None), None)
        return None


@dataclass
class Comment:
    text: str  # with its leading `//` or `///`
    span: Span

    @property
    def is_doc(self) -> bool:
        return self.text.startswith("///")


@dataclass
class BlankLine:
    span: Span


@dataclass
class FieldType:
    name: str
    optional: bool
    list: bool
    span: Span
    raw: str | None = None  # the database type of `Unsupported("…")`


@dataclass
class Field:
    name: str
    type: FieldType
    attributes: list[Attribute]
    span: Span
    name_span: Span
    comment: Comment | None = None  # trailing comment on the same line

    @property
    def optional(self) -> bool:
        return self.type.optional

    @property
    def list(self) -> bool:
        return self.type.list

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def db_name(self) -> str:
        return _mapped_name(self.attribute("map"), self.name)


@dataclass
class EnumValue:
    name: str
    attributes: list[Attribute]
    span: Span
    comment: Comment | None = None

    @property
    def db_name(self) -> str:
        return _mapped_name(next((a for a in self.attributes if a.name == "map"), None), self.name)


@dataclass
class Property:
    """`provider = "postgresql"` inside a datasource or generator block."""

    name: str
    value: Expression
    span: Span
    comment: Comment | None = None


Member = Field | EnumValue | Attribute | Property | Comment | BlankLine


@dataclass
class Block:
    kind: str  # model, enum, datasource, generator
    name: str
    span: Span
    name_span: Span
    members: list[Member] = field(default_factory=list)
    documentation: list[Comment] = field(default_factory=list)
    opening_comment: Comment | None = None  # `model User { // ...`
    closing_comment: Comment | None = None  # `} // ...`

    @property
    def attributes(self) -> list[Attribute]:
        return [m for m in self.members if isinstance(m, Attribute)]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def db_name(self) -> str:
        return _mapped_name(self.attribute("map"), self.name)


class Model(Block):
    @property
    def fields(self) -> list[Field]:
        return [m for m in self.members if isinstance(m, Field)]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def known_field(self, name: str) -> Field:
        """The field `name`, where validation already found it exists."""
        found = self.field(name)
        if found is None:
            raise KeyError(f"model {self.name} has no field {name}")
        return found


class Enum(Block):
    @property
    def values(self) -> list[EnumValue]:
        return [m for m in self.members if isinstance(m, EnumValue)]


class ConfigBlock(Block):
    @property
    def properties(self) -> list[Property]:
        return [m for m in self.members if isinstance(m, Property)]

    def get(self, name: str) -> str | None:
        """A property's value as text: a string's content, or `env("X")` for an env() call."""
        prop = next((p for p in self.properties if p.name == name), None)
        if prop is None:
            return None
        value = prop.value
        if isinstance(value, StringValue):
            return value.value
        if isinstance(value, FunctionCall) and value.args and isinstance(value.args[0].value, StringValue):
            return f'{value.name}("{value.args[0].value.value}")'
        return None

    @property
    def provider(self) -> str | None:
        return self.get("provider")

    @property
    def url(self) -> str | None:
        return self.get("url")


TopItem = Block | Comment | BlankLine


@dataclass
class Relation:
    """A validated relation. For one-to-one and one-to-many, `model`.`field` holds the foreign key
    (`fields` -> `references` of `target`); for many-to-many `model` sorts before `target` by name."""

    name: str  # the relation name, "" when not named
    kind: str  # "1:1", "1:n" or "m:n"
    model: Model
    field: Field
    target: Model
    target_field: Field
    fields: list[str]
    references: list[str]
    on_delete: str | None = None  # Prisma's words (Cascade, SetNull, ...) when given explicitly
    on_update: str | None = None
    map: str | None = None


@dataclass
class PrismaSchema:
    items: list[TopItem] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)  # filled in by validation

    @property
    def models(self) -> list[Model]:
        return [i for i in self.items if isinstance(i, Model)]

    @property
    def enums(self) -> list[Enum]:
        return [i for i in self.items if isinstance(i, Enum)]

    @property
    def datasource(self) -> ConfigBlock | None:
        return next((i for i in self.items if isinstance(i, ConfigBlock) and i.kind == "datasource"), None)

    @property
    def generators(self) -> list[ConfigBlock]:
        return [i for i in self.items if isinstance(i, ConfigBlock) and i.kind == "generator"]

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)

    def enum(self, name: str) -> Enum | None:
        return next((e for e in self.enums if e.name == name), None)


def _mapped_name(attribute: Attribute | None, default: str) -> str:
    if attribute is not None:
        arg = attribute.arg("name", positional=True)
        if arg is not None and isinstance(arg.value, StringValue):
            return arg.value.value
    return default


def field_refs(value: object) -> list[ConstantValue] | None:
    """`[a, b]` (or a bare `a`, which Prisma accepts too) as constants; None when it is not that."""
    if isinstance(value, ConstantValue):
        return [value]
    if isinstance(value, ArrayValue) and all(isinstance(i, ConstantValue) for i in value.items):
        return [i for i in value.items if isinstance(i, ConstantValue)]
    return None


def index_refs(value: object) -> list[ConstantValue] | None:
    """The fields of an `@@id`/`@@unique`/`@@index`: like `field_refs`, and an item may carry arguments
    (`createdAt(sort: Desc)`, `data(ops: JsonbPathOps)`): see `index_ref_args`."""
    if isinstance(value, ConstantValue | FunctionCall):
        value = ArrayValue([value], value.span)
    if not isinstance(value, ArrayValue):
        return None
    refs = []
    for item in value.items:
        if isinstance(item, ConstantValue):
            refs.append(item)
        elif isinstance(item, FunctionCall):
            refs.append(ConstantValue(item.name, item.span))
        else:
            return None
    return refs


def index_ref_args(value: object) -> list[list[Argument]]:
    """The arguments of each field of an index (an empty list for a bare field)."""
    if isinstance(value, ConstantValue | FunctionCall):
        value = ArrayValue([value], value.span)
    if not isinstance(value, ArrayValue):
        return []
    return [item.args if isinstance(item, FunctionCall) else [] for item in value.items]
