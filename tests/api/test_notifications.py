"""Owner notifications with real HTTP receivers (small servers in threads) and the real API:
signed digests, retries, the record of deliveries, and a dead receiver that never slows a
request."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from neo4j import Driver
from pydantic import SecretStr, ValidationError

from mllineage.local import LocalApi
from mllineage.local.api import environment
from mllineage.settings import Settings

SECRET = "webhook-test-secret"
DS, JOB, MODEL, EP, OTHER = (
    "DataSource:default:raw", "TrainingJob:default:train", "Model:default:m@1",
    "Endpoint:default:prod", "Model:default:orphan-owner@1",
)  # fmt: skip


class Receiver:
    """An HTTP server on a free port that records what it is sent and answers each path's
    planned statuses in turn (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.plans: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                plan = receiver.plans.get(self.path, [])
                status = plan.pop(0) if plan else 200
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body,
                     "status": status}
                )  # fmt: skip
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == path and r["status"] == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def notifying(settings: Settings, webhooks: dict[str, str], **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "webhooks": json.dumps(webhooks),
            "webhook_secret": SecretStr(SECRET),
            "webhook_backoff_seconds": 0.05,
            **more,
        }
    )


def load(api: httpx.Client) -> None:
    """raw -> train -> m@1 (alice) -> prod (bob); train -> orphan-owner@1 (carol)."""
    owners = {DS: "data", JOB: "ml", MODEL: "alice", EP: "bob", OTHER: "carol"}
    nodes = [
        {"kind": u.split(":")[0], "name": u.split(":")[2], "owner": o} for u, o in owners.items()
    ]
    edges = [
        {"source": DS, "target": JOB, "type": "ContributedTo"},
        {"source": JOB, "target": MODEL, "type": "Produced"},
        {"source": JOB, "target": OTHER, "type": "Produced"},
        {"source": MODEL, "target": EP, "type": "ContributedTo"},
    ]
    body = {"nodes": nodes, "edges": edges, "event_time": "2026-11-01T00:00:00Z"}
    assert api.post("/v1/graph", json=body).status_code == 200


