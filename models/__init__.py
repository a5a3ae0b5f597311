"""Trained models at inference time: pickle-free bundles, champions, and the code that
batch scoring and serving share. Imports `features`, never `training` or `service`."""
