// Retired models and the endpoints that read them: a serving edge that has not ended means
// the model is still served (clean it up); an ended one is history.
MATCH (model:Model)-[r:ContributedTo]->(endpoint:Endpoint)
WHERE model.retired_at IS NOT NULL
RETURN model.name AS model, model.owner AS owner, endpoint.name AS endpoint,
       r.ended_at IS NULL AS still_served, endpoint.retired_at IS NOT NULL AS endpoint_retired
