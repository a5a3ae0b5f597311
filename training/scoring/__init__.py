"""Churn and lead scoring: tabular training with LightGBM, calibration, tiers and reasons."""
