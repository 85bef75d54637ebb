"""Why a write's lists travel in one map parameter: Neo4j plans a statement again for each size
class of each list parameter, and a map holding the same lists is planned once.

    python -m bench.plan_cache

On a throw-away Neo4j, ``queries.writes.WRITE`` runs (rolled back) on the deltas of 1, 2, 5, 20,
100, 5 and 1 synthetic events, its lists once as parameters of their own and once inside the
one map parameter it takes; each query text is new to the server, so the first run plans it.
Two passes, each with new texts: the first also warms the JVM. Prints milliseconds per run.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from neo4j import GraphDatabase

from bench.stack import login, running_stack
from bench.synth import lineage_events
from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent
from mllineage.store.queries.writes import WRITE
from mllineage.store.rows import write_params

EVENTS = (1, 2, 5, 20, 100, 5, 1)


def delta_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """WRITE's parameter for these events, as a write into an empty database sends it."""
    return write_params(to_write(LineageEvent.model_validate(e) for e in events))


def main() -> None:
    events = lineage_events(2_000, seed=3)
    with running_stack() as (settings, _server, _api):
        driver = GraphDatabase.driver(settings.neo4j_uri, auth=login(settings))

        def ms(query: str, params: dict[str, Any]) -> float:
            with driver.session() as session, session.begin_transaction() as tx:
                began = time.perf_counter()
                tx.run(query, params).consume()
                return (time.perf_counter() - began) * 1000  # rolled back on exit

        for pass_ in (1, 2):
            tag = f"// {uuid.uuid4()}\n"  # texts the server has not planned yet
            as_lists = tag + WRITE.replace("$delta.", "$")
            as_map = tag + WRITE
            print(f"pass {pass_}: events | lists as parameters, ms | in one map parameter, ms")
            for n in EVENTS:
                params = delta_of(events[:n])
                print(f"{n} | {ms(as_lists, params):.1f} | {ms(as_map, {'delta': params}):.1f}")
        driver.close()


if __name__ == "__main__":
    main()
