"""The sandbox Jira's Rank: one global order of issues, and the agile rank endpoint.

Jira Software keeps a Rank (a LexoRank string) on every issue; ``ORDER BY Rank`` reads the
order and ``PUT /rest/agile/1.0/issue/rank`` changes it (docs/tracker-apis.md §4.1). The
sandbox keeps the order as a list of issue ids: new issues join at the bottom, as Jira
ranks a created issue last. What the endpoint does here:

- ``issues``: 1 to 50 ids or keys; more is a 400. They are placed, in the order given, right
  after ``rankAfterIssue`` or right before ``rankBeforeIssue`` (exactly one is required);
  ``rankCustomFieldId``, when sent, must name the Rank field.
- every issue moved: 204. Some not (unknown, the anchor itself, or refused through
  ``JiraSandbox.rank_refused``): 207 with one entry per issue, ``{issueId, issueKey,
  status, errors}``, and the others moved.
- each issue that moved gets a ``jira:issue_updated`` webhook whose changelog item is the
  Rank field, "Ranked higher" or "Ranked lower" (observed, §4.1).

The status and messages of refusals are the sandbox's (the reference documents the 207
shape, not the texts).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .edits import ChangeItem

#: The Rank field's id on a Jira Cloud site (sites differ; the sandbox has one).
RANK_FIELD_ID = "customfield_10019"
RANK_MAX = 50


class RankError(ValueError):
    """The whole request is refused with 400 and this message."""


@dataclass
class RankOrder:
    """Every issue id, top (highest rank) first."""

    ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index: dict[int, int] = {}
        self._reindex()

    def _reindex(self) -> None:
        self._index = {issue_id: i for i, issue_id in enumerate(self.ids)}

    def position(self, issue_id: int) -> int:
        """0 for the top issue; an id the order does not hold sorts last."""
        return self._index.get(issue_id, len(self.ids))

    def append(self, issue_id: int) -> None:
        if issue_id not in self._index:
            self._index[issue_id] = len(self.ids)
            self.ids.append(issue_id)

    def shuffle(self, rng: random.Random) -> None:
        rng.shuffle(self.ids)
        self._reindex()

    def set(self, ids: Iterable[int]) -> None:
        """Replace the order; ids it leaves out follow in their present order."""
        given = list(dict.fromkeys(ids))
        rest = [i for i in self.ids if i not in set(given)]
        self.ids = given + rest
        self._reindex()

    def place(self, moving: Sequence[int], *, after: int | None, before: int | None) -> None:
        """Put ``moving``, in that order, right after ``after`` or right before ``before``."""
        moved = set(moving)
        kept = [i for i in self.ids if i not in moved]
        anchor = kept.index(after if after is not None else before)  # type: ignore[arg-type]
        at = anchor + 1 if after is not None else anchor
        self.ids = kept[:at] + list(moving) + kept[at:]
        self._reindex()


@dataclass(frozen=True, slots=True)
class RankRequest:
    """A parsed rank request: the refs as sent, and the anchor's side and ref."""

    refs: tuple[str, ...]
    after: str | None
    before: str | None


def parse_rank_body(body: Any) -> RankRequest:
    """The request, or ``RankError`` with the reason it is refused as a whole."""
    if not isinstance(body, dict):
        raise RankError("The request body must be a JSON object.")
    refs = body.get("issues")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise RankError("issues must be a non-empty list of issue ids or keys.")
    if len(refs) > RANK_MAX:
        raise RankError(f"At most {RANK_MAX} issues may be ranked at once, not {len(refs)}.")
    after, before = body.get("rankAfterIssue"), body.get("rankBeforeIssue")
    if (after is None) == (before is None):
        raise RankError("Specify exactly one of rankBeforeIssue and rankAfterIssue.")
    custom = body.get("rankCustomFieldId")
    if custom is not None and f"customfield_{custom}" != RANK_FIELD_ID:
        raise RankError(f"The field with id {custom} is not a rank field.")
    return RankRequest(tuple(refs), str(after) if after else None, str(before) if before else None)


def rank_change(higher: bool) -> ChangeItem:
    """The changelog item Jira writes when an issue's rank changes."""
    text = "Ranked higher" if higher else "Ranked lower"
    return ChangeItem(RANK_FIELD_ID, "Rank", "custom", "", "", "", text)
