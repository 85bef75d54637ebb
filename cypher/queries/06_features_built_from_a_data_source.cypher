// Before building new features on a data source: which features already exist on it, and
// who owns their groups?
MATCH p = (:DataSource {name: 'postgres://orders-db/public.orders'})-[:ContributedTo|Produced|HasFeature*1..10]->(feature:Feature)
WITH feature, min(length(p)) AS hops
MATCH (group:FeatureGroup)-[:HasFeature]->(feature)
RETURN group.name AS feature_group, group.owner AS owner, feature.name AS feature, hops
ORDER BY feature_group, feature
