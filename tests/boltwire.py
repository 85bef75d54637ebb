"""A Bolt relay that records what Neo4j is asked: each statement with its transaction's access
mode and bookmarks, read off the wire.

Neo4j Community has no server that refuses writes only in WRITE transactions (no cluster
secondaries), so the tests observe the access mode where a cluster routes on it: the BEGIN or
auto-commit RUN message the driver sends. Bytes are relayed unchanged; only plain Bolt (no
TLS) is understood.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

BEGIN, RUN, COMMIT, ROLLBACK, RESET = 0x11, 0x10, 0x12, 0x13, 0x0F
READ_MODE = b"\x84mode\x81r"  # PackStream: the key "mode" with the value "r"


@dataclass(frozen=True)
class Statement:
    mode: str  # "r" or "w"
    query: str
    opening: bytes  # the BEGIN (or auto-commit RUN) message: its extra holds the bookmarks


def _string(message: bytes, at: int) -> str:
    marker = message[at]
    if marker >> 4 == 0x8:
        size, at = marker & 0x0F, at + 1
    else:
        width = {0xD0: 1, 0xD1: 2, 0xD2: 4}[marker]
        size, at = int.from_bytes(message[at + 1 : at + 1 + width], "big"), at + 1 + width
    return message[at : at + size].decode()


class BoltRecorder:
    """Listens on a free loopback port and relays to ``target`` (host, port); a context manager."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.statements: list[Statement] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.uri = f"bolt://127.0.0.1:{self.port}"

    def __enter__(self) -> BoltRecorder:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def take(self) -> list[Statement]:
        """The statements recorded since the last ``take``."""
        with self._lock:
            taken, self.statements = self.statements, []
        return taken

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            answered = threading.Event()
            manifest: list[bool] = []
            for pump in (self._down, self._up):
                threading.Thread(
                    target=pump, args=(client, server, answered, manifest), daemon=True
                ).start()

    @staticmethod
    def _down(
        client: socket.socket,
        server: socket.socket,
        answered: threading.Event,
        manifest: list[bool],
    ) -> None:
        first = True
        while data := _recv(server):
            if first:  # the handshake answer: a manifest makes the client say more
                manifest.append(data[3] == 0xFF)
                answered.set()
                first = False
            client.sendall(data)
        client.close()

    def _up(
        self,
        client: socket.socket,
        server: socket.socket,
        answered: threading.Event,
        manifest: list[bool],
    ) -> None:
        buffer, handshake, message = bytearray(), 20, bytearray()
        tx: tuple[str, bytes] | None = None  # the open transaction's mode and BEGIN
        while data := _recv(client):
            server.sendall(data)
            buffer += data
            if handshake:
                if len(buffer) < handshake:
                    continue
                if handshake == 20 and answered.wait(10) and manifest[0]:
                    handshake = 25  # the chosen version (4 bytes) and capabilities (1 byte)
                    if len(buffer) < handshake:
                        continue
                del buffer[:handshake]
                handshake = 0
            while len(buffer) >= 2:
                size = int.from_bytes(buffer[:2], "big")
                if len(buffer) < 2 + size:
                    break
                message += buffer[2 : 2 + size]
                del buffer[: 2 + size]
                if size == 0 and message:
                    tx = self._record(bytes(message), tx)
                    message = bytearray()
        server.close()

    def _record(self, message: bytes, tx: tuple[str, bytes] | None) -> tuple[str, bytes] | None:
        signature = message[1]
        mode = "r" if READ_MODE in message else "w"
        if signature == BEGIN:
            return mode, message
        if signature == RUN:
            opened = tx or (mode, message)
            with self._lock:
                self.statements.append(Statement(opened[0], _string(message, 2), opened[1]))
        if signature in (COMMIT, ROLLBACK, RESET):
            return None
        return tx


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""
