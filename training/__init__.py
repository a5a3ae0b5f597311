"""Offline jobs: synthetic data, training, evaluation, MLflow registry."""
