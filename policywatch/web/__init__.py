"""`policywatch serve`: a read-only web view of the store — the changes, each instrument with a
word-marked diff of any two versions, the trends as an inline SVG, source health — with Atom
feeds of any filter and a JSON API in the shapes of the command line's `--format json`."""

from policywatch.web.app import create_app

__all__ = ["create_app"]
