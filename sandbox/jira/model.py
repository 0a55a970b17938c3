"""The sandbox's stored issue: the values as Jira keeps them, before any rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: A stored custom-field value: float (number), option id (select), option ids (multi
#: select), plain text (text and textarea fields; textarea is rendered as ADF in v3).
StoredValue = float | str | list[str] | None


@dataclass(frozen=True, slots=True)
class LinkEnd:
    """One issue's side of an issue link: "this issue <outward> other" when ``outward``
    (``blocks``), "this issue <inward> other" otherwise (``is blocked by``)."""

    id: int
    type: str
    other: str
    outward: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "other": self.other, "outward": self.outward}


@dataclass(slots=True)
class StoredIssue:
    """One issue's current state. Mutable: edits change it in place."""

    id: int
    key: str
    summary: str
    status: str
    priority_id: str | None
    labels: list[str]
    values: dict[str, StoredValue]
    created: datetime
    updated: datetime
    number: int = field(default=0)
    #: This issue's ends of its issue links (both ends are stored, one per issue).
    links: list[LinkEnd] = field(default_factory=list)
    #: The assignee's display name; None when unassigned.
    assignee: str | None = None

    def __post_init__(self) -> None:
        if not self.number:
            self.number = int(self.key.rsplit("-", 1)[1])

    def to_json(self) -> dict[str, Any]:
        """Return the issue as a JSON-ready dict (for state files)."""
        return {
            "id": self.id,
            "key": self.key,
            "summary": self.summary,
            "status": self.status,
            "priority_id": self.priority_id,
            "labels": list(self.labels),
            "values": dict(self.values),
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
            "links": [link.to_json() for link in self.links],
            "assignee": self.assignee,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredIssue:
        """Rebuild an issue from :meth:`to_json` output."""
        return cls(
            id=int(data["id"]),
            key=str(data["key"]),
            summary=str(data["summary"]),
            status=str(data["status"]),
            priority_id=data.get("priority_id"),
            labels=[str(label) for label in data.get("labels", [])],
            values=dict(data.get("values", {})),
            created=_parse_time(data["created"]),
            updated=_parse_time(data["updated"]),
            links=[
                LinkEnd(int(e["id"]), str(e["type"]), str(e["other"]), bool(e["outward"]))
                for e in data.get("links", [])
            ],
            assignee=data.get("assignee"),
        )


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
