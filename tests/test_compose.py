"""``docker-compose.yml``: PostgreSQL and two bot replicas that reach it (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.config import Settings

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


def test_compose_runs_two_replicas_on_postgresql() -> None:
    """Two replicas of the image, started once PostgreSQL is healthy, with a database.url the
    bot's configuration accepts for the server of the postgres service."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    bot, database = services["newsrelay"], services["postgres"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in database
    url = bot["environment"]["NEWSRELAY_DATABASE__URL"].replace("${POSTGRES_PASSWORD}", "hex0123")
    settings = Settings.model_validate({"database": {"url": url}})
    assert settings.database.engine == "postgresql"
    assert "@postgres:5432/" in url
    assert database["environment"]["POSTGRES_DB"] == url.rsplit("/", 1)[1]
