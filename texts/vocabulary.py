"""The product's closed vocabularies and limits, each defined once.

Change kinds are what the history records; outcomes are what one check of one document ended in
(a change kind, or one of the verbs that never becomes an event); paradigms are the three of the
World Internet Conference's comparative study, with the labels and colours every view uses.
"""

from __future__ import annotations

# What the history records about an instrument. `technical` versions come from re-extraction
# and are never announced.
NEW, AMENDED, WITHDRAWN, RESTORED, MOVED, TECHNICAL = (
    "new", "amended", "withdrawn", "restored", "moved", "technical")
CHANGE_KINDS = (NEW, AMENDED, WITHDRAWN, RESTORED, MOVED, TECHNICAL)
# The change kinds a digest announces, in the order of its sections.
ANNOUNCED_CHANGES = (NEW, AMENDED, WITHDRAWN, RESTORED, MOVED)

# What one check of one document ended in: an announced change, or a verb of its own.
UNCHANGED, GONE, ERROR, IRRELEVANT = "unchanged", "gone", "error", "irrelevant"
OUTCOMES = (*ANNOUNCED_CHANGES, UNCHANGED, GONE, ERROR, IRRELEVANT)

# What one run of a daemon job ended in.
JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_KILLED = "running", "ok", "failed", "killed"
JOB_OUTCOMES = (JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_KILLED)

# Kinds of fetch problems recorded as source health (never change events).
TRANSIENT, BLOCKED, EXTRACTION, SELECTOR, INVALID = (
    "transient", "blocked", "extraction", "selector", "invalid")
PROBLEM_KINDS = (TRANSIENT, BLOCKED, GONE, EXTRACTION, SELECTOR, INVALID)

FACILITATION, PRUDENT, RESTRICTIVE, UNKNOWN = "facilitation", "prudent", "restrictive", "unknown"
PARADIGMS = (FACILITATION, PRUDENT, RESTRICTIVE)
PARADIGM_CHOICES = (*PARADIGMS, UNKNOWN)
PARADIGM_NAMES = {FACILITATION: "Framework-based Facilitation", PRUDENT: "Prudent and Flexible",
                  RESTRICTIVE: "Restrictive", UNKNOWN: "Unknown"}
# One palette for the chart, the mail and the web view; each colour carries white text.
PARADIGM_COLOURS = {FACILITATION: "#2a9d8f", PRUDENT: "#b08900", RESTRICTIVE: "#c8553d",
                    UNKNOWN: "#6c757d"}

# Consecutive 404/410 answers before an instrument counts as withdrawn.
WITHDRAW_AFTER = 3
# The longest link a crawl follows or matches against a pattern (Scrapy's URLLENGTH_LIMIT).
MAX_LINK_LENGTH = 2083
# The largest answer a crawl, a `classify URL` or a sitemap read accepts.
MAX_DOCUMENT_BYTES = 25 * 1024 * 1024
VERSION = "0.1.0"
PROJECT_URL = "https://github.com/policywatch/policywatch"
CONTACT = "policywatch@example.org"


def user_agent(contact: str = CONTACT) -> str:
    """The one user agent every request of the product sends, naming whom to contact."""
    return f"policywatch/{VERSION} (+{PROJECT_URL}; {contact})"
