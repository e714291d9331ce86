"""An app per scenario, built by the factory over a chosen lessons folder, with local assets (no internet)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def make_app(tmp_path: Path, repo_root: Path) -> Callable[..., FastAPI]:
    def make(lessons_dir: Path | None = None, **overrides: object) -> FastAPI:
        values: dict = {"data_dir": tmp_path / "data", "assets": "local", **overrides}
        settings = Settings(lessons_dir=lessons_dir or repo_root / "lessons", **values)
        return create_app(settings)

    return make


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:
        yield lambda *args, **kwargs: stack.enter_context(TestClient(make_app(*args, **kwargs)))


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def broken_course() -> Path:
    return FIXTURES / "course_broken"
