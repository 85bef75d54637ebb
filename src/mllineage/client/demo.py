"""A realistic demo lineage, modelled on the feature-store scenario of the source documents.

Four teams; raw data in S3 and an operational database; feature pipelines writing feature
groups; feature-store queries building training sets (some listing the features they read);
training jobs producing model versions; endpoints serving them, one retired. There are
diamonds (``customers`` and ``transactions`` feed both the churn and the fraud sets) and a
feedback loop (churn-prod's prediction log feeds the ``engagement`` group that churn models
train on). Then the registry lifecycle, through the lifecycle calls: churn-prod-old and the
churn-xgb@2 it served are retired when churn-prod takes over with @3; churn-xgb@4 is
deployed to churn-prod, @3's serving edge ends and @3 is retired; so live impact counts only
churn-prod with @4 and fraud-realtime with fraud-gbm@1. Event times are fixed, so loading it
again changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mllineage.client.builders import entity, event, features

if TYPE_CHECKING:
    from mllineage.client import LineageClient

DAY = "2026-11-{day:02d}T{hour:02d}:00:00Z"
CODE = "https://github.com/acme/feature-jobs"


def _event(
    day: int, hour: int, process: dict[str, Any], inputs: list[Any], outputs: list[Any],
    run_id: str, **run: Any,
) -> dict[str, Any]:  # fmt: skip
    return event(
        process, inputs, outputs, time=DAY.format(day=day, hour=hour), run_id=run_id,
        producer="mllineage demo", **run,
    )  # fmt: skip


def demo_events() -> list[dict[str, Any]]:
    growth, risk, ml, data = "team-growth", "team-risk", "team-ml-platform", "team-data"
    customers_raw = entity("DataSource", "s3://acme-lake/raw/customers/", data)
    orders_raw = entity("DataSource", "postgres://orders-db/public.orders", data)
    payments_raw = entity("DataSource", "s3://acme-lake/raw/payments/", risk)
    clicks_raw = entity("DataSource", "s3://acme-lake/raw/clickstream/", growth)
    predictions_log = entity("DataSource", "s3://acme-lake/logs/churn-prod-predictions/", ml)

    customers = entity(
        "FeatureGroup", "customers", growth, description="Customer profile features",
        features=features("age:int", "tenure_days:int", "region:string", "plan:string"),
    )  # fmt: skip
    transactions = entity(
        "FeatureGroup", "transactions", risk,
        features=features("spend_30d:float", "orders_30d:int", "refund_rate:float"),
    )  # fmt: skip
    engagement = entity(
        "FeatureGroup", "engagement", growth,
        features=features("sessions_7d:int", "churn_score_prev:float"),
    )  # fmt: skip
    payments = entity(
        "FeatureGroup", "payment-risk", risk,
        features=features("chargebacks_90d:int", "card_age_days:int"),
    )  # fmt: skip

    def read(group: dict[str, Any], *used: str) -> dict[str, Any]:
        """A query reading a group, listing the features it used when given."""
        if used:
            return entity("FeatureGroup", group["name"], features=features(*used))
        return entity("FeatureGroup", group["name"])

    churn_set = entity("Dataset", "s3://acme-lake/datasets/churn/2026-11-03/", ml)
    churn_set_old = entity("Dataset", "s3://acme-lake/datasets/churn/2026-10-01/", ml)
    fraud_set = entity("Dataset", "s3://acme-lake/datasets/fraud/2026-11-04/", risk)
    ltv_set = entity("Dataset", "s3://acme-lake/datasets/ltv/2026-11-05/", growth)

    def model(name: str, version: int, owner: str, **props: Any) -> dict[str, Any]:
        properties = {"version": version, "model_name": name, **props}
        return entity("Model", f"{name}@{version}", owner, properties=properties)

    return [
        _event(1, 2, entity("FeaturePipeline", "customer-features", growth),
               [customers_raw, orders_raw], [customers], "fp-customers-1101",
               params={"window": "30d"}, code={"repo_url": CODE, "commit": "a1c3e5f"}),
        _event(1, 3, entity("FeaturePipeline", "transaction-features", risk),
               [orders_raw, payments_raw], [transactions], "fp-transactions-1101"),
        _event(1, 4, entity("FeaturePipeline", "payment-risk-features", risk),
               [payments_raw], [payments], "fp-payments-1101"),
        _event(1, 5, entity("FeaturePipeline", "engagement-features", growth),
               [clicks_raw], [engagement], "fp-engagement-1101"),
        # Training sets: churn and fraud both read customers and transactions (a diamond).
        _event(1, 6, entity("FeatureQuery", "churn-training-set-v1", ml),
               [read(customers), read(transactions)], [churn_set_old], "q-churn-1001"),
        _event(3, 6, entity("FeatureQuery", "churn-training-set", ml),
               [read(customers, "age", "tenure_days", "plan"), read(transactions, "spend_30d"),
                read(engagement)], [churn_set], "q-churn-1103"),
        _event(4, 6, entity("FeatureQuery", "fraud-training-set", risk),
               [read(customers, "age", "region"), read(transactions, "spend_30d", "refund_rate"),
                read(payments)], [fraud_set], "q-fraud-1104"),
        _event(5, 6, entity("FeatureQuery", "ltv-training-set", growth),
               [read(customers, "tenure_days"), read(transactions, "orders_30d")], [ltv_set],
               "q-ltv-1105"),
        # Training jobs and model versions.
        _event(1, 9, entity("TrainingJob", "churn-xgb-train", ml), [churn_set_old],
               [model("churn-xgb", 2, ml)], "tj-churn-2",
               params={"max_depth": 6}, metrics={"auc": 0.81, "precision": 0.86}),
        _event(3, 9, entity("TrainingJob", "churn-xgb-train", ml), [churn_set],
               [model("churn-xgb", 3, ml)], "tj-churn-3",
               params={"max_depth": 8}, metrics={"auc": 0.86, "precision": 0.89}),
        _event(4, 9, entity("TrainingJob", "fraud-gbm-train", risk), [fraud_set],
               [model("fraud-gbm", 1, risk)], "tj-fraud-1",
               params={"n_estimators": 400}, metrics={"precision_at_1pct": 0.72}),
        _event(6, 9, entity("TrainingJob", "churn-xgb-train", ml), [churn_set],
               [model("churn-xgb", 4, ml)], "tj-churn-4",
               params={"max_depth": 10}, metrics={"auc": 0.88, "precision": 0.90}),
        _event(5, 9, entity("TrainingJob", "ltv-regressor-train", growth), [ltv_set],
               [model("ltv-regressor", 1, growth)], "tj-ltv-1",
               metrics={"rmse": 41.2}),
        # Endpoints: serving models and reading features online.
        _event(2, 0, entity("Endpoint", "churn-prod-old", ml),
               [entity("Model", "churn-xgb@2"), read(customers)], [], "ep-churn-old"),
        _event(3, 12, entity("Endpoint", "churn-prod", ml),
               [entity("Model", "churn-xgb@3"), read(customers), read(engagement)],
               [predictions_log], "ep-churn-1103"),
        # churn-xgb@4 replaces @3 on churn-prod (the lifecycle calls below end @3's edge).
        _event(6, 12, entity("Endpoint", "churn-prod", ml),
               [entity("Model", "churn-xgb@4"), read(customers), read(engagement)],
               [predictions_log], "ep-churn-1106"),
        _event(4, 12, entity("Endpoint", "fraud-realtime", risk),
               [entity("Model", "fraud-gbm@1"), read(transactions), read(payments)], [],
               "ep-fraud-1104"),
        # The feedback loop: churn-prod's predictions become an engagement feature.
        _event(4, 2, entity("FeaturePipeline", "engagement-features", growth),
               [clicks_raw, predictions_log], [engagement], "fp-engagement-1104"),
        # The customers pipeline changes (a new commit, a shorter window) on the 29th...
        _event(29, 20, entity("FeaturePipeline", "customer-features", growth),
               [customers_raw, orders_raw], [customers], "fp-customers-1129",
               params={"window": "7d"}, code={"repo_url": CODE, "commit": "9b2d4f7"}),
        # ...and the daily retrain's precision drops the next day (mllineage drift names it).
        *(_event(day, 9, entity("TrainingJob", "churn-xgb-train", ml), [churn_set], [],
                 f"tj-churn-daily-11{day:02d}", experiment="churn-daily-retrain",
                 params={"max_depth": 10}, metrics={"precision": precision},
                 env={"python": "3.11.7", "xgboost": "2.1.1"},
                 code={"repo_url": "https://github.com/acme/churn-model", "commit": "5e8a0d2"})
          for day, precision in daily_precision().items()),
    ]  # fmt: skip


def daily_precision() -> dict[int, float]:
    """The daily retrain's precision: steady around 0.89 until the 30th (the days the demo's
    model versions are trained on have runs of their own)."""
    days = [day for day in range(1, 31) if day not in (1, 3, 6)]
    return {day: 0.74 if day == 30 else round(0.885 + 0.01 * (day * 7 % 5) / 4, 4) for day in days}


REPLACED = DAY.format(day=3, hour=12)  # churn-prod (with @3) takes over from churn-prod-old
SUPERSEDED = DAY.format(day=6, hour=12)  # churn-xgb@4 takes over from @3 on churn-prod
OLD, NEW = "Model:default:churn-xgb@3", "Model:default:churn-xgb@4"


def load_demo(client: LineageClient) -> dict[str, Any]:
    """Post the demo events, then retire what a model registry retires: churn-prod-old and
    its churn-xgb@2 when churn-prod takes over; churn-xgb@3 on deploying @4 (deprecated in
    favour of @4, its serving edge ended, retired). Returns the events' totals; the calls at
    fixed times make loading it again change nothing."""
    written = client.post_events(demo_events())
    client.retire("Endpoint:default:churn-prod-old", "replaced by churn-prod", REPLACED)
    client.deprecate("Model:default:churn-xgb@2", "superseded by churn-xgb@3", OLD, REPLACED)
    client.retire("Model:default:churn-xgb@2", "superseded by churn-xgb@3", REPLACED)
    reason = "superseded by churn-xgb@4"
    client.deprecate(OLD, reason, replaced_by=NEW, event_time=SUPERSEDED)
    serving = {"source": OLD, "target": "Endpoint:default:churn-prod", "type": "ContributedTo"}
    client.end_edges([serving], event_time=SUPERSEDED)
    client.retire(OLD, reason, event_time=SUPERSEDED)
    return written
