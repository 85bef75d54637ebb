// Which models were trained on this dataset, by which training job and with what metrics?
MATCH (:Dataset {name: 's3://acme-lake/datasets/churn/2026-11-03/'})-[:ContributedTo]->
      (job:TrainingJob)-[:Produced]->(model:Model)
RETURN job.name AS training_job, job.`run.metrics` AS last_run_metrics,
       model.name AS model, model.owner AS owner, model.lifecycle AS lifecycle
ORDER BY model
