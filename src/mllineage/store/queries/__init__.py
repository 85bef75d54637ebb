"""The Cypher the store runs: ``queries/<x>.py`` holds the texts of ``store/<x>.py``, and
``common`` what several of them share. (The schema's statements live in the packaged
``cypher/schema.cypher``, which ``schema.read_schema`` reads.)

Only ``mllineage.store`` speaks Cypher. Every value is a parameter; labels and relationship
types are spliced into query text only from the fixed ``Kind`` and ``EdgeType`` vocabularies,
and walk depths only as ints; never request strings.
"""
