"""Headless Chromium for the page tests, ended whole before its profile is removed.

Chromium's helper processes (renderers, the GPU and crash handlers) can go on writing to the
profile after the browser process itself has exited, and removing the profile then fails
("Directory not empty"). So Chromium runs in a process group of its own, and the group is
ended, and waited for, before the profile goes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-crash-reporter", "--no-first-run",
)  # fmt: skip


@contextmanager
def chromium(*args: str, **popen: object) -> Iterator[subprocess.Popen[str]]:
    """Chromium with ``args`` in a temporary profile; every process of it ended on exit."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            start_new_session=True,
            text=True,
            **popen,  # type: ignore[call-overload]
        )
        try:
            yield process
        finally:
            end_group(process)


def end_group(process: subprocess.Popen[str], seconds: float = 30) -> None:
    """SIGTERM to the process group, SIGKILL after ``seconds``; returns once none is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with suppress(subprocess.TimeoutExpired):
                process.wait(0.1)  # reap the browser itself: a zombie still counts in the group
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
    raise AssertionError(f"chromium's processes (group {process.pid}) outlived SIGKILL")
