"""The statement splitter: the pieces Prisma 7.10.1 sends one by one (or one batch)."""

from __future__ import annotations

from sandbox.migrate.statements import split_statements


def test_comments_stay_with_the_statement_that_follows() -> None:
    script = "-- CreateTable\nCREATE TABLE a (id int);\n\n-- CreateIndex\nCREATE INDEX i ON a(id);\n"
    pieces = split_statements(script)
    assert pieces is not None
    assert [p.text for p in pieces] == [
        "-- CreateTable\nCREATE TABLE a (id int);",
        "\n\n-- CreateIndex\nCREATE INDEX i ON a(id);\n",
    ]
    assert "".join(p.text for p in pieces) == script
    assert [script[p.offset :].startswith(p.text) for p in pieces] == [True, True]


def test_semicolons_inside_strings_bodies_and_comments_do_not_split() -> None:
    script = (
        "INSERT INTO t VALUES ('a;b');\n/* x; y */\nDO $$ BEGIN PERFORM 1; PERFORM 2; END $$;\n"
        'CREATE TABLE "we;ird" (id int)'
    )
    pieces = split_statements(script)
    assert pieces is not None and len(pieces) == 3
    assert pieces[1].text.strip().startswith("/* x; y */\nDO $$")
    assert pieces[2].text == '\nCREATE TABLE "we;ird" (id int)'


def test_offsets_count_characters_not_bytes() -> None:
    script = "INSERT INTO t VALUES ('é€');\nSELECT 2;\n"
    pieces = split_statements(script)
    assert pieces is not None
    assert pieces[1].offset == script.index("\nSELECT 2")
    assert pieces[0].text == "INSERT INTO t VALUES ('é€');"


def test_unreadable_script_is_one_batch() -> None:
    assert split_statements("CREATE TABLE a (id int);\nCREATE TABLE (;\n") is None


def test_drop_index_concurrently_is_one_batch_as_in_prisma_7_10_1() -> None:
    assert split_statements("DROP INDEX CONCURRENTLY a_idx;\nSELECT 1;\n") is None
    assert split_statements("DROP INDEX a_idx;\nSELECT 1;\n") is not None


def test_only_comments_is_no_statement() -> None:
    assert split_statements("-- nothing here\n") == []
