"""The full valuechain scorer as an MLflow pyfunc, logged as code ("models from code": no pickle).

MLflow imports this file to load the model: `set_model` at the bottom is that protocol's hook.
The model reads the pickle-free bundle logged beside it and returns what `score` writes.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from models.scoring.scorer import TabularScorer


class ScorerModel(PythonModel):
    """Calibrated probability, 0-100 score and tier of raw feature rows."""

    def load_context(self, context: PythonModelContext) -> None:
        self._scorer = TabularScorer.load(context.artifacts["bundle"])

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        scored = self._scorer.score_frame(model_input)
        return scored[["probability", "score", "tier"]].reset_index(drop=True)


mlflow.models.set_model(ScorerModel())
