"""Every kind of mistake gives its sentence at its line and column, never a stack trace."""

from __future__ import annotations

import textwrap

import pytest

from sandbox.prisma import Diagnostic, SchemaError, format_schema, parse_schema

USER_POST = """
model User {{
  id    Int    @id
  email String @unique
  posts Post[]
}}
model Post {{
  id       Int  @id
  author   {author}
  authorId {author_id}
}}
"""


def diagnostics(text: str) -> list[Diagnostic]:
    with pytest.raises(SchemaError) as caught:
        parse_schema(textwrap.dedent(text).lstrip("\n"))
    return caught.value.diagnostics


def relation(author: str, author_id: str = "Int") -> str:
    return USER_POST.format(author=author, author_id=author_id)


CASES = [
    # ----- syntax -----
    (
        "unknown keyword",
        "modle A {\n  id Int @id\n}\n",
        1,
        1,
        "This line is invalid. It does not start with any known Prisma schema keyword. Did you mean `model`?",
    ),
    (
        "unclosed block",
        "model User {\n  id Int @id\n\nmodel Post {\n  id Int @id\n}\n",
        4,
        1,
        "Expected `}` to close model `User` opened on line 1.",
    ),
    (
        "unclosed at end",
        "model User {\n  id Int @id\n",
        3,
        1,
        "Expected `}` to close model `User` opened on line 1.",
    ),
    ("missing brace", "model User\n  id Int @id\n}\n", 1, 11, "Expected `{` after `model User`."),
    ("missing name", "model {\n}\n", 1, 7, "Expected a name after `model`, for example `model User {`."),
    (
        "field without type",
        "model A {\n  id Int @id\n  name\n}\n",
        3,
        3,
        "Field `name` in model `A` has no type: write it as `name Type`, for example `name String`.",
    ),
    (
        "fields on the brace line",
        "model A { id Int @id }\n",
        1,
        11,
        "Put each field of model `A` on its own line: nothing may follow the "
        "`{` on the line that opens the block.",
    ),
    (
        "optional list",
        "model A {\n  id Int @id\n  tags String[]?\n}\n",
        3,
        8,
        "Optional lists are not supported. Use either `Type[]` or `Type?`.",
    ),
    (
        "unterminated string",
        'model A {\n  id Int @id\n  s String @default("abc)\n}\n',
        3,
        21,
        'This string is not closed: add a `"` before the end of the line.',
    ),
    (
        "unclosed arguments",
        "model A {\n  id Int @id @default(autoincrement()\n}\n",
        2,
        38,
        "Expected `,` or `)` in the arguments of `@default` opened at column 22, found the end of the line.",
    ),
    (
        "attribute split over lines",
        "model A {\n  id Int @id\n  @@index([\n    id\n  ])\n}\n",
        3,
        11,
        "This `[` is not closed on this line: a list must fit on one line.",
    ),
    (
        "trailing comma",
        "model A {\n  id Int @id @default(1,)\n}\n",
        2,
        24,
        "Trailing commas are not valid in attribute arguments, please remove the comma.",
    ),
    (
        "junk after type",
        "model A {\n  id Int @id\n  this is wrong\n}\n",
        3,
        11,
        "Unexpected `wrong` after the type of field `this`: expected an attribute starting with `@` or the "
        "end of "
        "the line.",
    ),
    (
        "block attribute after field",
        "model A {\n  id Int @id @@index([id])\n}\n",
        2,
        14,
        "Block attributes such as `@@index` go on their own line, not after a field.",
    ),
    ("stray character", "model A {\n  id Int @id %\n}\n", 2, 14, "Unexpected character `%`."),
    (
        "composite type",
        "type Address {\n  street String\n}\n",
        1,
        1,
        "Composite types (`type` blocks) are not supported on PostgreSQL: use a `model` with a relation.",
    ),
    ("stray brace", "}\n", 1, 1, "This `}` does not close any block."),
    # ----- names and types -----
    (
        "unknown type",
        "model A {\n  id   Int @id\n  name Strnig\n}\n",
        3,
        8,
        "Type `Strnig` is neither a built-in type, nor refers to another model, composite type, or enum. "
        "Did you mean `String`?",
    ),
    (
        "unknown type, wrong case",
        "model A {\n  id Int @id\n  at datetime\n}\n",
        3,
        6,
        "Type `datetime` is neither a built-in type, nor refers to another model, composite type, or enum. "
        "Did you mean `DateTime`?",
    ),
    (
        "duplicate model",
        "model A {\n  id Int @id\n}\nmodel A {\n  id Int @id\n}\n",
        4,
        7,
        'The model "A" cannot be defined because a model with that name already exists.',
    ),
    (
        "enum named like a model",
        "model A {\n  id Int @id\n}\nenum A {\n  X\n}\n",
        4,
        6,
        'The enum "A" cannot be defined because a model with that name already exists.',
    ),
    (
        "reserved name",
        "model String {\n  id Int @id\n}\n",
        1,
        7,
        '"String" is a reserved scalar type name and cannot be used.',
    ),
    (
        "duplicate field",
        "model A {\n  id Int @id\n  id String\n}\n",
        3,
        3,
        'Field "id" is already defined on model "A".',
    ),
    (
        "duplicate column",
        'model A {\n  id Int @id\n  a  Int @map("x")\n  b  Int @map("x")\n}\n',
        4,
        3,
        'Field "b" and field "a" of model "A" both use the column name "x": give one of them another @map.',
    ),
    (
        "duplicate table",
        'model A {\n  id Int @id\n  @@map("t")\n}\nmodel B {\n  id Int @id\n  @@map("t")\n}\n',
        7,
        3,
        'The model with database name "t" could not be defined because another model with this name exists: '
        '"A"',
    ),
    ("duplicate enum value", "enum E {\n  X\n  X\n}\n", 3, 3, 'Value "X" is already defined on enum "E".'),
    ("empty enum", "enum E {\n}\n", 1, 1, "An enum must have at least one value."),
    (
        "enum value starting with a digit",
        "enum E {\n  1X\n}\n",
        2,
        3,
        "The name of an enum value must not start with a number.",
    ),
    (
        "wrong provider",
        'datasource db {\n  provider = "mysql"\n}\n',
        2,
        14,
        'Migration Lab runs PostgreSQL: the provider must be "postgresql", not "mysql".',
    ),
    # ----- unique criteria and ids -----
    (
        "no unique criterion",
        "model A {\n  name String\n}\n",
        1,
        7,
        'Error validating model "A": Each model must have at least one unique criteria that has only '
        "required "
        "fields. Either mark a single field with `@id`, `@unique` or add a multi field criterion with "
        "`@@id([])` "
        "or `@@unique([])` to the model.",
    ),
    (
        "optional id",
        "model A {\n  id Int? @id\n}\n",
        2,
        11,
        'Error parsing attribute "@id": Fields that are marked as id must be required.',
    ),
    (
        "two ids",
        "model A {\n  id Int @id\n  b  Int @id\n}\n",
        1,
        7,
        'Error validating model "A": At most one field must be marked as the id field with the `@id` '
        "attribute.",
    ),
    (
        "id and @@id",
        "model A {\n  id Int @id\n  b  Int\n  @@id([id, b])\n}\n",
        1,
        7,
        'Error validating model "A": Each model must have at most one id criteria. You can\'t have `@id` and '
        "`@@id` at the same time.",
    ),
    (
        "index on unknown field",
        "model A {\n  id Int @id\n  @@index([nope])\n}\n",
        3,
        3,
        'Error validating model "A": The index definition refers to the unknown fields: nope.',
    ),
    (
        "same constraint name",
        'model A {\n  id Int @id\n  a  Int\n  b  Int\n  @@index([a], map: "i")\n'
        '  @@index([b], map: "i")\n}\n',
        5,
        3,
        'Error parsing attribute "@@index": The given constraint name `i` has to be unique in the following '
        "namespace: global for primary key, indexes and unique constraints. Please provide a different name "
        "using "
        "the `map` argument.",
    ),
    # ----- attributes -----
    ("unknown attribute", "model A {\n  id Int @id @foo\n}\n", 2, 14, 'Attribute not known: "@foo".'),
    (
        "unknown block attribute",
        "model A {\n  id Int @id\n  @@foo\n}\n",
        3,
        3,
        'Attribute not known: "@@foo".',
    ),
    (
        "attribute twice",
        "model A {\n  id Int @id @unique @unique\n}\n",
        2,
        22,
        'Attribute "@unique" can only be defined once.',
    ),
    (
        "unknown argument",
        "model A {\n  id Int @id\n  s  String @unique(foo: 1)\n}\n",
        3,
        21,
        "No such argument `foo` in `@unique` (expected `length`, `map`, `sort`).",
    ),
    (
        "map without name",
        "model A {\n  id Int @id\n  s  String @map\n}\n",
        3,
        13,
        'Error parsing attribute "@map": expected a name, for example @map("name").',
    ),
    (
        "updatedAt on String",
        "model A {\n  id Int @id\n  u  String @updatedAt\n}\n",
        3,
        13,
        'Error parsing attribute "@updatedAt": Fields that are marked with @updatedAt must be of type '
        "DateTime.",
    ),
    (
        "unique on relation field",
        relation("User @relation(fields: [authorId], references: [id]) @unique"),
        8,
        65,
        'Error parsing attribute "@unique": The field `author` is a relation field and cannot be marked with '
        "`unique`. Only scalar fields can be made unique. Did you mean to put it on `authorId`?",
    ),
    # ----- defaults -----
    (
        "autoincrement on String",
        "model A {\n  id String @id @default(autoincrement())\n}\n",
        2,
        26,
        'Error parsing attribute "@default": The function `autoincrement()` cannot be used on fields of type '
        "`String`.",
    ),
    (
        "now on Int",
        "model A {\n  id Int @id\n  s  Int @default(now())\n}\n",
        3,
        19,
        'Error parsing attribute "@default": The function `now()` cannot be used on fields of type `Int`.',
    ),
    (
        "unknown function",
        "model A {\n  id Int @id\n  s  String @default(foo())\n}\n",
        3,
        22,
        'Error parsing attribute "@default": Unknown function in @default(): `foo` is not known. You can '
        "read "
        "about the available functions here: https://pris.ly/d/attribute-functions",
    ),
    (
        "string default on Int",
        'model A {\n  id Int @id\n  s  Int @default("x")\n}\n',
        3,
        19,
        'Error parsing attribute "@default": Expected an Int value, but found `"x"`.',
    ),
    (
        "decimal default on Int",
        "model A {\n  id Int @id\n  s  Int @default(1.5)\n}\n",
        3,
        19,
        'Error parsing attribute "@default": Parse error: "1.5" is not a valid integer.',
    ),
    (
        "bad boolean",
        "model A {\n  id Int @id\n  s  Boolean @default(yes)\n}\n",
        3,
        23,
        'Error parsing attribute "@default": A boolean literal must be `true` or `false`.',
    ),
    (
        "bad datetime",
        'model A {\n  id Int @id\n  s  DateTime @default("yesterday")\n}\n',
        3,
        24,
        'Error parsing attribute "@default": Parse error: "yesterday" is not a valid rfc3339 datetime '
        "string.",
    ),
    (
        "bad json",
        'model A {\n  id Int @id\n  s  Json @default("{nope")\n}\n',
        3,
        20,
        'Error parsing attribute "@default": Parse error: "{nope" is not a valid JSON string.',
    ),
    (
        "enum default not a value",
        "model A {\n  id Int @id\n  r  Role @default(FOO)\n}\nenum Role {\n  USER\n}\n",
        3,
        20,
        'Error parsing attribute "@default": The defined default value `FOO` is not a valid value of the '
        "enum specified for the field.",
    ),
    (
        "list default not a list",
        'model A {\n  id Int @id\n  s  String[] @default("a")\n}\n',
        3,
        24,
        'Error parsing attribute "@default": The default value of a list field must be a list.',
    ),
    (
        "list default on a scalar",
        'model A {\n  id Int @id\n  s  String @default(["a"])\n}\n',
        3,
        22,
        'Error parsing attribute "@default": The default value of a non-list field cannot be a list.',
    ),
    (
        "default on relation",
        relation("User @relation(fields: [authorId], references: [id]) @default(1)"),
        8,
        65,
        'Error parsing attribute "@default": Cannot set a default value on a relation field.',
    ),
    # ----- native types -----
    (
        "native type on wrong scalar",
        "model A {\n  id Int @id @db.VarChar(20)\n}\n",
        2,
        14,
        "Native type VarChar is not compatible with declared field type Int, expected field type String.",
    ),
    (
        "unknown native type",
        "model A {\n  id Int @id\n  s  String @db.Varchar(20)\n}\n",
        3,
        13,
        "Native type Varchar is not supported for postgresql connector. Did you mean `@db.VarChar`?",
    ),
    (
        "too many native arguments",
        "model A {\n  id Int @id\n  s  String @db.VarChar(1, 2)\n}\n",
        3,
        13,
        "Native type VarChar takes 1 optional arguments, but received 2.",
    ),
    (
        "decimal needs two arguments",
        "model A {\n  id Int @id\n  s  Decimal @db.Decimal(3)\n}\n",
        3,
        14,
        "Expected two nonnegative integers, but found (3).",
    ),
    (
        "native argument not a number",
        'model A {\n  id Int @id\n  s  String @db.VarChar("3")\n}\n',
        3,
        13,
        'Expected a nonnegative integer, but found ("3").',
    ),
    # ----- relations -----
    (
        "missing opposite field",
        "model User {\n  id Int @id\n}\nmodel Post {\n  id       Int  @id\n"
        "  author   User @relation(fields: [authorId], references: [id])\n  authorId Int\n}\n",
        6,
        3,
        "Error validating field `author` in model `Post`: The relation field `author` on model `Post` is "
        "missing an "
        "opposite relation field on the model `User`. Add it to model `User`, for example `posts Post[]`.",
    ),
    (
        "missing references",
        relation("User @relation(fields: [authorId])"),
        8,
        3,
        'Error parsing attribute "@relation": The relation field `author` on Model `Post` must specify the '
        "`references` argument in the @relation attribute.",
    ),
    (
        "missing fields",
        relation("User @relation(references: [id])"),
        8,
        3,
        'Error parsing attribute "@relation": The relation field `author` on Model `Post` must specify the '
        "`fields` argument in the @relation attribute.",
    ),
    (
        "fields and references lengths",
        relation("User @relation(fields: [authorId, id], references: [id])"),
        8,
        3,
        "You must specify the same number of fields in `fields` and `references`.",
    ),
    (
        "mismatched types",
        relation("User @relation(fields: [authorId], references: [id])", "String"),
        8,
        3,
        'Error parsing attribute "@relation": The type of the field `authorId` in the model `Post` is not '
        "matching "
        "the type of the referenced field `id` in model `User`.",
    ),
    (
        "references not unique",
        "model User {\n  id    Int    @id\n  email String\n  posts Post[]\n}\n"
        "model Post "
        "{\n  id       Int    @id\n  author   User   @relation(fields: [authorId], references: [email])\n"
        "  authorId String\n}\n",
        8,
        3,
        'Error parsing attribute "@relation": The argument `references` must refer to a unique criterion in '
        "the related model. Consider adding an `@unique` attribute to the field `email` in the model `User`.",
    ),
    (
        "unknown referenced field",
        relation("User @relation(fields: [authorId], references: [nope])"),
        8,
        47,
        "The argument `references` must refer only to existing fields in the related model `User`. The "
        "following "
        "fields do not exist in the related model: nope",
    ),
    (
        "unknown fields",
        relation("User @relation(fields: [nope], references: [id])"),
        8,
        27,
        "The argument fields must refer only to existing fields. The following fields do not exist in this "
        "model: "
        "nope",
    ),
    (
        "required relation, optional scalar",
        relation("User @relation(fields: [authorId], references: [id])", "Int?"),
        8,
        3,
        "The relation field `author` uses the scalar fields authorId. At least one of those fields is "
        "optional. "
        "Hence the relation field must be optional as well.",
    ),
    (
        "invalid referential action",
        relation("User @relation(fields: [authorId], references: [id], onDelete: Foo)"),
        8,
        65,
        'Error parsing attribute "@relation": Invalid referential action: `Foo`. Allowed values: '
        "(`Cascade`, `Restrict`, `NoAction`, `SetNull`, `SetDefault`)",
    ),
    (
        "SetNull on a required field",
        relation("User @relation(fields: [authorId], references: [id], onDelete: SetNull)"),
        8,
        65,
        'Error parsing attribute "@relation": The `onDelete` referential action of a relation must not be '
        "set to "
        "`SetNull` when a referenced field is required. Either choose another referential action, or make "
        "the "
        "referenced fields optional.",
    ),
    (
        "ambiguous relation",
        "model User {\n  id    Int    @id\n  posts Post[]\n  edits Post[]\n}\n"
        "model Post {\n  id       Int  @id\n  author   User @relation(fields: [authorId], references: [id])\n"
        "  authorId Int\n}\n",
        4,
        3,
        'Error validating model "User": Ambiguous relation detected. The fields `posts` and `edits` in '
        "model `User` "
        "both refer to `Post`. Please provide different relation names for them by adding "
        "`@relation(<name>).`",
    ),
    (
        "one-to-one without unique",
        "model User {\n  id      Int      @id\n  profile Profile?\n}\n"
        "model Profile {\n  id     Int  @id\n  user   User @relation(fields: [userId], references: [id])\n"
        "  userId Int\n}\n",
        7,
        3,
        'Error parsing attribute "@relation": A one-to-one relation must use unique fields on the defining '
        "side. "
        "Either add an `@unique` attribute to the field `userId`, or change the relation to one-to-many.",
    ),
    (
        "one-to-one without fields",
        "model User {\n  id      Int      @id\n  profile Profile?\n}\n"
        "model Profile {\n  id   Int  @id\n  user User\n}\n",
        3,
        3,
        'Error parsing attribute "@relation": The relation fields `profile` on Model `User` and `user` on '
        "Model "
        "`Profile` do not provide the `fields` argument in the @relation attribute. You have to provide it "
        "on one "
        "of the two fields.",
    ),
    (
        "many-to-many with fields",
        "model A {\n  id  Int @id\n  bid Int\n"
        "  bs  B[]  @relation(fields: [bid], references: [id])\n}\nmodel B {\n  id Int @id\n  as A[]\n}\n",
        4,
        3,
        "Embedded many-to-many relations are not supported on Postgres. Please use the syntax defined in "
        "https://pris.ly/d/relational-database-many-to-many",
    ),
    (
        "fields on the list side",
        "model User {\n  id    Int    @id\n"
        "  posts Post[] @relation(fields: [id], references: [authorId])\n}\n"
        "model Post {\n  id       Int  @id\n  author   User @relation(fields: [authorId], references: [id])\n"
        "  authorId Int\n}\n",
        3,
        3,
        'Error parsing attribute "@relation": The relation field `posts` on Model `User` must not specify '
        "the "
        "`fields` or `references` argument in the @relation attribute. You must only specify it on the "
        "opposite "
        "field `author` on model `Post`",
    ),
]


