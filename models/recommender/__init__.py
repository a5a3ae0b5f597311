"""The recommender at inference time: arrays, catalogue, per-customer state, candidates,
the LightGBM re-ranker and the model that ties them together."""
