"""Prisma's SQL calculation for PostgreSQL: a validated schema -> the tables, enums, keys, indexes and
foreign keys that `prisma migrate` would create (checked against Prisma's engine, see tests)."""

from __future__ import annotations

from sandbox.migrate.sqlschema import (
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    SqlSchema,
    Table,
    schema_key,
)
from sandbox.migrate.sqlschema import (
    Enum as SqlEnum,
)
from sandbox.prisma import datasource, indexes, names
from sandbox.prisma.ast import Attribute, Enum, Field, Model, NumberValue, PrismaSchema, Relation, index_refs
from sandbox.prisma.defaults import to_column_default
from sandbox.prisma.relations import ACTIONS
from sandbox.prisma.types import SCALAR_SQL, native_sql
from sandbox.prisma.validate import constraint_name


def to_sql_schema(source: str | PrismaSchema) -> SqlSchema:
    """Accepts schema text (parsed and validated here) or a PrismaSchema from `parse_schema`."""
    if isinstance(source, str):
        from sandbox.prisma import parse_schema

        source = parse_schema(source)
    return _Calculator(source).run()


def _index(name: str, columns: list[str], attr: Attribute) -> Index:
    shape = indexes.details(attr)
    return Index(name, columns, attr.name == "unique", shape.sorts, shape.opclasses, shape.algorithm)