@pytest.mark.parametrize(
    ("schema", "line", "column", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_message_and_position(schema: str, line: int, column: int, message: str) -> None:
    found = diagnostics(schema)
    assert (line, column, message) in [(d.line, d.column, d.message) for d in found], found


def test_several_errors_are_reported_at_once() -> None:
    found = diagnostics(
        """
        model A {
          id   Int @id
          name Strnig
          at   DateTime @default(now()) @foo
        }
        model B {
          id Int? @id
        }
        """
    )
    assert [(d.line, d.column) for d in found] == [(3, 8), (4, 33), (7, 11)]
    assert all(d.end_line >= d.line and d.end_column > d.column for d in found)


def test_syntax_errors_on_several_lines_are_all_reported() -> None:
    found = diagnostics("model A {\n  id Int @id @default(\n  name\n  ok String\n}\nenum E {\n  A B\n}\n")
    assert [d.line for d in found] == [2, 3, 7]


def test_schema_error_lists_line_and_column() -> None:
    with pytest.raises(SchemaError) as caught:
        parse_schema("model A {\n  name Strnig @id\n}\n")
    assert str(caught.value) == (
        "line 2, column 8: Type `Strnig` is neither a built-in type, nor refers to another model, composite "
        "type, "
        "or enum. Did you mean `String`?"
    )
    assert isinstance(caught.value, ValueError)  # callers may catch it as a plain ValueError


def test_span_covers_the_offending_text() -> None:
    (found,) = diagnostics("model A {\n  id Int @id\n  s  String @unique @frobnicate\n}\n")
    assert (found.line, found.column, found.end_line, found.end_column) == (3, 21, 3, 32)


def test_format_refuses_what_it_cannot_parse() -> None:
    with pytest.raises(SchemaError) as caught:
        format_schema("model A {\n  id Int @id\n")
    assert caught.value.diagnostics[0].message == "Expected `}` to close model `A` opened on line 1."
