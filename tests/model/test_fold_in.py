"""The runtime fold-in of new events is implicit's own user step, not an approximation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models.recommender.arrays import confidence, fold_in
from models.recommender.model import RecommenderModel


def test_fold_in_equals_implicits_recalculate_user(als_bundle: object) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    model = RecommenderModel.load(als_bundle)  # type: ignore[arg-type]
    arrays = model.arrays
    scheme, alpha, eps = model._conf
    reference = AlternatingLeastSquares(
        factors=arrays.item_factors.shape[1], regularization=model._reg, alpha=1.0
    )
    reference.item_factors = arrays.item_factors.copy()
    reference.user_factors = arrays.user_factors.copy()
    y = arrays.item_factors.astype(np.float64)
    checked = 0
    for user in range(0, len(arrays.user_ids), 7):
        start, end = arrays.hist_indptr[user], arrays.hist_indptr[user + 1]
        items, weights = arrays.hist_items[start:end], arrays.hist_weights[start:end]
        conf = confidence(weights, scheme, alpha, eps)
        ours = fold_in(arrays.item_factors, y.T @ y, items, conf, model._reg)
        row = sp.csr_matrix(
            (conf, (np.zeros(len(items), dtype=np.int64), items)), shape=(1, len(arrays.item_ids))
        )
        theirs = np.asarray(reference.recalculate_user(0, row)).ravel()
        assert np.allclose(ours, theirs, rtol=1e-3, atol=1e-4), user
        checked += 1
    assert checked >= 10
