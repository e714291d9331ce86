"""Line-oriented parser: Prisma requires every field, attribute list and property on one line, so a
mistake is reported for its line and parsing goes on with the next one (several errors at once)."""

from __future__ import annotations

import difflib

from sandbox.prisma.ast import (
    Argument,
    ArrayValue,
    Attribute,
    BlankLine,
    Block,
    Comment,
    ConfigBlock,
    ConstantValue,
    Enum,
    EnumValue,
    Expression,
    Field,
    FieldType,
    FunctionCall,
    Member,
    Model,
    NumberValue,
    PrismaSchema,
    Property,
    StringValue,
)
from sandbox.prisma.errors import Diagnostic, Span
from sandbox.prisma.lexer import Token, tokenize_line

BLOCK_CLASSES: dict[str, type[Block]] = {
    "model": Model,
    "enum": Enum,
    "datasource": ConfigBlock,
    "generator": ConfigBlock,
}
UNSUPPORTED_BLOCKS = {
    "type": "Composite types (`type` blocks) are not supported on PostgreSQL: use a `model` with a relation.",
    "view": "`view` blocks are not part of Migration Lab's schema subset: use `model`, `enum`, `datasource` "
    "or `generator`.",
}


class _LineError(Exception):
    def __init__(self, span: Span, message: str):
        super().__init__(message)
        self.span = span
        self.message = message


