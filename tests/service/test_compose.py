"""The production topology file: every part present, images pinned, health checks, no default secrets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_has_the_production_topology_with_pinned_images_and_health_checks() -> None:
    services = _compose()["services"]
    assert {"postgres", "temporal", "temporal-ui", "api", "worker"} <= set(services)
    for name, service in services.items():
        if "image" in service:
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?[\w.-]*", service["image"]), name
        else:
            assert service.get("build") == ".", name
    for name in ("postgres", "temporal", "api"):
        assert "healthcheck" in services[name], name
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert "@postgres:5432/" in env["DATABASE_URL"]


def test_the_temporal_ui_decodes_through_the_api_for_its_own_origin_only() -> None:
    services = _compose()["services"]
    ui, api = services["temporal-ui"], services["api"]
    assert ui["environment"]["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8000/api/v1/audit/codec"
    assert ui["environment"]["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    assert ui["ports"] == ["8233:8080"] and api["ports"] == ["8000:8000"]
    assert api["environment"]["SUBSIDY_CODEC_CORS_ORIGINS"] == "http://localhost:8233"
    assert "SUBSIDY_CODEC_CORS_ORIGINS" not in services["worker"]["environment"]


def test_compose_has_no_default_secrets() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "SUBSIDY_JWT_SECRET", "SUBSIDY_PAYLOAD_KEYS"):
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses and all(use.startswith(":?") for use in uses), secret
