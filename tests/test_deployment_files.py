"""Docker cannot run here: check that the compose file is coherent and points at real code."""

import importlib
import shlex

import yaml
from django.core.management import get_commands

from tests.helpers import ROOT


def load_compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def command_words(service):
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else command


def test_compose_declares_the_production_services_with_health_checks_and_volumes():
    compose = load_compose()
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_DEBUG"] == "false"
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("postgres://")
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_commands_refer_to_real_modules_and_commands():
    services = load_compose()["services"]
    web = " ".join(command_words(services["web"]))
    wsgi_module, app_name = ["cpts_portal.wsgi", "application"]
    assert "cpts_portal.wsgi:application" in web
    assert hasattr(importlib.import_module(wsgi_module), app_name)
    for command in ("migrate", "load_questionnaire", "load_scoring_grid"):
        assert f"manage.py {command}" in web
        assert command in get_commands()
    assert (ROOT / "questionnaire/definitions/miller-2022.yaml").exists()
    assert (ROOT / "scoring/grids/miller-2022-v1.yaml").exists()
    for name, verb in (("worker", "worker"), ("beat", "beat")):
        words = command_words(services[name])
        assert words[:3] == ["celery", "-A", "cpts_portal"] and words[3] == verb
    celery_app = importlib.import_module("cpts_portal").celery_app
    assert celery_app.main == "cpts_portal"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "cpts_portal.wsgi:application" in dockerfile
