"""Complaint triage: category, owning team and severity (P1/P2/P3) from a complaint's text, and
learning from the corrections staff make.

Pure domain code (stdlib + pydantic, no boto3). Every keyword, weight, negation cue and
threshold lives in ``rules.toml`` beside this package, which a non-programmer can read and
extend; the modules only apply it:

* ``text``        normalisation and the phrase syntax (matched without regular expressions)
* ``rules``       loading, snippet merging, the compiled :class:`Rules` (``schema``: the file's schema)
* ``spelling``    English typos read as the rule file's words
* ``negation``    negated keywords ("杯子没有碎") and praise after a keyword ("质量没问题")
* ``category``    category from weighted keyword hits, context takeovers, the product kind
* ``severity``    P1/P2/P3 from safety words and pairs, amounts, threats, tiers
* ``classifier``  :func:`triage` — what the lifecycle's Triage step calls
* ``corrections`` / ``report`` / ``proposals`` / ``replay``  learning from staff corrections:
  ``GET /reports/triage``, rule proposals, ``make triage-check`` (see docs/triage.md)

Every decision is explained in ``TriageResult.reasons`` (shown to agents).
"""

from chalicelib.models import CATEGORIES
from chalicelib.triage.category import FALLBACK_CATEGORY
from chalicelib.triage.classifier import TriageInput, TriageResult, team_for, triage
from chalicelib.triage.rules import (
    RULES_PATH,
    RuleFileError,
    Rules,
    build_rules,
    load_rule_data,
    load_rules,
    merge,
)
from chalicelib.triage.severity import SEVERITY_ORDER
from chalicelib.triage.text import normalize

__all__ = [
    "CATEGORIES",
    "FALLBACK_CATEGORY",
    "RULES_PATH",
    "SEVERITY_ORDER",
    "RuleFileError",
    "Rules",
    "TriageInput",
    "TriageResult",
    "build_rules",
    "load_rule_data",
    "load_rules",
    "merge",
    "normalize",
    "team_for",
    "triage",
]
