"""The `load` bench suite with tiny numbers: the real app under uvicorn, a few learners, the shape of
what it reports (never its timings: performance is measured by `migration-lab bench`)."""

from __future__ import annotations

import time

import pytest

from app.bench import load
from app.bench.cli import SUITES


def by_name(measurements) -> dict:
    return {m.name: m for m in measurements}


def test_suite_is_registered():
    assert SUITES["load"] == "app.bench.load"


def test_three_learners_each_run_the_whole_mix():
    measured = by_name(load.run(4, learners=3, think_ms=0, ramp_s=0))

    for prefix in ("load_", "load_pg_"):  # the state in SQLite, then in PostgreSQL
        assert len(measured[f"{prefix}action_ms"].samples) == 3 * 4, prefix
        assert measured[f"{prefix}errors"].value == 0, prefix

    assert len(measured["load_first_open_ms"].samples) == 3
    assert len(measured["load_action_ms"].samples) == 3 * 4
    for kind in load.ACTIONS:
        assert len(measured[f"load_{kind}_ms"].samples) == 3, kind
    assert measured["load_errors"].unit == "errors"
    assert measured["load_errors"].value == 0
    assert measured["load_actions_not_run"].value == 0
    assert measured["load_throughput"].value > 0
    assert all(ms > 0 for ms in measured["load_action_ms"].samples)


def test_an_answer_without_its_success_mark_is_an_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(load.SUCCESS, "sql", "a mark no answer contains")
    measured = by_name(load.run(3, learners=2, think_ms=0, ramp_s=0, states=("sqlite",)))

    assert measured["load_errors"].value == 2  # the SQL console query of each learner
    assert len(measured["load_sql_ms"].samples) == 2  # still timed


def test_the_deadline_stops_the_run_and_counts_what_was_not_run():
    started = time.monotonic()
    measured = by_name(load.run(5, learners=2, think_ms=60_000, ramp_s=0, deadline_s=1, states=("sqlite",)))

    assert time.monotonic() - started < 60  # did not wait for the learners' minute-long pauses
    assert measured["load_actions_not_run"].value == 2 * 5
    assert "load_fragment_ms" not in measured  # no action ran, so no empty per-kind row
    assert measured["load_action_ms"].samples == []


def test_a_learner_keeps_one_connection_as_a_browser_does():
    """A browser keeps its connection to the server: with several workers its requests all go to the one
    worker that accepted it (and that worker's kept database sessions). A client opening a connection per
    request measured another, costlier, class (PostgreSQL's CPU per action doubled)."""
    import asyncio

    with load.served_app("sqlite", workspaces=4, pool=1) as url:

        async def three_requests() -> list[object]:
            async with load.Browser(url, {}) as browser:
                seen = []
                for _ in range(3):
                    answer = await browser.request("GET", "/healthz")
                    assert answer.is_success
                    seen.append(browser.writer)  # the objects themselves: an id may be reused
                browser.writer.close()  # as the server closing an idle connection: the next asks anew
                seen.append(await browser.request("GET", "/healthz") and browser.writer)
                return seen

        seen = asyncio.run(three_requests())
    assert seen[0] is seen[1] is seen[2] and seen[3] is not seen[0] and seen[3] is not None
