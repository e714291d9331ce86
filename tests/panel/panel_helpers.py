"""Driving the panel like a browser does: cookies kept, CSRF token sent, htmx headers set."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

HTMX = {"HX-Request": "true"}

SCHEMA_WITH_BIO = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  bio   String?
}
"""

SCHEMA_WITHOUT_NAME = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
}
"""


class Panel:
    """A learner's browser on one panel."""

    def __init__(self, client: TestClient, context: str = "playground") -> None:
        self.client = client
        self.context = context
        page = client.get("/playground" if context == "playground" else f"/panel/{context}")
        assert page.status_code == 200, page.text
        self.token = token_of(page.text)
        self.first_page = soup(page.text)

    @property
    def base(self) -> str:
        return f"/panel/{self.context}"

    def post(self, path: str, data: dict | None = None, htmx: bool = True):
        headers = {**HTMX, "X-CSRF-Token": self.token} if htmx else {}
        form = dict(data or {})
        if not htmx:
            form["csrf_token"] = self.token
        return self.client.post(self.base + path, data=form, headers=headers)

    def get(self, path: str = "", htmx: bool = True):
        return self.client.get(self.base + path, headers=HTMX if htmx else {})

    def create(self, schema: str, name: str, **extra: str) -> BeautifulSoup:
        return self._ok(self.post("/migrations", {"schema": schema, "name": name, **extra}))

    def sql(self, sql: str, env: str = "dev") -> BeautifulSoup:
        return self._ok(self.post("/sql", {"sql": sql, "env": env}))

    def deploy(self, env: str) -> BeautifulSoup:
        return self._ok(self.post(f"/envs/{env}/deploy"))

    def terminal(self, command: str, database_url: str = "") -> BeautifulSoup:
        return self._ok(self.post("/terminal", {"command": command, "database_url": database_url}))

    def page(self) -> BeautifulSoup:
        return self._ok(self.get(htmx=False))

    @staticmethod
    def _ok(response) -> BeautifulSoup:
        assert response.status_code == 200, response.text[:3000]
        return soup(response.text)


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def states(page: BeautifulSoup, name_part: str) -> dict[str, str]:
    """The history row of the migration whose name contains `name_part`: env -> state text."""
    for row in page.select("#panel-history tbody tr"):
        if name_part in row.th.get_text():
            cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
            return dict(zip(("dev", "staging", "prod"), cells, strict=True))
    raise AssertionError(f"no migration {name_part!r} in the history")


def text(node) -> str:
    return node.get_text(" ", strip=True) if node is not None else ""
