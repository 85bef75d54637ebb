"""Authentication and scopes, secrets kept out of logs, documented limits, Cypher injection."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from pydantic import SecretStr

from mllineage.api import create_app
from mllineage.api.auth import new_key
from mllineage.local import LocalApi
from mllineage.settings import Settings
from tests.events import entity, event, event_with, feature_store_events
from tests.helpers import ADMIN, EMPTY_GRAPH, READER, WRITER, auth_on, dump_graph


def call(server: LocalApi, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kw)


WRITE = ("POST", "/v1/events", {"json": feature_store_events()[0]})
OPENLINEAGE = ("POST", "/api/v1/lineage", {"json": {"eventTime": "x"}})
READ = ("GET", "/v1/lineage", {"params": {"uid": "FeaturePipeline:default:customer-features"}})


@pytest.mark.parametrize(
    ("request_", "token", "status"),
    [
        (WRITE, None, 401), (WRITE, "mll_not-a-key", 401), (WRITE, READER, 403),
        (WRITE, WRITER, 200), (WRITE, ADMIN, 200),
        (OPENLINEAGE, READER, 403), (OPENLINEAGE, WRITER, 422),
        (READ, None, 401), (READ, WRITER, 403), (READ, READER, 200), (READ, ADMIN, 200),
    ],
)  # fmt: skip
def test_tokens_and_scopes(
    request_: tuple[str, str, dict[str, Any]], token: str | None, status: int,
    secured: LocalApi, empty_graph: Driver,
) -> None:  # fmt: skip
    if request_ is READ:
        call(secured, *WRITE[:2], ADMIN, **WRITE[2])
    method, path, kw = request_
    reply = call(secured, method, path, token, **kw)
    assert reply.status_code == status, reply.text
    if status == 401:
        assert reply.headers["www-authenticate"] == "Bearer"
        assert "token" in reply.json()["message"]
    if status == 403:
        assert "scope" in reply.json()["message"]
    if token:
        assert token not in reply.text


def test_health_stays_open(secured: LocalApi) -> None:
    assert call(secured, "GET", "/healthz", None).status_code == 200
    assert call(secured, "GET", "/readyz", None).status_code == 200


def test_created_key_is_stored_as_a_digest_and_works(settings: Settings, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    done = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", "keys", "create", "--name", "ci",
         "--scopes", "read,write", "--file", str(keys)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.split(": ", 1)[1].split()[0]
    assert token.startswith("mll_") and token not in keys.read_text()
    assert oct(keys.stat().st_mode)[-3:] == "600"
    with LocalApi(settings.model_copy(update={"auth": "on", "api_keys_file": keys})) as server:
        assert call(server, "GET", "/v1/entities", token).status_code == 200
    bad = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", "keys", "create", "--name", "x",
         "--scopes", "root"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown scopes" in bad.stderr


def test_unsafe_configurations_are_refused(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="no API key is configured"):
        create_app(settings.model_copy(update={"auth": "on", "api_keys": None}))
    served = subprocess.run(
        [sys.executable, "-m", "mllineage.cli", "serve", "--host", "0.0.0.0"],
        env={**os.environ, "MLLINEAGE_AUTH": "off"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert served.returncode == 2 and "authentication off" in served.stderr


def test_no_secret_reaches_logs_or_replies(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    password = "neo4j-Pa55word-that-must-not-leak"
    token, key = new_key("leak-check", {"read", "write"})
    wrong = auth_on(
        settings, key, neo4j_password=SecretStr(password), neo4j_retry_seconds=1.0,
        neo4j_user="intruder",  # a wrong login locks its user out for a while: not ours
    )  # fmt: skip
    caplog.set_level(logging.DEBUG)
    replies = []
    with LocalApi(wrong) as server:
        replies.append(call(server, "GET", "/readyz", None))
        replies.append(call(server, "POST", "/v1/events", token, json=feature_store_events()[0]))
        replies.append(call(server, "GET", "/v1/entities", token + "x"))
        replies.append(call(server, "GET", "/v1/entities", token))
    assert [r.status_code for r in replies] == [503, 503, 401, 503]
    assert "MLLINEAGE_NEO4J_PASSWORD" in replies[0].json()["message"]
    for text in [caplog.text, repr(wrong), *(r.text for r in replies)]:
        assert password not in text and token not in text


LIMITS = {
    "101 properties": (event_with(["inputs", 0, "properties"], {f"p{i}": i for i in range(101)}),
                       "at most 100 properties"),
    "long string": (event_with(["inputs", 0, "properties"], {"p": "x" * 16_385}), "longer than"),
    "long list": (event_with(["inputs", 0, "properties"], {"p": list(range(1001))}), "1000 items"),
    "long name": (event_with(["inputs", 0, "name"], "n" * 1025), "at most 1024"),
    "long key": (event_with(["inputs", 0, "properties"], {"k" * 129: 1}), "at most 128"),
    "5001 events": ({"events": [feature_store_events()[0]] * 5001}, "at most 5000"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(LIMITS))
def test_documented_limits(case: str, api: httpx.Client, empty_graph: Driver) -> None:
    body, fragment = LIMITS[case]
    reply = api.post("/v1/events", json=body)
    assert reply.status_code == 422, reply.text[:300]
    assert fragment in reply.json()["message"]
    assert dump_graph(empty_graph) == EMPTY_GRAPH


@pytest.mark.parametrize(
    ("params", "fragment"),
    [({"depth": 101}, "depth"), ({"limit": 10_001}, "limit"), ({"depth": 0}, "depth")],
)
def test_walk_limits(params: dict[str, int], fragment: str, api: httpx.Client) -> None:
    reply = api.get("/v1/lineage", params={"uid": "Model:default:m", **params})
    assert reply.status_code == 422 and fragment in reply.json()["message"]


INJECTION = "x'}) MATCH (n) DETACH DELETE n WITH 1 AS x CREATE (:Pwned) //`"
STRING_FIELDS = [
    ["producer"], ["process", "name"], ["process", "owner"], ["process", "description"],
    ["process", "tags"], ["run", "id"], ["run", "error_message"], ["run", "parameters"],
    ["inputs", 0, "name"], ["inputs", 0, "properties"], ["outputs", 0, "features", 0, "name"],
    ["outputs", 0, "features", 0, "dtype"], ["process", "namespace"], ["process", "kind"],
]  # fmt: skip


@pytest.mark.parametrize("path", STRING_FIELDS, ids=lambda p: ".".join(map(str, p)))
def test_cypher_in_any_string_field_is_stored_literally_or_refused(
    path: list[Any], api: httpx.Client, empty_graph: Driver
) -> None:
    value: Any = INJECTION
    if path[-1] == "tags":
        value = [INJECTION]
    elif path[-1] in ("parameters", "properties"):
        value = {"q": INJECTION}
    reply = api.post("/v1/events", json=event_with(path, value))
    assert reply.status_code in (200, 422), reply.text
    graph = dump_graph(empty_graph)
    labels = {label for labels, _ in graph["nodes"] for label in labels}
    assert "Pwned" not in labels
    if reply.status_code == 200:
        stored = json.dumps([props for _, props in graph["nodes"]], default=str)
        stored += json.dumps([e[3] for e in graph["edges"]], default=str)
        assert json.dumps(INJECTION)[1:-1] in stored  # kept, character for character
        assert len(graph["nodes"]) == 7
    else:
        assert graph == EMPTY_GRAPH


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/entities", {"q": INJECTION}),
        ("/v1/entities", {"cursor": INJECTION}),
        (f"/v1/entities/Model:default:{INJECTION}", {}),
        ("/v1/lineage", {"uid": f"Model:default:{INJECTION}"}),
        ("/v1/impact", {"uid": f"Model:default:{INJECTION}"}),
    ],
)
def test_cypher_in_queries_is_harmless(
    path: str, params: dict[str, str], api: httpx.Client, empty_graph: Driver
) -> None:
    assert api.post("/v1/events", json=entity_event()).status_code == 200
    reply = api.get(path, params=params)
    assert reply.status_code in (200, 404, 422), reply.text
    assert len(dump_graph(empty_graph)["nodes"]) == 2


def entity_event() -> dict[str, Any]:
    return event(entity("TrainingJob", "t"), [entity("Dataset", "d")], [])
