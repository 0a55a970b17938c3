"""A seeded generator of realistic Jira backlogs (10 to 50,000 issues, deterministic).

What a generated backlog holds, and why:

- varied titles (verb + object + qualifier), statuses (~15 % Done, ~20 % In Progress) and
  priorities (all five, Medium most common);
- RICE inputs (Reach number, Impact and Confidence select options, Effort number), ICE's
  Ease (1–10) and WSJF inputs (Fibonacci numbers), so every model has something to score;
- ~10 % of issues miss one or more RICE inputs (field empty);
- a few malformed values that a real Jira can hold: Effort 0 (~2 %), Ease outside 1–10
  (~1 %). Values like "Huge" or "n/a" cannot live in a number or select field on a real
  site, so they appear where they can: the free-text "T-shirt size" field (~5 %) and the
  free-text "Team" field;
- human labels (``customer-request``, ``tech-debt``, ``q3`` …) and stale managed labels
  (``roadmap:now`` and friends, ~8 %, also on Done items) that a sync must clean up;
- an old "RICE score" on ~10 % of issues, as if someone had scored by hand once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from . import catalog as c
from .model import StoredIssue, StoredValue

_VERBS = (
    "Add",
    "Fix",
    "Improve",
    "Redesign",
    "Migrate",
    "Speed up",
    "Simplify",
    "Support",
    "Localize",
    "Audit",
    "Refactor",
    "Remove",
    "Automate",
    "Document",
    "Harden",
)
_OBJECTS = (
    "checkout flow",
    "SSO login",
    "search results page",
    "invoice export",
    "onboarding emails",
    "password reset",
    "dashboard widgets",
    "mobile navigation",
    "API rate limiting",
    "billing settings",
    "team invitations",
    "CSV import",
    "notification centre",
    "audit log",
    "dark mode",
    "product tour",
    "pricing page",
    "webhook retries",
    "two-factor auth",
    "image uploads",
    "saved filters",
    "order history",
    "admin console",
)
_QUALIFIERS = (
    "",
    "",
    "",
    " for enterprise accounts",
    " on slow networks",
    " in Safari",
    " for EU customers",
    " on Android",
    " for new users",
    " behind the feature flag",
    " in the public API",
    " for screen readers",
    " at 10k rows",
)
_HUMAN_LABELS = (
    "customer-request",
    "tech-debt",
    "q3",
    "q4",
    "security",
    "ux",
    "performance",
    "mobile",
    "infra",
    "quick-win",
    "needs-design",
)
_STALE_LABELS = ("roadmap:now", "roadmap:next", "roadmap:later")
_TEAM_TEXT = ("Checkout squad", "Growth", "Core platform", "Mobile", "n/a", "TBD")
_TSHIRT = ("XS", "S", "M", "L", "XL")
_FIB = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0)
_EFFORTS = (0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 8.0, 13.0)
_REACH = (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1000.0, 1500.0, 2500.0, 5000.0, 12000.0)
_PRIORITY_WEIGHTS = (("1", 5), ("2", 20), ("3", 45), ("4", 20), ("5", 10))
_BASE_TIME = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
FIRST_ISSUE_ID = 10001


def generate_backlog(*, issues: int, seed: int, project: str) -> list[StoredIssue]:
    """Return ``issues`` issues ``PROJECT-1`` … for ``seed``; the same seed, the same backlog."""
    if not 1 <= issues <= 50_000:
        raise ValueError(f"issues must be between 1 and 50000, got {issues}")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    # Assignees come from their own stream, so adding them left every other value as it was.
    people = random.Random(f"assignees-{seed}")  # noqa: S311 - reproducible test data
    priority_ids = [p for p, _ in _PRIORITY_WEIGHTS]
    priority_weights = [w for _, w in _PRIORITY_WEIGHTS]
    backlog = []
    for number in range(1, issues + 1):
        created = _BASE_TIME + timedelta(hours=number * 3 + rng.randrange(3))
        backlog.append(
            StoredIssue(
                id=FIRST_ISSUE_ID + number - 1,
                key=f"{project}-{number}",
                summary=_make_title(rng),
                status=_pick_status(rng),
                priority_id=rng.choices(priority_ids, priority_weights)[0],
                labels=_make_labels(rng),
                values=_make_values(rng),
                created=created,
                updated=created + timedelta(days=rng.randrange(0, 90), minutes=rng.randrange(600)),
                number=number,
                assignee=_pick_assignee(people),
            )
        )
    return backlog


def _make_title(rng: random.Random) -> str:
    return rng.choice(_VERBS) + " " + rng.choice(_OBJECTS) + rng.choice(_QUALIFIERS)


def _pick_status(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return "Done"
    return "In Progress" if roll < 0.35 else "To Do"


#: Display names of the sandbox's people; about one issue in five is unassigned.
ASSIGNEES = ("Ana Ruiz", "Ben Okafor", "Chen Wei", "Dana Kim", "Eli Novak")


def _pick_assignee(rng: random.Random) -> str | None:
    return None if rng.random() < 0.2 else rng.choice(ASSIGNEES)


def _make_labels(rng: random.Random) -> list[str]:
    labels = rng.sample(_HUMAN_LABELS, rng.choice((0, 0, 1, 1, 2)))
    if rng.random() < 0.08:
        labels.append(rng.choice(_STALE_LABELS))
    return labels


def _make_values(rng: random.Random) -> dict[str, StoredValue]:
    impact = c.FIELDS_BY_ID[c.IMPACT].options
    confidence = c.FIELDS_BY_ID[c.CONFIDENCE].options
    values: dict[str, StoredValue] = {
        c.REACH: rng.choice(_REACH),
        c.IMPACT: rng.choice(impact).id,
        c.CONFIDENCE: rng.choice(confidence).id,
        c.EFFORT: rng.choice(_EFFORTS),
        c.EASE: float(rng.randint(1, 10)),
        c.BUSINESS_VALUE: rng.choice(_FIB),
        c.TIME_CRITICALITY: rng.choice(_FIB),
        c.RISK_REDUCTION: rng.choice(_FIB),
        c.JOB_SIZE: rng.choice(_FIB),
        c.TEAM_SELECT: rng.choice(c.FIELDS_BY_ID[c.TEAM_SELECT].options).id,
        c.TEAM_TEXT: rng.choice(_TEAM_TEXT),
        c.PLATFORMS: [
            o.id for o in rng.sample(c.FIELDS_BY_ID[c.PLATFORMS].options, rng.randint(1, 2))
        ],
        c.TSHIRT: rng.choice(_TSHIRT),
    }
    _blank_some_inputs(rng, values)
    _malform_some_inputs(rng, values)
    if rng.random() < 0.10:
        values[c.RICE_SCORE] = float(rng.randrange(5, 900))
    return values


def _blank_some_inputs(rng: random.Random, values: dict[str, StoredValue]) -> None:
    """About 10 % of issues lose one or two RICE inputs (the field is simply empty)."""
    if rng.random() < 0.10:
        for field_id in rng.sample((c.REACH, c.IMPACT, c.CONFIDENCE, c.EFFORT), rng.randint(1, 2)):
            values[field_id] = None


def _malform_some_inputs(rng: random.Random, values: dict[str, StoredValue]) -> None:
    roll = rng.random()
    if roll < 0.02:
        values[c.EFFORT] = 0.0
    elif roll < 0.03:
        values[c.EASE] = 14.0
    elif roll < 0.06:
        values[c.TSHIRT] = "Huge"
    elif roll < 0.08:
        values[c.TSHIRT] = "n/a"
