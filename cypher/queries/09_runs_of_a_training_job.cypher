// The last runs of the churn training job, newest first, with what they read and wrote.
MATCH (run:Run)-[:RunOf]->(:TrainingJob {name: 'churn-xgb-train'})
OPTIONAL MATCH (input)-[:ReadBy]->(run)
OPTIONAL MATCH (run)-[:Wrote]->(output)
RETURN run.id AS run, run.status AS status, run.started_at AS started,
       run.`metrics.precision` AS precision, collect(DISTINCT input.name) AS read,
       collect(DISTINCT output.name) AS wrote
ORDER BY started DESC
LIMIT 30
