"""Schemathesis drives every operation of the OpenAPI schema: no 5xx, every answer conforms.

Bounded and deterministic: a fixed number of derandomized examples per operation.
``positive_data_acceptance`` is left out on purpose: the schema cannot say that a string must
be a well-formed uid or that an edge's ends must exist, so schema-valid input may rightly be
refused with a 4xx. (Schemathesis's own pytest plugin does not run under pytest 9, so its
Hypothesis strategies are driven directly.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mllineage.local import LocalApi
from tests.helpers import ADMIN

EXAMPLES = 25


@pytest.fixture(scope="module")
def operations(secured: LocalApi) -> dict[str, schemathesis.APIOperation]:
    """Against the secured API, so the checks also try requests without a valid token."""
    schema = schemathesis.openapi.from_url(f"{secured.url}/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    return {op.label: op for op in found}


OPERATIONS = [
    "GET /healthz", "GET /readyz", "GET /metrics", "POST /v1/events", "POST /v1/graph",
    "GET /v1/entities", "GET /v1/entities/{uid}", "GET /v1/lineage", "GET /v1/impact",
    "GET /v1/questions/{question}", "POST /api/v1/lineage", "POST /api/v1/lineage/batch",
    "POST /v1/entities/{uid}/deprecate", "POST /v1/entities/{uid}/retire",
    "POST /v1/entities/{uid}/restore", "DELETE /v1/entities/{uid}", "POST /v1/edges/end",
    # reports and notifications
    "GET /v1/reports", "GET /v1/reports/orphans", "GET /v1/reports/deprecated-in-use",
    "GET /v1/reports/duplicate-features", "GET /v1/reports/skew", "GET /v1/notifications",
    "POST /v1/impact/what-if", "GET /v1/runs", "GET /v1/runs/{run_id}", "GET /v1/experiments",
    "GET /browser/style.grass", "GET /browser/guide.html", "POST /v1/hooks/mlflow",
]  # fmt: skip


def test_the_list_covers_every_operation(operations: dict[str, schemathesis.APIOperation]) -> None:
    assert sorted(operations) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_answers_within_its_schema(
    label: str, operations: dict[str, schemathesis.APIOperation], secured: LocalApi
) -> None:
    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None,
        suppress_health_check=list(HealthCheck), database=None,
    )  # fmt: skip
    @given(case=operations[label].as_strategy())
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=secured.url,
            headers={"Authorization": f"Bearer {ADMIN}"},
            excluded_checks=[positive_data_acceptance],
        )

    check()


# Bad input a generator of schema-shaped data never makes: raw bytes, sent through the same
# checks (no 5xx, every answer documented and conforming).
WRITES = ["POST /v1/events", "POST /v1/graph", "POST /api/v1/lineage", "POST /api/v1/lineage/batch"]
EVENT: dict[str, Any] = {
    "event_time": "2026-11-02T10:00:00Z",
    "process": {"kind": "TrainingJob", "name": "t", "properties": {"p": 1}},
    "run": {"parameters": {"p": 1}},
}
BAD_BODIES = {
    "nan": json.dumps({**EVENT, "process": {**EVENT["process"], "properties": {"p": float("nan")}},
                       "nodes": [{"kind": "Model", "name": float("nan")}]}).encode(),
    "infinity": json.dumps({**EVENT, "run": {"metrics": {"m": float("inf")}},
                            "eventTime": float("-inf")}).encode(),
    "surrogate": json.dumps({**EVENT, "producer": "\udc00", "nodes": [{"kind": "\ud800"}],
                             "eventTime": "\ud800"}).encode(),
    "nested-900": b'{"event_time": ' + b"[" * 900 + b"]" * 900 + b"}",
    "nested-10000": b"[" * 10_000 + b"]" * 10_000,
    "not-utf-8": b'{"producer": "\xff"}',
}  # fmt: skip


@pytest.mark.parametrize("bad", list(BAD_BODIES))
@pytest.mark.parametrize("label", WRITES)
def test_bad_bodies_answer_within_the_schema(
    label: str, bad: str, operations: dict[str, schemathesis.APIOperation], secured: LocalApi
) -> None:
    case = operations[label].Case(body=BAD_BODIES[bad], media_type="application/json")
    response = case.call_and_validate(
        base_url=secured.url,
        headers={"Authorization": f"Bearer {ADMIN}"},
        excluded_checks=[positive_data_acceptance],
    )
    assert 400 <= response.status_code < 500 and response.json()["message"]


@pytest.mark.parametrize("label", WRITES)
def test_chunked_bodies_over_the_limit_get_413(label: str, secured: LocalApi) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"events": ["'
        for _ in range(17):
            yield b"x" * 2**20

    path = label.split(" ", 1)[1]
    reply = httpx.post(secured.url + path, content=chunks(), timeout=60,
                       headers={"Authorization": f"Bearer {ADMIN}"})  # fmt: skip
    assert reply.status_code == 413 and "larger than" in reply.json()["message"]
