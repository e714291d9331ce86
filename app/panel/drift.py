"""Drift on each environment card: the database's real schema compared with a replay of the migrations
it records as applied (the engine's shadow replay, introspection, diff and summary), as short lines such
as `+ column hotfix on User`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import psycopg

from sandbox.migrate import (
    NO_DIFFERENCE,
    STATE_SCHEMA,
    Migration,
    ShadowReplayError,
    SqlSchema,
    diff_schemas,
    introspect,
    replay,
    summarize,
)

# Replays by the migrations' names and checksums: the same files give the same schema, so the three
# cards (and the next views) mostly reuse one replay instead of rebuilding the shadow each time. Names
# carry a timestamp, so each learner has keys of their own: sized for a class of a few hundred (a schema
# is a few kB), lest a class's views evict each other's replays and rebuild shadows.
# Each with the shadow's FINGERPRINT once replayed: a database with that fingerprint holds the same schema.
_CACHE: OrderedDict[tuple[object, ...], tuple[SqlSchema, str]] = OrderedDict()
_CACHE_SIZE = 1024
_CACHE_LOCK = threading.Lock()


Session = Callable[[], AbstractContextManager[psycopg.Connection]]  # e.g. `lambda: ws.reading("shadow")`


def expected_schema(
    shadow: Session, applied: Sequence[Migration], schemas: Sequence[str] = ("public",)
) -> SqlSchema:
    return _expected(shadow, applied, schemas)[0]


def _expected(shadow: Session, applied: Sequence[Migration], schemas: Sequence[str]) -> tuple[SqlSchema, str]:
    """The replay of `applied` (introspected in `schemas`) and the shadow's fingerprint then."""
    key = key_of(applied, schemas)
    found = _replayed(key)
    if found is not None:
        return found
    with shadow() as conn:
        found = replay(conn, list(applied), schemas), fingerprint_of(conn)[0]
    with _CACHE_LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def _replayed(key: tuple[object, ...]) -> tuple[SqlSchema, str] | None:
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    return None


