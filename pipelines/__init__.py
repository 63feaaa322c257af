"""Item pipelines, one component per module."""
