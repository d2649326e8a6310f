"""The product's closed vocabularies and limits, each defined once.

Change kinds are what the history records; outcomes are what one check of one document ended in
(a change kind, or one of the verbs that never becomes an event); paradigms are the three of the
World Internet Conference's comparative study, with the labels and colours every view uses.
"""

from __future__ import annotations

# What the history records about an instrument. `technical` versions come from re-extraction
# and are never announced. A `stage` event accompanies the version whose lifecycle stage differs
# from the one before (draft -> adopted).
NEW, AMENDED, WITHDRAWN, RESTORED, MOVED, TECHNICAL, STAGE = (
    "new", "amended", "withdrawn", "restored", "moved", "technical", "stage")
CHANGE_KINDS = (NEW, AMENDED, WITHDRAWN, RESTORED, MOVED, TECHNICAL, STAGE)
# The change kinds a digest announces, in the order of its sections.
ANNOUNCED_CHANGES = (NEW, STAGE, AMENDED, WITHDRAWN, RESTORED, MOVED)

# Lifecycle stages of a version (paradigms/lifecycle.py reads them), with the words views use.
STAGES = ("draft", "consultation", "adopted", "in_force", "repealed", "unknown")
DRAFT, CONSULTATION, ADOPTED, IN_FORCE, REPEALED, UNKNOWN_STAGE = STAGES
STAGE_NAMES = {"draft": "draft", "consultation": "consultation", "adopted": "adopted",
               "in_force": "in force", "repealed": "repealed", "unknown": "unknown"}
# Kinds of key dates (paradigms/key_dates.py reads them), with the names a calendar gives them.
DATE_KINDS = ("adoption", "amendment", "publication", "entry_into_force", "application", "transition",
              "repeal")
DATE_KIND_NAMES = {"adoption": "Adoption", "amendment": "Amendment", "publication": "Publication",
                   "entry_into_force": "Entry into force", "application": "Application",
                   "transition": "Transition deadline", "repeal": "Repeal"}

# What one check of one document ended in: a change it made, or a verb of its own (a stage
# change comes with an amendment: it is never the outcome of a check by itself).
UNCHANGED, GONE, ERROR, IRRELEVANT = "unchanged", "gone", "error", "irrelevant"
OUTCOMES = (NEW, AMENDED, WITHDRAWN, RESTORED, MOVED, UNCHANGED, GONE, ERROR, IRRELEVANT)

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

# What one instrument's text does to another it names, strongest first: it repeals, replaces or
# amends it, implements it (its legal basis, or an article it applies), or merely cites it.
REPEALS, REPLACES, AMENDS, IMPLEMENTS, CITES = "repeals", "replaces", "amends", "implements", "cites"
LINK_KINDS = (REPEALS, REPLACES, AMENDS, IMPLEMENTS, CITES)
# How the other end reads a link: "repealed by", "implemented by".
LINK_KIND_INCOMING = {REPEALS: "repealed by", REPLACES: "replaced by", AMENDS: "amended by",
                      IMPLEMENTS: "implemented by", CITES: "cited by"}

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
