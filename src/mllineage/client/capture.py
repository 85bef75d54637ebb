"""What a tracked run records without being asked: the environment and the git state.

Both are read once, when the run starts, and never fail: what cannot be known is left out
(no git, not a repository, no commit yet). The keys land in the run's ``env.*`` and
``code.*`` maps (docs/runs.md).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The ML packages whose versions a run records when the program has imported them:
# import name -> distribution name (what importlib.metadata knows them by).
ML_PACKAGES = {
    "numpy": "numpy",
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "pyarrow",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "statsmodels": "statsmodels",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "torch": "torch",
    "torchvision": "torchvision",
    "lightning": "lightning",
    "pytorch_lightning": "pytorch-lightning",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "jax": "jax",
    "flax": "flax",
    "transformers": "transformers",
    "datasets": "datasets",
    "tokenizers": "tokenizers",
    "accelerate": "accelerate",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "pyspark": "pyspark",
}
# Where a container image is named, first found wins (schedulers and Dockerfiles set one of
# these; MLLINEAGE_IMAGE is ours, for when none does).
IMAGE_VARIABLES = ("MLLINEAGE_IMAGE", "CONTAINER_IMAGE", "DOCKER_IMAGE", "IMAGE")
GIT_SECONDS = 5.0


def package_version(module: str, distribution: str) -> str | None:
    """The installed version of ``distribution``, else the module's ``__version__``
    (``tensorflow-cpu`` installs the ``tensorflow`` module, for one)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        version = getattr(sys.modules.get(module), "__version__", None)
        return version if isinstance(version, str) else None


def environment() -> dict[str, Any]:
    """Python, platform, host, container image, and the versions of the imported ML
    packages (by distribution name)."""
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
    }
    image = next((os.environ[name] for name in IMAGE_VARIABLES if os.environ.get(name)), None)
    if image:
        env["image"] = image
    for module, distribution in ML_PACKAGES.items():
        if module in sys.modules and (version := package_version(module, distribution)):
            env[distribution] = version
    return env


def _git(directory: Path, *args: str) -> str | None:
    """``git``'s answer in ``directory``, or None when it fails or there is no git."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=directory, capture_output=True, text=True,
            timeout=GIT_SECONDS, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def without_credentials(url: str) -> str:
    """A remote URL with any user and password removed (``https://token@host/x`` ->
    ``https://host/x``); scp-style addresses (``git@host:x``) carry no secret and stay."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def git_state(directory: Path | None = None) -> dict[str, Any]:
    """The repository of ``directory`` (the working directory): ``repo_url`` (origin, else the
    first remote), ``commit``, ``branch`` (none when detached), ``dirty`` (tracked files
    changed; untracked ones do not count) and ``path``, the program's script relative to the
    repository root when it lies inside. Empty outside a repository or without git."""
    cwd = directory or Path.cwd()
    root = _git(cwd, "rev-parse", "--show-toplevel")
    if root is None:
        return {}
    code: dict[str, Any] = {}
    remotes = (_git(cwd, "remote") or "").split()
    if remotes:
        remote = "origin" if "origin" in remotes else remotes[0]
        if url := _git(cwd, "remote", "get-url", remote):
            code["repo_url"] = without_credentials(url)
    if commit := _git(cwd, "rev-parse", "--verify", "-q", "HEAD"):
        code["commit"] = commit
    if branch := _git(cwd, "symbolic-ref", "--short", "-q", "HEAD"):
        code["branch"] = branch
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    if status is not None:
        code["dirty"] = bool(status)
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if script and script.is_file() and script.is_relative_to(Path(root).resolve()):
        code["path"] = script.relative_to(Path(root).resolve()).as_posix()
    return code
