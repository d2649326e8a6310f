"""policywatch: the composition root — configuration, command line, daemon."""

from texts.vocabulary import VERSION as __version__

__all__ = ["__version__"]
