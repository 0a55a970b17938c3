"""The fields one sandbox site has, and what an administrator can change about them.

A site starts from the fixed ``catalog`` (or, ``bare``, without priosync's output fields), and
an administrator can create custom fields (``POST /rest/api/{2,3}/field``), give them contexts
and options (Cloud only), and put them on the default screen. A field that is on no screen
cannot be edited: Jira answers "Field '…' cannot be set. It is not on the appropriate screen,
or unknown." and ``editmeta`` leaves it out (docs/tracker-apis.md §1.11). The sandbox has one
project with one issue type. Its edits go through the default screen, on which every field
of the catalog is, unless the site was made with ``own_screens``: then the project's issue
type screen scheme points at a screen of its own (as a company-managed Cloud project's
does), and only fields on that screen can be edited, whatever is on the default screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import catalog as c

#: The catalog fields priosync writes (score, explanation, rank): a bare site lacks them.
OUTPUT_FIELD_IDS = (c.RICE_SCORE, c.SCORE_RATIONALE, c.BACKLOG_RANK)
DEFAULT_SCREEN_ID = 1
DEFAULT_TAB_ID = 10000
#: The project's own screen (``own_screens``), its tab, and the schemes that lead to it.
PROJECT_SCREEN_ID = 10001
PROJECT_TAB_ID = 10101
PROJECT_SCREEN_SCHEME_ID = 10002
PROJECT_TYPE_SCREEN_SCHEME_ID = 10003
DEFAULT_SCHEME_ID = 1
#: The custom field types the sandbox can create, by the last part of their type key.
CREATABLE: dict[str, c.FieldKind] = {
    "float": "number",
    "textfield": "textfield",
    "textarea": "textarea",
    "select": "select",
    "multiselect": "multiselect",
}
_TYPE_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"
_FIRST_CREATED_ID = 10100
_FIRST_OPTION_ID = 10500
_FIRST_CONTEXT_ID = 10300


class FieldRefused(ValueError):
    """A field definition the site refuses; the message is what Jira says."""


@dataclass(slots=True)
class Context:
    """A custom field context: where a field applies and (for selects) which options it has."""

    id: str
    name: str
    description: str = ""
    project_ids: list[str] = field(default_factory=list)
    issue_type_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "projectIds": list(self.project_ids),
            "issueTypeIds": list(self.issue_type_ids),
        }


class SiteFields:
    """The site's fields in id order, which of them are on the default screen, and contexts."""

    def __init__(
        self,
        fields: Iterable[c.FieldDef],
        *,
        on_screen: Iterable[str] | None = None,
        contexts: dict[str, list[Context]] | None = None,
        project_screen: Iterable[str] | None = None,
    ) -> None:
        self._fields: dict[str, c.FieldDef] = {f.id: f for f in fields}
        self._screen: list[str] = list(
            on_screen if on_screen is not None else (f.id for f in self._fields.values())
        )
        self._contexts: dict[str, list[Context]] = contexts or {}
        #: The project's own edit screen, when it has one (``own_screens``).
        self._project_screen: list[str] | None = (
            None if project_screen is None else list(project_screen)
        )

    @classmethod
    def full(cls) -> SiteFields:
        """Every field of the catalog, all on the default screen."""
        return cls(c.FIELDS)

    @classmethod
    def bare(cls, *, own_screens: bool = False) -> SiteFields:
        """The catalog without priosync's output fields, as a site that never ran priosync.

        ``own_screens``: the project edits through a screen of its own, not the default.
        """
        fields = [f for f in c.FIELDS if f.id not in OUTPUT_FIELD_IDS]
        ids = [f.id for f in fields]
        return cls(fields, project_screen=ids if own_screens else None)

    @property
    def own_screens(self) -> bool:
        return self._project_screen is not None

    # ── reading ──────────────────────────────────────────────────────────────────────────

    def all(self) -> tuple[c.FieldDef, ...]:
        return tuple(self._fields.values())

    def ids(self) -> tuple[str, ...]:
        return tuple(self._fields)

    def get(self, field_id: str) -> c.FieldDef | None:
        return self._fields.get(field_id)

    def __getitem__(self, field_id: str) -> c.FieldDef:
        return self._fields[field_id]

    def __contains__(self, field_id: object) -> bool:
        return field_id in self._fields

    def custom(self) -> list[c.FieldDef]:
        return [f for f in self._fields.values() if f.custom]

    def on_screen(self, field_id: str) -> bool:
        """Whether edits can reach the field: it is on the project's edit screen."""
        edit = self._project_screen if self._project_screen is not None else self._screen
        return field_id in edit

    def screen_ids(self) -> list[int]:
        ids = [DEFAULT_SCREEN_ID]
        return [*ids, PROJECT_SCREEN_ID] if self._project_screen is not None else ids

    def screen_fields(self, screen_id: int = DEFAULT_SCREEN_ID) -> list[c.FieldDef]:
        """The fields of a screen's one tab, in screen order."""
        listed = self._screen if screen_id == DEFAULT_SCREEN_ID else self._project_screen or []
        return [self._fields[i] for i in listed if i in self._fields]

    def add_to_project_screen(self, field_id: str) -> bool:
        """Put a field on the project's own screen; False when it is there (or there is none)."""
        if self._project_screen is None or field_id in self._project_screen:
            return False
        self._project_screen.append(field_id)
        return True

    def contexts(self, field_id: str) -> list[Context]:
        return list(self._contexts.get(field_id, ()))

    # ── administration ───────────────────────────────────────────────────────────────────

    def create(self, *, name: str, type_key: str, description: str = "") -> c.FieldDef:
        """A new custom field with the next free id, on no screen, with one global context.

        Jira Cloud gives a field created over REST a global context of its own (not
        confirmed on a vendor page; docs/tracker-apis.md §1.11): the sandbox does too.
        """
        if not name.strip():
            raise FieldRefused("The custom field name must not be empty.")
        kind = CREATABLE.get(type_key.removeprefix(_TYPE_PREFIX))
        if not type_key.startswith(_TYPE_PREFIX) or kind is None:
            raise FieldRefused(f"The custom field type '{type_key}' is not valid.")
        numbers = [f.custom_id or 0 for f in self._fields.values()]
        new_id = max([_FIRST_CREATED_ID - 1, *numbers]) + 1
        created = c.FieldDef(f"customfield_{new_id}", name.strip(), kind)
        self._fields[created.id] = created
        context = Context(
            self._next_context_id(), f"Default Configuration Scheme for {created.name}"
        )
        self._contexts[created.id] = [context]
        return created

    def add_to_screen(self, field_id: str) -> bool:
        """Put a field on the default screen; False when it is there already."""
        if field_id in self._screen:
            return False
        self._screen.append(field_id)
        return True

    def create_context(
        self,
        field_id: str,
        *,
        name: str,
        description: str = "",
        project_ids: Sequence[str] = (),
        issue_type_ids: Sequence[str] = (),
    ) -> Context:
        context = Context(
            self._next_context_id(), name, description, list(project_ids), list(issue_type_ids)
        )
        self._contexts.setdefault(field_id, []).append(context)
        return context

    def add_options(self, field_id: str, values: Sequence[str]) -> list[c.Option]:
        """Append options (by value) to a select field; a value it has already is refused."""
        found = self._fields[field_id]
        known = {o.value.casefold() for o in found.options}
        for value in values:
            if not value.strip():
                raise FieldRefused("The option value must not be empty.")
            if value.casefold() in known:
                raise FieldRefused(f"The option '{value}' already exists.")
            known.add(value.casefold())
        first = self._next_option_id()
        added = [c.Option(str(first + i), v) for i, v in enumerate(values)]
        self._fields[field_id] = replace(found, options=(*found.options, *added))
        return added

    def _next_context_id(self) -> str:
        numbers = [int(x.id) for ctx in self._contexts.values() for x in ctx]
        return str(max([_FIRST_CONTEXT_ID - 1, *numbers]) + 1)

    def _next_option_id(self) -> int:
        numbers = [int(o.id) for f in self._fields.values() for o in f.options]
        return max([_FIRST_OPTION_ID - 1, *numbers]) + 1

    # ── persistence ──────────────────────────────────────────────────────────────────────

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": [
                {
                    "id": f.id,
                    "name": f.name,
                    "kind": f.kind,
                    "editable": f.editable,
                    "options": [{"id": o.id, "value": o.value} for o in f.options],
                }
                for f in self._fields.values()
            ],
            "screen": list(self._screen),
            "project_screen": self._project_screen,
            "contexts": {k: [x.to_json() for x in v] for k, v in self._contexts.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteFields:
        fields = [
            c.FieldDef(
                str(f["id"]),
                str(f["name"]),
                f["kind"],
                tuple(c.Option(str(o["id"]), str(o["value"])) for o in f.get("options", ())),
                bool(f.get("editable", True)),
            )
            for f in data["fields"]
        ]
        contexts = {
            str(k): [
                Context(
                    str(x["id"]),
                    str(x["name"]),
                    str(x.get("description") or ""),
                    [str(p) for p in x.get("projectIds", ())],
                    [str(t) for t in x.get("issueTypeIds", ())],
                )
                for x in v
            ]
            for k, v in data.get("contexts", {}).items()
        }
        project_screen = data.get("project_screen")
        return cls(
            fields,
            on_screen=[str(i) for i in data["screen"]],
            contexts=contexts,
            project_screen=None if project_screen is None else [str(i) for i in project_screen],
        )
