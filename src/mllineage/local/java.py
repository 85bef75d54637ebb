"""What both local servers (Neo4j, Kafka) share: Java, the pinned Maven, the jar cache, and a
JVM process with an instance folder and a pid file.

Jars come from Maven Central, resolved by a pinned Maven that is itself downloaded from Maven
Central and checked against its SHA-512, once. Each server's jars are cached in a folder keyed
by the versions asked for, so a later start needs no network.
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
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from mllineage.settings import Settings

MIN_JAVA = 17
MAVEN_VERSION = "3.9.11"
MAVEN_SHA512 = (
    "bcfe4fe305c962ace56ac7b5fc7a08b87d5abd8b7e89027ab251069faebee516"
    "b0ded8961445d6d91ec1985dfe30f8153268843c89aa392733d1a3ec956c9978"
)
INSTALL_JAVA = "install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"


class LocalServerError(RuntimeError):
    """A local-server step failed; the message says what to do about it."""


def java_major_version(java: str = "java", needed_by: str = "Neo4j") -> int:
    """The major version of the ``java`` on PATH; raises a clear error when there is none."""
    if shutil.which(java) is None:
        raise LocalServerError(
            f"Java {MIN_JAVA} or newer is required to run {needed_by} and none was found on "
            f"PATH; {INSTALL_JAVA}"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise LocalServerError(f"cannot read the Java version from: {out.strip()}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def require_java(needed_by: str) -> None:
    if (major := java_major_version(needed_by=needed_by)) < MIN_JAVA:
        raise LocalServerError(
            f"{needed_by} needs Java {MIN_JAVA} or 21, found Java {major}; {INSTALL_JAVA}"
        )


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
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
    It lives in the Neo4j cache folder, where it always has, and serves Kafka too.
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
        raise LocalServerError(f"could not download Maven from {url}: {exc}") from exc
    if hashlib.sha512(archive).hexdigest() != MAVEN_SHA512:
        raise LocalServerError(f"the Maven archive from {url} does not match its SHA-512")
    settings.neo4j_cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.neo4j_cache_dir) as staging:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(staging, filter="data")
        Path(staging, home.name).rename(home)
    return mvn


def resolve_jars(
    settings: Settings, cache_dir: Path, pom: str, versions: Mapping[str, str], what: str
) -> Path:
    """Download the runtime jars of the packaged ``pom`` (its ``@NAME@`` placeholders filled
    from ``versions``) with Maven, once; returns the folder of jars.

    The cache is keyed by the requested versions. Jars land in a temporary folder renamed at
    the end, so an interrupted download is never mistaken for a complete one.
    """
    key = hashlib.sha256("|".join(versions.values()).encode()).hexdigest()[:12]
    root = cache_dir / key
    lib = root / "lib"
    if lib.is_dir():
        return lib
    with locked(root / ".lock"):
        if lib.is_dir():
            return lib
        mvn = maven(settings)
        text = resources.files("mllineage.local").joinpath(pom).read_text()
        for name, version in versions.items():
            text = text.replace(f"@{name}@", version)
        pom_file = root / "pom.xml"
        pom_file.write_text(text)
        staging = root / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            str(mvn), "-B", "-q", "-f", str(pom_file), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
            "-Daether.dependencyCollector.impl=bf",
            "-Daether.dependencyCollector.bf.threads=8",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-3000:]
            raise LocalServerError(
                f"Maven could not fetch {what} (exit {result.returncode}):\n{tail}"
            )
        staging.rename(lib)
    return lib


def jar_version(lib: Path, artifact: str) -> str | None:
    """The version of ``artifact``'s jar that Maven resolved (the newest in the range)."""
    for jar in lib.glob(f"{artifact}-*.jar"):
        if match := re.fullmatch(rf"{re.escape(artifact)}-(\d+\.\d+\.\d+)\.jar", jar.name):
            return match.group(1)
    return None


