"""`prisma format`'s layout: two-space indent, aligned columns within each run of fields (a blank
line starts a new run), block attributes last and in Prisma's order, one blank line between blocks."""

from __future__ import annotations

import json

from sandbox.prisma.ast import (
    Argument,
    ArrayValue,
    Attribute,
    BlankLine,
    Block,
    Comment,
    ConstantValue,
    EnumValue,
    Expression,
    Field,
    FunctionCall,
    Member,
    NumberValue,
    PrismaSchema,
    Property,
    StringValue,
)
from sandbox.prisma.errors import SchemaError
from sandbox.prisma.parser import has_block_comments, parse_syntax

BLOCK_ATTRIBUTE_ORDER = {"id": 0, "unique": 1, "index": 2, "map": 3}
INDENT = "  "

# What stays in a block's body once its block attributes are moved to the end.
BodyMember = Field | EnumValue | Property | Comment | BlankLine


def format_schema(text: str) -> str:
    """Raises SchemaError when the text cannot be parsed (a schema that parses but does not validate is
    still formatted, as `prisma format` does)."""
    schema, diagnostics = parse_syntax(text)
    if diagnostics:
        raise SchemaError(diagnostics)
    if has_block_comments(text):
        return text  # the tree does not keep `/* … */` comments: rather unformatted than lost
    return render(schema)


def render(schema: PrismaSchema) -> str:
    out: list[str] = []
    for item in schema.items:
        if isinstance(item, BlankLine):
            if out and out[-1] != "":
                out.append("")
        elif isinstance(item, Comment):
            out.append(item.text)
        else:
            out.extend(_block(item))
            out.append("")
    while out and out[-1] == "":
        out.pop()
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out) + "\n"


def _block(block: Block) -> list[str]:
    members = block.members
    if block.opening_comment is not None:  # Prisma drops it; we keep the learner's words, inside the block
        members = [block.opening_comment, *members]
    body, attributes = _split(members)
    lines = [f"{block.kind} {block.name} {{"]
    lines.extend(_rows(body))
    if attributes:
        if len(lines) > 1:
            lines.append("")
        for member in attributes:
            lines.append(INDENT + (member.text if isinstance(member, Comment) else _attribute_line(member)))
    # `} // x`: Prisma moves the comment below the block, then a second run adds a blank line before
    # it; we give that fixed point at once, so that formatting is idempotent.
    closing = ["", block.closing_comment.text] if block.closing_comment else []
    return [*lines, "}", *closing]


def _split(members: list[Member]) -> tuple[list[BodyMember], list[Comment | Attribute]]:
    """Block attributes move to the end (sorted by kind, stable), with the comments just above them."""
    body: list[BodyMember] = []
    groups: list[tuple[int, int, list[Comment | Attribute]]] = []
    pending: list[Comment] = []
    for member in members:
        if isinstance(member, Comment):
            pending.append(member)
            continue
        if isinstance(member, Attribute):
            groups.append((BLOCK_ATTRIBUTE_ORDER.get(member.name, 4), len(groups), [*pending, member]))
        else:
            body.extend(pending)
            body.append(member)
        pending = []
    body.extend(pending)
    while body and isinstance(body[-1], BlankLine):
        body.pop()
    while body and isinstance(body[0], BlankLine):
        body.pop(0)
    return body, [m for _, _, group in sorted(groups, key=lambda g: g[:2]) for m in group]


def _rows(members: list[BodyMember]) -> list[str]:
    """Render members, aligning the cells of each run of rows that is not broken by a blank line."""
    lines: list[str] = []
    run: list[Field | EnumValue | Property | Comment] = []

    def flush() -> None:
        rows = [None if isinstance(m, Comment) else _cells(m) for m in run]
        widths: list[int] = []
        for cells in rows:
            for i, cell in enumerate(cells or []):
                if i == len(widths):
                    widths.append(0)
                widths[i] = max(widths[i], len(cell))
        for member, cells in zip(run, rows, strict=True):
            if isinstance(member, Comment):
                lines.append(INDENT + member.text)
                continue
            assert cells is not None  # every member but a comment has cells
            while cells and not cells[-1]:
                cells.pop()
            text = " ".join(
                cell if i == len(cells) - 1 else cell.ljust(widths[i]) for i, cell in enumerate(cells)
            )
            comment = getattr(member, "comment", None)
            lines.append(INDENT + text + (f" {comment.text}" if comment else ""))
        run.clear()

    for member in members:
        if isinstance(member, BlankLine):
            flush()
            if lines and lines[-1] != "":
                lines.append("")
        else:
            run.append(member)
    flush()
    return lines


def _cells(member: Field | EnumValue | Property) -> list[str]:
    if isinstance(member, Field):
        suffix = "[]" if member.list else "?" if member.optional else ""
        type_text = member.type.name
        if member.type.raw is not None:
            type_text += "(" + json.dumps(member.type.raw, ensure_ascii=False) + ")"
        return [member.name, type_text + suffix, " ".join(_attribute(a) for a in member.attributes)]
    if isinstance(member, EnumValue):
        return [member.name, " ".join(_attribute(a) for a in member.attributes)]
    return [member.name, "= " + expression(member.value)]


def _attribute_line(attr: Attribute) -> str:
    return _attribute(attr) + (f" {attr.comment.text}" if attr.comment else "")


def _attribute(attr: Attribute) -> str:
    sign = "@@" if attr.block else "@"
    if not attr.args:
        return f"{sign}{attr.name}"
    return f"{sign}{attr.name}({_arguments(attr.args)})"


def _arguments(args: list[Argument]) -> str:
    return ", ".join((f"{a.name}: " if a.name else "") + expression(a.value) for a in args)


def expression(value: Expression) -> str:
    if isinstance(value, StringValue):
        escaped = value.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped.replace(chr(13), chr(92) + "r").replace(chr(9), chr(92) + "t")}"'
    if isinstance(value, NumberValue):
        return value.text
    if isinstance(value, ConstantValue):
        return value.name
    if isinstance(value, FunctionCall):
        return f"{value.name}({_arguments(value.args)})"
    assert isinstance(value, ArrayValue)
    return "[" + ", ".join(expression(i) for i in value.items) + "]"
