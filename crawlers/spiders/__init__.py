"""Spiders: one generic spider driven by source declarations."""
