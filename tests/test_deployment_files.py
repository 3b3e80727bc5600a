"""The production shape, run as far as a machine without a Docker engine allows.

Each service's environment is read from docker-compose.yml and interpolated as Compose does,
from an operator's `.env`; the commands and health checks are run exactly as the file writes
them. Only addresses change, because Compose's service names do not resolve here: DATABASE_URL
points at this run's test database, REDIS_URL at a private redis-server, PORT at a free port,
and the proxy's upstream at that port.
"""

import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path

import pytest
import yaml

from tests.celery_worker import database_url, require_broker
from tests.helpers import ROOT

# What an operator puts in `.env` beside docker-compose.yml (deploy/compose.env.example). The
# password has every character that would break a URL.
OPERATOR_ENV = {
    "PORTAL_DOMAIN": "localhost",
    "DJANGO_SECRET_KEY": "compose-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "POSTGRES_PASSWORD": "p@ss:w/rd#?%&=",
    "EMAIL_URL": "smtp://127.0.0.1:2525",
    "DJANGO_DEFAULT_FROM_EMAIL": "portail-cpts@localhost",
    "PORTAL_TLS": "tls internal",
}
COMPOSE_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")
STARTUP_SECONDS = 60


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}."""

    def replace(match: re.Match) -> str:
        dollar, name, operator, argument, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        value = values.get(name)
        if operator in (":?", "?") and (value is None or (operator == ":?" and not value)):
            raise KeyError(f"{name}: {argument}")
        if operator == ":-" and not value or operator == "-" and value is None:
            return argument
        return value or ""

    return COMPOSE_VARIABLE.sub(replace, text)


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def service_environment(name: str, values: dict[str, str] = OPERATOR_ENV) -> dict[str, str]:
    environment = compose_services()[name].get("environment", {})
    return {key: interpolate(str(value), values) for key, value in environment.items()}


def command_words(command: str | list[str], values: dict[str, str] = OPERATOR_ENV) -> list[str]:
    words = shlex.split(command) if isinstance(command, str) else command
    return [interpolate(str(word), values) for word in words]


def health_check_command(name: str) -> list[str]:
    """The service's health check as Docker runs it: CMD words as they are, CMD-SHELL by sh."""
    kind, *rest = compose_services()[name]["healthcheck"]["test"]
    rest = command_words(rest)
    assert kind in ("CMD", "CMD-SHELL"), kind
    return rest if kind == "CMD" else ["sh", "-c", rest[0]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()}")


