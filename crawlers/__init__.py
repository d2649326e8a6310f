"""Fetch and read: the catalogue of sources, the declared spider, extraction and pipelines."""
