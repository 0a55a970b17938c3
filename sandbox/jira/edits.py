"""Edit semantics of ``PUT /rest/api/{2,3}/issue/{key}``: validate all, then apply all.

Source: docs/tracker-apis.md §1.4 and the Jira field input formats (§1.3). ``fields`` sets a
value; ``update`` applies verbs (labels and multi selects: ``add``/``remove``/``set``;
every other field: ``set``). A field may not be in both. Any error rejects the whole edit
with 400 and the body ``{"errorMessages": [...], "errors": {field id: message}}``; nothing
is changed. Messages are the ones Jira gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import catalog as c
from .model import StoredIssue
from .render import adf_to_text
from .site_fields import SiteFields

_NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
_MAX_TEXT = 255


@dataclass(frozen=True, slots=True)
class ChangeItem:
    """One changelog item of an edit (webhook ``changelog.items`` entry)."""

    field_id: str
    field: str
    fieldtype: str
    from_: str | None
    from_string: str | None
    to: str | None
    to_string: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "fieldtype": self.fieldtype,
            "fieldId": self.field_id,
            "from": self.from_,
            "fromString": self.from_string,
            "to": self.to,
            "toString": self.to_string,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeItem:
        """Rebuild an item from :meth:`to_json` output (sandbox state files)."""
        return cls(
            field_id=str(data["fieldId"]),
            field=str(data["field"]),
            fieldtype=str(data["fieldtype"]),
            from_=data.get("from"),
            from_string=data.get("fromString"),
            to=data.get("to"),
            to_string=data.get("toString"),
        )


class EditRejected(Exception):
    """The edit is refused; ``status`` and ``body`` are the HTTP answer."""

    def __init__(
        self,
        status: int,
        *,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {messages or ''} {errors or ''}")
        self.status = status
        self.body: dict[str, Any] = {"errorMessages": messages or [], "errors": errors or {}}


class _Invalid(Exception):
    """A value that cannot be stored in a field; the message is Jira's."""


def stage_edit(issue: StoredIssue, body: Any, *, api: str, site: SiteFields) -> dict[str, Any]:
    """Validate an edit body against ``issue``; return the new stored value per field id.

    A field that does not exist, cannot be edited or is on no screen is refused as Jira
    refuses it. Raises EditRejected(400) listing every problem found.
    """
    if not isinstance(body, dict):
        raise EditRejected(
            400, messages=["Can not deserialize the edit body: expected a JSON object."]
        )
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise EditRejected(
            400, messages=["Can not deserialize 'fields' or 'update': expected an object."]
        )
    messages = [
        f"Field '{f}' cannot appear in both 'fields' and 'update'" for f in fields if f in update
    ]
    errors: dict[str, str] = {}
    staged: dict[str, Any] = {}
    for field_id, value in fields.items():
        if field_id not in update:
            _stage(field_id, lambda f, v=value: _convert(f, v, api=api), staged, errors, site)
    for field_id, ops in update.items():
        if field_id not in fields:
            _stage(
                field_id, lambda f, o=ops: _apply_ops(issue, f, o, api=api), staged, errors, site
            )
    if messages or errors:
        raise EditRejected(400, messages=messages, errors=errors)
    return staged


def _stage(
    field_id: str, compute: Any, staged: dict[str, Any], errors: dict[str, str], site: SiteFields
) -> None:
    field = site.get(field_id)
    if field is None or not field.editable or not site.on_screen(field_id):
        errors[field_id] = _NOT_SETTABLE.format(field_id)
        return
    try:
        staged[field_id] = compute(field)
    except _Invalid as invalid:
        errors[field_id] = str(invalid)


