"""The package list: every package under src/, and the top-level cypher/ folder (with its
queries/) as ``mllineage.cypher`` (pyproject.toml maps the folder; a find directive there
cannot add it)."""

from setuptools import find_packages, setup

setup(packages=[*find_packages("src"), "mllineage.cypher", "mllineage.cypher.queries"])
