"""Rendering helpers every feature uses: one URL answers with a page, or with a named block for htmx."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response
from jinja2_fragments.fastapi import Jinja2Blocks

if TYPE_CHECKING:
    from app.services import Services, Site

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render `template`; an htmx request gets only `block` of it (when given), never the whole page."""
    templates: Jinja2Blocks = site_of(request).templates
    return templates.TemplateResponse(
        request,
        template,
        dict(context),
        status_code=status_code,
        headers=dict(headers or {}),
        block_name=block if block and is_htmx(request) else None,
    )


def site_of(request: Request) -> Site:
    """What `create_app` built (settings, templates, course, identity, exercise files)."""
    return request.app.state.site


def services_of(request: Request) -> Services:
    """What the lifespan started (state database, sandboxes, panel, exercises, progress)."""
    return request.app.state.services
