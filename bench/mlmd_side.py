"""The MLMD side of ``bench.mlmd``: Google ML Metadata in-process on SQLite, driven over pipes.

Runs in its own venv (ml-metadata pins its own protobuf and Python), so it imports only the
standard library and ``ml_metadata``. It reads one JSON command per line on stdin and answers
one JSON line on stdout, timing each call in-process (MLMD's own deployment: no network).

The workload arrives as mllineage's graph: a process is an MLMD execution, an artifact an
MLMD artifact (``external_id`` and ``name`` = the mllineage uid), ``ContributedTo`` an INPUT
event and ``Produced`` an OUTPUT event.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

PROCESS_KINDS = {"FeaturePipeline", "FeatureQuery", "TrainingJob", "Endpoint"}
DIRECTIONS = {
    "downstream": pb.LineageSubgraphQueryOptions.DOWNSTREAM,
    "upstream": pb.LineageSubgraphQueryOptions.UPSTREAM,
}


class Side:
    def __init__(self, path: str) -> None:
        config = pb.ConnectionConfig()
        config.sqlite.filename_uri = path
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(config)
        self.types: dict[str, int] = {}
        self.executions: dict[str, int] = {}  # uid -> id: an execution is updated by id

    def type_id(self, kind: str) -> int:
        if kind not in self.types:
            if kind in PROCESS_KINDS:
                self.types[kind] = self.store.put_execution_type(pb.ExecutionType(name=kind))
            else:
                self.types[kind] = self.store.put_artifact_type(pb.ArtifactType(name=kind))
        return self.types[kind]

    def _props(self, node: Any, props: dict[str, Any]) -> None:
        for key, value in props.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                node.custom_properties[key].string_value = json.dumps(value)
            elif isinstance(value, str):
                node.custom_properties[key].string_value = value
            elif isinstance(value, int):
                node.custom_properties[key].int_value = value
            else:
                node.custom_properties[key].double_value = value

    def artifact(self, uid: str, kind: str, props: dict[str, Any]) -> pb.Artifact:
        node = pb.Artifact(type_id=self.type_id(kind), name=uid, external_id=uid, uri=uid)
        node.state = pb.Artifact.LIVE
        self._props(node, props)
        return node

    def execution(self, uid: str, kind: str, props: dict[str, Any]) -> pb.Execution:
        node = pb.Execution(type_id=self.type_id(kind), name=uid, external_id=uid)
        node.last_known_state = pb.Execution.COMPLETE
        if uid in self.executions:
            node.id = self.executions[uid]
        self._props(node, props)
        return node

    def batch(self, events: list[dict[str, Any]]) -> None:
        """Many events in one ``put_lineage_subgraph`` (MLMD's batch API, one transaction)."""
        executions: list[pb.Execution] = []
        artifacts: list[pb.Artifact] = []
        index: dict[str, int] = {}
        edges: list[tuple[int, int, pb.Event]] = []
        for event in events:
            executions.append(self.execution(*event["process"]))
            for role, event_type in (("inputs", pb.Event.INPUT), ("outputs", pb.Event.OUTPUT)):
                for uid, kind, props in event[role]:
                    if uid not in index:
                        index[uid] = len(artifacts)
                        artifacts.append(self.artifact(uid, kind, props))
                    edges.append((len(executions) - 1, index[uid], pb.Event(type=event_type)))
        ids, _, _ = self.store.put_lineage_subgraph(
            executions, artifacts, [], edges, reuse_artifact_if_already_exist_by_external_id=True
        )
        for event, execution_id in zip(events, ids, strict=True):
            self.executions[event["process"][0]] = execution_id

    def single(self, event: dict[str, Any]) -> None:
        """One event as one ``put_execution`` (MLMD's per-run path)."""
        pairs = [
            (self.artifact(uid, kind, props), pb.Event(type=event_type))
            for role, event_type in (("inputs", pb.Event.INPUT), ("outputs", pb.Event.OUTPUT))
            for uid, kind, props in event[role]
        ]
        execution_id, _, _ = self.store.put_execution(
            self.execution(*event["process"]),
            pairs,
            [],
            reuse_artifact_if_already_exist_by_external_id=True,
        )
        self.executions[event["process"][0]] = execution_id

    def walk(self, uid: str, kind: str, direction: str, depth: int) -> list[str]:
        """The uids within ``depth`` hops (root excluded), every node returned whole."""
        start = pb.LineageSubgraphQueryOptions.StartingNodes(filter_query=f"name = '{uid}'")
        options = pb.LineageSubgraphQueryOptions(max_num_hops=depth)
        options.direction = DIRECTIONS[direction]
        if kind in PROCESS_KINDS:
            options.starting_executions.CopyFrom(start)
        else:
            options.starting_artifacts.CopyFrom(start)
        graph = self.store.get_lineage_subgraph(options)
        reached = [a.name for a in graph.artifacts] + [e.name for e in graph.executions]
        return [name for name in reached if name != uid]


def main() -> None:
    side = Side(sys.argv[1])
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        began = time.perf_counter()
        answer = getattr(side, op)(**command)
        elapsed = time.perf_counter() - began
        sys.stdout.write(json.dumps({"s": elapsed, "answer": answer}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
