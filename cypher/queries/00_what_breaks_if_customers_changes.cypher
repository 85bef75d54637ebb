// What breaks if the customers feature group changes? The live models and endpoints
// downstream of it, and the paths to them: the demo's impact question as a graph
// (`mllineage impact customers` answers it as a table, with the owners to notify).
MATCH p = (:FeatureGroup {name: 'customers'})-[:ContributedTo|Produced*1..10]->(n)
WHERE (n:Model OR n:Endpoint)
  AND all(m IN nodes(p) WHERE m.retired_at IS NULL)
  AND all(r IN relationships(p) WHERE r.ended_at IS NULL)
RETURN p
