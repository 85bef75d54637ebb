// Feedback loops: endpoints whose outputs flow back into something they read.
MATCH (endpoint:Endpoint)-[:Produced]->(log)
MATCH p = shortestPath((log)-[:ContributedTo|Produced|HasFeature*..20]->(endpoint))
RETURN endpoint.name AS endpoint, length(p) + 1 AS loop_length,
       [n IN nodes(p) | n.name] AS through