def _convert(field: c.FieldDef, value: Any, *, api: str) -> Any:
    """Return ``value`` (write shape) as the stored value of ``field``; raise _Invalid."""
    kind = field.kind
    if kind == "summary":
        if not isinstance(value, str):
            raise _Invalid("Operation value must be a string")
        if not value.strip():
            raise _Invalid("You must specify a summary of the issue.")
        return value
    if kind == "priority":
        return _convert_priority(value)
    if kind == "labels":
        if not isinstance(value, list):
            raise _Invalid("data was not an array")
        return list(dict.fromkeys(_check_label(label) for label in value))
    if kind == "number":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid("Operation value must be a number")
        return float(value)
    if kind == "select":
        return None if value is None else _convert_option(field, value).id
    if kind == "multiselect":
        if value is None:
            return []
        if not isinstance(value, list):
            raise _Invalid("data was not an array")
        return list(dict.fromkeys(_convert_option(field, v).id for v in value))
    if kind == "textarea" and api == "3":
        if value is None:
            return None
        text = adf_to_text(value)
        if text is None:
            raise _Invalid(
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        return text
    return _convert_text(field, value)


def _convert_text(field: c.FieldDef, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("Operation value must be a string")
    if field.kind == "textfield" and len(value) > _MAX_TEXT:
        raise _Invalid(
            f"The entered text is too long. It exceeds the allowed limit of {_MAX_TEXT} characters."
        )
    return value


def _convert_priority(value: Any) -> str:
    if not isinstance(value, dict) or not ({"id", "name"} & value.keys()):
        raise _Invalid("Could not find valid 'id' or 'name' in priority object.")
    if "id" in value:
        if str(value["id"]) not in c.PRIORITY_BY_ID:
            raise _Invalid("The priority selected is invalid.")
        return str(value["id"])
    priority = c.PRIORITY_BY_NAME.get(str(value["name"]))
    if priority is None:
        raise _Invalid(f"Priority name '{value['name']}' is not valid")
    return priority.id


def _convert_option(field: c.FieldDef, value: Any) -> c.Option:
    if not isinstance(value, dict) or not ({"id", "value"} & value.keys()):
        raise _Invalid("Could not find valid 'id' or 'value' in the Parent Option object.")
    if "id" in value:
        option = field.option_by_id(str(value["id"]))
        if option is None:
            raise _Invalid(f"Option id '{value['id']}' is not valid")
        return option
    option = field.option_by_value(str(value["value"]))
    if option is None:
        raise _Invalid(f"Option value '{value['value']}' is not valid")
    return option


def _check_label(label: Any) -> str:
    if not isinstance(label, str):
        raise _Invalid("Operation value must be a string")
    if not label or any(ch.isspace() for ch in label):
        raise _Invalid(f"The label '{label}' contains spaces which is invalid.")
    if len(label) > _MAX_TEXT:
        raise _Invalid(
            f"The label '{label}' exceeds the maximum length for a single label of 255 characters."
        )
    return label


def _apply_ops(issue: StoredIssue, field: c.FieldDef, ops: Any, *, api: str) -> Any:
    """Apply ``update`` verbs in order, starting from the issue's current value."""
    if not isinstance(ops, list):
        raise _Invalid("data was not an array")
    value = current_value(issue, field.id)
    multi = field.kind in ("labels", "multiselect")
    for op in ops:
        if not isinstance(op, dict) or len(op) != 1:
            raise _Invalid("Each operation must be an object with one verb.")
        verb, arg = next(iter(op.items()))
        if verb == "set":
            value = _convert(field, arg, api=api)
        elif multi and verb in ("add", "remove"):
            value = _add_or_remove(field, list(value or []), verb, arg)
        else:
            raise _Invalid(f"Field '{field.id}' does not support operation '{verb}'")
    return value


def _add_or_remove(field: c.FieldDef, items: list[str], verb: str, arg: Any) -> list[str]:
    item = _check_label(arg) if field.kind == "labels" else _convert_option(field, arg).id
    if verb == "add":
        return items if item in items else [*items, item]
    return [existing for existing in items if existing != item]


def current_value(issue: StoredIssue, field_id: str) -> Any:
    """Return the stored value of an editable field (system or custom)."""
    if field_id == "summary":
        return issue.summary
    if field_id == "priority":
        return issue.priority_id
    if field_id == "labels":
        return list(issue.labels)
    return issue.values.get(field_id)


def apply_staged(
    issue: StoredIssue, staged: dict[str, Any], *, site: SiteFields
) -> list[ChangeItem]:
    """Write staged values into ``issue``; return a changelog item per field that changed."""
    changes = []
    for field_id, new in staged.items():
        old = current_value(issue, field_id)
        if _same(old, new):
            continue
        changes.append(_change_item(site[field_id], old, new))
        if field_id == "summary":
            issue.summary = new
        elif field_id == "priority":
            issue.priority_id = new
        elif field_id == "labels":
            issue.labels = list(new)
        else:
            issue.values[field_id] = new
    return changes


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, list) or isinstance(new, list):
        return list(old or []) == list(new or [])
    return bool(old == new)


def _change_item(field: c.FieldDef, old: Any, new: Any) -> ChangeItem:
    fieldtype = "custom" if field.custom else "jira"
    name = field.name if field.custom else field.id
    if field.kind == "priority":
        return ChangeItem(
            field.id, name, fieldtype, old, _priority_name(old), new, _priority_name(new)
        )
    return ChangeItem(
        field.id, name, fieldtype, None, display_value(field, old), None, display_value(field, new)
    )


def _priority_name(priority_id: str | None) -> str | None:
    return c.PRIORITY_BY_ID[priority_id].name if priority_id else None


def display_value(field: c.FieldDef, value: Any) -> str | None:
    """Return a stored value as Jira's changelog ``fromString``/``toString`` shows it."""
    if value is None or value == []:
        return None
    if field.kind == "labels":
        return " ".join(value)
    if field.kind == "number":
        return format_number(value)
    if field.kind == "select":
        option = field.option_by_id(str(value))
        return option.value if option else None
    if field.kind == "multiselect":
        return ",".join(o.value for o in (field.option_by_id(v) for v in value) if o)
    return str(value)


def format_number(value: float) -> str:
    """Format a number as Jira displays it: ``8`` for 8.0, ``2.5`` otherwise."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
