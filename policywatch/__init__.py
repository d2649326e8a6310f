"""policywatch: the composition root — configuration, command line, daemon."""

__version__ = "0.1.0"
