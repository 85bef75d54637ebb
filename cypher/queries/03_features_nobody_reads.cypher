// Features no query, training job or endpoint reads by name: candidates for retirement.
// (A process that reads a whole feature group without listing features does not count.)
MATCH (group:FeatureGroup)-[:HasFeature]->(feature:Feature)
WHERE NOT (feature)-[:ContributedTo]->()
RETURN group.name AS feature_group, group.owner AS owner, feature.name AS feature,
       feature.dtype AS dtype
ORDER BY feature_group, feature
