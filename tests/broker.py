"""A private Redis for the failure tests: a `redis-server` of the test's own on a free port, that
the test stops and starts again, and Celery beat beside the worker of tests/celery_worker.py.

The machine's own Redis (6379) is never touched: while a private server runs, this process's
Celery app sends its tasks to it, and the worker and beat started by the test use it too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cpts_portal.celery import app as celery_app
from tests.celery_worker import ROOT, database_url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, message: Callable[[], str]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"not within {timeout} s: {message()}")


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        log = (self.directory / "redis.log").open("a")
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        wait_until(self.answers, 10, lambda: f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """Redis dies as in a crash (SIGKILL): whatever it held in memory is gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        wait_until(lambda: not self.answers(), 5, lambda: "redis-server still answers")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def unacked(self) -> int:
        """Messages taken by a worker and not acknowledged (kombu's `unacked` hash)."""
        output = subprocess.run(
            ["redis-cli", "-p", str(self.port), "HLEN", "unacked"],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(output.stdout.strip() or 0)


def _use_broker(url: str) -> None:
    """Point this process's Celery app at `url`. Its pools are let go, not closed: kombu keeps
    them in a registry per broker URL, where the next test on that URL finds them again."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url


@contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed (.ci/run installs it)"
        if os.environ.get("CI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}; CI_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(reason)
    server = PrivateRedis(directory)
    server.start()
    previous = celery_app.conf.broker_url
    _use_broker(server.url)
    try:
        yield server
    finally:
        _use_broker(previous)
        server.kill()


def process_environment(**extra: str) -> dict[str, str]:
    """What a subprocess of the portal needs to share this test's database and broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cpts_portal.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": celery_app.conf.broker_url,
        **extra,
    }


@contextmanager
def celery_beat(*, log: Path, schedule: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    command = [sys.executable, "-m", "celery", "-A", "cpts_portal", "beat", "--loglevel=INFO"]
    command += ["--schedule", str(schedule)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=process_environment(**env), stdout=output, stderr=output
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
