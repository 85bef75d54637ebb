// The full path from a raw data source to every endpoint it ends up in (one shortest path
// per endpoint; switch to the graph view to see them).
MATCH (source:DataSource {name: 's3://acme-lake/raw/customers/'}), (endpoint:Endpoint)
MATCH p = shortestPath((source)-[:ContributedTo|Produced|HasFeature*..20]->(endpoint))
RETURN p