def wait_for(check: Any, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
    return found


def records(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    reply = api.get("/v1/notifications", params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]  # type: ignore[no-any-return]


def test_each_owner_gets_one_signed_digest(
    settings: Settings, empty_graph: Driver, receiver: Receiver
) -> None:
    hooks = {"alice": f"{receiver.url}/alice", "bob": f"{receiver.url}/bob"}
    with (
        LocalApi(notifying(settings, hooks)) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        load(api)
        body = {"reason": "moving to raw-v2", "event_time": "2026-11-02T00:00:00Z"}
        assert api.post(f"/v1/entities/{DS}/deprecate", json=body).status_code == 200
        alice = wait_for(lambda: receiver.accepted("/alice"))
        bob = wait_for(lambda: receiver.accepted("/bob"))
        time.sleep(0.5)  # anything more would be a second delivery
        assert len(receiver.accepted("/alice")) == 1 and len(receiver.accepted("/bob")) == 1
        for delivery in (*alice, *bob):
            signature = delivery["headers"]["X-Mllineage-Signature"]
            expected = hmac.new(SECRET.encode(), delivery["body"], hashlib.sha256).hexdigest()
            assert signature == f"sha256={expected}"
            assert delivery["headers"]["X-Mllineage-Event"] == "deprecated"
        digest = json.loads(alice[0]["body"])
        assert digest["owner"] == "alice" and digest["subjects"] == [DS]
        assert digest["reason"] == "moving to raw-v2"
        assert [(h["uid"], h["path"], h["loses"]) for h in digest["hits"]] == [
            (MODEL, [DS, JOB, MODEL], DS)
        ]
        assert [h["uid"] for h in json.loads(bob[0]["body"])["hits"]] == [EP]
        # carol's model serves nowhere, so nothing live of hers is hit: nothing sent to her.
        kept = wait_for(lambda: len(records(api)) == 2 and records(api))
        assert {(r["owner"], r["status"], r["attempts"]) for r in kept} == {
            ("alice", "delivered", 1), ("bob", "delivered", 1),
        }  # fmt: skip
        assert all("http" not in json.dumps({k: v for k, v in r.items() if k != "digest"})
                   for r in kept)  # fmt: skip
        # Records are not entities: lists and walks never see them.
        assert {e["kind"] for e in api.get("/v1/entities").json()["items"]} <= {
            "DataSource", "TrainingJob", "Model", "Endpoint",
        }  # fmt: skip


def test_a_receiver_that_fails_twice_gets_exactly_one_delivery(
    settings: Settings, empty_graph: Driver, receiver: Receiver
) -> None:
    receiver.plans["/all"] = [500, 503]
    hooks = {"*": f"{receiver.url}/all"}
    with (
        LocalApi(notifying(settings, hooks)) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        load(api)
        body = {"reason": "gone", "event_time": "2026-11-02T00:00:00Z"}
        assert api.post(f"/v1/entities/{MODEL}/retire", json=body).status_code == 200
        wait_for(lambda: receiver.accepted("/all"))
        time.sleep(0.5)
        assert [r["status"] for r in receiver.received] == [500, 503, 200]
        assert len({r["headers"]["X-Mllineage-Delivery"] for r in receiver.received}) == 1
        digest = json.loads(receiver.accepted("/all")[0]["body"])
        assert digest["event"] == "retired" and digest["owner"] == "bob"
        [kept] = wait_for(lambda: records(api, status="delivered"))
        assert kept["attempts"] == 3 and kept["webhook"] == "*"


def test_what_if_with_notify(
    settings: Settings, empty_graph: Driver, receiver: Receiver, api: httpx.Client
) -> None:
    load(api)
    reply = api.post("/v1/impact/what-if", json={"retire": [DS], "notify": True})
    assert reply.status_code == 422 and "MLLINEAGE_WEBHOOKS" in reply.json()["message"]
    hooks = {"*": f"{receiver.url}/all"}
    with (
        LocalApi(notifying(settings, hooks)) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        reply = api.post("/v1/impact/what-if", json={"retire": [DS]})
        assert reply.status_code == 200 and reply.json()["live_endpoints"] == 1
        reply = api.post("/v1/impact/what-if", json={"retire": [DS], "notify": True})
        assert reply.status_code == 200
        wait_for(lambda: len(receiver.accepted("/all")) == 2)
        # carol's model serves nowhere: retiring raw takes nothing live from her.
        owners = {json.loads(r["body"])["owner"] for r in receiver.received}
        assert owners == {"alice", "bob"}
        assert {r["headers"]["X-Mllineage-Event"] for r in receiver.received} == {"what-if"}


def test_a_dead_receiver_does_not_slow_the_api(
    settings: Settings, empty_graph: Driver, dead_port: int
) -> None:
    hooks = {"*": f"http://127.0.0.1:{dead_port}/hook"}
    slow = notifying(settings, hooks, webhook_timeout_seconds=1.0, webhook_attempts=2)
    with LocalApi(slow) as server, httpx.Client(base_url=server.url, timeout=60) as api:
        load(api)
        took = []
        for day in range(2, 6):
            body = {"reason": "again", "event_time": f"2026-11-0{day}T00:00:00Z"}
            start = time.monotonic()
            assert api.post(f"/v1/entities/{DS}/deprecate", json=body).status_code == 200
            took.append(time.monotonic() - start)
        assert max(took) < 1.0, took  # each delivery waits 1 s per try, twice
        failed = wait_for(lambda: len(records(api, status="failed")) >= 3 and records(api))
        assert {r["attempts"] for r in failed} == {2}
        assert all("Timeout" in r["error"] for r in failed)


def test_webhook_settings_fail_at_start_naming_the_setting(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="MLLINEAGE_WEBHOOKS"):
        Settings(webhooks='{"alice": "ftp://hooks/x"}', webhook_secret=SecretStr("s"))
    with pytest.raises(ValidationError, match="MLLINEAGE_WEBHOOKS"):
        Settings(webhooks='["http://hooks/x"]', webhook_secret=SecretStr("s"))
    with pytest.raises(ValidationError, match="MLLINEAGE_WEBHOOK_SECRET"):
        Settings(webhooks='{"*": "https://hooks/x"}')
    env = environment(settings) | {"MLLINEAGE_WEBHOOKS": '{"*": "file:///etc/passwd"}'}
    serve = [sys.executable, "-m", "mllineage.cli", "serve", "--port", "1"]
    failed = subprocess.run(serve, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2 and "MLLINEAGE_WEBHOOKS" in failed.stderr
