"""A plain (non-editable) install carries the schema and the Browser files: pip install .
and the Docker image work without the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from mllineage.store.queries.schema import read_schema

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
    "mllineage/cypher/schema.cypher",
    "mllineage/cypher/style.grass",
    "mllineage/cypher/queries/01_who_consumes_a_feature_group.cypher",
    "mllineage/local/pom.xml",
    "mllineage/local/kafka-pom.xml",
]

READ_IT = """
import mllineage
from importlib import resources
from mllineage.store.queries.schema import read_schema
print(mllineage.__file__)
print(len(read_schema()), any("REQUIRE n.uid IS UNIQUE" for s in read_schema() for _ in [s]))
cypher = resources.files("mllineage.cypher")
print(cypher.joinpath("style.grass").is_file(), len(list(cypher.joinpath("queries").iterdir())))
"""


def test_a_wheel_ships_the_schema_and_browser_files(tmp_path: Path) -> None:
    # Built as `pip install .` builds (an isolated build environment), from a copy of the
    # sources so that setuptools' build/ folder never lands in the checkout.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    # The schema and the Browser files live in the top-level cypher/ folder, which setup.py
    # and pyproject.toml ship as the package mllineage.cypher.
    shutil.copytree(
        ROOT / "cypher", source / "cypher", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("mllineage-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert set(SHIPPED) <= set(names), names
    queries = [n for n in names if n.startswith("mllineage/cypher/queries/")]
    assert len(queries) == len(list((ROOT / "cypher/queries").glob("*.cypher")))

    # A venv holding only the wheel; its dependencies come from this environment's
    # site-packages, added as a plain path (its .pth files, the editable install's among
    # them, are not processed).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(target) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [python, "-c", READ_IT], cwd=elsewhere, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    location, schema, browser = done.stdout.splitlines()
    assert location.startswith(target), f"imported from {location}, not the installed wheel"
    assert schema == f"{len(read_schema())} True"
    assert browser == f"True {len(queries)}"


# A subprocess in which importing any of BLOCKED fails as if it were not installed.
BLOCKING = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Absent())
"""
SERVER_ONLY = {"neo4j", "fastapi", "starlette", "uvicorn", "confluent_kafka", "prometheus_client"}
CLIENT_ONLY = {"pandas", "networkx", "matplotlib", "tqdm"}


def without(blocked: set[str], code: str) -> subprocess.CompletedProcess[str]:
    script = BLOCKING.format(blocked=sorted(blocked)) + code
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )


def test_the_service_runs_without_the_clients_packages() -> None:
    """The API, the Kafka consumer and the server's commands import no pandas, networkx,
    matplotlib or tqdm (the ``server`` extra has none of them); the client's commands say
    which extra they need."""
    done = without(
        CLIENT_ONLY,
        "from mllineage.api import create_app\n"
        "from mllineage.settings import Settings\n"
        "import mllineage.kafka.consumer, mllineage.serve\n"
        "create_app(Settings(auth='off'))\n"
        "from typer.testing import CliRunner\n"
        "from mllineage.cli import app, MISSING\n"
        "assert set(MISSING) == {'client'}, MISSING\n"
        "print(CliRunner().invoke(app, ['serve', '--help']).exit_code)\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


def test_the_client_runs_without_the_services_packages() -> None:
    """The client and its commands import no Neo4j driver, FastAPI, uvicorn or Kafka client
    (the ``client`` extra has none of them)."""
    done = without(
        SERVER_ONLY,
        "from mllineage.client import LineageClient\n"
        "LineageClient('http://127.0.0.1:1').close()\n"
        "from typer.testing import CliRunner\n"
        "from mllineage.cli import app, MISSING\n"
        "assert set(MISSING) == {'server'}, MISSING\n"
        "print(CliRunner().invoke(app, ['impact', '--help']).exit_code)\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


def test_a_command_of_the_missing_side_names_the_extra() -> None:
    done = without(CLIENT_ONLY, "import sys\nsys.argv = ['mllineage', 'impact', 'x']\n"
                   "from mllineage.cli import main\nmain()\n")  # fmt: skip
    assert done.returncode == 2
    assert "pip install 'mllineage[client]'" in done.stderr
