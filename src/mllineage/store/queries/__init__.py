"""Every Cypher text the store runs, a module for each store module that runs them and
``common`` for what several share: every value a parameter, labels and types from enums.
(The schema's statements live in the packaged ``cypher/schema.cypher``, which
``schema.read_schema`` reads.)

Only ``mllineage.store`` speaks Cypher. Labels and relationship types are spliced into query
text only from the fixed ``Kind`` and ``EdgeType`` vocabularies, and walk depths only as ints;
never request strings.
"""
