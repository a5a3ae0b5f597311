"""Serving settings: the shared `Settings` plus the knobs only the API process has."""

from __future__ import annotations

from typing import Literal

from limits import parse_many
from pydantic import Field, field_validator

from features.settings import Settings


class ServiceSettings(Settings):
    """Settings of the API process (environment variables of the same names)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=2, ge=1, le=64)
    max_k: int = Field(default=100, ge=1, le=1000, description="Largest k a request may ask for.")
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="Largest request body; larger -> 413."
    )
    max_batch: int = Field(
        default=500, ge=1, le=10000, description="Largest batch of ids or leads in one request."
    )
    model_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often to check the registry for a moved alias; 0 = never.",
    )
    demo: bool = Field(
        default=False,
        description="Demo mode: start without API keys configured (`valuechain serve --demo`).",
    )
    rate_limit: str = Field(
        default="100/second;3000/minute",
        description="Requests each API key may make, in `limits` notation (';' separates several).",
    )
    rate_limit_scope: Literal["shared", "worker"] = Field(
        default="shared",
        description="Where RATE_LIMIT is counted: `shared` in Redis (every worker and replica "
        "share one count; one Redis round trip per request for each limit), `worker` in each "
        "worker's memory "
        "(no round trip; a key may then make up to RATE_LIMIT times workers times replicas).",
    )
    redis_timeout_seconds: float = Field(
        default=0.1,
        gt=0,
        le=10,
        description="Timeout of each request-path Redis call (connect and read).",
    )
    breaker_failures: int = Field(
        default=3, ge=1, description="Consecutive Redis failures that open the circuit breaker."
    )
    breaker_reset_seconds: float = Field(
        default=2.0, gt=0, description="How long the breaker stays open before one trial call."
    )
    keys_refresh_seconds: float = Field(
        default=5.0, gt=0, description="How often each worker reloads the API keys from Redis."
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"rate_limit {value!r}: {exc}") from exc
        return value

    drift_psi_threshold: float = Field(
        default=0.2,
        gt=0,
        description="PSI at which GET /v1/models flags a feature as drifted (0.2: a real shift).",
    )
