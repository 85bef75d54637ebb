"""Schemathesis drives every operation of the OpenAPI schema: no 5xx, every answer conforms.

Bounded and deterministic: a fixed number of derandomized examples per operation.
``positive_data_acceptance`` is left out on purpose: the schema cannot say that a string must
be a well-formed uid or that an edge's ends must exist, so schema-valid input may rightly be
refused with a 4xx. (Schemathesis's own pytest plugin does not run under pytest 9, so its
Hypothesis strategies are driven directly.)
"""

from __future__ import annotations

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
    "GET /healthz", "GET /readyz", "POST /v1/events", "POST /v1/graph",
    "GET /v1/entities", "GET /v1/entities/{uid}", "GET /v1/lineage", "GET /v1/impact",
    "GET /v1/questions/{question}", "POST /api/v1/lineage", "POST /api/v1/lineage/batch",
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
