"""Inference code shared by batch scoring (training CLI) and the service: bundles and models."""
