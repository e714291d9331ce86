"""The Kubernetes manifests are valid against the API schemas (offline), and agree with the app's settings.

They are not applied to a cluster here (none is reachable): this keeps them from rotting silently.
"""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from app.instructor.settings import InstructorSettings
from app.settings import DOCUMENTED_SETTINGS

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.32.0"


def documents() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path.name, doc))
    return found


@pytest.mark.parametrize(("name", "doc"), documents(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_manifest_is_valid_kubernetes(name: str, doc: dict) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_variable_the_manifests_set_is_a_setting_of_the_app() -> None:
    known = {
        f"MIGRATION_LAB_{field.upper()}"
        for settings in [*DOCUMENTED_SETTINGS, InstructorSettings]
        for field in settings.model_fields
    }
    kinds = {doc["kind"]: doc for _, doc in documents()}
    names = set(kinds["ConfigMap"]["data"]) | set(kinds["Secret"]["stringData"])
    assert names - known == set()


def test_readiness_is_the_health_endpoint_and_the_service_targets_the_app_port() -> None:
    kinds = {doc["kind"]: doc for _, doc in documents()}
    container = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    assert kinds["Service"]["spec"]["selector"] == kinds["Deployment"]["spec"]["selector"]["matchLabels"]
