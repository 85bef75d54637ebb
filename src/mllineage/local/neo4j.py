"""Provision, start, watch and stop a real Neo4j Community server without Docker.

The server's jars come from Maven Central (``org.neo4j:neo4j`` and the Browser), resolved once
into a cache shared by every instance (``local/java.py``). An *instance* is a folder with its
own ``neo4j.conf``, data, logs and pid file; the developer's instance keeps its data across
restarts, and the test suite makes throw-away ones on free ports.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable

from mllineage.local.java import (
    JavaServer,
    LocalServerError,
    jar_version,
    port_open,
    resolve_jars,
)
from mllineage.settings import Settings
from mllineage.store.queries.schema import CHANGE_PASSWORD, PING

DEFAULT_PASSWORD = "neo4j"  # the password of a new server, which must be changed at once
RATE_LIMITED = "Neo.ClientError.Security.AuthenticationRateLimit"
RATE_LIMIT_WAIT = 30.0  # seconds to wait out the lock on logins
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
# The flags Neo4j's own launcher passes to the JVM on Java 17.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]


def browser_settings(api_url: str) -> dict[str, str]:
    """Neo4j settings that make its Browser open styled, with the guide, after a login: the
    API serves both (api/browser.py), and the Browser fetches only from allowed hosts (the
    setting keeps its old name, ``..._whitelist``, in Neo4j 5.26)."""
    host = urlsplit(api_url).hostname or "127.0.0.1"
    return {
        "browser.post_connect_cmd": (
            f"style {api_url}/browser/style.grass; play {api_url}/browser/guide.html"
        ),
        "browser.remote_content_hostname_whitelist": host,
    }


class Neo4jLocalError(LocalServerError):
    """A local-Neo4j step failed; the message says what to do about it."""


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    bolt_uri: str
    browser_url: str
    version: str | None

    def describe(self) -> str:
        if not self.running:
            return "Neo4j is not running"
        return (
            f"Neo4j {self.version or ''} is running (pid {self.pid}): "
            f"Bolt {self.bolt_uri}, Browser {self.browser_url}"
        )


def provision(settings: Settings) -> Path:
    """Download the server and Browser jars with Maven, once; returns the folder of jars."""
    versions = {
        "NEO4J_VERSION": settings.neo4j_version,
        "BROWSER_VERSION": settings.neo4j_browser_version,
    }
    return resolve_jars(settings, settings.neo4j_cache_dir, "pom.xml", versions, "Neo4j")


class LocalNeo4j(JavaServer):
    """One instance folder: ``conf/``, ``data/``, ``logs/``, ``run/`` under ``instance_dir``."""

    name = "neo4j"
    marker = ENTRY_POINT
    product = "Neo4j 5.26"
    error = Neo4jLocalError

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.neo4j_instance_dir)
        self.settings = settings

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.settings.neo4j_bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.neo4j_http_port}/browser/"

    def status(self) -> Status:
        pid = self.pid()
        version_file = self.dir / "run" / "version"
        version = version_file.read_text().strip() if version_file.exists() else None
        return Status(pid is not None, pid, self.bolt_uri, self.browser_url, version)

    # --- start / stop -------------------------------------------------------------------

    def write_config(self) -> Path:
        s = self.settings
        conf_dir = self.dir / "conf"
        for sub in ("conf", "data", "logs", "run", "import", "plugins"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        lines = {
            "server.default_listen_address": "127.0.0.1",
            "server.default_advertised_address": "127.0.0.1",
            "server.bolt.listen_address": f"127.0.0.1:{s.neo4j_bolt_port}",
            "server.bolt.advertised_address": f"127.0.0.1:{s.neo4j_bolt_port}",
            "server.http.enabled": "true",
            "server.http.listen_address": f"127.0.0.1:{s.neo4j_http_port}",
            "server.http.advertised_address": f"127.0.0.1:{s.neo4j_http_port}",
            "server.https.enabled": "false",
            "dbms.security.auth_enabled": "true",
            "server.memory.heap.initial_size": s.neo4j_heap,
            "server.memory.heap.max_size": s.neo4j_heap,
            "server.memory.pagecache.size": s.neo4j_pagecache,
            "dbms.usage_report.enabled": "false",
            "server.directories.data": str(self.dir / "data"),
            "server.directories.logs": str(self.dir / "logs"),
            "server.directories.run": str(self.dir / "run"),
            "server.directories.import": str(self.dir / "import"),
            "server.directories.plugins": str(self.dir / "plugins"),
            "db.tx_log.rotation.retention_policy": "2 files",
            **browser_settings(s.browser_api_url),
        }
        path = conf_dir / "neo4j.conf"
        path.write_text(
            "# Written by mllineage (local/neo4j.py); edits are overwritten at start.\n"
            + "".join(f"{key}={value}\n" for key, value in lines.items())
        )
        return path

    @property
    def address(self) -> str:
        return self.bolt_uri

    @property
    def start_timeout(self) -> float:
        return self.settings.neo4j_start_timeout

    def ports(self) -> dict[str, int]:
        return {
            "MLLINEAGE_NEO4J_BOLT_PORT": self.settings.neo4j_bolt_port,
            "MLLINEAGE_NEO4J_HTTP_PORT": self.settings.neo4j_http_port,
        }

    def prepare(self) -> tuple[list[str], str | None]:
        lib = provision(self.settings)
        self.write_config()
        heap = self.settings.neo4j_heap
        command = [
            "java", f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
            "-cp", f"{lib}/*", ENTRY_POINT,
            f"--home-dir={self.dir}", f"--config-dir={self.dir / 'conf'}",
        ]  # fmt: skip
        return command, jar_version(lib, "neo4j")

    def answers(self) -> bool:
        """Bolt accepts our credentials (the password set the first time)."""
        if port_open(self.settings.neo4j_bolt_port):
            with contextlib.suppress(ServiceUnavailable, OSError):
                self._ensure_password()
                return True
        return False

    def _ensure_password(self) -> None:
        """``_set_password``, waiting out Neo4j's lock on logins after failed ones: an API
        already running against this address tries its password while the new server still
        has the default one, and a few such tries lock logins for seconds."""
        deadline = time.monotonic() + RATE_LIMIT_WAIT
        while True:
            try:
                return self._set_password()
            except ClientError as exc:
                if exc.code != RATE_LIMITED or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    def _set_password(self) -> None:
        """Log in with the configured password; on a new server, change the default one to it."""
        user = self.settings.neo4j_user
        password = self.settings.neo4j_password.get_secret_value()
        try:
            with GraphDatabase.driver(self.bolt_uri, auth=(user, password)) as driver:
                driver.execute_query(PING, database_=self.settings.neo4j_database)
            return
        except AuthError:
            pass
        try:
            with GraphDatabase.driver(self.bolt_uri, auth=(user, DEFAULT_PASSWORD)) as driver:
                driver.execute_query(
                    CHANGE_PASSWORD,
                    old=DEFAULT_PASSWORD,
                    new=password,
                    database_="system",
                )
        except AuthError:
            raise Neo4jLocalError(
                f"the local Neo4j in {self.dir} rejects the configured password for user "
                f"{user!r}; set MLLINEAGE_NEO4J_PASSWORD to the password it was created with, "
                "or delete that folder to start afresh"
            ) from None
        with GraphDatabase.driver(self.bolt_uri, auth=(user, password)) as driver:
            driver.execute_query(PING, database_=self.settings.neo4j_database)
