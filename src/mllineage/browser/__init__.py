"""What the project ships to Neo4j Browser: its style (also the pictures' palette) and its
guide of saved queries, both read from the ``cypher/`` files."""
