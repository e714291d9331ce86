"""Exercises in the running app: the learner's prepared workspace, Check my work, hints, solution, reset.

An exercise workspace is an ordinary panel workspace (context `exercise-<lesson>-<slug>`) whose
databases start as copies of the exercise's seeded start templates, and whose saved history is the
start history: the panel then works on it like on any other. When its databases are rebuilt (reaper,
restart), each environment is copied from the same template again, so the seed rows come back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import StateDB
from app.db.base import utcnow
from app.db.exercises import ContentProblemLog, ExerciseAttempt, ExerciseProgress
from app.db.upsert import insert_missing
from app.errors import AppError
from app.exercises.content import ExerciseCatalog as ExerciseCatalog
from app.exercises.content import context_of as context_of
from app.exercises.databases import ContentError
from app.exercises.grading import GradeResult, Submission, grade
from app.exercises.model import ENVIRONMENTS, Exercise
from app.exercises.starts import ExerciseStarts
from app.panel import environments, store
from app.panel.service import PanelService

log = logging.getLogger(__name__)


@dataclass
class ExerciseState:
    attempts: list[ExerciseAttempt]
    hints_opened: int
    answers: dict[str, str]
    passed: bool


class ExerciseService:
    def __init__(
        self, state: StateDB, panel: PanelService, catalog: ExerciseCatalog, starts: ExerciseStarts
    ) -> None:
        self.state = state
        self.panel = panel
        self.catalog = catalog
        self.starts = starts
        self.dbs = starts.dbs

    # -- the learner's workspace -----------------------------------------------------------------

    def prepare(self, learner: str, exercise: Exercise) -> None:
        """Create the exercise workspace from the start state, once (idempotent)."""
        context = context_of(exercise)
        with self.state.session() as session:
            row = store.find_workspace(session, learner, context)
            if row is not None and row.sandbox_id is not None:
                return
        with self.panel.hold_session(learner, context) as session:
            self._prepare_locked(session, learner, exercise)

    def _prepare_locked(self, session: Session, learner: str, exercise: Exercise) -> None:
        """Under the workspace's lock. The PostgreSQL work (templates, databases, reading them back)
        comes first and the saved rows are written after it in one short transaction: a SQLite write
        transaction held across it would queue every other learner's writes."""
        context = context_of(exercise)
        if store.find_workspace(session, learner, context) is not None:
            return  # another tab prepared it while this one waited for the lock
        if self.panel.admit is not None:
            self.panel.admit(learner, context)
        session.rollback()  # end the read transaction before the PostgreSQL work
        sandbox = self.panel.sandboxes.create_workspace()
        try:
            templates = self.starts.on_server_of(sandbox).ensure_templates(exercise, with_grading_data=False)
        except Exception:
            self.panel.sandboxes.drop_workspace(sandbox.id)
            raise
        for env in ENVIRONMENTS:
            sandbox.create_env_from_template(env, templates[env])
        snapshots = environments.read(sandbox)
        try:
            row = store.create_workspace(
                session, learner, context, exercise.start.schema, self.panel.limits.workspaces_per_learner
            )
        except store.WorkspaceLimitReached as exc:
            session.rollback()
            self.panel.sandboxes.drop_workspace(sandbox.id)
            raise AppError(429, "Too many sandboxes", str(exc)) from exc
        row.sandbox_id = sandbox.id
        for migration in exercise.start.migrations:
            store.add_migration(session, row, migration)
        session.flush()
        environments.save(session, row, snapshots)
        session.commit()

    def reset(self, learner: str, exercise: Exercise) -> None:
        """Reset exercise: throw the workspace away and prepare the start state again."""
        with self.panel.hold_session(learner, context_of(exercise)) as session:
            row = store.find_workspace(session, learner, context_of(exercise))
            if row is not None:
                if row.sandbox_id:
                    self.panel.sandboxes.drop_workspace(row.sandbox_id)
                session.delete(row)
                session.commit()
            progress = self._progress(session, learner, exercise)
            progress.answers = "{}"  # a fresh start: quiz answers tried are forgotten too
            session.commit()
            self._prepare_locked(session, learner, exercise)

    # -- progress --------------------------------------------------------------------------------

    def _progress(self, session: Session, learner: str, exercise: Exercise) -> ExerciseProgress:
        """The learner's progress row on the exercise, created when missing (an upsert)."""
        store.touch_learner(session, learner)
        keys = ("learner_id", "exercise_id")
        insert_missing(session, ExerciseProgress, keys, learner_id=learner, exercise_id=exercise.id,
                       hints_opened=0, answers="{}")
        row = session.scalar(
            select(ExerciseProgress).where(
                ExerciseProgress.learner_id == learner, ExerciseProgress.exercise_id == exercise.id
            )
        )
        assert row is not None
        return row

    def state_of(self, learner: str, exercise: Exercise) -> ExerciseState:
        return self.states_of(learner, [exercise])[exercise.id]

    def states_of(self, learner: str, exercises: list[Exercise]) -> dict[str, ExerciseState]:
        """Each exercise's state for the learner, in two queries whatever the number of exercises; a
        read only (nothing is written for merely looking)."""
        ids = [e.id for e in exercises]
        with self.state.session() as session:
            progress = {p.exercise_id: p for p in session.scalars(
                select(ExerciseProgress)
                .where(ExerciseProgress.learner_id == learner, ExerciseProgress.exercise_id.in_(ids))
            )}
            attempts: dict[str, list[ExerciseAttempt]] = {i: [] for i in ids}
            for attempt in session.scalars(
                select(ExerciseAttempt)
                .where(ExerciseAttempt.learner_id == learner, ExerciseAttempt.exercise_id.in_(ids))
                .order_by(ExerciseAttempt.created_at.desc())
            ):
                attempts[attempt.exercise_id].append(attempt)
        states = {}
        for exercise in exercises:
            row = progress.get(exercise.id)
            states[exercise.id] = ExerciseState(
                attempts=attempts[exercise.id],
                hints_opened=min(row.hints_opened, len(exercise.hints)) if row else 0,
                answers=_shown_answers(row.answers) if row else {},
                passed=row is not None and row.passed_at is not None,
            )
        return states

    def open_hint(self, learner: str, exercise: Exercise) -> int:
        with self.state.session() as session:
            progress = self._progress(session, learner, exercise)
            progress.hints_opened = min(progress.hints_opened + 1, len(exercise.hints))
            return progress.hints_opened

    def solution_available(self, state: ExerciseState, exercise: Exercise) -> bool:
        return state.passed or len(state.attempts) >= exercise.attempts_before_solution

    # -- Check my work ---------------------------------------------------------------------------

    def check(self, learner: str, exercise: Exercise, answers: dict[str, str]) -> GradeResult:
        context = context_of(exercise)
        self.prepare(learner, exercise)
        with self.panel.hold_session(learner, context) as session:
            row = store.find_workspace(session, learner, context)
            assert row is not None
            history = store.history_of(row)
            schema = row.schema_text
            sandbox, rebuilt = self.panel.sandboxes.ensure_workspace(row.sandbox_id or "")
            if rebuilt:  # rebuilt (when reaped) as the panel would, never half
                environments.rebuild(row, sandbox, self.starts.templates_for)
            conninfo = {env: sandbox.conninfo(env) for env in ENVIRONMENTS}
            progress = self._progress(session, learner, exercise)
            tried = quiz_tries(exercise, json.loads(progress.answers or "{}").get(TRIED, {}), answers)
            progress.answers = json.dumps({**answers, TRIED: tried})
            session.commit()
        locked = locked_quizzes(exercise, tried)
        submission = Submission(history, answers, conninfo, schema=schema, locked=locked)
        try:
            result = grade(exercise, submission, self.dbs)
        except ContentError as error:
            result = GradeResult(problem=f"content problem: {error}")
        self.record(learner, exercise, result)
        return result

    def record(self, learner: str, exercise: Exercise, result: GradeResult) -> None:
        with self.state.session() as session:
            if result.not_started:
                return  # no credit and no attempt for nothing
            if result.problem and not result.problem.startswith("content problem"):
                log.warning("exercise %s: %s", exercise.id, result.problem)
                return  # the platform's: neither an attempt nor the instructor's content problem
            if result.problem:
                log.warning("exercise %s: %s", exercise.id, result.problem)
                session.add(
                    ContentProblemLog(exercise_id=exercise.id, learner_id=learner, message=result.problem)
                )
                return
            progress = self._progress(session, learner, exercise)  # the learner's row first (foreign key)
            session.add(ExerciseAttempt(
                learner_id=learner, exercise_id=exercise.id, score=result.score, passed=result.passed,
                failed_checks=",".join(result.failed_ids),
            ))
            if result.passed and progress.passed_at is None:
                progress.passed_at = utcnow()


