"""Hardening: no stored value breaks a read, no input crashes an error answer, the token is
checked before the body is read, limits answer with messages, outages are answered fast."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from neo4j import AsyncGraphDatabase, Driver
from neo4j.exceptions import Neo4jError

from mllineage.client import LineageClient
from mllineage.local import LocalApi, LocalNeo4j
from mllineage.model.errors import Unavailable
from mllineage.settings import Settings
from mllineage.store import Database
from tests.events import changed, entity, event
from tests.helpers import EMPTY_GRAPH, READER, WRITER, dump_graph, local_settings


def job_event(**run: Any) -> dict[str, Any]:
    body = event(entity("TrainingJob", "train"), [entity("Dataset", "data")],
                 [entity("Model", "model@1")])  # fmt: skip
    body["run"].update(run)
    return body


def openlineage(**fields: Any) -> dict[str, Any]:
    return {
        "eventTime": "2026-11-02T10:00:00Z", "producer": "p", "schemaURL": "s",
        "eventType": "COMPLETE", "run": {"runId": "r"}, "job": {"namespace": "ns", "name": "j"},
        **fields,
    }  # fmt: skip


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def assert_error(reply: httpx.Response, status: int, *fragments: str) -> None:
    assert reply.status_code == status, reply.text[:500]
    body = reply.json()
    assert isinstance(body["message"], str) and len(reply.content) < 20_000, reply.text[:500]
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


# --- 1. a poisoned node ----------------------------------------------------------------------


def test_a_deep_or_huge_run_parameter_is_refused(api: httpx.Client, empty_graph: Driver) -> None:
    assert_error(api.post("/v1/events", json=job_event(parameters=nested(255))), 422, "deeper")
    huge = job_event(metrics={"p": "x" * 10_000_000})
    assert_error(api.post("/v1/events", json=huge), 422, "run.metrics", "longer than")
    assert dump_graph(empty_graph) == EMPTY_GRAPH


ODD_VALUES = {
    "run.parameters": json.dumps(nested(300)),
    "run.metrics": "{not json",
    "run.started_at": "yesterday",
    "run.ended_at": 17,
    "notes": float("nan"),
    "big": float("inf"),
}


def test_no_stored_value_makes_a_read_fail(api: httpx.Client, empty_graph: Driver) -> None:
    """Values an older version let through, planted straight into Neo4j."""
    assert api.post("/v1/events", json=job_event()).status_code == 200
    empty_graph.execute_query(
        "MATCH (n:Entity {uid: 'TrainingJob:default:train'}) SET n += $odd", odd=ODD_VALUES
    )
    reads = [
        ("/v1/entities/TrainingJob:default:train", {}),
        ("/v1/entities", {}),
        ("/v1/lineage", {"uid": "Dataset:default:data"}),
        ("/v1/lineage", {"uid": "Model:default:model@1", "direction": "upstream"}),
        ("/v1/impact", {"uid": "Dataset:default:data"}),
        ("/v1/impact", {"uid": "TrainingJob:default:train"}),
    ]
    for path, params in reads:
        reply = api.get(path, params=params)
        assert reply.status_code == 200, (path, reply.text[:300])
    job = api.get("/v1/entities/TrainingJob:default:train").json()
    assert job["run"]["metrics"] == "{not json" and job["run"]["started_at"] == "yesterday"
    assert isinstance(job["run"]["parameters"], str)  # too deep to decode: kept as text


# --- 2. event times far ahead of the server's clock --------------------------------------------


def ahead(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


FAR = "2999-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/events", changed(job_event(), ["event_time"], ahead(3600)), "event_time"),
        ("/v1/events", {"events": [job_event(), changed(job_event(), ["event_time"], FAR)]},
         "events[1].event_time"),
        ("/v1/graph", {"event_time": ahead(3600), "nodes": [entity("Dataset", "d")]}, "event_time"),
        ("/api/v1/lineage", openlineage(eventTime=ahead(3600)), "eventTime"),
        # (an OpenLineage batch answers per item: refused whole when no event is valid)
        ("/api/v1/lineage/batch", [openlineage(eventTime=FAR), openlineage(eventTime=FAR)],
         "[1].eventTime"),
    ],
)  # fmt: skip
def test_event_times_far_ahead_of_the_clock_are_refused(
    path: str, body: Any, field: str, api: httpx.Client, empty_graph: Driver
) -> None:
    assert_error(api.post(path, json=body), 422, field, "300 s ahead", "CLOCK_SKEW")
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_event_times_within_the_skew_are_accepted(api: httpx.Client) -> None:
    reply = api.post("/v1/events", json=changed(job_event(), ["event_time"], ahead(60)))
    assert reply.status_code == 200, reply.text


# --- 3. the error answer never crashes and never echoes much ------------------------------------

BAD_VALUES = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "lone": "\ud800"}
FAILING = {
    "/v1/events": lambda v: {"event_time": v, "process": {"kind": v, "name": v}},
    "/v1/graph": lambda v: {"nodes": [{"kind": v, "name": v}], "edges": [{"source": v}]},
    "/api/v1/lineage": lambda v: openlineage(eventTime=v, producer=v, job={"name": v}),
    "/api/v1/lineage/batch": lambda v: [openlineage(eventTime=v, run={"runId": [v]})],
}


@pytest.mark.parametrize("value", list(BAD_VALUES))
@pytest.mark.parametrize("path", list(FAILING))
def test_nan_infinity_and_surrogates_in_failing_fields_get_a_422(
    path: str, value: str, api: httpx.Client
) -> None:
    content = json.dumps(FAILING[path](BAD_VALUES[value]))  # NaN, Infinity, "\ud800" as sent
    reply = api.post(path, content=content, headers={"content-type": "application/json"})
    assert_error(reply, 422)
    assert reply.json()["detail"]


def test_a_15_mb_invalid_body_gets_a_short_422(api: httpx.Client) -> None:
    body = {"events": [{"event_time": "x" * 15_000_000, "process": ["y" * 100] * 3}]}
    reply = api.post("/v1/events", json=body)
    assert_error(reply, 422, "event_time")
    assert len(reply.content) < 5_000


def test_unknown_routes_answer_json_with_a_message(api: httpx.Client) -> None:
    assert_error(api.get("/v2/nothing"), 404)
    assert_error(api.delete("/v1/events"), 405)


# --- 4. the token is checked before the body is read --------------------------------------------


def test_malformed_json_without_a_token_is_401(secured: LocalApi) -> None:
    for path in ("/v1/events", "/v1/graph", "/api/v1/lineage", "/api/v1/lineage/batch"):
        reply = httpx.post(secured.url + path, content=b"{not json", timeout=10)
        assert_error(reply, 401, "token")
        reply = httpx.post(secured.url + path, content=b"{not json", timeout=10,
                           headers={"Authorization": f"Bearer {READER}"})  # fmt: skip
        assert_error(reply, 403, "scope")
    reply = httpx.post(secured.url + "/v1/events", content=b"{not json", timeout=10,
                       headers={"Authorization": f"Bearer {WRITER}",
                                "Content-Type": "application/json"})  # fmt: skip
    assert_error(reply, 422, "not valid JSON")


@pytest.mark.parametrize("token", [None, READER])
def test_an_unauthorized_body_is_never_read(token: str | None, secured: LocalApi) -> None:
    """Headers and the first chunk of a 'huge' chunked body: the answer comes without the rest."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", secured.port), timeout=5) as sock:
        chunk = b'{"events": [{"event_time": "' + b"x" * 1000
        sock.sendall(head.encode() + b"%x\r\n%s\r\n" % (len(chunk), chunk))
        started = time.monotonic()
        answer = sock.recv(65536).decode()
    assert time.monotonic() - started < 2
    assert answer.startswith("HTTP/1.1 401" if token is None else "HTTP/1.1 403"), answer


