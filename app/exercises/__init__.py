"""Exercises and grading: an exercise's workspace is a panel workspace (its context
`exercise-<lesson>-<slug>`) prepared from the exercise's start state.

`service.ExerciseService` prepares, checks and resets; `routes` are its URLs; `create_app` (app.main)
includes the router and `app.services` builds the service.
"""

from __future__ import annotations

from markupsafe import Markup


def inline_markdown(text: str) -> Markup:
    """Messages and hints are short Markdown (`code`, **bold**); markdown-it escapes any HTML in them."""
    from app.exercises.routes import markdown

    return Markup(markdown.renderInline(text))