class _Cursor:
    """Tokens of one line; `end` is the position just after the last character of the line."""

    def __init__(self, tokens: list[Token], line: int, length: int):
        self.comment: Comment | None = None
        if tokens and tokens[-1].kind in ("comment", "doc"):
            last = tokens.pop()
            self.comment = Comment(last.text.rstrip(), last.span)
        self.tokens = tokens
        self.pos = 0
        self.end = Span(line, length + 1, line, length + 1)

    def peek(self, offset: int = 0) -> Token | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def next(self) -> Token | None:
        tok = self.peek()
        if tok is not None:
            self.pos += 1
        return tok

    def take(self) -> Token:
        tok = self.next()
        assert tok is not None, "take() is only called after peek() saw a token"
        return tok

    def found(self) -> str:
        tok = self.peek()
        return f"found `{tok.text}`" if tok is not None else "found the end of the line"

    def at(self, kind: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind

    def here(self) -> Span:
        tok = self.peek()
        return tok.span if tok is not None else self.end

    def expect(self, kind: str, message: str) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind:
            raise _LineError(self.here(), message)
        self.pos += 1
        return tok

    def last_span(self) -> Span:
        return self.tokens[self.pos - 1].span


MAX_NESTING = 32  # lists and calls nested deeper are refused (Python's own stack would give out first)


def parse_syntax(text: str) -> tuple[PrismaSchema, list[Diagnostic]]:
    """The syntax tree and the syntax errors (the tree holds everything that could be read)."""
    text, unclosed = blank_block_comments(text)
    schema, diagnostics = _Parser(text).run()
    if unclosed is not None:
        diagnostics.append(Diagnostic.at(unclosed, "This block comment is not closed: add `*/` to end it."))
    return schema, diagnostics


def has_block_comments(text: str) -> bool:
    return blank_block_comments(text)[0] != text


def blank_block_comments(text: str) -> tuple[str, Span | None]:
    """`/* … */` comments (Prisma accepts them anywhere whitespace may stand) turned into spaces, line
    breaks kept so that every position stays where it was; and where an unclosed one starts."""
    out: list[str] = []
    i, line, column = 0, 1, 1
    in_string = False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\" and i + 1 < len(text) and text[i + 1] != "\n":
                out.append(text[i : i + 2])
                i, column = i + 2, column + 2
                continue
            in_string = ch not in ('"', "\n")
        elif ch == '"':
            in_string = True
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out.append(text[i:end])
            column += end - i
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                start = Span(line, column, line, column + 2)
                out.append("".join("\n" if c == "\n" else " " for c in text[i:]))
                return "".join(out), start
            body = text[i : end + 2]
            out.append("".join("\n" if c == "\n" else " " for c in body))
            newlines = body.count("\n")
            line += newlines
            column = len(body) - body.rfind("\n") if newlines else column + len(body)
            i = end + 2
            continue
        out.append(ch)
        if ch == "\n":
            line, column = line + 1, 1
        else:
            column += 1
        i += 1
    return "".join(out), None


class _Parser:
    def __init__(self, text: str):
        self.lines = text.split("\n")
        self.diagnostics: list[Diagnostic] = []
        self.schema = PrismaSchema()
        self.block: Block | None = None
        self.skipping: tuple[str, Span] | None = None  # an unsupported or broken block being skipped
        self.pending_docs: list[Comment] = []

    def run(self) -> tuple[PrismaSchema, list[Diagnostic]]:
        for index, raw in enumerate(self.lines):
            line = index + 1
            before = len(self.diagnostics)
            tokens = tokenize_line(raw, line, self.diagnostics)
            if len(self.diagnostics) > before:
                continue  # the lexer said what is wrong with this line; parsing it would only add noise
            cursor = _Cursor(tokens, line, len(raw))
            try:
                if self.block is not None:
                    self._block_line(cursor, raw, line)
                elif self.skipping is not None:
                    self._skipped_line(cursor)
                else:
                    self._top_line(cursor, raw, line)
            except _LineError as err:
                self.diagnostics.append(Diagnostic.at(err.span, err.message))
        last = len(self.lines)
        end = Span(last, len(self.lines[-1]) + 1, last, len(self.lines[-1]) + 1)
        if self.block is not None:
            self._unclosed(end)
        elif self.skipping is not None:
            what, opened = self.skipping
            self.diagnostics.append(
                Diagnostic.at(end, f"Expected `}}` to close the {what} opened on line {opened.line}.")
            )
        return self.schema, self.diagnostics

    # ----- top level -------------------------------------------------------------------------------
    def _top_line(self, c: _Cursor, raw: str, line: int) -> None:
        first = c.peek()
        if first is None:
            if c.comment is not None:
                self.schema.items.append(c.comment)
                if c.comment.is_doc:
                    self.pending_docs.append(c.comment)
            elif not raw.strip():
                self.schema.items.append(BlankLine(Span(line, 1, line, 1)))
                self.pending_docs = []
            return
        if first.kind == "ident" and first.text in BLOCK_CLASSES:
            self._open_block(c, first)
            return
        has_brace = any(t.kind == "{" for t in c.tokens)
        if first.kind == "ident" and first.text in UNSUPPORTED_BLOCKS and has_brace:
            self.skipping = (f"`{first.text}` block", first.span)
            raise _LineError(first.span, UNSUPPORTED_BLOCKS[first.text])
        if first.kind == "}":
            raise _LineError(first.span, "This `}` does not close any block.")
        if has_brace:
            self.skipping = ("block", first.span)
        message = "This line is invalid. It does not start with any known Prisma schema keyword."
        if first.kind == "ident":
            close = difflib.get_close_matches(first.text.lower(), list(BLOCK_CLASSES), n=1, cutoff=0.6)
            if close:
                message += f" Did you mean `{close[0]}`?"
        raise _LineError(first.span.to(c.tokens[-1].span), message)

    def _open_block(self, c: _Cursor, keyword: Token) -> None:
        c.next()
        kind = keyword.text
        name_tok = c.peek()
        if name_tok is None or name_tok.kind != "ident":
            raise _LineError(c.here(), f"Expected a name after `{kind}`, for example `{_example(kind)}`.")
        c.next()
        block = BLOCK_CLASSES[kind](kind, name_tok.text, keyword.span.to(name_tok.span), name_tok.span)
        block.documentation = self.pending_docs
        self.pending_docs = []
        self.schema.items.append(block)
        self.block = block
        if not c.at("{"):
            raise _LineError(c.here(), f"Expected `{{` after `{kind} {name_tok.text}`.")
        c.next()
        block.opening_comment = c.comment
        if c.peek() is None:
            return
        closes_here = c.tokens[-1].kind == "}"
        if closes_here:
            self.block = None
        raise _LineError(
            c.here(),
            f"Put each {_member_word(kind)} of {kind} `{name_tok.text}` on its own line: nothing may follow "
            "the `{` on the line that opens the block.",
        )

    def _skipped_line(self, c: _Cursor) -> None:
        first = c.peek()
        if first is not None and first.kind == "}":
            self.skipping = None

    def _unclosed(self, where: Span) -> None:
        block = self.block
        assert block is not None
        self.diagnostics.append(
            Diagnostic.at(
                where, f"Expected `}}` to close {block.kind} `{block.name}` opened on line {block.span.line}."
            )
        )
        self.block = None

    # ----- inside a block ----------------------------------------------------------------------------
    def _block_line(self, c: _Cursor, raw: str, line: int) -> None:
        block = self.block
        assert block is not None
        first = c.peek()
        if first is None:
            if c.comment is not None:
                block.members.append(c.comment)
            elif not raw.strip():
                block.members.append(BlankLine(Span(line, 1, line, 1)))
            return
        if first.kind == "}":
            self.block = None
            block.span = block.span.to(first.span)
            block.closing_comment = c.comment
            c.next()
            if c.peek() is not None:
                raise _LineError(
                    c.here(), f"Expected a new line after the `}}` that closes {block.kind} `{block.name}`."
                )
            return
        second, third = c.peek(1), c.peek(2)
        if (
            first.kind == "ident"
            and first.text in BLOCK_CLASSES
            and second is not None
            and second.kind == "ident"
            and third is not None
            and third.kind == "{"
        ):
            self._unclosed(first.span)
            self._top_line(c, raw, line)
            return
        member: Member
        if isinstance(block, Model):
            member = self._model_line(c, block)
        elif isinstance(block, Enum):
            member = self._enum_line(c, block)
        else:
            member = self._property_line(c, block)
        block.members.append(member)

    def _model_line(self, c: _Cursor, model: Block) -> Field | Attribute:
        first = c.peek()
        assert first is not None
        if first.kind == "atat":
            return self._block_attribute(c)
        if first.kind == "@":
            raise _LineError(
                first.span,
                "An attribute cannot start a line in a model: field attributes (`@id`) follow a field's "
                "type, block attributes start with `@@`.",
            )
        if first.kind != "ident":
            raise _LineError(first.span, "This line is not a valid field or attribute definition.")
        c.next()
        if c.peek() is None:
            raise _LineError(
                first.span,
                f"Field `{first.text}` in model `{model.name}` has no type: write it as `{first.text} Type`, "
                f"for example `{first.text} String`.",
            )
        field_type = self._field_type(c, first.text)
        attributes = self._field_attributes(c, f"the type of field `{first.text}`")
        last = c.last_span()
        return Field(first.text, field_type, attributes, first.span.to(last), first.span, c.comment)

    def _field_type(self, c: _Cursor, field_name: str) -> FieldType:
        tok = c.expect("ident", f"Expected a type after the field name `{field_name}`, for example `String`.")
        span = tok.span
        optional = is_list = False
        raw = None
        if c.at("(") and tok.text == "Unsupported":
            args = self._arguments(c, "`Unsupported(…)`")
            if len(args) != 1 or args[0].name is not None or not isinstance(args[0].value, StringValue):
                raise _LineError(span, 'Write the database type as one string: `Unsupported("tsvector")`.')
            raw, span = args[0].value.value, span.to(c.last_span())
        elif c.at("("):
            raise _LineError(
                c.here(), f"Type `{tok.text}(…)` is not supported in Migration Lab's schema subset."
            )
        if c.at("["):
            c.next()
            close = c.expect("]", f"Expected `]` after `{tok.text}[` in the type of field `{field_name}`.")
            is_list, span = True, span.to(close.span)
        if c.at("?"):
            q = c.next()
            assert q is not None
            if is_list:
                raise _LineError(
                    span.to(q.span), "Optional lists are not supported. Use either `Type[]` or `Type?`."
                )
            optional, span = True, span.to(q.span)
            if c.at("["):
                raise _LineError(
                    c.here(), "Optional lists are not supported. Use either `Type[]` or `Type?`."
                )
        return FieldType(tok.text, optional, is_list, span, raw)

    def _field_attributes(self, c: _Cursor, after: str) -> list[Attribute]:
        attributes = []
        while (tok := c.peek()) is not None:
            if tok.kind == "@":
                attributes.append(self._attribute(c, block=False))
            elif tok.kind == "atat":
                raise _LineError(
                    tok.span, "Block attributes such as `@@index` go on their own line, not after a field."
                )
            else:
                raise _LineError(
                    tok.span,
                    f"Unexpected `{tok.text}` after {after}: expected an attribute starting with `@` "
                    "or the end of the line.",
                )
        return attributes

    def _block_attribute(self, c: _Cursor) -> Attribute:
        attribute = self._attribute(c, block=True)
        if c.peek() is not None:
            raise _LineError(
                c.here(),
                f"Unexpected `{c.take().text}` after `@@{attribute.name}`: "
                "a block attribute takes the whole line.",
            )
        attribute.comment = c.comment
        return attribute

    def _enum_line(self, c: _Cursor, enum: Block) -> EnumValue | Attribute:
        first = c.peek()
        assert first is not None
        if first.kind == "atat":
            return self._block_attribute(c)
        if first.kind not in ("ident", "number"):
            raise _LineError(first.span, f"This line is not a valid value of enum `{enum.name}`.")
        c.next()
        attributes = self._field_attributes(c, f"the enum value `{first.text}`")
        return EnumValue(first.text, attributes, first.span.to(c.last_span()), c.comment)

    def _property_line(self, c: _Cursor, block: Block) -> Property:
        first = c.peek()
        assert first is not None
        if first.kind != "ident":
            raise _LineError(
                first.span, f'Expected a property such as `provider = "…"` in {block.kind} `{block.name}`.'
            )
        c.next()
        c.expect("=", f'Expected `=` after `{first.text}`, for example `{first.text} = "…"`.')
        value = self._expression(c)
        if c.peek() is not None:
            raise _LineError(c.here(), f"Unexpected `{c.take().text}` after the value of `{first.text}`.")
        return Property(first.text, value, first.span.to(c.last_span()), c.comment)

    # ----- attributes and expressions ----------------------------------------------------------------
    def _attribute(self, c: _Cursor, block: bool) -> Attribute:
        at = c.next()
        assert at is not None
        sign = "@@" if block else "@"
        name_tok = c.peek()
        if name_tok is None or name_tok.kind != "ident" or name_tok.span.column != at.span.end_column:
            raise _LineError(
                c.here(),
                f"Expected an attribute name right after `{sign}`, "
                f"for example `{sign}{'index' if block else 'id'}`.",
            )
        c.next()
        name, name_span = name_tok.text, name_tok.span
        if c.at(".") and c.here().column == name_span.end_column:
            c.next()
            part = c.expect(
                "ident", f"Expected a name after `{sign}{name}.`, for example `@db.VarChar(255)`."
            )
            name, name_span = f"{name}.{part.text}", name_span.to(part.span)
        args: list[Argument] = []
        if c.at("("):
            args = self._arguments(c, f"`{sign}{name}`")
        return Attribute(name, args, at.span.to(c.last_span()), at.span.to(name_span), block)

    def _arguments(self, c: _Cursor, owner: str, depth: int = 0) -> list[Argument]:
        opening = c.next()
        assert opening is not None
        args: list[Argument] = []
        if c.at(")"):
            c.next()
            return args
        while True:
            if c.peek() is None:
                raise _LineError(
                    opening.span,
                    f"The `(` of {owner} is not closed on this line: an attribute and its arguments "
                    "must fit on one line.",
                )
            start = c.here()
            name = None
            second = c.peek(1)
            if c.at("ident") and second is not None and second.kind == ":":
                name = c.take().text
                c.next()
            value = self._expression(c, depth)
            args.append(Argument(name, value, start.to(c.last_span())))
            if c.at(","):
                comma = c.take()
                if c.at(")"):
                    raise _LineError(
                        comma.span,
                        "Trailing commas are not valid in attribute arguments, please remove the comma.",
                    )
                continue
            if c.at(")"):
                c.next()
                return args
            raise _LineError(
                c.here(),
                f"Expected `,` or `)` in the arguments of {owner} opened at column {opening.span.column}, "
                f"{c.found()}.",
            )

    def _expression(self, c: _Cursor, depth: int = 0) -> Expression:
        if depth > MAX_NESTING:
            raise _LineError(
                c.here(),
                f"Lists and function calls nested more than {MAX_NESTING} levels deep are not supported.",
            )
        tok = c.peek()
        if tok is None:
            raise _LineError(
                c.end, f"Expected a value (a string, a number, a list or a function call), {c.found()}."
            )
        if tok.kind == "string":
            c.next()
            return StringValue(tok.value, tok.span)
        if tok.kind == "number":
            c.next()
            return NumberValue(tok.text, tok.span)
        if tok.kind == "ident":
            c.next()
            if c.at("("):
                args = self._arguments(c, f"`{tok.text}(…)`", depth + 1)
                return FunctionCall(tok.text, args, tok.span.to(c.last_span()))
            return ConstantValue(tok.text, tok.span)
        if tok.kind == "[":
            return self._array(c, depth + 1)
        raise _LineError(
            tok.span, f"Expected a value (a string, a number, a list or a function call), found `{tok.text}`."
        )

    def _array(self, c: _Cursor, depth: int) -> ArrayValue:
        opening = c.next()
        assert opening is not None
        items: list[Expression] = []
        if c.at("]"):
            return ArrayValue(items, opening.span.to(c.take().span))
        while True:
            if c.peek() is None:
                raise _LineError(
                    opening.span, "This `[` is not closed on this line: a list must fit on one line."
                )
            items.append(self._expression(c, depth))
            if c.at(","):
                comma = c.take()
                if c.at("]"):
                    raise _LineError(
                        comma.span, "Trailing commas are not valid in lists, please remove the comma."
                    )
                continue
            if c.at("]"):
                return ArrayValue(items, opening.span.to(c.take().span))
            raise _LineError(
                c.here(),
                f"Expected `,` or `]` in the list opened at column {opening.span.column}, {c.found()}.",
            )


def _example(kind: str) -> str:
    return {"model": "model User {", "enum": "enum Role {", "datasource": "datasource db {"}.get(
        kind, "generator client {"
    )


def _member_word(kind: str) -> str:
    return {"model": "field", "enum": "value"}.get(kind, "property")
