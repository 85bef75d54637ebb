"""The few statistics the benchmarks report: percentiles of latencies and a least-squares line."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
    }


def linear_fit(reached: list[int], ms: list[float]) -> dict[str, float]:
    """Least squares latency = fixed + per_node * reached: is the cost linear in the reach?"""
    if len(set(reached)) < 2:
        return {}
    fit = statistics.linear_regression(reached, ms)
    return {
        "fixed_ms": round(fit.intercept, 2),
        "ms_per_1000_nodes": round(fit.slope * 1000, 2),
        "r": round(statistics.correlation(reached, ms), 3),
    }
