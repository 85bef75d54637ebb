"""mllineage: the lineage of machine-learning work, on Neo4j."""

__version__ = "0.1.0"
