"""The bottom layer: what every stage shares and nothing above it owns.

Text helpers (normalising, provision segmentation, provision diffs, the extracted document),
the product's vocabulary (change kinds, outcomes, paradigms, their labels and colours), its limits
and duration parsing. This package imports no other package of the project; every other package
may import it (the layer contract in `pyproject.toml`, checked by `lint-imports`).
"""