@contextmanager
def running(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def require_program(name: str) -> None:
    """Skip the calling test when a program is missing; fail it under CI_REQUIRE_SERVICES=1."""
    if shutil.which(name) is None:
        reason = f"{name} is not installed"
        if os.environ.get("CI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (CI_REQUIRE_SERVICES=1 requires it)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[str]:
    """A redis-server of this test's own: the compose worker takes whatever its queue holds."""
    require_program("redis-server")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    log = tmp_path / "redis.log"
    with running(command, env=dict(os.environ), log=log) as process:
        wait_for_port(port, process, log)
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def app_env(transactional_db, private_redis, tmp_path):
    """A service's environment as the container gets it, with this machine's addresses."""

    def build(name: str) -> dict[str, str]:
        return {
            # The image's PATH finds python, gunicorn and celery; here they are in the venv.
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path),
            # Docker sets HOSTNAME to the container's host name.
            "HOSTNAME": socket.gethostname(),
            **service_environment(name),
            "DATABASE_URL": database_url(),
            "REDIS_URL": private_redis,
            "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        }

    return build


def health(name: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    timeout = compose_services()[name]["healthcheck"]["timeout"]
    return subprocess.run(
        health_check_command(name),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=int(timeout.rstrip("s")) + 10,
    )


# --- The file itself --------------------------------------------------------------------------


def test_compose_declares_the_services_and_their_order():
    services = compose_services()
    assert set(services) == {"migrate", "web", "worker", "beat", "db", "redis", "proxy"}
    for name in ("web", "worker", "beat", "db", "redis"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"
        assert "migrate" not in " ".join(command_words(services[name]["command"]))
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["proxy"]
    assert services["proxy"]["image"].startswith("caddy:")


def test_compose_refuses_to_start_without_the_operators_secrets():
    for missing in ("DJANGO_SECRET_KEY", "PORTAL_DOMAIN", "POSTGRES_PASSWORD", "EMAIL_URL"):
        values = {k: v for k, v in OPERATOR_ENV.items() if k != missing}
        with pytest.raises(KeyError, match=missing):
            service_environment("web", values)


def test_production_settings_are_passed_to_every_app_container():
    for name in ("migrate", "web", "worker", "beat"):
        env = service_environment(name)
        assert env["DJANGO_DEBUG"] == "false"
        assert env["DJANGO_SECURE_SSL_REDIRECT"] == "true"
        assert env["DJANGO_ALLOWED_HOSTS"].split(",") == ["localhost", "127.0.0.1"]
        assert env["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://localhost"
        assert env["PORTAL_BASE_URL"] == "https://localhost"
        assert env["DJANGO_PROXY_COUNT"] == "1"
        assert env["EMAIL_URL"] == OPERATOR_ENV["EMAIL_URL"]
        assert env["DJANGO_DEFAULT_FROM_EMAIL"] == "portail-cpts@localhost"
        assert env["DJANGO_REPLY_TO_EMAIL"] == ""
        # The password is never pasted into a URL, where "@", ":" or "/" would break it.
        assert env["PGPASSWORD"] == OPERATOR_ENV["POSTGRES_PASSWORD"]
        assert OPERATOR_ENV["POSTGRES_PASSWORD"] not in env["DATABASE_URL"]
        assert env["DATABASE_URL"] == "postgres://portal@db:5432/portal"


def test_the_database_password_reaches_postgresql_through_pgpassword(monkeypatch):
    """A URL without a password leaves it to libpq, which reads PGPASSWORD."""
    import environ

    config = environ.Env.db_url_config(service_environment("web")["DATABASE_URL"])
    assert config["PASSWORD"] == "" and config["HOST"] == "db" and config["USER"] == "portal"
    from django.db.backends.postgresql.base import DatabaseWrapper

    params = DatabaseWrapper({**config, "OPTIONS": {}, "TIME_ZONE": None}).get_connection_params()
    assert "password" not in params


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def excluded(path: str) -> bool:
        """Docker's rules: the last matching pattern wins; a directory takes its contents."""
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            cleaned = os.path.normpath(pattern.lstrip("!"))
            regex = re.escape(cleaned).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
            if any(re.fullmatch(regex, candidate) for candidate in candidates):
                verdict = not negate
        return verdict

    for path in (".env", ".venv/bin/python", "db.sqlite3", ".git/HEAD", "media/exports/a.csv"):
        assert excluded(path), path
    for path in (
        "manage.py",
        "pyproject.toml",
        "cpts_portal/settings.py",
        "static/vendor/bootstrap/bootstrap.min.css",
        "questionnaire/definitions/miller-2022.yaml",
        "scoring/grids/miller-2022-v1.yaml",
        "templates/base.html",
    ):
        assert not excluded(path), path
        assert (ROOT / path).exists(), path


# --- The services, running --------------------------------------------------------------------


def test_the_migrate_service_runs_its_command_to_completion(app_env, tmp_path):
    env = app_env("migrate")
    result = subprocess.run(
        command_words(compose_services()["migrate"]["command"]),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    from questionnaire.models import QuestionnaireVersion
    from scoring.models import ScoringGrid

    assert QuestionnaireVersion.objects.filter(code="miller-2022").exists()
    assert ScoringGrid.objects.exists()


def proxy_config(upstream_port: int, https_port: int, http_port: int, tmp_path: Path) -> Path:
    """deploy/Caddyfile as Caddy reads it with the proxy's environment from the compose file,
    with the listening ports and the upstream moved to free ports of this machine."""
    adapted = subprocess.run(
        ["caddy", "adapt", "--config", str(ROOT / "deploy" / "Caddyfile")],
        env={**os.environ, **service_environment("proxy")},
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(adapted.stdout)
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    (route,) = server["routes"]
    assert route["match"] == [{"host": ["localhost"]}]
    (proxy,) = [h for r in route["handle"][0]["routes"] for h in r["handle"] if "upstreams" in h]
    assert proxy["upstreams"] == [{"dial": "web:8000"}]
    server["listen"] = [f"127.0.0.1:{https_port}"]
    proxy["upstreams"] = [{"dial": f"127.0.0.1:{upstream_port}"}]
    config["apps"]["http"]["http_port"] = http_port
    config["apps"]["http"]["https_port"] = https_port
    config["admin"] = {"disabled": True}
    config["apps"]["pki"] = {"certificate_authorities": {"local": {"install_trust": False}}}
    config["storage"] = {"module": "file_system", "root": str(tmp_path / "caddy")}
    path = tmp_path / "caddy.json"
    path.write_text(json.dumps(config))
    return path


def test_web_answers_its_health_check_and_behind_the_proxy_over_https(app_env, tmp_path):
    env = app_env("web")
    env["PORT"] = str(free_port())
    assert health("web", env).returncode != 0, "the health check passes with no server"
    words = command_words(compose_services()["web"]["command"])
    assert words[0] == "gunicorn"
    with running(words, env=env, log=tmp_path / "web.log") as web:
        wait_for_port(int(env["PORT"]), web, tmp_path / "web.log")
        result = health("web", env)
        assert result.returncode == 0, result.stderr + (tmp_path / "web.log").read_text()

        # Straight to gunicorn, plain HTTP: production settings send the browser to HTTPS.
        direct = HTTPConnection("127.0.0.1", int(env["PORT"]), timeout=10)
        direct.request("GET", "/", headers={"Host": "localhost"})
        answer = direct.getresponse()
        assert (answer.status, answer.getheader("Location")) == (301, "https://localhost/")

        require_program("caddy")  # .ci/run installs it
        https_port, http_port = free_port(), free_port()
        config = proxy_config(int(env["PORT"]), https_port, http_port, tmp_path)
        caddy_env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
        caddy_log = tmp_path / "caddy.log"
        with running(["caddy", "run", "--config", str(config)], env=caddy_env, log=caddy_log) as c:
            wait_for_port(https_port, c, caddy_log)
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # Caddy's internal CA, made for this test
            # Through the proxy the app knows the request came over HTTPS: no redirect to
            # HTTPS, the login redirect instead, and HSTS.
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    proxied = HTTPSConnection("localhost", https_port, context=context, timeout=10)
                    proxied.request("GET", "/")
                    answer = proxied.getresponse()
                    break
                except (ssl.SSLError, ConnectionError):
                    # Caddy issues its certificate in the background at start-up.
                    assert time.monotonic() < deadline, caddy_log.read_text()
                    time.sleep(0.5)
            assert answer.status == 302, caddy_log.read_text()
            assert answer.getheader("Location") == "/connexion/?next=/"
            assert "max-age=31536000" in answer.getheader("Strict-Transport-Security")
            # Plain HTTP to the proxy is redirected to HTTPS by the proxy itself.
            plain = HTTPConnection("127.0.0.1", http_port, timeout=10)
            plain.request("GET", "/connexion/", headers={"Host": "localhost"})
            redirect = plain.getresponse()
            assert redirect.status in (301, 308)
            assert redirect.getheader("Location").startswith("https://localhost")


def test_worker_answers_its_health_check(app_env, tmp_path):
    env = app_env("worker")
    assert health("worker", env).returncode != 0, "the health check passes with no worker"
    log = tmp_path / "worker.log"
    with running(command_words(compose_services()["worker"]["command"]), env=env, log=log) as w:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "ready." not in log.read_text():
            assert w.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        result = health("worker", env)
        assert result.returncode == 0, result.stdout + result.stderr + log.read_text()
        assert f"celery@{socket.gethostname()}: OK" in result.stdout


def test_beat_answers_its_health_check_while_it_ticks(app_env, tmp_path):
    env = app_env("beat")
    assert health("beat", env).returncode != 0, "the health check passes before beat ran"
    log = tmp_path / "beat.log"
    heartbeat = tmp_path / "celerybeat-heartbeat"
    with running(command_words(compose_services()["beat"]["command"]), env=env, log=log) as beat:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not heartbeat.exists():
            assert beat.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        result = health("beat", env)
        assert result.returncode == 0, result.stderr + log.read_text()
        assert (tmp_path / "celerybeat-schedule").exists() or list(
            tmp_path.glob("celerybeat-schedule*")
        )
    # A beat that stopped ticking (three missed ticks) is unhealthy.
    stale = time.time() - 181
    os.utime(heartbeat, (stale, stale))
    assert health("beat", env).returncode != 0


def test_database_and_redis_health_checks_pass_against_running_servers():
    """The checks the db and redis containers run on themselves, against this machine's."""
    require_program("pg_isready")
    require_program("redis-cli")
    require_broker("redis://127.0.0.1:6379/0")
    db = health("db", {**os.environ, **service_environment("db")})
    assert db.returncode == 0, db.stdout + db.stderr
    assert "accepting connections" in db.stdout
    redis = health("redis", dict(os.environ))
    assert redis.returncode == 0 and redis.stdout.strip() == "PONG", redis.stderr
