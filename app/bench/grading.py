"""Suite `grading`: Check my work on the lesson-2 deploy exercise, solved (clone the seeded grading
templates, replay the history, run every check, drop the clones). Target: ≤ 500 ms median."""

from __future__ import annotations

import tempfile
from pathlib import Path

from app.bench.core import Measurement, sample_ms
from app.bench.harness import LESSONS
from app.exercises.databases import GradingDatabases
from app.exercises.grading import Submission, grade
from app.exercises.loader import load_exercises
from app.exercises.prove import deploy_history, learner_envs, solution_history
from sandbox.cluster import EmbeddedCluster

EXERCISE = "02-creating-migrations/03-deploy-in-order"


def run(n: int) -> list[Measurement]:
    exercise = load_exercises(LESSONS).by_id()[EXERCISE]
    with tempfile.TemporaryDirectory(prefix="migration-lab-bench-") as tmp:
        cluster = EmbeddedCluster.create(Path(tmp), name="bench-grading")
        cluster.start()
        try:
            dbs = GradingDatabases(cluster.admin_conninfo())
            history = solution_history(exercise)
            with learner_envs(dbs, exercise) as envs:
                for env in ["dev", *exercise.solution.deployments]:
                    deploy_history(envs[env], history)
                submission = Submission(history, {}, envs)
                result = grade(exercise, submission, dbs)
                if not result.passed:
                    raise RuntimeError(f"the bench's solved exercise does not pass: {result}")
                samples = sample_ms(lambda: grade(exercise, submission, dbs), n)
        finally:
            cluster.stop(wipe=True)
    return [Measurement("grade_ms (lesson-2 deploy exercise)", samples, target="≤ 500 ms median")]
