"""Native lineage events as plain dicts, the JSON that ``POST /v1/events`` takes.

One builder for everything that writes events by hand (the demo, the benchmark's synthetic
graphs, the tests), so the shape of an event is spelled out once. The server validates;
these only assemble.
"""

from __future__ import annotations

from typing import Any


def entity(kind: str, name: str, owner: str | None = None, **extra: Any) -> dict[str, Any]:
    """An entity; ``extra`` holds the optional fields (namespace, features, properties...)."""
    body: dict[str, Any] = {"kind": kind, "name": name}
    if owner:
        body["owner"] = owner
    return {**body, **extra}


def features(*specs: str) -> list[dict[str, Any]]:
    """Features from ``"name:dtype"`` or ``"name"`` (a reader naming the features it used)."""
    result: list[dict[str, Any]] = []
    for spec in specs:
        name, _, dtype = spec.partition(":")
        result.append({"name": name, "dtype": dtype} if dtype else {"name": name})
    return result


def event(
    process: dict[str, Any],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    *,
    time: str,
    producer: str,
    run_id: str | None = None,
    status: str = "COMPLETE",
    **run: Any,
) -> dict[str, Any]:
    """One run of ``process`` reading ``inputs`` and writing ``outputs``.

    ``run`` holds the run's other fields: ``params``, ``metrics``, ``error_message``...
    Without ``run_id`` the service derives one from the process and the time.
    """
    ids = {"id": run_id} if run_id else {}
    return {
        "event_time": time,
        "producer": producer,
        "process": process,
        "run": {**ids, "status": status, **run},
        "inputs": inputs,
        "outputs": outputs,
    }