class _Calculator:
    def __init__(self, schema: PrismaSchema):
        self.schema = schema
        self.enums = {e.name: e for e in schema.enums}
        self.models = {m.name: m for m in schema.models}

    def run(self) -> SqlSchema:
        listed = datasource.namespaces(self.schema)
        # The schemas Prisma takes as existing on this side of a diff: those the datasource lists (without
        # `schemas`, the default one): a model placed in `public` when it was not listed creates it.
        in_use = listed or [datasource.DEFAULT_NAMESPACE]
        sql = SqlSchema(namespaces=in_use, listed=in_use, declared=listed)
        sql.enums = [
            SqlEnum(e.db_name, [v.db_name for v in e.values], self._schema(e)) for e in self.schema.enums
        ]
        tables = {m.name: self._table(m) for m in self.schema.models}
        sql.tables = list(tables.values())
        sql.extensions = datasource.extensions(self.schema)
        with_foreign_keys = datasource.relation_mode(self.schema) != "prisma"
        # Foreign keys follow the fields that hold them; join tables follow the order relations are met.
        by_field = {id(r.field): r for r in self.schema.relations if r.kind != "m:n"}
        for model in self.schema.models:
            for field in model.fields:
                relation = by_field.get(id(field))
                if relation is not None and with_foreign_keys:
                    tables[model.name].foreign_keys.append(self._foreign_key(relation))
        # Join tables come in the order of their model A (the one that sorts first) in the schema, then of
        # A's relation field (Prisma's engine, checked against it).
        positions = {id(m): i for i, m in enumerate(self.schema.models)}

        def join_order(relation: Relation) -> tuple[int, int]:
            fields = [id(f) for f in relation.model.fields]
            own = id(relation.field)
            return positions[id(relation.model)], fields.index(own) if own in fields else 0

        for relation in sorted((r for r in self.schema.relations if r.kind == "m:n"), key=join_order):
            if relation.kind == "m:n":
                join_table = self._join_table(relation)
                if not with_foreign_keys:
                    join_table.foreign_keys = []  # relationMode = "prisma": Prisma emulates them
                sql.tables.append(join_table)
        return sql

    @staticmethod
    def _schema(block: Model | Enum) -> str | None:
        name = datasource.block_namespace(block)
        return None if name is None else schema_key(name)

    def column(self, field: Field) -> Column:
        enum = self.enums.get(field.type.name)
        enum_schema = self._schema(enum) if enum is not None else None
        if field.type.raw is not None:
            sql_type = cast = field.type.raw
        elif enum is not None:
            sql_type = enum.db_name
            cast = f'"{enum.db_name}"' if enum_schema is None else f'"{enum_schema}"."{enum.db_name}"'
        else:
            native = next((a for a in field.attributes if a.name.startswith("db.")), None)
            if native is not None:
                args = [int(a.value.text) for a in native.args if isinstance(a.value, NumberValue)]
                sql_type = native_sql(native.name[3:], args)
            else:
                sql_type = SCALAR_SQL[field.type.name]
            cast = sql_type
        kind = "enum" if enum is not None else "scalar"
        default = to_column_default(field, kind, field.attribute("default"), cast, enum)
        return Column(
            name=field.db_name,
            type=sql_type,
            nullable=field.optional or field.list,
            default=default,
            is_enum=enum is not None,
            is_array=field.list,
            enum_schema=enum_schema,
        )

    def _table(self, model: Model) -> Table:
        scalars = [f for f in model.fields if f.type.name not in self.models]
        table = Table(model.db_name, [self.column(f) for f in scalars], schema=self._schema(model))
        for field in scalars:
            id_attr = field.attribute("id")
            if id_attr is not None:
                table.primary_key = PrimaryKey(
                    constraint_name(model, id_attr, [field.db_name]), [field.db_name]
                )
        for attr in model.attributes:
            if attr.name == "id":
                cols = self._columns(model, attr)
                table.primary_key = PrimaryKey(constraint_name(model, attr, cols), cols)
        # Prisma's order: field-level @unique, then @@index, then @@unique, each in schema order.
        for field in scalars:
            unique = field.attribute("unique")
            if unique is not None:
                table.indexes.append(
                    _index(constraint_name(model, unique, [field.db_name]), [field.db_name], unique)
                )
        for kind in ("index", "unique"):
            for attr in model.attributes:
                if attr.name == kind:
                    cols = self._columns(model, attr)
                    table.indexes.append(_index(constraint_name(model, attr, cols), cols, attr))
        return table

    def _columns(self, model: Model, attr: Attribute) -> list[str]:
        arg = attr.arg("fields", positional=True)
        refs = index_refs(arg.value) if arg is not None else None
        return [model.known_field(r.name).db_name for r in refs or []]

    def _foreign_key(self, relation: Relation) -> ForeignKey:
        model, target = relation.model, relation.target
        scalars = [model.known_field(n) for n in relation.fields]
        columns = [f.db_name for f in scalars]
        required = any(not f.optional for f in scalars)
        on_delete = (
            ACTIONS[relation.on_delete] if relation.on_delete else ("RESTRICT" if required else "SET NULL")
        )
        on_update = ACTIONS[relation.on_update] if relation.on_update else "CASCADE"
        return ForeignKey(
            name=relation.map or names.foreign_key_name(model.db_name, columns),
            columns=columns,
            referenced_table=target.db_name,
            referenced_columns=[target.known_field(n).db_name for n in relation.references],
            on_delete=on_delete,  # type: ignore[arg-type]
            on_update=on_update,  # type: ignore[arg-type]
            referenced_schema=self._schema(target),
        )

    def _join_table(self, relation: Relation) -> Table:
        """Implicit many-to-many: `_AToB` (or `_Name`), "A" and "B" typed like the ids they point to."""
        a, b = relation.model, relation.target
        name = "_" + (relation.name or f"{a.name}To{b.name}")
        spelled = names.join_table_names(name)
        table = Table(name, schema=self._schema(a))  # Prisma puts it in the schema of model A
        for letter, model in (("A", a), ("B", b)):
            id_field = next(f for f in model.fields if f.attribute("id"))
            id_column = self.column(id_field)
            table.columns.append(
                Column(
                    letter,
                    id_column.type,
                    nullable=False,
                    is_enum=id_column.is_enum,
                    enum_schema=id_column.enum_schema,
                )
            )
            table.foreign_keys.append(
                ForeignKey(
                    spelled[f"{letter.lower()}_fkey"],
                    [letter],
                    model.db_name,
                    [id_column.name],
                    "CASCADE",
                    "CASCADE",
                    referenced_schema=self._schema(model),
                )
            )
        table.primary_key = PrimaryKey(spelled["pkey"], ["A", "B"])
        table.indexes.append(Index(spelled["index"], ["B"]))
        return table
