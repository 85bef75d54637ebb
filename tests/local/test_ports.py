"""Ports for the local servers: the ones picked in one process never repeat."""

from __future__ import annotations

from mllineage.local import free_port


def test_ports_picked_one_after_another_differ() -> None:
    """A server's two ports (Kafka's broker and controller) are picked one after the other;
    the kernel hands a just-freed port out again, which made Kafka refuse to start in CI."""
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)
