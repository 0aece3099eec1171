"""Reading the Prometheus text of GET /metrics in tests."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "metrics-token-" + "m" * 24
LATENCY = "virtflow_http_request_duration_seconds"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition: (sample name, its labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def series(text: str, name: str) -> list[dict[str, str]]:
    """The label sets of every sample called name."""
    return [dict(labels) for sample_name, labels in samples(text) if sample_name == name]


def bearer(token: str = METRICS_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
