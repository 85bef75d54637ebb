"""Prometheus /metrics: request series by route template and status, the write series, and
who may read it (loopback callers, else the admin scope)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from neo4j import Driver
from prometheus_client.parser import text_string_to_metric_families

from mllineage.local import LocalApi
from tests.events import feature_store_events
from tests.helpers import ADMIN, READER, WRITER

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# uvicorn trusts X-Forwarded-For from 127.0.0.1 (its forwarded_allow_ips): the client the app
# sees is then this one, as behind a reverse proxy on the same host.
REMOTE = {"X-Forwarded-For": "203.0.113.9"}


def scrape(url: str, **headers: str) -> Samples:
    reply = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def call(url: str, method: str, path: str, token: str | None, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, url + path, headers=headers, timeout=30, **kw)


def test_requests_and_writes_are_counted_by_route_template(
    secured: LocalApi, empty_graph: Driver
) -> None:
    url = secured.url
    before = scrape(url)
    events = feature_store_events()
    for one in events:
        assert call(url, "POST", "/v1/events", WRITER, json=one).status_code == 200
    walk = {"uid": "FeaturePipeline:default:customer-features", "direction": "downstream"}
    assert call(url, "GET", "/v1/lineage", READER, params=walk).status_code == 200
    assert call(url, "GET", "/v1/lineage", None, params=walk).status_code == 401
    assert call(url, "GET", "/v1/entities/Model:default:nothing-here", READER).status_code == 404
    assert call(url, "GET", "/no/such/path", None).status_code == 404
    after = scrape(url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "mllineage_http_requests_total"
    assert grew(requests, route="/v1/events", method="POST", status="200") == len(events)
    assert grew(requests, route="/v1/lineage", method="GET", status="200") == 1
    assert grew(requests, route="/v1/lineage", method="GET", status="401") == 1
    assert grew(requests, route="/v1/entities/{uid:path}", method="GET", status="404") == 1
    assert grew(requests, route="unmatched", method="GET", status="404") == 1
    assert not any("nothing-here" in str(key) or "/no/such" in str(key) for key in after)
    latency = "mllineage_http_request_seconds_count"
    assert grew(latency, route="/v1/events", method="POST") == len(events)
    assert grew(latency, route="/v1/lineage", method="GET") == 2
    walked = grew("mllineage_http_request_seconds_sum", route="/v1/lineage", method="GET")
    assert walked > 0
    # Every event was one committed transaction of one request, with its nodes and edges.
    assert grew("mllineage_write_group_size_count") == len(events)
    assert grew("mllineage_write_group_size_sum") == len(events)
    assert grew("mllineage_write_transaction_rows_sum") >= len(events) * 2
    for series in ("queue_wait_seconds", "transaction_seconds"):
        assert grew(f"mllineage_write_{series}_count") == len(events)
    assert grew("mllineage_write_transaction_seconds_sum") > 0


@pytest.mark.parametrize(
    ("headers", "token", "status"),
    [({}, None, 200), (REMOTE, None, 401), (REMOTE, READER, 403), (REMOTE, WRITER, 403),
     (REMOTE, ADMIN, 200), ({"X-Forwarded-For": "::1"}, None, 200)],
)  # fmt: skip
def test_metrics_are_open_to_loopback_only_else_admin(
    secured: LocalApi, headers: dict[str, str], token: str | None, status: int
) -> None:
    if token:
        headers = {**headers, "Authorization": f"Bearer {token}"}
    reply = httpx.get(f"{secured.url}/metrics", headers=headers, timeout=30)
    assert reply.status_code == status, reply.text
    if status == 200:
        assert "mllineage_http_requests_total" in reply.text
    else:
        assert "scope" in reply.json()["message"] or "token" in reply.json()["message"]
