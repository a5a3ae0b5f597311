"""Feature definitions, data contracts, pipelines and the online store."""
