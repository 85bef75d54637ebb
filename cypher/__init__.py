"""The schema, the Neo4j Browser style and the saved queries: data, not code.

The one copy, at the top of the repository; the build ships this folder as the package
``mllineage.cypher`` (pyproject.toml), and the code reads it with ``importlib.resources``.
This file only makes an editable install find the folder too.
"""
