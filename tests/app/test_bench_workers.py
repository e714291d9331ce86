"""The `workers` bench suite with tiny numbers: the real `serve --workers N` processes, a few learners, the
shape of what it reports (never its timings: performance is measured by `migration-lab bench`)."""

from __future__ import annotations

import pytest

from app.bench import workers
from app.bench.cli import SUITES


def test_a_tiny_class_and_both_saturation_runs_report_without_errors() -> None:
    assert SUITES["workers"] == "app.bench.workers"
    measured = {m.name: m for m in workers.run(4, learners=3, think_ms=0, ramp_s=0, saturate_s=6,
                                                saturate_learners=2)}  # fmt: skip
    assert len(measured["workers2_3_action_ms"].samples) == 3 * 4
    assert measured["workers2_3_errors"].value == 0
    for count in (1, 2):
        assert measured[f"workers{count}_throughput"].unit == "actions/s"  # how many: load-dependent
        assert measured[f"workers{count}_saturated_errors"].value == 0
    ratio = measured["workers_throughput_ratio"].value
    one, two = measured["workers1_throughput"].value, measured["workers2_throughput"].value
    # The ratio is of the unrounded throughputs: with a few actions in 6 s, rounding each moves it a little.
    assert ratio == pytest.approx(two / one if one else 0.0, rel=0.05, abs=0.02)
    # Where the CPU went, per action: every part measured (a cluster found, the workers' tree walked), and
    # the machine's busy time holds them all (it also holds whatever else ran meanwhile).
    for run in ("workers1", "workers2", "workers2_3"):  # both saturated runs and the class
        parts = {part: measured[f"{run}_cpu_{part}_per_action"].value
                 for part in ("machine", "app", "postgres", "client")}  # fmt: skip
        assert all(value > 0 for value in parts.values()), parts
        assert parts["machine"] >= 0.9 * (parts["app"] + parts["postgres"] + parts["client"]), parts
        assert measured[f"{run}_capacity"].unit == "actions/s"
