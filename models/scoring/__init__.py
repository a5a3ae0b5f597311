"""Churn and lead scoring at inference time: the tabular scorer and its reasons."""
