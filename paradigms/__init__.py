"""Paradigms: taxonomy, explainable classification, shifts between versions, trends and their chart."""