TRIED = "__tried__"  # in the saved answers: quiz id -> every answer graded so far


def _shown_answers(saved: str | None) -> dict[str, str]:
    return {k: v for k, v in json.loads(saved or "{}").items() if k != TRIED}


def quiz_tries(exercise: Exercise, tried: dict, answers: dict[str, str]) -> dict[str, list[str]]:
    """The answers graded so far per quiz, with this attempt's (once locked, a quiz records no more)."""
    result = {quiz: list(tried.get(quiz, [])) for quiz in exercise.quizzes if tried.get(quiz)}
    locked = locked_quizzes(exercise, result)
    for quiz, answer in answers.items():
        if quiz in exercise.quizzes and quiz not in locked and answer not in result.get(quiz, []):
            result.setdefault(quiz, []).append(answer)
    return result


def locked_quizzes(exercise: Exercise, tried: dict[str, list[str]]) -> dict[str, str]:
    """A quiz whose allowed answers (half its choices, rounded up) were all wrong is locked until Reset
    exercise: trying every choice is not a way through."""
    locked = {}
    for quiz, params in exercise.quizzes.items():
        allowed = (len(params["choices"]) + 1) // 2
        answers = tried.get(quiz, [])
        if str(params["answer"]) not in answers and len(answers) >= allowed:
            locked[quiz] = (
                f"you tried {len(answers)} of the {len(params['choices'])} answers and none was right, so "
                "this question is locked: read each answer's explanation and the lesson again, then Reset "
                "exercise to try once more"
            )
    return locked
