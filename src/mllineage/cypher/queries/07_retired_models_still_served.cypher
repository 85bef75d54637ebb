// Retired models that a live endpoint still reads through an edge that has not ended:
// clean-up candidates (the live graph would not show them at all).
MATCH (model:Model)-[r:ContributedTo]->(endpoint:Endpoint)
WHERE model.retired_at IS NOT NULL AND r.ended_at IS NULL AND endpoint.retired_at IS NULL
RETURN model.name AS model, model.owner AS owner, endpoint.name AS endpoint
