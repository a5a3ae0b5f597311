"""The bare limits: what a minimal FastAPI endpoint does per request on this machine.

One app (run by uvicorn with the same defaults as `valuechain serve`: 2 workers, uvloop and
httptools when installed, access log on) with two routes, each one async Redis GET and one model
call and nothing else (no validation beyond the path, no reasons, no filters, no fallbacks):

- `GET /topk/{customer_id}`: GET the customer's ALS vector (float32 bytes), score the champion
  recommender's item factors with one matrix-vector product, `argpartition` the top 10.
- `GET /churn/{customer_id}`: GET the customer's encoded churn features (float64 bytes), one
  `Booster.predict` of the churn champion's own `model.txt`.

`seed` writes those keys (prefix `benchbare:`) for the benchmark's customer ids, from the same
champions and the same cached features that valuechain serves. The app reads its configuration
from BARE_* environment variables because uvicorn starts workers from an import string.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import redis
import redis.asyncio as aioredis
from fastapi import FastAPI, Request

BARE_PREFIX = "benchbare:"
K = 10


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import lightgbm as lgb

    with np.load(os.environ["BARE_ITEMS"], allow_pickle=False) as items:
        app.state.item_ids = items["item_ids"].tolist()
        app.state.item_factors = np.ascontiguousarray(items["item_factors"], dtype=np.float32)
    app.state.booster = lgb.Booster(model_file=os.environ["BARE_BOOSTER"])
    app.state.redis = aioredis.Redis.from_url(os.environ["BARE_REDIS_URL"])
    yield
    await app.state.redis.aclose()


def create_app() -> FastAPI:
    """The bare-limit app (uvicorn factory)."""
    app = FastAPI(lifespan=_lifespan)

    @app.get("/topk/{customer_id}")
    async def topk(customer_id: str, request: Request) -> dict[str, Any]:
        state = request.app.state
        raw = await state.redis.get(f"{BARE_PREFIX}u:{customer_id}")
        scores = state.item_factors @ np.frombuffer(raw, dtype=np.float32)
        top = np.argpartition(-scores, K)[:K]
        top = top[np.argsort(-scores[top])]
        return {
            "customer_id": customer_id,
            "items": [{"item_id": state.item_ids[i], "score": float(scores[i])} for i in top],
        }

    @app.get("/churn/{customer_id}")
    async def churn(customer_id: str, request: Request) -> dict[str, Any]:
        state = request.app.state
        raw = await state.redis.get(f"{BARE_PREFIX}f:{customer_id}")
        x = np.frombuffer(raw, dtype=np.float64).reshape(1, -1)
        probability = float(state.booster.predict(x, num_threads=1)[0])
        return {"customer_id": customer_id, "probability": probability}

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def seed(
    url: str, rec_bundle: Path, churn_bundle: Path, records: Sequence[Any], out: Path
) -> dict[str, str]:
    """Write the bare keys for `records` (cached `CustomerRecord`s); return the app's BARE_* env.

    Customers unknown to the recommender get a zero vector (the top-k costs the same).
    """
    from models.recommender.arrays import load_arrays
    from models.scoring.scorer import MODEL_FILE, TabularScorer
    from models.scoring.specs import encode_records

    arrays = load_arrays(rec_bundle)
    items_file = out / "bare_items.npz"
    np.savez(items_file, item_ids=arrays.item_ids, item_factors=arrays.item_factors)
    row = {str(u): i for i, u in enumerate(arrays.user_ids.tolist())}
    zero = np.zeros(arrays.user_factors.shape[1], dtype=np.float32)
    scorer = TabularScorer.load(churn_bundle, kind="churn")
    x, _ = encode_records([r.features for r in records], scorer.specs)
    client = redis.Redis.from_url(url)
    with client.pipeline(transaction=False) as pipe:
        for record, features in zip(records, x, strict=True):
            cid = record.customer_id
            vector = arrays.user_factors[row[cid]] if cid in row else zero
            pipe.set(f"{BARE_PREFIX}u:{cid}", np.asarray(vector, np.float32).tobytes())
            pipe.set(f"{BARE_PREFIX}f:{cid}", np.asarray(features, np.float64).tobytes())
        pipe.execute()
    client.close()
    return {
        "BARE_ITEMS": str(items_file),
        "BARE_BOOSTER": str(churn_bundle / MODEL_FILE),
        "BARE_REDIS_URL": url,
    }