# One query standing for what introspection reads (relations, columns, defaults, constraints, indexes,
# enums, in every schema but the system's: multi-schema projects use several): while it and the applied
# migrations are unchanged, the last answer for that database holds, so a panel view costs one round trip
# per environment instead of an introspection and a diff.
# It names objects instead of giving their OIDs (relations, column types, the tables of constraints and
# indexes, defaults deparsed), so that two databases holding the same schema have the same fingerprint: an
# environment whose fingerprint equals that of the shadow replay of the migrations it applied has no drift,
# found without introspecting it (the common case after a deploy or a new migration). It leaves out what a
# database of the same schema may have besides: the `_prisma_migrations` table of the default schema (which
# introspection leaves out too) and the shadow's own bookkeeping schema (STATE_SCHEMA). Built-in objects
# (below FirstNormalObjectId, 16384: the same in every database of a server) are given by OID: types,
# operator classes, collations, access methods, and the node trees of index expressions and CHECK
# constraints; for objects a learner made, unequal text only means the drift is computed. Types are named
# by a lookup only for user types (a join to pg_type for every column tripled the query's execution).
# pg_get_indexdef and friends are not used: they open each relation (lock manager traffic that made this
# query half of PostgreSQL's work under a class's load). Columns and index details are read per user
# relation through the catalogs' indexes: joined to the whole of pg_attribute, the planner scanned its
# ~3,000 rows each time.
FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
  SELECT n.nspname || ':' || c.relname || ':' || c.relkind::text || ':' || c.relpersistence::text || ':'
         || coalesce((SELECT string_agg(a.attnum::text || ':' || a.attname || ':'
                                        || CASE WHEN a.atttypid < 16384 THEN a.atttypid::text
                                           ELSE (SELECT tn.nspname || '.' || t.typname FROM pg_type t
                                                 JOIN pg_namespace tn ON tn.oid = t.typnamespace
                                                 WHERE t.oid = a.atttypid) END || ':'
                                        || a.atttypmod::text || ':' || a.attnotnull::text || ':'
                                        || a.attidentity::text || ':' || a.attgenerated::text || ':'
                                        || a.attcollation::text || ':'
                                        || coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
                                        ';' ORDER BY a.attnum)
                      FROM pg_attribute a
                      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
         || ':' || coalesce(r.relname || ':' || i.indkey::text || ':' || i.indclass::text || ':'
                            || i.indcollation::text || ':' || i.indoption::text || ':' || i.indisunique::text
                            || ':' || c.relam::text || ':' || coalesce(i.indexprs::text, '') || ':'
                            || coalesce(i.indpred::text, ''), '') AS item
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class r ON r.oid = i.indrelid
  WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', '_migration_lab_shadow')
    AND NOT (n.nspname = 'public' AND coalesce(r.relname, c.relname) = '_prisma_migrations')
  UNION ALL
  SELECT n.nspname || ':' || con.conname || ':' || con.contype::text || ':' || coalesce(r.relname, '')
         || ':' || coalesce(con.conkey::text, '') || ':'
         || coalesce((SELECT fn.nspname || '.' || f.relname FROM pg_class f
                      JOIN pg_namespace fn ON fn.oid = f.relnamespace WHERE f.oid = con.confrelid), '') || ':'
         || coalesce(con.confkey::text, '') || ':'
         || con.confupdtype::text || con.confdeltype::text || con.confmatchtype::text || ':'
         || con.condeferrable::text || con.condeferred::text || con.convalidated::text || ':'
         || coalesce((SELECT x.relname FROM pg_class x WHERE x.oid = con.conindid), '') || ':'
         || coalesce(con.conbin::text, '')
  FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
  LEFT JOIN pg_class r ON r.oid = con.conrelid
  WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', '_migration_lab_shadow')
    AND NOT (n.nspname = 'public' AND r.relname IS NOT DISTINCT FROM '_prisma_migrations')
  UNION ALL
  SELECT n.nspname || ':' || t.typname || ':' || e.enumsortorder::text || ':' || e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', '_migration_lab_shadow')
  UNION ALL
  SELECT 'schema:' || nspname FROM pg_namespace
  WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', '_migration_lab_shadow')
) items
"""
_SEEN: OrderedDict[str, tuple[str, tuple[object, ...], list[str] | None]] = OrderedDict()


def drift_lines(
    conn: psycopg.Connection,
    shadow: Session,
    applied: Sequence[Migration],
    schemas: Sequence[str] = ("public",),
    known: tuple[str, list[str] | None] | None = None,
) -> tuple[str, list[str] | None]:
    """The database's fingerprint, and what differs in `schemas` (the datasource's), one short line each
    ([] when nothing does; None when the replay fails). `known`: a fingerprint and the lines found for it
    with the same `applied` and `schemas` (by another process: a saved reading), taken when it matches."""
    key = key_of(applied, schemas)
    fingerprint, database, found = _found(conn, key, schemas, known)
    if found is not None:
        return fingerprint, list(found[0]) if found[0] is not None else None
    lines = _compute(conn, fingerprint, shadow, applied, schemas)
    _remember(database, fingerprint, key, lines)
    return fingerprint, lines


def in_sync(
    conn: psycopg.Connection,
    applied: Sequence[Migration],
    schemas: Sequence[str],
    known: tuple[str, list[str] | None] | None = None,
) -> bool:
    """Whether the database is known to hold exactly what `applied` replays to in `schemas`: found
    without drift at its present fingerprint, here or (`known`, as in drift_lines) by another process.
    False when not known: nothing is computed (a replay already made counts: the database has its
    fingerprint)."""
    key = key_of(applied, schemas)
    fingerprint, database, found = _found(conn, key, schemas, known)
    if found is not None:
        return found[0] == []
    replayed = _replayed(key)
    if replayed is None or not _comparable(schemas) or replayed[1] != fingerprint:
        return False
    _remember(database, fingerprint, key, [])
    return True


def _found(
    conn: psycopg.Connection,
    key: tuple[object, ...],
    schemas: Sequence[str],
    known: tuple[str, list[str] | None] | None,
) -> tuple[str, str, tuple[list[str] | None] | None]:
    """The fingerprint, the database, and (in a 1-tuple) the drift found for both with `key`, if any."""
    fingerprint, database = fingerprint_of(conn)
    if not _comparable(schemas):
        return fingerprint, database, None
    if known is not None and known[0] == fingerprint:
        _remember(database, fingerprint, key, known[1])
        return fingerprint, database, (known[1],)
    with _CACHE_LOCK:
        seen = _SEEN.get(database)
        if seen is not None and seen[:2] == (fingerprint, key):
            _SEEN.move_to_end(database)
            return fingerprint, database, (seen[2],)
    return fingerprint, database, None


def remember_in_sync(
    conn: psycopg.Connection, applied: Sequence[Migration], schemas: Sequence[str] = ("public",)
) -> None:
    """This database was just built from empty by exactly `applied` (a new workspace's start): until its
    schema changes, it has no drift, and the first view need not replay and introspect to find so."""
    remember_fingerprint_in_sync(fingerprint_of(conn), applied, schemas)


def remember_fingerprint_in_sync(
    found: tuple[str, str], applied: Sequence[Migration], schemas: Sequence[str] = ("public",)
) -> None:
    """As `remember_in_sync`, with the database's fingerprint as `fingerprint_of` read it earlier (the
    warm pool's, when it prepared the workspace)."""
    fingerprint, database = found
    _remember(database, fingerprint, key_of(applied, schemas), [])


def key_of(applied: Sequence[Migration], schemas: Sequence[str]) -> tuple[object, ...]:
    """What a drift is found for: the applied migrations (names, checksums) and the schemas compared."""
    return (*((m.name, m.checksum) for m in applied), tuple(schemas))


def fingerprint_of(conn: psycopg.Connection) -> tuple[str, str]:
    """The database's FINGERPRINT, and the database it is of (as the cache of answers knows it)."""
    row = conn.execute(FINGERPRINT).fetchone()
    return (row[0] if row else ""), f"{conn.info.host}:{conn.info.port}/{conn.info.dbname}"


def _remember(database: str, fingerprint: str, key: tuple[object, ...], lines: list[str] | None) -> None:
    with _CACHE_LOCK:
        _SEEN[database] = (fingerprint, key, lines)
        _SEEN.move_to_end(database)
        while len(_SEEN) > _CACHE_SIZE * 4:
            _SEEN.popitem(last=False)


def _comparable(schemas: Sequence[str]) -> bool:
    """Whether FINGERPRINT covers `schemas`: not when they take in the schema it leaves out."""
    return STATE_SCHEMA not in schemas


def _compute(
    conn: psycopg.Connection,
    fingerprint: str,
    shadow: Session,
    applied: Sequence[Migration],
    schemas: Sequence[str],
) -> list[str] | None:
    try:
        expected, replayed = _expected(shadow, applied, schemas)
    except ShadowReplayError:
        return None
    if fingerprint == replayed and _comparable(schemas):
        return []  # the same schema as the replay's: nothing to introspect and diff
    steps = diff_schemas(expected, introspect(conn, schemas))
    return short_lines(summarize(steps)) if steps else []


def short_lines(summary: list[str]) -> list[str]:
    """Prisma's drift summary (`[*] Changed the `User` table` / `  [+] Added column `hotfix``) as
    `+ column hotfix on User`."""
    lines: list[str] = []
    section, table = "", ""
    for line in summary:
        if not line.strip() or line == NO_DIFFERENCE or line == ")":
            continue
        if not line.startswith(" "):
            section, table = line, line.split("`")[1] if "`" in line else ""
            continue
        item = line.strip()
        if item.startswith("- "):  # an added or removed table or enum
            sign = "+" if section.startswith("[+]") else "−"
            kind = "enum" if "enum" in section else "table"
            lines.append(f"{sign} {kind} {item[2:]}")
            continue
        sign = {"[+]": "+", "[-]": "−", "[*]": "~"}.get(item[:3], "~")
        words = item[4:].replace("`", "")
        for verb in ("Added ", "Removed ", "Altered ", "Dropped the ", "Renamed "):
            words = words.removeprefix(verb)
        lines.append(f"{sign} {words} on {table}" if table else f"{sign} {words}")
    return lines
