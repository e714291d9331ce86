"""Rendering the panel: one partial (plus out-of-band partials) for htmx, the whole page otherwise."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PostgresLexer

from app.panel.views import PanelView
from app.web import is_htmx, site_of

_SQL_LEXER = PostgresLexer()
_SQL_FORMATTER = HtmlFormatter(nowrap=False, cssclass="highlight")


def highlight_sql(sql: str) -> Markup:
    """Pygments escapes the text it is given, so the result is safe to mark up."""
    return Markup(highlight(sql, _SQL_LEXER, _SQL_FORMATTER))


def render_panel(
    request: Request, view: PanelView, main: str, oob: list[str] | None = None, **extra: Any
) -> Response:
    env = site_of(request).templates.env
    context: dict[str, Any] = {"request": request, "panel": view, **extra}
    if not is_htmx(request) or main == "page":
        html = env.get_template("panel/page.html").render(context)
        return HTMLResponse(html)
    context["fragment"] = True  # the page already loaded panel.css and panel.js
    parts = [env.get_template(f"panel/{main}.html").render(context)]
    for name in oob or []:
        parts.append(env.get_template(f"panel/{name}.html").render({**context, "oob": True}))
    if main == "_terminal_entry":
        parts.append(_terminal_url_oob(env, context))
    return HTMLResponse("\n".join(parts))


def _terminal_url_oob(env: Any, context: dict[str, Any]) -> str:
    outcome = context["terminal_outcome"]
    return env.from_string(
        '<input type="hidden" name="database_url" id="terminal-database-url" value="{{ url }}"'
        ' hx-swap-oob="outerHTML">'
    ).render(url=outcome.database_url)


def render_sql(request: Request, context: str, name: str, sql: str | None) -> Response:
    env = site_of(request).templates.env
    template = "panel/_sql.html" if is_htmx(request) else "panel/sql_page.html"
    html = env.get_template(template).render(
        {"request": request, "context": context, "name": name, "sql": sql}
    )
    return HTMLResponse(html, status_code=200 if sql is not None else 404)


def render_risk(request: Request, view: PanelView, risk: Any) -> Response:
    """The Risk view: its partial for htmx, a page of its own otherwise (it works without JavaScript)."""
    env = site_of(request).templates.env
    template = "panel/_risk.html" if is_htmx(request) else "panel/risk_page.html"
    return HTMLResponse(env.get_template(template).render({"request": request, "panel": view, "risk": risk}))
