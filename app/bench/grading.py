"""Suite `grading`: Check my work on solved exercises with every built-in soundness check on (a throwaway
role and its clones of the seeded grading templates, the replay, a scratch database for the replays from
nothing, every check, everything dropped): the lesson-2 deploy exercise and the heaviest one (the rename:
10 000 production rows fingerprinted before and after). Target: ≤ 250 ms median."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from app.bench.core import Measurement, sample_ms
from app.bench.harness import LESSONS
from app.exercises.databases import GradingDatabases
from app.exercises.grading import Submission, grade
from app.exercises.loader import load_exercises
from app.exercises.model import Exercise
from app.exercises.prove import learner_envs, play_steps

EXERCISES = {
    "lesson-2 deploy exercise": "02-creating-migrations/03-deploy-in-order",
    "heaviest: rename with 10 000 rows": "02-creating-migrations/02-rename-without-data-loss",
}


def _grading(exercise: Exercise, submission: Submission, dbs: GradingDatabases) -> Callable[[], object]:
    return lambda: grade(exercise, submission, dbs)


def run(n: int) -> list[Measurement]:
    from sandbox import EmbeddedCluster

    loaded = load_exercises(LESSONS).by_id()
    measurements = []
    with tempfile.TemporaryDirectory(prefix="migration-lab-bench-") as tmp:
        cluster = EmbeddedCluster.create(Path(tmp), name="bench-grading")
        cluster.start()
        try:
            dbs = GradingDatabases(cluster.admin_conninfo())
            for label, exercise_id in EXERCISES.items():
                exercise = loaded[exercise_id]
                with learner_envs(dbs, exercise) as envs:
                    history = play_steps(exercise, exercise.solution, envs)
                    solved = Submission(history, exercise.solution.answers, envs, exercise.solution.schema)
                    result = grade(exercise, solved, dbs)
                    if not result.passed:
                        raise RuntimeError(f"the bench's solved exercise does not pass: {result}")
                    samples = sample_ms(_grading(exercise, solved, dbs), n)
                measurements.append(Measurement(f"grade_ms ({label})", samples, target="≤ 250 ms median"))
            dbs.close()
        finally:
            cluster.stop(wipe=True)
    return measurements
