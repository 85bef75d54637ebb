// Retired models that an endpoint still reads: clean-up candidates.
MATCH (model:Model {lifecycle: 'retired'})-[:ContributedTo]->(endpoint:Endpoint)
RETURN model.name AS model, model.owner AS owner, endpoint.name AS endpoint,
       endpoint.lifecycle AS endpoint_lifecycle
