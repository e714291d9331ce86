"""The panel's URLs. htmx requests get the partial that changed (plus out-of-band updates of the parts
an action also changes); plain form posts get the whole panel page, so everything works without JS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from app.csrf import verify_csrf
from app.identity import LearnerId
from app.panel.render import render_panel, render_risk, render_sql
from app.panel.service import PanelService
from app.web import services_of

CONTEXT_PATTERN = r"^(playground|(?:lesson|exercise)-[a-z0-9][a-z0-9-]{0,100})$"
ENV_PATTERN = r"^(dev|staging|prod)$"

router = APIRouter(dependencies=[Depends(verify_csrf)])


def panel_service(request: Request) -> PanelService:
    return services_of(request).panel


Service = Annotated[PanelService, Depends(panel_service)]
Context = Annotated[str, Path(pattern=CONTEXT_PATTERN)]
Env = Annotated[str, Path(pattern=ENV_PATTERN)]


@router.get("/playground", response_class=HTMLResponse)
def playground(request: Request, learner: LearnerId, service: Service) -> Response:
    return render_panel(request, service.panel(learner, "playground"), main="page")


@router.get("/panel/{context}", response_class=HTMLResponse)
def panel(request: Request, context: Context, learner: LearnerId, service: Service) -> Response:
    return render_panel(request, service.panel(learner, context), main="_panel")


@router.get("/panel/{context}/migration", response_class=HTMLResponse)
def migration_part(request: Request, context: Context, learner: LearnerId, service: Service) -> Response:
    view = service.panel(learner, context)
    return render_panel(request, view, main="_migration", outcome=view.draft)


@router.get("/panel/{context}/envs", response_class=HTMLResponse)
def envs_part(request: Request, context: Context, learner: LearnerId, service: Service) -> Response:
    return render_panel(request, service.panel(learner, context), main="_envs")


@router.get("/panel/{context}/migrations/{name}", response_class=HTMLResponse)
def migration_sql(
    request: Request, context: Context, name: str, learner: LearnerId, service: Service
) -> Response:
    return render_sql(request, context, name, service.migration_sql(learner, context, name))


@router.get("/panel/{context}/migrations/{name}/risk", response_class=HTMLResponse)
def migration_risk(
    request: Request, context: Context, name: str, learner: LearnerId, service: Service
) -> Response:
    view, risk = service.risk(learner, context, name)
    return render_risk(request, view, risk)


@router.post("/panel/{context}/migrations", response_class=HTMLResponse)
def create_migration(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    schema_text: Annotated[str, Form(alias="schema")] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    create_only: Annotated[bool, Form()] = False,
    accept_data_loss: Annotated[bool, Form()] = False,
) -> Response:
    view, outcome = service.create_migration(
        learner, context, schema_text, name, create_only, accept_data_loss
    )
    return render_panel(
        request,
        view,
        main="_migration",
        oob=["_editor", "_history", "_envs"],
        outcome=outcome,
        migration_name=name if outcome.kind in ("schema_errors", "refused", "drift", "confirm") else "",
    )


@router.post("/panel/{context}/migrations/apply", response_class=HTMLResponse)
def apply_draft(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    name: Annotated[str, Form(max_length=255)],
    sql: Annotated[str, Form()] = "",
) -> Response:
    view, outcome = service.apply_draft(learner, context, name, sql)
    return render_panel(request, view, main="_migration", oob=["_history", "_envs"], outcome=outcome)


@router.post("/panel/{context}/migrations/discard", response_class=HTMLResponse)
def discard_draft(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    name: Annotated[str, Form(max_length=255)],
) -> Response:
    view, outcome = service.discard_draft(learner, context, name)
    return render_panel(request, view, main="_migration", oob=["_history", "_envs"], outcome=outcome)


@router.post("/panel/{context}/envs/{env}/resolve", response_class=HTMLResponse)
def resolve(
    request: Request,
    context: Context,
    env: Env,
    learner: LearnerId,
    service: Service,
    name: Annotated[str, Form(max_length=255)],
    mark: Annotated[str, Form(pattern=r"^(applied|rolled_back)$")],
) -> Response:
    view = service.resolve(learner, context, env, name, applied=mark == "applied")
    return render_panel(request, view, main="_envs", oob=["_history"])


@router.post("/panel/{context}/envs/{env}/deploy", response_class=HTMLResponse)
def deploy(
    request: Request,
    context: Context,
    env: Env,
    learner: LearnerId,
    service: Service,
    traffic: Annotated[bool, Form()] = False,
    long_transaction: Annotated[bool, Form()] = False,
) -> Response:
    view = service.deploy(learner, context, env, traffic=traffic, long_transaction=long_transaction)
    return render_panel(request, view, main="_envs", oob=["_history"])


@router.post("/panel/{context}/envs/dev/reset", response_class=HTMLResponse)
def reset_dev(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    return render_panel(request, service.reset_dev(learner, context, confirm), main="_envs", oob=["_history"])


@router.post("/panel/{context}/envs/prod/restore", response_class=HTMLResponse)
def restore(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    backup_id: Annotated[int, Form()],
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    view = service.restore(learner, context, backup_id, confirm)
    return render_panel(request, view, main="_envs", oob=["_history"])


@router.post("/panel/{context}/sql", response_class=HTMLResponse)
def run_sql(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    env: Annotated[str, Form(pattern=ENV_PATTERN)] = "dev",
    sql: Annotated[str, Form()] = "",
) -> Response:
    view, outcome = service.run_sql(learner, context, env, sql)
    return render_panel(request, view, main="_console", oob=["_history", "_envs"], sql_outcome=outcome)


@router.post("/panel/{context}/terminal", response_class=HTMLResponse)
def terminal(
    request: Request,
    context: Context,
    learner: LearnerId,
    service: Service,
    command: Annotated[str, Form(max_length=2000)] = "",
    database_url: Annotated[str, Form(max_length=1000)] = "",
    schema_text: Annotated[str | None, Form(alias="schema")] = None,
) -> Response:
    view, outcome = service.terminal(learner, context, command, database_url, schema_text)
    return render_panel(
        request,
        view,
        main="_terminal_entry",
        oob=["_history", "_envs", "_migration"],
        terminal_outcome=outcome,
    )
