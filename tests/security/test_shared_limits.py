"""The rate limits and the fair share hold across processes: the `limits` storage in the state database
(real SQLite file, real PostgreSQL) and the fair-share slots (lock file, advisory locks), each used from
several connections or processes at once, and a killed holder frees its slots."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import text

from app.db import default_database_url, open_state
from app.guard import libpq_url, shared_guards
from app.guard.ratelimit import RateLimiter
from app.guard.slots import AdvisorySlots, FileSlots, Slots
from app.guard.sqlstorage import StateStorage


def run_async(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run on a thread of its own: in the full suite the browser tests' Playwright (sync API) leaves
    an event loop running in the main thread, where asyncio.run refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated state database of each kind."""
    if request.param == "sqlite":
        url = default_database_url(tmp_path)
    else:
        params = conninfo_to_dict(request.getfixturevalue("fresh_db"))
        url = f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    open_state(url).dispose()
    return url


def test_a_moving_window_is_counted_once_for_every_process(state_url: str) -> None:
    # Two storages: two engines, as two workers have.
    first, second = StateStorage(state_url), StateStorage(state_url)
    try:
        limiters = [MovingWindowRateLimiter(first), MovingWindowRateLimiter(second)]
        rule = parse("3/minute")
        answers = [limiters[n % 2].hit(rule, "workspace", "10.0.0.1") for n in range(5)]
        assert answers == [True, True, True, False, False]
        assert limiters[1].hit(rule, "workspace", "10.0.0.2")  # another address has its own window
        stats = limiters[0].get_window_stats(rule, "workspace", "10.0.0.1")
        assert stats.remaining == 0 and 55 < stats.reset_time - time.time() <= 60
        retry_after = RateLimiter(second).hit("3/minute", "workspace", "10.0.0.1")
        assert retry_after is not None and 55 <= retry_after <= 60
        assert RateLimiter(first).check("3/minute", "workspace", "10.0.0.1") is not None
        first.clear(rule.key_for("workspace", "10.0.0.1"))
        assert limiters[1].hit(rule, "workspace", "10.0.0.1")
    finally:
        first.close(), second.close()


def test_concurrent_hits_never_pass_the_limit(state_url: str) -> None:
    storages = [StateStorage(state_url) for _ in range(6)]
    rule = parse("5/minute")
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(
                pool.map(lambda n: MovingWindowRateLimiter(storages[n % 6]).hit(rule, "new", "x"), range(30))
            )
        assert answers.count(True) == 5
    finally:
        for storage in storages:
            storage.close()


def test_an_expired_window_opens_again_and_its_rows_go(state_url: str) -> None:
    storage = StateStorage(state_url)
    try:
        limiter, rule = MovingWindowRateLimiter(storage), parse("1/second")
        assert limiter.hit(rule, "login", "a") and not limiter.hit(rule, "login", "a")
        time.sleep(1.1)
        assert limiter.hit(rule, "login", "a")
        with storage.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM rate_limit_hits")).scalar() == 1
        assert storage.reset() == 1 and limiter.hit(rule, "login", "a")
    finally:
        storage.close()


def test_a_fixed_window_counts_across_storages(state_url: str) -> None:
    first, second = StateStorage(state_url), StateStorage(state_url)
    try:
        rule = parse("2/minute")
        answers = [FixedWindowRateLimiter(s).hit(rule, "k") for s in (first, second, first)]  # each counts
        assert answers == [True, True, False]
        key = rule.key_for("k")
        assert second.get(key) == 3 and 55 < second.get_expiry(key) - time.time() <= 60
        second.clear(key)
        assert first.get(key) == 0 and FixedWindowRateLimiter(first).hit(rule, "k")
        assert first.check()
    finally:
        first.close(), second.close()


def test_auto_shares_only_where_several_processes_may_serve(tmp_path: Path, state_url: str) -> None:
    storage, slots = shared_guards("auto", state_url)
    if state_url.startswith("sqlite"):  # one process unless `serve --workers N` said `state`
        assert not isinstance(storage, StateStorage) and type(slots) is Slots
        storage, slots = shared_guards("state", state_url)
        assert isinstance(slots, FileSlots)
    else:  # replicas may share a PostgreSQL state database
        assert isinstance(slots, AdvisorySlots)
    assert isinstance(storage, StateStorage) and RateLimiter(storage).shared
    storage.close()
    run_async(slots.close())
    memory, local = shared_guards("memory://", state_url)
    assert not RateLimiter(memory).shared and not local.shared


def test_a_failing_store_lets_the_request_through_rather_than_answer_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = StateStorage(default_database_url(tmp_path))  # never migrated: no tables
    try:
        limiter = RateLimiter(storage)
        assert [limiter.hit("1/minute", "workspace", "a") for _ in range(2)] == [None, None]
        assert "rate limit workspace not counted" in caplog.text
    finally:
        storage.close()


