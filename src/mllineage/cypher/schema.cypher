// mllineage schema: applied at API start and again by the service whenever an object is
// missing (store/schema.py); every statement is idempotent. Statements are separated by
// semicolons; GET /readyz reports whether every name here is online.

// One node per uid: backs every lookup and makes concurrent MERGEs safe.
CREATE CONSTRAINT entity_uid IF NOT EXISTS FOR (n:Entity) REQUIRE n.uid IS UNIQUE;

// Listing and filtering entities by kind and namespace (GET /v1/entities).
CREATE INDEX entity_kind_namespace IF NOT EXISTS FOR (n:Entity) ON (n.kind, n.namespace);

// Name search (GET /v1/entities?q=...) and Browser look-ups by name.
CREATE TEXT INDEX entity_name_text IF NOT EXISTS FOR (n:Entity) ON (n.name);

// Finding entities by owner ("what does team X own?").
CREATE INDEX entity_owner IF NOT EXISTS FOR (n:Entity) ON (n.owner);
