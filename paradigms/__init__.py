"""Paradigm classification, shifts and trends (pure functions over text and history): not built yet."""
