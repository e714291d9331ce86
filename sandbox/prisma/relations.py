"""Relations: pair every relation field with its opposite, classify the pair (one-to-one, one-to-many,
implicit many-to-many) and check the foreign key side the way Prisma does."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.prisma.ast import (
    Argument,
    Attribute,
    ConstantValue,
    Field,
    Model,
    PrismaSchema,
    Relation,
    StringValue,
    field_refs,
)
from sandbox.prisma.errors import Diagnostic, Span

ACTIONS = {
    "Cascade": "CASCADE",
    "Restrict": "RESTRICT",
    "NoAction": "NO ACTION",
    "SetNull": "SET NULL",
    "SetDefault": "SET DEFAULT",
}
RELATION = 'Error parsing attribute "@relation": '


@dataclass
class _Side:
    model: Model
    field: Field
    target: Model
    attr: Attribute | None
    name: str
    fields: list[ConstantValue] | None
    references: list[ConstantValue] | None

    def arg(self, key: str) -> Argument | None:
        return self.attr.arg(key) if self.attr is not None else None

    def arg_span(self, key: str) -> Span:
        """Where argument `key` is written (the field, should it be missing)."""
        arg = self.arg(key)
        return arg.span if arg is not None else self.field.span

    @property
    def defines_key(self) -> bool:
        return self.fields is not None or self.references is not None

    @property
    def has_actions(self) -> bool:
        return self.arg("onDelete") is not None or self.arg("onUpdate") is not None


def check_relations(schema: PrismaSchema) -> tuple[list[Relation], list[Diagnostic]]:
    checker = _Checker(schema)
    checker.run()
    return checker.relations, checker.diagnostics


def _names(fields: list[str]) -> str:
    quoted = [f"`{f}`" for f in fields]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


class _Checker:
    def __init__(self, schema: PrismaSchema):
        self.schema = schema
        self.models = {m.name: m for m in schema.models}
        self.relations: list[Relation] = []
        self.diagnostics: list[Diagnostic] = []

    def error(self, span: Span, message: str) -> None:
        self.diagnostics.append(Diagnostic.at(span, message))

    def run(self) -> None:
        groups: dict[tuple[tuple[str, ...], str], list[_Side]] = {}
        for model in self.schema.models:
            seen: set[str] = set()
            for field in model.fields:
                target = self.models.get(field.type.name)
                if target is None or field.name in seen:
                    continue
                seen.add(field.name)
                side = self._side(model, field, target)
                if side is not None:
                    key = (tuple(sorted((model.name, target.name))), side.name)
                    groups.setdefault(key, []).append(side)
        for sides in groups.values():
            self._group(sides)

    def _side(self, model: Model, field: Field, target: Model) -> _Side | None:
        attr = field.attribute("relation")
        name = ""
        lists: dict[str, list[ConstantValue] | None] = {"fields": None, "references": None}
        if attr is not None:
            arg = attr.arg("name", positional=True)
            if arg is not None:
                if not isinstance(arg.value, StringValue):
                    self.error(
                        arg.span,
                        RELATION + 'The relation name must be a string, for example @relation("Author").',
                    )
                    return None
                name = arg.value.value
            for key in lists:
                given = attr.arg(key)
                if given is None:
                    continue
                refs = field_refs(given.value)
                if refs is None:
                    self.error(
                        given.span,
                        f"The argument `{key}` must be a list of field names, for example `{key}: [id]`.",
                    )
                    return None
                lists[key] = refs
        return _Side(model, field, target, attr, name, lists["fields"], lists["references"])

    def _group(self, sides: list[_Side]) -> None:
        first = sides[0]
        if first.model is first.target:
            if len(sides) > 2:
                self._ambiguous(sides, self_relation=True)
            elif len(sides) == 1:
                self._missing_opposite(first)
            else:
                self._pair(sides[0], sides[1])
            return
        here = [s for s in sides if s.model is first.model]
        there = [s for s in sides if s.model is not first.model]
        ambiguous = False
        for group in (here, there):
            if len(group) > 1:
                self._ambiguous(group, self_relation=False)
                ambiguous = True
        if ambiguous:
            return
        if not there:
            self._missing_opposite(first)
        else:
            self._pair(here[0], there[0])

    def _ambiguous(self, sides: list[_Side], self_relation: bool) -> None:
        model, names = sides[0].model, _names([s.field.name for s in sides])
        prefix = f'Error validating model "{model.name}": '
        if sides[0].name:
            verb = "both use" if len(sides) == 2 else "all use"
            message = (
                f"Wrongly named relation detected. The fields {names} in model `{model.name}` {verb} the "
                "same "
                "relation name. Please provide different relation names for them through `@relation(<name>).`"
            )
        elif self_relation:
            message = (
                f"Unnamed self relation detected. The fields {names} in model `{model.name}` have no "
                "relation "
                "name. Please provide a relation name for one of them by adding `@relation(<name>).`"
            )
        else:
            message = (
                f"Ambiguous relation detected. The fields {names} in model `{model.name}` both refer to "
                f"`{sides[0].target.name}`. Please provide different relation names for them by adding "
                "`@relation(<name>).`"
            )
        self.error(sides[1].field.span, prefix + message)

    def _missing_opposite(self, side: _Side) -> None:
        model, target = side.model, side.target
        if side.field.list:
            ids = [f.name for f in model.fields if f.attribute("id")]
            ref = ids[0] if ids else "id"
            lower = model.name[0].lower() + model.name[1:]
            key = lower + ref[0].upper() + ref[1:]
            example = f"{lower} {model.name} @relation(fields: [{key}], references: [{ref}])"
        else:
            example = f"{model.name[0].lower() + model.name[1:]}s {model.name}[]"
        if side.name:
            example += f' with @relation("{side.name}")'
        self.error(
            side.field.span,
            f"Error validating field `{side.field.name}` in model `{model.name}`: The relation field "
            f"`{side.field.name}` on model `{model.name}` is missing an opposite relation field on the model "
            f"`{target.name}`. Add it to model `{target.name}`, for example `{example}`.",
        )

    # ----- pairs -----------------------------------------------------------------------------------
    def _pair(self, a: _Side, b: _Side) -> None:
        if a.field.list and b.field.list:
            self._many_to_many(a, b)
        elif a.field.list or b.field.list:
            owner, other = (b, a) if a.field.list else (a, b)
            if other.defines_key:
                self.error(
                    other.field.span, RELATION + self._not_here(other, owner, "`fields` or `references`")
                )
            elif other.has_actions:
                self._actions_not_here(other, owner)
            if self._needs_key(owner) and self._foreign_key(owner):
                self._add("1:n", owner, other)
        else:
            self._one_to_one(a, b)

    def _not_here(self, side: _Side, owner: _Side, what: str) -> str:
        return (
            f"The relation field `{side.field.name}` on Model `{side.model.name}` must not specify the "
            f"{what} "
            f"argument in the @relation attribute. You must only specify it on the opposite field "
            f"`{owner.field.name}` on model `{owner.model.name}`"
        )

    def _actions_not_here(self, side: _Side, owner: _Side) -> None:
        self.error(
            side.field.span,
            RELATION
            + self._not_here(side, owner, "`onDelete` or `onUpdate`")
            + ", or in case of a many to many relation, in an explicit join table.",
        )

    def _needs_key(self, owner: _Side) -> bool:
        ok = True
        for key in ("fields", "references"):
            if getattr(owner, key) is None:
                self.error(
                    owner.field.span,
                    RELATION + f"The relation field `{owner.field.name}` on Model `{owner.model.name}` must "
                    f"specify the `{key}` argument in the @relation attribute.",
                )
                ok = False
        return ok

    def _one_to_one(self, a: _Side, b: _Side) -> None:
        definers = [s for s in (a, b) if s.defines_key]
        if len(definers) != 1:
            verb = "do not provide" if not definers else "both provide"
            ending = (
                "You have to provide it on one of the two fields."
                if not definers
                else ("You have to provide it only on one of the two fields.")
            )
            for side, other in ((a, b), (b, a)):
                for key in ("fields", "references"):
                    self.error(
                        side.field.span,
                        RELATION
                        + f"The relation fields `{side.field.name}` on Model `{side.model.name}` and "
                        f"`{other.field.name}` on Model `{other.model.name}` {verb} the `{key}` argument in "
                        "the "
                        f"@relation attribute. {ending}",
                    )
            return
        owner = definers[0]
        other = b if owner is a else a
        if not other.field.optional:
            self.error(
                other.field.span,
                RELATION
                + f"The relation field `{other.field.name}` on Model `{other.model.name}` is required. "
                "This is not valid because it's not possible to enforce this constraint on the database "
                "level. "
                f"Please change the field type from `{owner.model.name}` to `{owner.model.name}?` to fix "
                "this.",
            )
        if other.has_actions:
            self._actions_not_here(other, owner)
        if not self._needs_key(owner) or not self._foreign_key(owner):
            return
        names = [f.name for f in owner.fields or []]
        if not _is_unique(owner.model, names):
            fix = (
                f"add an `@unique` attribute to the field `{names[0]}`"
                if len(names) == 1
                else f"add an `@@unique([{', '.join(names)}])` attribute to the model `{owner.model.name}`"
            )
            self.error(
                owner.field.span,
                RELATION
                + f"A one-to-one relation must use unique fields on the defining side. Either {fix}, "
                "or change the relation to one-to-many.",
            )
            return
        self._add("1:1", owner, other)

    def _many_to_many(self, a: _Side, b: _Side) -> None:
        ok = True
        for side in (a, b):
            if side.defines_key:
                self.error(
                    side.field.span,
                    "Embedded many-to-many relations are not supported on Postgres. Please use the syntax "
                    "defined in https://pris.ly/d/relational-database-many-to-many",
                )
                ok = False
            elif side.has_actions:
                self._actions_not_here(side, b if side is a else a)
                ok = False
            if _single_id(side.target) is None:
                self.error(
                    side.field.span,
                    f"Error validating field `{side.field.name}` in model `{side.model.name}`: The relation "
                    "field "
                    f"`{side.field.name}` on model `{side.model.name}` references `{side.target.name}` "
                    "which does "
                    "not have an `@id` field. Models without `@id` cannot be part of a many to many "
                    "relation. "
                    "Use an explicit intermediate Model to represent this relationship.",
                )
                ok = False
        if ok:
            first, second = (a, b) if a.model.name <= b.model.name else (b, a)
            self.relations.append(
                Relation(a.name, "m:n", first.model, first.field, second.model, second.field, [], [])
            )

    def _scalar(self, model: Model, name: str) -> Field | None:
        field = model.field(name)
        return field if field is not None and field.type.name not in self.models else None

    # ----- the foreign key side ----------------------------------------------------------------------
    def _foreign_key(self, owner: _Side) -> bool:
        """Checks `fields`/`references`/actions of the side that holds the foreign key."""
        field, model, target = owner.field, owner.model, owner.target
        fields, refs = owner.fields or [], owner.references or []
        unknown = [f.name for f in fields if model.field(f.name) is None]
        if unknown:
            self.error(
                owner.arg_span("fields"),
                "The argument fields must refer only to existing fields. The following fields do not exist "
                "in "
                f"this model: {', '.join(unknown)}",
            )
            return False
        relational = [f.name for f in fields if self._scalar(model, f.name) is None]
        if relational:
            self.error(
                owner.arg_span("fields"),
                "The argument fields must refer only to scalar fields. But it is referencing the following "
                f"relation fields: {', '.join(relational)}",
            )
            return False
        missing = [r.name for r in refs if self._scalar(target, r.name) is None]
        if missing:
            self.error(
                owner.arg_span("references"),
                f"The argument `references` must refer only to existing fields in the related model "
                f"`{target.name}`. The following fields do not exist in the related model: "
                f"{', '.join(missing)}",
            )
            return False
        if len(fields) != len(refs) or not fields:
            self.error(field.span, "You must specify the same number of fields in `fields` and `references`.")
            return False
        ok = True
        for f, r in zip(fields, refs, strict=True):
            mine, theirs = model.field(f.name), target.field(r.name)
            assert mine is not None and theirs is not None
            if mine.type.name != theirs.type.name or mine.list != theirs.list:
                self.error(
                    field.span,
                    RELATION
                    + f"The type of the field `{mine.name}` in the model `{model.name}` is not matching "
                    f"the type of the referenced field `{theirs.name}` in model `{target.name}`.",
                )
                ok = False
        ref_names = [r.name for r in refs]
        if ok and not _is_unique(target, ref_names):
            fix = (
                f"an `@unique` attribute to the field `{ref_names[0]}` in the model `{target.name}`"
                if len(ref_names) == 1
                else f"an `@@unique([{', '.join(ref_names)}])` attribute to the model `{target.name}`"
            )
            self.error(
                field.span,
                RELATION + "The argument `references` must refer to a unique criterion in the related model. "
                f"Consider adding {fix}.",
            )
            ok = False
        scalars = [model.known_field(f.name) for f in fields]
        if not field.optional and any(s.optional for s in scalars):
            self.error(
                field.span,
                f"The relation field `{field.name}` uses the scalar fields "
                f"{', '.join(f.name for f in fields)}. "
                "At least one of those fields is optional. Hence the relation field must be optional as "
                "well.",
            )
            ok = False
        return self._actions(owner, any(not s.optional for s in scalars)) and ok

    def _actions(self, owner: _Side, required: bool) -> bool:
        ok = True
        for key in ("onDelete", "onUpdate"):
            arg = owner.arg(key)
            if arg is None:
                continue
            value = arg.value
            if not isinstance(value, ConstantValue) or value.name not in ACTIONS:
                shown = value.name if isinstance(value, ConstantValue) else "…"
                allowed = ", ".join(f"`{a}`" for a in ACTIONS)
                self.error(
                    arg.span, RELATION + f"Invalid referential action: `{shown}`. Allowed values: ({allowed})"
                )
                ok = False
            elif value.name == "SetNull" and required:
                # Prisma 7 only warns here; the DELETE/UPDATE would then fail at run time, so we refuse it.
                self.error(
                    arg.span,
                    RELATION
                    + f"The `{key}` referential action of a relation must not be set to `SetNull` when a "
                    "referenced field is required. Either choose another referential action, or make the "
                    "referenced fields optional.",
                )
                ok = False
        return ok

    def _add(self, kind: str, owner: _Side, other: _Side) -> None:
        def action(key: str) -> str | None:
            arg = owner.arg(key)  # a valid action by now: `_actions` refused any other value
            return arg.value.name if arg is not None and isinstance(arg.value, ConstantValue) else None

        map_arg = owner.arg("map")
        self.relations.append(
            Relation(
                owner.name,
                kind,
                owner.model,
                owner.field,
                owner.target,
                other.field,
                [f.name for f in owner.fields or []],
                [r.name for r in owner.references or []],
                action("onDelete"),
                action("onUpdate"),
                map_arg.value.value
                if map_arg is not None and isinstance(map_arg.value, StringValue)
                else None,
            )
        )


def _single_id(model: Model) -> Field | None:
    return next((f for f in model.fields if f.attribute("id")), None)


def _is_unique(model: Model, names: list[str]) -> bool:
    wanted = set(names)
    if len(names) == 1:
        f = model.field(names[0])
        if f is not None and (f.attribute("id") or f.attribute("unique")):
            return True
    for attr in model.attributes:
        if attr.name in ("id", "unique"):
            arg = attr.arg("fields", positional=True)
            refs = field_refs(arg.value) if arg else None
            if refs and {r.name for r in refs} == wanted:
                return True
    return False
