// Who consumes this feature group? Every model and endpoint downstream of it, nearest first,
// with the owner to talk to before changing or retiring the group.
MATCH p = (:FeatureGroup {name: 'customers'})-[:ContributedTo|Produced|HasFeature*1..20]->(n)
WHERE n:Model OR n:Endpoint
WITH n, min(length(p)) AS hops
RETURN n.kind AS kind, n.name AS name, n.owner AS owner, n.deprecated_at IS NOT NULL AS deprecated,
       n.retired_at IS NOT NULL AS retired, hops
ORDER BY hops, name
