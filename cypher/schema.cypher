// mllineage schema: applied at API start and again by the service whenever an object is
// missing (store/schema.py); every statement is idempotent. Statements are separated by
// semicolons; GET /readyz reports whether every name here is online.

// One node per uid: backs every lookup and makes concurrent MERGEs safe.
CREATE CONSTRAINT entity_uid IF NOT EXISTS FOR (n:Entity) REQUIRE n.uid IS UNIQUE;

// Listing and filtering entities by kind and namespace (GET /v1/entities).
CREATE INDEX entity_kind_namespace IF NOT EXISTS FOR (n:Entity) ON (n.kind, n.namespace);

// No index on names: name search (GET /v1/entities?q=...) matches case-insensitively, which
// a TEXT index cannot serve, and a TEXT index made every write's commit several times slower
// (bench/README.md, "Single events"). schema.drop_retired removes it from older databases.

// Finding entities by owner ("what does team X own?").
CREATE INDEX entity_owner IF NOT EXISTS FOR (n:Entity) ON (n.owner);

// The lifecycle's property names (see lifecycle.py), known before any node or edge has one:
// the live-graph filters name them in every walk, and a name the database has never seen
// draws a warning on every query.
CALL db.createProperty('retired_at');
CALL db.createProperty('retired_from');
CALL db.createProperty('retired_until');
CALL db.createProperty('restores');
CALL db.createProperty('ended_at');
CALL db.createProperty('ended_from');
CALL db.createProperty('ended_until');
CALL db.createProperty('deprecated_at');
CALL db.createProperty('replaced_by');

// Runs (DESIGN §6): one node per run id, which also makes concurrent MERGEs of one run safe.
CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE;

// A process's runs, newest first (GET /v1/runs?process=...), and an experiment's runs.
CREATE INDEX run_process_started IF NOT EXISTS FOR (r:Run) ON (r.process, r.started_at);
CREATE INDEX run_experiment_started IF NOT EXISTS FOR (r:Run) ON (r.experiment, r.started_at);

// Run property names every merge and read names, known before the first run.
CALL db.createProperty('pending_outputs');
CALL db.createProperty('completed_at');
CALL db.createProperty('status_rank');
CALL db.createProperty('status_time');
CALL db.createProperty('experiment');
CALL db.createProperty('nominal_start_time');
CALL db.createProperty('nominal_end_time');