def test_slots_of_one_process_are_counted_per_key() -> None:
    async def scenario() -> None:
        slots = Slots()
        assert [await slots.take("learner:a", 2) for _ in range(3)] == [0, 1, None]
        assert await slots.take("learner:b", 2) == 0
        await slots.give_back("learner:a", 0)
        assert await slots.take("learner:a", 2) == 0
        assert await slots.take_each([("learner:c", 1), ("learner:a", 2)]) is None
        both = await slots.take_each([("learner:c", 1), ("learner:d", 1)])
        assert both == [("learner:c", 0), ("learner:d", 0)]

    run_async(scenario())


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from app.guard.slots import AdvisorySlots, FileSlots

    kind, where, marks = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    async def hold():
        slots = FileSlots(Path(where), start=0) if kind == "file" else AdvisorySlots(where, start=0)
        taken = [await slots.take_each([("learner:a", 2), ("client:x", 16)]) for _ in range(2)]
        (marks / "holding.tmp").write_text(repr(taken))
        (marks / "holding.tmp").rename(marks / "holding")  # seen whole or not at all
        await asyncio.sleep(120)  # until killed

    asyncio.run(hold())  # a process of its own: no event loop runs there
    """
)


def test_advisory_slots_of_two_workers_exclude_each_other(fresh_db: str) -> None:
    params = conninfo_to_dict(fresh_db)
    url = f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"

    async def scenario() -> None:
        # Two connections, as two workers have, trying their slots in the same order.
        first, second = AdvisorySlots(url, start=0), AdvisorySlots(url, start=0)
        wanted = [("learner:a", 2), ("client:x", 16)]
        try:
            one, two = await first.take_each(wanted), await first.take_each(wanted)
            assert one == [("learner:a", 0), ("client:x", 0)] and two == [("learner:a", 1), ("client:x", 1)]
            assert await second.take_each(wanted) is None
            await first.give_back_each(one)
            assert await second.take_each(wanted) == [("learner:a", 0), ("client:x", 0)]
            assert await first.take_each(wanted) is None
            # Workers start from different slots (their pids), so their first tries rarely collide.
            third = AdvisorySlots(url, start=1)
            assert await third.take_each([("learner:z", 2)]) == [("learner:z", 1)]
            assert await first.take_each([("learner:z", 2)]) == [("learner:z", 0)]
            await third.close()
        finally:
            await first.close(), await second.close()

    run_async(scenario())


@pytest.mark.parametrize("kind", ["file", "advisory"])
def test_slots_held_by_another_process_are_taken_and_freed_when_it_is_killed(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "file":
        where = str(tmp_path / "state.sqlite3.locks" / "fair-share")

        def make() -> Slots:
            return FileSlots(Path(where), start=0)
    else:
        params = conninfo_to_dict(request.getfixturevalue("fresh_db"))
        where = libpq_url(f"postgresql+psycopg://{params['user']}@/{params['dbname']}"
                          f"?host={params['host']}&port={params['port']}")  # fmt: skip

        def make() -> Slots:
            return AdvisorySlots(where, start=0)

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, kind, where, str(tmp_path)], cwd=Path(__file__).parents[2]
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "holding").exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the holder never took its slots"
            time.sleep(0.05)
        held = "[[('learner:a', 0), ('client:x', 0)], [('learner:a', 1), ('client:x', 1)]]"
        assert (tmp_path / "holding").read_text() == held

        async def while_held() -> list:
            slots = make()
            try:
                return [
                    await slots.take("learner:a", 2),
                    await slots.take_each([("learner:a", 2), ("client:x", 16)]),
                    await slots.take_each([("learner:b", 2), ("client:x", 16)]),
                    await slots.take_each([("learner:c", 2), ("client:x", 3)]),  # the address's 3 are taken
                    await slots.take("learner:c", 2),  # the refusal above gave back the learner's slot
                ]
            finally:
                await slots.close()

        # The learner's two are taken, and two of the address's; another learner gets its first slot.
        assert run_async(while_held()) == [None, None, [("learner:b", 0), ("client:x", 2)], None, 0]
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)

        async def after_kill() -> list[int | None]:
            slots = make()
            try:
                for _ in range(100):  # the server notices the closed connection within moments
                    if (first := await slots.take("learner:a", 2)) is not None:
                        return [first, await slots.take("learner:a", 2), await slots.take("learner:a", 2)]
                    await asyncio.sleep(0.05)
                return []
            finally:
                await slots.close()

        assert run_async(after_kill()) == [0, 1, None]
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