class JavaServer:
    """A JVM server in its own instance folder: ``run/<name>.pid``, ``logs/console.log``.

    ``marker`` is a string of its command line (the main class), so a stale pid file that
    now names another process is never taken for the server. ``start`` is the same for every
    server; each says what it needs (``product``, ``ports``, ``address``, ``start_timeout``),
    how it is prepared and launched (``prepare``), and when it answers (``answers``).
    """

    name = "server"
    marker = ""
    product = "the server"  # what it is called in messages, with the version Java must run
    error: type[LocalServerError] = LocalServerError

    def __init__(self, instance_dir: Path) -> None:
        self.dir = instance_dir
        self.pid_file = self.dir / "run" / f"{self.name}.pid"
        self.log_file = self.dir / "logs" / "console.log"

    def pid(self) -> int | None:
        """The pid of this instance's server if it is alive, else None (stale files ignored)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        mine = self.marker.encode() in cmdline and str(self.dir).encode() in cmdline
        return pid if mine else None

    # --- what each server says ---------------------------------------------------------

    @property
    def address(self) -> str:
        raise NotImplementedError

    @property
    def start_timeout(self) -> float:
        raise NotImplementedError

    def ports(self) -> dict[str, int]:
        """Its ports by the setting that chooses each: all must be free to start."""
        raise NotImplementedError

    def prepare(self) -> tuple[list[str], str | None]:
        """Provision and configure it; returns its command line and its version."""
        raise NotImplementedError

    def answers(self) -> bool:
        """True once it serves requests (checked every quarter second while it starts)."""
        raise NotImplementedError

    def status(self) -> Any:
        raise NotImplementedError

    # --- the template ---------------------------------------------------------------------

    def start(self) -> tuple[Any, bool]:
        """Start it unless it runs already; returns (status, whether it was started)."""
        with locked(self.dir / "run" / "start.lock"):
            if self.pid() is not None:
                return self.status(), False
            require_java(self.product)
            refuse_busy_ports(self.ports())
            command, version = self.prepare()
            process = self.launch(command)
            (self.dir / "run" / "version").write_text(version or "")
            try:
                self._wait_until_ready(process)
            except BaseException:
                self.stop()
                raise
            return self.status(), True

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        """Wait (bounded by ``start_timeout``) until it ``answers``."""
        name = self.product.split()[0]
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise self.error(
                    f"{name} exited with code {process.returncode} while starting; "
                    f"the end of {self.log_file}:\n{self.log_tail()}"
                )
            if self.answers():
                return
            time.sleep(0.25)
        raise self.error(
            f"{name} did not answer on {self.address} within {self.start_timeout:.0f}s; "
            f"the end of {self.log_file}:\n{self.log_tail()}"
        )

    def launch(self, command: list[str]) -> subprocess.Popen[bytes]:
        """Start ``command`` detached, its output appended to the console log."""
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
        return process

    def stop(self, timeout: float = 60.0) -> bool:
        """Shut the server down cleanly (SIGTERM, then SIGKILL after ``timeout``)."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.2)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
            while alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """Kill the server without a clean shutdown (fault tests)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while alive(pid):
                time.sleep(0.05)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def alive(pid: int) -> bool:
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


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def refuse_busy_ports(ports: Mapping[str, int]) -> None:
    """A clear error naming the setting when one of ``ports`` (setting -> port) is taken."""
    for setting, port in ports.items():
        if port_open(port):
            raise LocalServerError(
                f"port {port} on 127.0.0.1 is already in use by another program; "
                f"stop it or choose another port ({setting})"
            )


_GIVEN_PORTS: set[int] = set()


def free_port() -> int:
    """A free port on 127.0.0.1, never one this process was given before: the kernel may hand
    a port it just freed out again, and the ports of one server (Kafka's broker and
    controller, Neo4j's Bolt and HTTP) are picked one after the other and must differ."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port
