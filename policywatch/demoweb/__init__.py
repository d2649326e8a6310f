"""The demo web: regulator-like sites served on loopback, built from real instrument texts."""
