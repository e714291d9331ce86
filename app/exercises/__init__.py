"""Exercises, grading, progress and the instructor view, installed into the app by `install(app)`.

Needs the panel (`app.panel.install`) first: exercise workspaces are panel workspaces.
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from app.exercises.routes import router as exercise_router
    from app.instructor.routes import router as instructor_router
    from app.instructor.settings import InstructorSettings, check_instructor_settings
    from app.progress.routes import home_context
    from app.progress.routes import router as progress_router
    from app.progress.visits import LessonVisitMiddleware

    instructor = getattr(app.state, "instructor_settings", None) or InstructorSettings()  # type: ignore[call-arg]
    check_instructor_settings(instructor)  # refuse to start with a default password
    app.state.instructor_settings = instructor
    app.state.templates.env.filters["inline_md"] = inline_markdown
    app.include_router(exercise_router)
    app.include_router(progress_router)
    app.include_router(instructor_router)
    app.state.home_context.append(home_context)
    app.state.nav_links.append(("Your progress", "/progress"))
    app.add_middleware(LessonVisitMiddleware, record=lambda learner, lesson: app.state.progress.record_visit(
        learner, lesson
    ))
    app.state.on_startup.append(lambda: start(app))


def inline_markdown(text: str):
    """Messages and hints are short Markdown (`code`, **bold**); markdown-it escapes any HTML in them."""
    from markupsafe import Markup

    from app.exercises.routes import markdown

    return Markup(markdown.renderInline(text))


def start(app: FastAPI) -> None:
    from app.exercises.service import ExerciseCatalog, ExerciseService
    from app.progress.service import ProgressService

    settings = app.state.settings
    catalog = ExerciseCatalog(settings.lessons_dir)
    app.state.exercises = ExerciseService(app.state.db, app.state.panel, catalog)
    app.state.progress = ProgressService(app.state.db, app.state.course, catalog, settings.secret_key)
