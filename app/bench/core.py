"""Measurements and their report: a table for people, JSON for machines."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Measurement:
    """Either timed samples (milliseconds) or one measured value (memory, disk)."""

    name: str
    samples: list[float] = field(default_factory=list)
    value: float | None = None
    unit: str = "ms"
    target: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float(self.value or 0)

    @property
    def p95(self) -> float:
        if not self.samples:
            return float(self.value or 0)
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "unit": self.unit,
            "median": round(self.median, 3),
            "p95": round(self.p95, 3),
            "n": len(self.samples) or 1,
            "target": self.target,
        }


def sample_ms(fn: Callable[[], object], n: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def render_table(measurements: list[Measurement]) -> str:
    header = ("benchmark", "median", "p95", "n", "unit", "target")
    rows = [
        (m.name, f"{m.median:.2f}", f"{m.p95:.2f}", str(len(m.samples) or 1), m.unit, m.target)
        for m in measurements
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_json(measurements: list[Measurement]) -> str:
    return json.dumps({"benchmarks": [m.as_dict() for m in measurements]}, indent=2)
