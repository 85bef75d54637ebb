// Which models were trained on this dataset: by which run of which training job, with what
// parameters and metrics?
MATCH (:Dataset {name: 's3://acme-lake/datasets/churn/2026-11-03/'})-[:ReadBy]->(run:Run)
      -[:Wrote]->(model:Model)
MATCH (run)-[:RunOf]->(job:TrainingJob)
RETURN model.name AS model, job.name AS training_job, run.id AS run,
       [k IN keys(run) WHERE k STARTS WITH 'params.' | [k, run[k]]] AS params,
       [k IN keys(run) WHERE k STARTS WITH 'metrics.' | [k, run[k]]] AS metrics,
       model.owner AS owner, model.retired_at IS NOT NULL AS retired
ORDER BY model
