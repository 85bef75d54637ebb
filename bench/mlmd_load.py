"""The workload of ``bench.mlmd`` in both systems' terms, and the MLMD side's process.

MLMD has no artifact-to-artifact edge, so the features a group lists become entities of
their own (``flatten_features``): then one graph fits both. ``compact`` writes an event as
the MLMD side takes it; ``RAW_WRITE`` with ``raw_params`` is the plainest Cypher that writes
the same nodes, edges and runs (the ceiling of batched ingest and of one event's write).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from mllineage.ingest.delta import GraphDelta
from mllineage.ingest.intake import to_write
from mllineage.model.domain import PROCESS_KINDS, EdgeType, LineageEvent
from mllineage.store.database import BigParameter
from mllineage.store.rows import run_rows

MLMD_VERSION = "1.17.1"
VENV = Path.home() / ".cache" / "mllineage" / "mlmd-venv"
SIDE = Path(__file__).with_name("mlmd_side.py")
DEPTH = 10


def mlmd_python() -> Path:
    """The MLMD venv's python, built on first use with this interpreter."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import ml_metadata"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", f"ml-metadata=={MLMD_VERSION}"]
        subprocess.run(pip, check=True)
    return python


def flatten_features(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with each listed feature as an entity of its own beside its group (no
    HasFeature edges: the graph MLMD can hold)."""

    def flat(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for entity in entities:
            features = entity.get("features") or []
            out.append({k: v for k, v in entity.items() if k != "features"})
            for feature in features:
                name = f"{entity['name']}.{feature['name']}"
                owner = {"owner": entity["owner"]} if "owner" in entity else {}
                out.append({"kind": "Feature", "name": name, **owner})
        return out

    return [{**e, "inputs": flat(e["inputs"]), "outputs": flat(e["outputs"])} for e in events]


def node_props(delta: GraphDelta, uid: str) -> dict[str, Any]:
    """A node's properties, its latest run's among them, times as ISO text."""
    node = delta.nodes[uid]
    props = {"namespace": node.namespace, "name": node.name, **node.props, **(node.run or {})}
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in props.items()}


def compact(event: dict[str, Any]) -> dict[str, Any]:
    """One event as the MLMD side takes it: the process and its artifacts as [uid, kind, props]."""
    delta = to_write([LineageEvent.model_validate(event)])
    entry = {n.uid: [n.uid, n.kind.value, node_props(delta, n.uid)] for n in delta.nodes.values()}
    (process,) = [n for n in delta.nodes.values() if n.kind in PROCESS_KINDS]
    return {
        "process": entry[process.uid],
        "inputs": [
            entry[e.source] for e in delta.edges.values() if e.type is EdgeType.ContributedTo
        ],
        "outputs": [entry[e.target] for e in delta.edges.values() if e.type is EdgeType.Produced],
    }


class Mlmd:
    """The MLMD side's process; ``call`` returns (seconds inside MLMD, answer)."""

    def __init__(self, folder: str) -> None:
        command = [str(mlmd_python()), str(SIDE), os.path.join(folder, "mlmd.sqlite")]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def call(self, op: str, **args: Any) -> tuple[float, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        return reply["s"], reply["answer"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(30)


# The plainest statement that writes the same nodes (label, properties, times), edges and
# runs: one auto-commit statement, its lists in one map (one round trip, planned once), each
# edge type in a branch of its own as the store does (MERGE with a dynamic relationship type
# scans every relationship in 5.26).
_RAW_EDGE = """
    WITH a, b, row WHERE row.type = '$TYPE'
    MERGE (a)-[r:$TYPE]->(b)
    SET r.first_seen = datetime(row.first), r.last_seen = datetime(row.last),
        r.producer = row.producer
    RETURN r"""
_RAW_EDGES = "\n    UNION ALL".join(_RAW_EDGE.replace("$TYPE", t.value) for t in EdgeType)
RAW_WRITE = f"""CYPHER replan=skip
CALL () {{
  UNWIND $raw.nodes AS row
  MERGE (n:Entity {{uid: row.uid}})
    ON CREATE SET n:$(row.kind)
  SET n += row.props, n.created_at = datetime(row.first), n.updated_at = datetime(row.last)
}}
CALL () {{
  UNWIND $raw.edges AS row
  MATCH (a:Entity {{uid: row.source}})
  MATCH (b:Entity {{uid: row.target}})
  CALL (a, b, row) {{{_RAW_EDGES}
  }}
  RETURN count(*) AS edges
}}
CALL () {{
  UNWIND $raw.runs AS row
  MERGE (r:Run {{id: row.id}})
  SET r += row.props, r.process = row.process, r.producer = row.producer, r.status = row.status,
      r.status_rank = row.rank, r.status_time = datetime(row.status_time),
      r.event_time = datetime(row.last_time), r.started_at = datetime(row.started_at),
      r.ended_at = datetime(row.ended_at), r.completed_at = datetime(row.completed_at)
  WITH r, row
  MATCH (p:Entity {{uid: row.process}})
  MERGE (r)-[:RunOf]->(p)
  WITH r, row
  CALL (r, row) {{
    UNWIND row.inputs AS uid
    MATCH (a:Entity {{uid: uid}})
    MERGE (a)-[:ReadBy]->(r)
  }}
  CALL (r, row) {{
    UNWIND row.wrote AS uid
    MATCH (a:Entity {{uid: uid}})
    MERGE (r)-[:Wrote]->(a)
  }}
}}
"""


def raw_params(delta: GraphDelta) -> BigParameter:
    """RAW_WRITE's one parameter: its nodes, edges and runs (the store's own run rows: the
    same values, written with plain SETs). A ``BigParameter``, as the store's write passes
    its own, so that neither pays for the driver formatting its debug line."""
    nodes = [
        {
            "uid": n.uid,
            "kind": n.kind.value,
            "props": {"kind": n.kind.value, **node_props(delta, n.uid)},
            "first": n.first_seen.isoformat(),
            "last": n.last_seen.isoformat(),
        }
        for n in delta.nodes.values()
    ]
    edges = [
        {
            "source": e.source,
            "target": e.target,
            "type": e.type.value,
            "first": e.first_seen.isoformat(),
            "last": e.last_seen.isoformat(),
            "producer": e.producer,
        }
        for e in delta.edges.values()
    ]
    return BigParameter(nodes=nodes, edges=edges, runs=run_rows(delta, {}))
