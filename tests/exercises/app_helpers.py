"""Driving exercise pages like a browser: cookies kept, CSRF token from the page, htmx headers."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

HTMX = {"HX-Request": "true"}


class Learner:
    def __init__(self, client: TestClient, exercise: str) -> None:
        self.client = client
        self.url = f"/lessons/{exercise.replace('/', '/exercises/')}"
        lesson, slug = exercise.split("/")
        self.context = f"exercise-{lesson}-{slug}"
        self.page = self.open()

    def open(self) -> BeautifulSoup:
        response = self.client.get(self.url)
        assert response.status_code == 200, response.text
        self.page = BeautifulSoup(response.text, "html.parser")
        self.token = self.page.select_one("input[name=csrf_token]")["value"]
        return self.page

    def post(self, action: str, data: dict | None = None, htmx: bool = True):
        headers = {**HTMX, "X-CSRF-Token": self.token} if htmx else {}
        form = {**(data or {}), **({} if htmx else {"csrf_token": self.token})}
        return self.client.post(f"{self.url}/{action}", data=form, headers=headers, follow_redirects=False)

    def check(self, **answers: str) -> BeautifulSoup:
        response = self.post("check", {f"answer-{k}": v for k, v in answers.items()})
        assert response.status_code == 200, response.text
        return BeautifulSoup(response.text, "html.parser")

    def panel_post(self, path: str, data: dict | None = None):
        headers = {**HTMX, "X-CSRF-Token": self.token}
        response = self.client.post(f"/panel/{self.context}{path}", data=data or {}, headers=headers)
        assert response.status_code == 200, response.text
        return response


def results(grading: BeautifulSoup) -> dict[str, bool]:
    return {li["data-check"]: "is-passed" in li["class"] for li in grading.select("li.check-result")}
