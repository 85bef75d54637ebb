"""``neo4j://`` routing URIs (the scheme of a cluster) give the same answers as ``bolt://``.

No cluster here: the single local Community server answers the routing scheme with a routing
table naming itself as writer, reader and router, so the driver's routing code runs for real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import Driver

from mllineage.client import LineageClient
from mllineage.local import LocalApi
from mllineage.settings import Settings
from tests.events import feature_store_events

T1 = "2026-11-03T10:00:00Z"
FG = "FeatureGroup:default:customers"
SOURCE = "DataSource:default:s3://acme/raw/customers/"
MODEL = "Model:default:churn-xgb@3"
ENDPOINT = "Endpoint:default:churn-prod"
CANARY = "Endpoint:default:churn-canary"


def routing(settings: Settings) -> Settings:
    assert settings.neo4j_uri.startswith("bolt://")
    return settings.model_copy(update={"neo4j_uri": "neo4j://" + settings.neo4j_uri[7:]})


@pytest.fixture(scope="module")
def routed_server(settings: Settings) -> Iterator[LocalApi]:
    with LocalApi(routing(settings)) as server:
        yield server


def scenario(client: LineageClient) -> dict[str, Any]:
    """Writes, reads, walks, runs, reports and lifecycle through the real client: each answer."""
    out: dict[str, Any] = {"write": client.post_batch(feature_store_events())}
    out["upsert"] = client.upsert(
        nodes=[{"kind": "Endpoint", "name": "churn-canary", "owner": "team-ml"}],
        edges=[{"source": MODEL, "target": CANARY, "type": "ContributedTo"}],
        event_time=T1,
    )
    out["entity"] = client.entity(FG)
    out["entities"] = client.entities().to_dict("records")
    out["downstream"] = client.lineage_graph(SOURCE, direction="downstream", depth=10)
    out["upstream"] = client.lineage_graph(ENDPOINT, direction="upstream", depth=10)
    out["impact"] = client.impact_report(SOURCE)
    out["models"] = client.get_models_from_feature_group("customers").to_dict("records")
    runs = client.runs()
    out["runs"] = runs.to_dict("records")
    out["run"] = client.run(runs["id"].iloc[0])
    out["experiments"] = client.experiments().to_dict("records")
    out["deprecate"] = client.deprecate(MODEL, "superseded", event_time=T1)
    out["deprecated-in-use"] = client.report_items("deprecated-in-use")
    out["orphans"] = client.report_items("orphans")
    out["what-if"] = client.what_if_report([MODEL])
    out["retire"] = client.retire(CANARY, event_time=T1)
    out["after-retire"] = client.lineage_graph(MODEL, include_retired=True)
    out["notifications"] = client._call("GET", "/v1/notifications")
    out["ready"] = client._call("GET", "/readyz")
    return out


def test_a_neo4j_uri_gives_the_answers_a_bolt_uri_gives(
    live_server: LocalApi, routed_server: LocalApi, empty_graph: Driver
) -> None:
    with LineageClient(live_server.url) as client:
        direct = scenario(client)
    empty_graph.execute_query("MATCH (n) DETACH DELETE n")
    with LineageClient(routed_server.url) as client:
        routed = scenario(client)
    assert direct["write"]["nodes"] > 0 and direct["downstream"]["nodes"]
    assert canonical(routed) == canonical(direct)


def canonical(answer: Any) -> Any:
    """``answer`` with every list sorted: where ties fall (edges of one node, runs of one
    time) depends on Neo4j's internal ids, which differ between the two runs' nodes."""
    if isinstance(answer, dict):
        return {key: canonical(value) for key, value in answer.items()}
    if isinstance(answer, list):
        return sorted(
            (canonical(item) for item in answer), key=lambda item: json.dumps(item, default=str)
        )
    return answer