# --- 5. limits and formats ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bodies(settings: Settings) -> Iterator[LocalApi]:
    with LocalApi(settings.model_copy(update={"max_body_bytes": 1_000})) as server:
        yield server


def test_a_chunked_body_over_the_limit_is_413(small_bodies: LocalApi) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"events": ['
        for _ in range(100):
            yield b'"' + b"x" * 100 + b'",'

    for path in ("/v1/events", "/api/v1/lineage"):
        reply = httpx.post(small_bodies.url + path, content=chunks(), timeout=10)
        assert_error(reply, 413, "larger than 1000 bytes", "split")


@pytest.mark.parametrize(
    ("content", "status", "fragments"),
    [
        (b'{"event_time": "\xff\xfe"}', 400, ("UTF-8",)),
        (b"[" * 10_000 + b"]" * 10_000, 400, ("too deeply",)),
        (b'{"event_time": "2026-11-02T10:00:00Z",\n "producer": "p" "process": {}}', 422,
         ("not valid JSON", "line 2, column 18", "commas")),
        (b'{"event_time": 123}', 422, ("event_time", "ISO 8601")),
        (json.dumps({"event_time": "2026-11-02T10:00:00Z", "process": entity(
            "TrainingJob", "t", properties={"p": float("nan")})}).encode(), 422,
         ("NaN is not a JSON number", "finite number", "line 1, column")),
        (b'{"a": ' + b"9" * 5_000 + b"}", 400, ("digits",)),
    ],
    ids=["utf-8", "nesting", "malformed", "epoch", "nan-property", "long-number"],
)  # fmt: skip
def test_bad_formats_get_a_message_that_explains(
    content: bytes, status: int, fragments: tuple[str, ...], api: httpx.Client, empty_graph: Driver
) -> None:
    reply = api.post("/v1/events", content=content, headers={"content-type": "application/json"})
    assert_error(reply, status, *fragments)
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_an_unknown_kind_in_our_openlineage_facet_is_refused(api: httpx.Client) -> None:
    body = openlineage(job={"namespace": "ns", "name": "j",
                            "facets": {"mllineage": {"kind": "Trainingjob"}}})  # fmt: skip
    assert_error(api.post("/api/v1/lineage", json=body), 422, "job.facets", "TrainingJob")


# --- 6. secrets and internals stay out of logs and answers --------------------------------------


def test_tokens_in_the_query_string_are_redacted_from_the_access_log(secured: LocalApi) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        query = f"token={READER}&api_key=k-{READER}&access_token=a-{READER}&q=kept"
        reply = httpx.get(f"{secured.url}/v1/entities?{query}", timeout=10)
        assert reply.status_code == 401  # a token counts only in the Authorization header
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert lines and "q=kept" in lines[-1] and "token=[redacted]" in lines[-1], lines
    assert not any(READER in line for line in lines), lines


# --- 7 and 8. outages: answered fast, and clients wait them out ---------------------------------


@dataclass
class Outage:
    neo4j: LocalNeo4j
    api: LocalApi

    def restart(self) -> None:
        self.neo4j.start()
        deadline = time.monotonic() + 60
        while httpx.get(f"{self.api.url}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "the API did not recover"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A throw-away Neo4j of its own (the tests kill it) and an API on it."""
    settings = local_settings(tmp_path_factory.mktemp("neo4j"), neo4j_retry_seconds=2.0)
    neo4j = LocalNeo4j(settings)
    neo4j.start()
    try:
        with LocalApi(settings.model_copy(update={"neo4j_uri": neo4j.bolt_uri})) as api:
            yield Outage(neo4j, api)
    finally:
        neo4j.stop()


def timed(method: str, url: str, **kw: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    reply = httpx.request(method, url, timeout=60, **kw)
    return reply, time.monotonic() - started


def test_an_outage_is_answered_fast_and_without_internals(outage: Outage) -> None:
    url, port = outage.api.url, str(outage.neo4j.settings.neo4j_bolt_port)
    outage.neo4j.kill()
    try:
        with ThreadPoolExecutor(6) as pool:  # writers queue behind one write slot
            first = list(pool.map(lambda i: timed("POST", f"{url}/v1/events", json=job_event()),
                                  range(6)))  # fmt: skip
        assert all(r.status_code == 503 for r, _ in first), [r.text for r, _ in first]
        assert max(t for _, t in first) < 6, [t for _, t in first]  # about the 2 s retry window
        replies = [timed("GET", f"{url}/v1/entities"), timed("POST", f"{url}/v1/events",
                   json=job_event()), timed("GET", f"{url}/readyz")]  # fmt: skip
        assert [r.status_code for r, _ in replies] == [503, 503, 503]
        assert max(t for _, t in replies) < 1, [t for _, t in replies]  # a recent probe failed
        time.sleep(2.5)  # past the fail-fast window: /readyz probes again, within a second
        probe, took = timed("GET", f"{url}/readyz")
        assert probe.status_code == 503 and took < 1.5, took
        for reply in [r for r, _ in [*first, *replies]] + [probe]:
            assert reply.headers["retry-after"] and reply.json()["message"]
            assert "127.0.0.1" not in reply.text and port not in reply.text, reply.text
    finally:
        outage.restart()


def test_the_client_waits_out_an_outage(outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    outage.neo4j.kill()
    restarting = threading.Timer(3, outage.neo4j.start)
    restarting.start()
    try:
        with LineageClient(outage.api.url, retry_seconds=120) as client:
            written = client.post_event(job_event())
    finally:
        restarting.join()
    assert written["nodes"] == 3
    assert "retrying in" in caplog.text and "503" in caplog.text
    with LineageClient(outage.api.url) as client:
        assert client.entity("Model:default:model@1")["name"] == "model@1"


def test_a_deadlock_that_outlasts_the_retries_says_so(settings: Settings) -> None:
    """The driver's own error, as it surfaces once its retries are spent."""
    deadlock = Neo4jError._hydrate_neo4j(
        code="Neo.TransientError.Transaction.DeadlockDetected", message="ForsetiClient[1] ..."
    )

    async def write() -> None:
        driver = AsyncGraphDatabase.driver(settings.neo4j_uri)
        try:
            async with Database(driver, settings.neo4j_database).errors_as_unavailable():
                raise deadlock
        finally:
            await driver.close()

    with pytest.raises(Unavailable, match="conflicted with a concurrent write.*safe to send again"):
        asyncio.run(write())


# --- what a rerun of the bad-input probe found ---------------------------------------------------

PROBED = {  # each was accepted (or a 500) before; a raw body, so the bad value arrives as sent
    "surrogate-property": ("/v1/graph", '{"nodes": [{"kind": "Model", "name": "m", '
                           '"properties": {"v": "a\\ud800b"}}]}', "half of a UTF-16"),
    "surrogate-parameter": ("/v1/events", json.dumps(job_event()).replace(
        '"lr": 0.1', '"w": "a\\udc00"'), "half of a UTF-16"),
    "nan-in-a-facet": ("/api/v1/lineage", json.dumps(openlineage()).replace(
        '"runId": "r"', '"runId": "r", "facets": {"parent": {"job": {"name": NaN}}}'),
        "NaN is not a JSON number"),
    "utf-16-body": ("/v1/events", json.dumps(job_event()).encode("utf-16").decode("latin-1"),
                    "UTF-8"),
    "owner-as-a-property": ("/v1/graph", json.dumps({"nodes": [entity(
        "Model", "m", properties={"owner": 7})]}), "outside 'properties'"),
    "newline-after-a-reserved-name": ("/v1/graph", json.dumps({"nodes": [entity(
        "Model", "m", properties={"uid\n": "evil"})]}), "is invalid"),
    "dotted-and-nested-twice": ("/v1/graph", json.dumps({"nodes": [entity(
        "Model", "m", properties={"a.b": 1, "a": {"b": 2}})]}), "given twice"),
    "run-started-in-2999": ("/v1/events", json.dumps(job_event(started_at=FAR)),
                            "run.started_at"),
    "nominal-time-in-2999": ("/api/v1/lineage", json.dumps(openlineage(run={"runId": "r",
        "facets": {"nominalTime": {"nominalStartTime": FAR}}})), "nominalStartTime"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(PROBED))
def test_what_the_probe_found_is_refused_and_writes_nothing(
    case: str, api: httpx.Client, empty_graph: Driver
) -> None:
    path, content, fragment = PROBED[case]
    reply = api.post(path, content=content.encode("latin-1" if case == "utf-16-body" else "utf-8",
                     "surrogatepass"), headers={"content-type": "application/json"})  # fmt: skip
    assert 400 <= reply.status_code < 500, reply.text[:500]
    assert fragment in reply.json()["message"], reply.json()["message"]
    assert dump_graph(empty_graph) == EMPTY_GRAPH


def test_many_bad_events_get_a_short_answer(api: httpx.Client) -> None:
    bad = {**job_event(), "process": entity("Model", "not-a-process")}
    assert_error(api.post("/v1/events", json={"events": [bad] * 30}), 422, "(and 25 more)")
    assert len(api.post("/v1/events", json={"events": [bad] * 3_000}).content) < 8_000
