"""Provision, start, watch and stop a real Neo4j Community server without Docker.

The server's jars come from Maven Central (``org.neo4j:neo4j`` and the Browser), resolved by
a pinned Maven that is itself downloaded from Maven Central and checked against its SHA-512,
once, into a cache shared by every instance. An *instance* is a folder with
its own ``neo4j.conf``, data, logs and pid file; the developer's instance keeps its data
across restarts, and the test suite makes throw-away ones on free ports.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from mllineage.settings import Settings
from mllineage.store import queries

MIN_JAVA = 17
MAVEN_VERSION = "3.9.11"
MAVEN_SHA512 = (
    "bcfe4fe305c962ace56ac7b5fc7a08b87d5abd8b7e89027ab251069faebee516"
    "b0ded8961445d6d91ec1985dfe30f8153268843c89aa392733d1a3ec956c9978"
)
DEFAULT_PASSWORD = "neo4j"  # the password of a new server, which must be changed at once
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


class Neo4jLocalError(RuntimeError):
    """A local-server step failed; the message says what to do about it."""


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


def java_major_version(java: str = "java") -> int:
    """The major version of the ``java`` on PATH; raises a clear error when there is none."""
    if shutil.which(java) is None:
        raise Neo4jLocalError(
            f"Java {MIN_JAVA} or newer is required to run Neo4j and none was found on PATH; "
            "install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise Neo4jLocalError(f"cannot read the Java version from: {out.strip()}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive file lock, so concurrent commands never provision or start twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def maven(settings: Settings) -> Path:
    """A pinned Maven from Maven Central, checked against its SHA-512, fetched once.

    Maven 3.9's breadth-first collector resolves the server's couple of hundred jars much
    faster than the older Maven some distributions ship, so the system Maven is not used.
    """
    home = settings.neo4j_cache_dir / f"apache-maven-{MAVEN_VERSION}"
    mvn = home / "bin" / "mvn"
    if mvn.exists():
        return mvn
    url = (
        f"{settings.maven_repository_url.rstrip('/')}/org/apache/maven/apache-maven/"
        f"{MAVEN_VERSION}/apache-maven-{MAVEN_VERSION}-bin.tar.gz"
    )
    try:
        archive = httpx.get(url, timeout=120, follow_redirects=True).raise_for_status().content
    except httpx.HTTPError as exc:
        raise Neo4jLocalError(f"could not download Maven from {url}: {exc}") from exc
    if hashlib.sha512(archive).hexdigest() != MAVEN_SHA512:
        raise Neo4jLocalError(f"the Maven archive from {url} does not match its SHA-512")
    with tempfile.TemporaryDirectory(dir=settings.neo4j_cache_dir) as staging:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging, filter="data")
        Path(staging, home.name).rename(home)
    return mvn


def provision(settings: Settings) -> Path:
    """Download the server and Browser jars with Maven, once; returns the folder of jars.

    The cache is keyed by the requested versions, so a later start reuses it without any
    network access. Jars land in a temporary folder renamed at the end, so an interrupted
    download is never mistaken for a complete one.
    """
    key = hashlib.sha256(
        f"{settings.neo4j_version}|{settings.neo4j_browser_version}".encode()
    ).hexdigest()[:12]
    root = settings.neo4j_cache_dir / key
    lib = root / "lib"
    if lib.is_dir():
        return lib
    with _locked(root / ".lock"):
        if lib.is_dir():
            return lib
        mvn = maven(settings)
        template = resources.files("mllineage.local").joinpath("pom.xml").read_text()
        pom = root / "pom.xml"
        pom.write_text(
            template.replace("@NEO4J_VERSION@", settings.neo4j_version).replace(
                "@BROWSER_VERSION@", settings.neo4j_browser_version
            )
        )
        staging = root / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            str(mvn), "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
            "-Daether.dependencyCollector.impl=bf",
            "-Daether.dependencyCollector.bf.threads=8",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-3000:]
            raise Neo4jLocalError(
                f"Maven could not fetch Neo4j (exit {result.returncode}):\n{tail}"
            )
        staging.rename(lib)
    return lib


def server_version(lib: Path) -> str | None:
    """The version of the ``org.neo4j:neo4j`` jar Maven resolved (the newest 5.26 patch)."""
    for jar in lib.glob("neo4j-*.jar"):
        if match := re.fullmatch(r"neo4j-(\d+\.\d+\.\d+)\.jar", jar.name):
            return match.group(1)
    return None


class LocalNeo4j:
    """One instance folder: ``conf/``, ``data/``, ``logs/``, ``run/`` under ``instance_dir``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.neo4j_instance_dir
        self.pid_file = self.dir / "run" / "neo4j.pid"
        self.log_file = self.dir / "logs" / "console.log"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.settings.neo4j_bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.neo4j_http_port}/browser/"

    # --- status -------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The pid of this instance's server if it is alive, else None (stale files ignored)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return (
            pid if ENTRY_POINT.encode() in cmdline and str(self.dir).encode() in cmdline else None
        )

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

    def start(self) -> tuple[Status, bool]:
        """Start the server unless it runs already; returns (status, whether it was started)."""
        with _locked(self.dir / "run" / "start.lock"):
            if self.pid() is not None:
                return self.status(), False
            if (major := java_major_version()) < MIN_JAVA:
                raise Neo4jLocalError(
                    f"Neo4j 5.26 needs Java {MIN_JAVA} or 21, found Java {major}; "
                    "install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
                )
            for port in (self.settings.neo4j_bolt_port, self.settings.neo4j_http_port):
                if _port_open(port):
                    raise Neo4jLocalError(
                        f"port {port} on 127.0.0.1 is already in use by another program; "
                        "stop it or choose other ports (MLLINEAGE_NEO4J_BOLT_PORT, "
                        "MLLINEAGE_NEO4J_HTTP_PORT)"
                    )
            lib = provision(self.settings)
            self.write_config()
            heap = self.settings.neo4j_heap
            command = [
                "java", f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
                "-cp", f"{lib}/*", ENTRY_POINT,
                f"--home-dir={self.dir}", f"--config-dir={self.dir / 'conf'}",
            ]  # fmt: skip
            with open(self.log_file, "ab") as log:
                process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.dir,
                    start_new_session=True,  # outlives the command that started it
                )
            self.pid_file.write_text(str(process.pid))
            (self.dir / "run" / "version").write_text(server_version(lib) or "")
            try:
                self._wait_until_ready(process)
            except BaseException:
                self.stop()
                raise
            return self.status(), True

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        """Wait (bounded) until Bolt accepts our credentials, setting the password first time."""
        deadline = time.monotonic() + self.settings.neo4j_start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise Neo4jLocalError(
                    f"Neo4j exited with code {process.returncode} while starting; "
                    f"the end of {self.log_file}:\n{self.log_tail()}"
                )
            if _port_open(self.settings.neo4j_bolt_port):
                with contextlib.suppress(ServiceUnavailable, OSError):
                    self._ensure_password()
                    return
            time.sleep(0.25)
        raise Neo4jLocalError(
            f"Neo4j did not answer on {self.bolt_uri} within "
            f"{self.settings.neo4j_start_timeout:.0f}s; the end of {self.log_file}:\n"
            f"{self.log_tail()}"
        )

    def _ensure_password(self) -> None:
        """Log in with the configured password; on a new server, change the default one to it."""
        user = self.settings.neo4j_user
        password = self.settings.neo4j_password.get_secret_value()
        try:
            with GraphDatabase.driver(self.bolt_uri, auth=(user, password)) as driver:
                driver.execute_query(queries.PING, database_=self.settings.neo4j_database)
            return
        except AuthError:
            pass
        try:
            with GraphDatabase.driver(self.bolt_uri, auth=(user, DEFAULT_PASSWORD)) as driver:
                driver.execute_query(
                    queries.CHANGE_PASSWORD,
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
            driver.execute_query(queries.PING, database_=self.settings.neo4j_database)

    def stop(self, timeout: float = 60.0) -> bool:
        """Shut the server down cleanly (SIGTERM, then SIGKILL after ``timeout``)."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """Kill the server without a clean shutdown (fault tests)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
