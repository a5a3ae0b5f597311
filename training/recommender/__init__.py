"""Recommender training: interactions -> ALS (+ ranker) -> a pickle-free bundle."""
