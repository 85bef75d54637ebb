"""One typed settings object, read from the environment (prefix ``MLLINEAGE_``) at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mllineage.model.domain import DEFAULT_NAMESPACE, NAMESPACE_PATTERN, Kind
from mllineage.notify.digests import parse_webhooks

# The Neo4j driver's schemes: routing (neo4j) or one server (bolt); +s checks the server's
# certificate, +ssc accepts a self-signed one.
NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


def _data_home() -> Path:
    return Path.home() / ".local" / "share" / "mllineage"


def _cache_home() -> Path:
    return Path.home() / ".cache" / "mllineage"


class Settings(BaseSettings):
    """Service and local-Neo4j settings; every field is ``MLLINEAGE_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MLLINEAGE_", extra="ignore")

    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    # Only the locally provisioned, loopback-only server uses this default; docker-compose
    # refuses to start without an explicit password.
    neo4j_password: SecretStr = SecretStr("mllineage-dev")
    neo4j_database: str = "neo4j"

    @field_validator("neo4j_uri")
    @classmethod
    def _neo4j_uri_has_a_driver_scheme(cls, uri: str) -> str:
        """Fail at start, naming the setting, rather than at the first request."""
        scheme, sep, rest = uri.partition("://")
        if not sep or scheme not in NEO4J_SCHEMES or not rest.strip("/"):
            raise ValueError(
                f"MLLINEAGE_NEO4J_URI must be <scheme>://<host>[:<port>] with a scheme among "
                f"{', '.join(NEO4J_SCHEMES)} (neo4j:// routes reads and writes in a cluster; "
                "bolt:// talks to one server)"
            )
        return uri

    # Local server provisioning (``mllineage neo4j start``).
    neo4j_version: str = Field(
        "[5.26.0,5.27.0)", description="Maven version (or range) of org.neo4j:neo4j"
    )
    neo4j_browser_version: str = "5.24.0"
    maven_repository_url: str = "https://repo.maven.apache.org/maven2"
    neo4j_cache_dir: Path = Field(default_factory=lambda: _cache_home() / "neo4j")
    neo4j_instance_dir: Path = Field(default_factory=lambda: _data_home() / "neo4j")
    neo4j_bolt_port: int = 7687
    neo4j_http_port: int = 7474
    neo4j_heap: str = "512m"
    neo4j_pagecache: str = "256m"
    neo4j_start_timeout: float = 120.0

    schema_file: Path | None = Field(
        None, description="A schema to apply instead of the cypher/schema.cypher in the package"
    )

    # Where ``mllineage serve`` (and ``make run``) listens; its --host and --port override.
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    # Service behaviour.
    neo4j_retry_seconds: float = Field(
        5.0, description="How long a managed transaction retries transient Neo4j errors"
    )
    neo4j_connection_timeout: float = 5.0
    neo4j_max_connections: int = Field(
        100, ge=1, description="Bolt connections per Neo4j server from one process (the pool)"
    )
    write_queue_seconds: float = Field(
        30.0, description="How long a write may wait for its turn before a 503"
    )
    max_body_bytes: int = Field(16 * 1024 * 1024, description="Larger request bodies get 413")
    max_clock_skew_seconds: float = Field(
        300.0, ge=0, description="Event times further ahead of the server's clock get 422"
    )

    # Authentication (auth.py): "off" is for a loopback-only development server.
    auth: Literal["on", "off"] = "on"
    api_keys: str | None = Field(None, description='JSON list of {"name", "sha256", "scopes"}')
    api_keys_file: Path | None = None

    # Where a web browser reaches this API: the local Neo4j's Browser fetches its style and
    # guide from there on connect (local/neo4j.py). Default: http://<host>:<port>.
    public_url: str | None = Field(None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")

    @property
    def browser_api_url(self) -> str:
        """``public_url``, or this server's address (a wildcard host seen as 127.0.0.1)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    # OpenLineage mapping (see openlineage.py).
    openlineage_namespace: str = Field(DEFAULT_NAMESPACE, pattern=NAMESPACE_PATTERN)
    openlineage_default_process_kind: Kind = Kind.FeaturePipeline
    mlflow_webhook_secret: SecretStr | None = Field(
        None, description="The secret MLflow's webhooks are signed with (docs/mlflow.md)"
    )
    mlflow_namespace: str = Field(
        DEFAULT_NAMESPACE,
        pattern=NAMESPACE_PATTERN,
        description="Where MLflow's webhooks put models and endpoints (as sync mlflow's)",
    )
    feast_repo_paths: dict[str, str] = Field(
        default_factory=dict,
        description='JSON {"<feast project>": "<absolute path of its repository>"}: where '
        "the relative paths of its file sources are (docs/feast.md)",
    )

    # --- Owner notifications (notify/digests.py, notify/notifier.py) ----------------------
    webhooks: str | None = Field(
        None,
        description='JSON object of owner to URL, "*" for the others: {"team-ml": "https://..."}',
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Key of the HMAC-SHA256 signature of every delivery (required)"
    )
    webhook_attempts: int = Field(5, ge=1, le=20, description="Tries per delivery")
    webhook_backoff_seconds: float = Field(
        1.0, gt=0, description="Wait before the 2nd try; doubles at each try"
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="Per try")
    webhook_queue: int = Field(1000, ge=1, description="Notifications waiting; beyond, dropped")

    @model_validator(mode="after")
    def _webhooks_are_signed_urls(self) -> Settings:
        if self.webhooks:
            parse_webhooks(self.webhooks)
            if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
                raise ValueError(
                    "MLLINEAGE_WEBHOOKS needs MLLINEAGE_WEBHOOK_SECRET: every delivery is signed"
                )
        return self

    @property
    def webhook_routes(self) -> dict[str, str]:
        return parse_webhooks(self.webhooks) if self.webhooks else {}

    # --- Kafka -------------------------------------------------------------------------
    # The local broker (``mllineage kafka start``), provisioned like the local Neo4j.
    kafka_version: str = Field(
        "[4.1.0,4.2.0)", description="Maven version (or range) of org.apache.kafka:kafka_2.13"
    )
    kafka_cache_dir: Path = Field(default_factory=lambda: _cache_home() / "kafka")
    kafka_instance_dir: Path = Field(default_factory=lambda: _data_home() / "kafka")
    kafka_port: int = Field(9092, ge=1, le=65535, description="The local broker's client port")
    kafka_controller_port: int = Field(9093, ge=1, le=65535)
    kafka_heap: str = "512m"
    kafka_start_timeout: float = 120.0
