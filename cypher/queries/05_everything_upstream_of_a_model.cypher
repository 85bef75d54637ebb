// The audit: everything a model was built from, with the distance in hops and the owners.
MATCH p = (:Model {name: 'churn-xgb@3'})<-[:ContributedTo|Produced|HasFeature*1..30]-(n)
WITH n, min(length(p)) AS hops
RETURN hops, n.kind AS kind, n.name AS name, n.owner AS owner
ORDER BY hops, kind, name
