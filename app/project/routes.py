"""Download project (any panel) and Import project (the playground)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response

from app.csrf import verify_csrf
from app.identity import LearnerId
from app.panel import store
from app.panel.outcomes import schema_problems
from app.panel.render import render_panel
from app.panel.routes import Context, Service
from app.project.export import project_zip
from app.project.imports import ImportLimits, ImportProblem, read_project

router = APIRouter(dependencies=[Depends(verify_csrf)])


@router.get("/panel/{context}/project.zip")
def download(context: Context, learner: LearnerId, service: Service) -> Response:
    service.panel(learner, context)  # the workspace exists (a first visit creates it) and is mirrored
    with service.state.session() as session:
        row = store.find_workspace(session, learner, context)
        assert row is not None
        data = project_zip(row.schema_text, store.history_of(row), folder=context, title=f"{context} project")
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{context}-prisma.zip"'},
    )


@router.post("/panel/playground/project")
async def upload(
    request: Request, learner: LearnerId, service: Service, project: Annotated[UploadFile, File()]
) -> Response:
    limits = ImportLimits(max_file_bytes=max(service.limits.max_schema_bytes, service.limits.max_sql_bytes))
    data = await project.read(limits.max_zip_bytes + 1)
    try:
        imported = read_project(data, limits)
        problems = schema_problems(imported.schema)
        if problems:
            first = problems[0]
            raise ImportProblem(
                f"prisma/schema.prisma, line {first.line}, column {first.column}: {first.message} "
                "Fix it in your project and import again."
            )
    except ImportProblem as problem:
        view = service.panel(learner, "playground")
        return render_panel(request, view, main="_panel", import_error=str(problem))
    view = service.import_project(learner, "playground", imported.schema, imported.migrations)
    return render_panel(request, view, main="_panel")
