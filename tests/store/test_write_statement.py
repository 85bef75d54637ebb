"""The write's statements take one parameter, a map: Neo4j plans a statement again for each
size class of each list parameter (``python -m bench.plan_cache``), so a list passed as a
parameter of its own would bring a new plan, a second or more, to writes of new sizes."""

from __future__ import annotations

import re

import pytest

from mllineage.store.queries.writes import MERGE_NODES, WRITE


@pytest.mark.parametrize("statement", [WRITE, MERGE_NODES])
def test_a_write_statement_takes_only_the_delta_map(statement: str) -> None:
    assert set(re.findall(r"\$(\w+)", statement)) == {"delta"}
