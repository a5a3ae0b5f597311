"""A synthetic CRM / e-commerce world with learnable structure, for tests, demos and benchmarks."""

from training.synth.config import SynthError, WorldConfig, default_items
from training.synth.runner import TABLE_NAMES, generate_world

__all__ = ["TABLE_NAMES", "SynthError", "WorldConfig", "default_items", "generate_world"]
