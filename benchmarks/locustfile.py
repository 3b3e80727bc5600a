"""Locust scenario of the autosave load test, started by `python manage.py bench`.

Each simulated coordinator owns one draft response (nobody else writes to it) and keeps
changing single-choice answers, as a person clicking through a section does, with the revision
the server last acknowledged. The same scenario drives the bare baseline view
(BENCH_LOAD_TARGET=bare), so both latencies come from one harness. At the end it writes a
ledger: every latency, every error, and the last acknowledged value of each answer, which the
command checks against the database (an acknowledged save that is not there is lost).

Environment: BENCH_LOAD_PLAN (JSON written by benchmarks.load), BENCH_LOAD_TARGET
(autosave | bare), BENCH_LOAD_LEDGER (where to write the ledger).
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task

PLAN = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8"))
TARGET = os.environ["BENCH_LOAD_TARGET"]
LEDGER: dict = {"target": TARGET, "latencies_ms": [], "errors": [], "acks": {}}
_free_users = list(reversed(PLAN["users"]))


class Coordinator(FastHttpUser):
    # Think time of a person answering: a click every second on average.
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.me = _free_users.pop()
        self.rng = random.Random(self.me["username"])
        self.answers = {q["id"]: dict(q) for q in self.me["questions"]}
        self.headers = {
            "Cookie": f"sessionid={self.me['session_key']}; csrftoken={PLAN['csrf']}",
            "X-CSRFToken": PLAN["csrf"],
            "Content-Type": "application/x-www-form-urlencoded",
        }
        path = "/bench/bare/{}/" if TARGET == "bare" else "/questionnaire/reponses/{}/enregistrer/"
        self.url = path.format(self.me["response_id"])

    @task
    def save_one_answer(self) -> None:
        answer = self.answers[self.rng.choice(list(self.answers))]
        value = self.rng.choice([code for code in answer["codes"] if code != answer["value"]])
        qid = answer["id"]
        body = urlencode(
            {"question": qid, f"q{qid}": value, f"q{qid}-revision": answer["revision"]}
        )
        started = time.perf_counter()
        with self.client.post(
            self.url, data=body, headers=self.headers, name=TARGET, catch_response=True
        ) as response:
            elapsed_ms = (time.perf_counter() - started) * 1000
            payload = _json(response)
            if response.status_code == 200 and payload.get("status") == "saved":
                answer["value"], answer["revision"] = value, payload["revision"]
                LEDGER["acks"][f"{self.me['response_id']}:{qid}"] = [value, payload["revision"]]
                LEDGER["latencies_ms"].append(elapsed_ms)
                response.success()
            else:
                LEDGER["errors"].append([response.status_code, str(payload)[:200]])
                response.failure(f"HTTP {response.status_code}: {payload}")


def _json(response) -> dict:
    try:
        return response.json() or {}
    except Exception:  # noqa: BLE001 - an HTML error page is an error like any other
        return {}


@events.quitting.add_listener
def _write_ledger(environment, **kwargs) -> None:
    Path(os.environ["BENCH_LOAD_LEDGER"]).write_text(json.dumps(LEDGER), encoding="utf-8")
