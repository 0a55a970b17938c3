"""`priosync sandbox edit`: change a running sandbox's issue as a person would, over its API.

The edit signs in as the sandbox's person (Pat Manager on Jira, ``pat-manager`` on GitHub)
with their documented sandbox credentials and goes through the same endpoints a person's
browser would cause: ``PUT /rest/api/2/issue/{key}`` on Jira, ``updateProjectV2ItemFieldValue``
on GitHub. So the sandbox records it as that person's edit and, when it was started with
``--webhook-url``, sends the signed webhook a real tracker would, and ``priosync serve``
rescores the issue as it would in production.

``Field=value`` pairs name fields as the tracker shows them (case-insensitive) or by id; an
empty value clears the field. Values are read by the field's type: a number, an option's
name, a priority's name, text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from .github.app import HUMAN_TOKEN as GITHUB_HUMAN_TOKEN
from .jira.catalog import HUMAN_EMAIL, HUMAN_NAME
from .jira.state import HUMAN_PAT, HUMAN_TOKEN

JIRA_DEFAULT_URL = "http://127.0.0.1:8080"
GITHUB_DEFAULT_URL = "http://127.0.0.1:8081"
_GITHUB_REF = re.compile(
    r"^(?P<owner>[A-Za-z0-9][A-Za-z0-9\-]*)/(?P<repo>[A-Za-z0-9_.\-]+)#(?P<number>\d+)$"
)
_JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$", re.IGNORECASE)
TIMEOUT_S = 15.0


class EditError(ValueError):
    """What went wrong, in one line for the person at the terminal."""


@dataclass(frozen=True, slots=True)
class Edited:
    """What was changed: the item, who changed it, and each field's new value as given."""

    item: str
    actor: str
    values: tuple[tuple[str, str], ...]


def parse_assignments(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """``Field=value`` pairs as (field, value); a pair without ``=`` is an error."""
    parsed = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise EditError(f"'{pair}' is not Field=value (e.g. Reach=500, or Impact=High)")
        parsed.append((name.strip(), value.strip()))
    if not parsed:
        raise EditError("name at least one Field=value to change")
    return parsed


def tracker_of(item: str) -> str:
    """``jira`` for an issue key (WEB-12), ``github`` for owner/repo#number."""
    if _JIRA_KEY.match(item):
        return "jira"
    if _GITHUB_REF.match(item):
        return "github"
    raise EditError(f"'{item}' is neither a Jira key (WEB-12) nor a GitHub issue (acme/app#12)")


async def edit(
    item: str,
    pairs: Sequence[str],
    *,
    url: str | None = None,
    project: int = 1,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Edited:
    """Edit ``item`` in the sandbox at ``url`` (default: the tracker's default port)."""
    assignments = parse_assignments(pairs)
    if tracker_of(item) == "jira":
        return await edit_jira(item, assignments, url=url or JIRA_DEFAULT_URL, transport=transport)
    return await edit_github(
        item, assignments, url=url or GITHUB_DEFAULT_URL, project=project, transport=transport
    )


# ── Jira ─────────────────────────────────────────────────────────────────────────────────


async def edit_jira(
    key: str,
    assignments: Sequence[tuple[str, str]],
    *,
    url: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Edited:
    """``PUT /rest/api/2/issue/{key}`` as the person, with values shaped by each field's type."""
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT_S, transport=transport) as client:
        info = await _get(client, "/rest/api/2/serverInfo")
        dc = info.get("deploymentType") != "Cloud"
        if dc:
            client.headers["Authorization"] = f"Bearer {HUMAN_PAT}"
        else:
            client.auth = httpx.BasicAuth(HUMAN_EMAIL, HUMAN_TOKEN)
        fields = await _get(client, "/rest/api/2/field")
        body = {"fields": {}}  # type: dict[str, Any]
        for name, value in assignments:
            found = _jira_field(fields, name)
            body["fields"][str(found["id"])] = _jira_value(found, value)
        response = await client.put(f"/rest/api/2/issue/{key}", json=body)
        if response.status_code != 204:
            raise EditError(f"Jira refused the edit of {key}: {_jira_error(response)}")
    return Edited(key.upper(), HUMAN_NAME, tuple(assignments))


def _jira_field(fields: Any, name: str) -> Mapping[str, Any]:
    listed = [f for f in fields if isinstance(f, dict)]
    matches = [f for f in listed if str(f.get("id")).casefold() == name.casefold()]
    matches = matches or [f for f in listed if str(f.get("name")).casefold() == name.casefold()]
    if len(matches) != 1:
        which = "no field" if not matches else f"{len(matches)} fields"
        raise EditError(f"the sandbox Jira has {which} named '{name}'; use a name or id it lists")
    return matches[0]


def _jira_value(field: Mapping[str, Any], value: str) -> Any:
    schema = field.get("schema") or {}
    if value == "":
        return [] if schema.get("type") == "array" else None
    kind = schema.get("type")
    if kind == "number":
        return _number(value, str(field.get("name")))
    if kind == "option":
        return {"value": value}
    if kind == "priority":
        return {"name": value}
    if kind == "array":
        items = [v.strip() for v in value.split(",") if v.strip()]
        return items if schema.get("items") == "string" else [{"value": v} for v in items]
    return value


def _jira_error(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    parts = [
        *data.get("errorMessages", []),
        *(f"{k}: {v}" for k, v in data.get("errors", {}).items()),
    ]
    return "; ".join(str(p) for p in parts) or f"HTTP {response.status_code}"


# ── GitHub ───────────────────────────────────────────────────────────────────────────────

_ITEM_QUERY = """query($owner: String!, $repo: String!, $number: Int!, $project: Int!) {
  repository(owner: $owner, name: $repo) {
    issue(number: $number) { projectItems(first: 20) { nodes { id project { id number } } } }
  }
  organization(login: $owner) {
    projectV2(number: $project) {
      id
      fields(first: 100) {
        nodes {
          ... on ProjectV2FieldCommon { id name dataType }
          ... on ProjectV2SingleSelectField { options { id name } }
        }
      }
    }
  }
}"""


async def edit_github(
    ref: str,
    assignments: Sequence[tuple[str, str]],
    *,
    url: str,
    project: int = 1,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Edited:
    """Set the issue's Project item fields as the person, one aliased mutation each."""
    match = _GITHUB_REF.match(ref)
    assert match is not None  # tracker_of said so
    headers = {"Authorization": f"Bearer {GITHUB_HUMAN_TOKEN}"}
    async with httpx.AsyncClient(
        base_url=url, timeout=TIMEOUT_S, transport=transport, headers=headers
    ) as client:
        variables = {
            "owner": match["owner"],
            "repo": match["repo"],
            "number": int(match["number"]),
            "project": project,
        }
        data = await _graphql(client, _ITEM_QUERY, variables)
        board = (data.get("organization") or {}).get("projectV2")
        issue = (data.get("repository") or {}).get("issue")
        if board is None or issue is None:
            raise EditError(f"the sandbox GitHub has no issue {ref} or no Project {project}")
        item = next(
            (n["id"] for n in issue["projectItems"]["nodes"] if n["project"]["id"] == board["id"]),
            None,
        )
        if item is None:
            raise EditError(f"{ref} is not an item of Project {match['owner']}/{project}")
        fields = [f for f in board["fields"]["nodes"] if f and f.get("id")]
        params, calls, inputs = [], [], {}
        for n, (name, value) in enumerate(assignments):
            found = next((f for f in fields if f["name"].casefold() == name.casefold()), None)
            if found is None:
                raise EditError(f"Project {project} has no field named '{name}'")
            base = {"projectId": board["id"], "itemId": item, "fieldId": found["id"]}
            if value == "":
                params.append(f"$i{n}: ClearProjectV2ItemFieldValueInput!")
                calls.append(
                    f"m{n}: clearProjectV2ItemFieldValue(input: $i{n}) {{ clientMutationId }}"
                )
                inputs[f"i{n}"] = base
                continue
            params.append(f"$i{n}: UpdateProjectV2ItemFieldValueInput!")
            calls.append(
                f"m{n}: updateProjectV2ItemFieldValue(input: $i{n}) {{ clientMutationId }}"
            )
            inputs[f"i{n}"] = {**base, "value": _github_value(found, value)}
        document = f"mutation({', '.join(params)}) {{\n  " + "\n  ".join(calls) + "\n}"
        await _graphql(client, document, inputs)
    return Edited(ref, "pat-manager", tuple(assignments))


def _github_value(field: Mapping[str, Any], value: str) -> dict[str, Any]:
    kind = field.get("dataType")
    if kind == "NUMBER":
        return {"number": _number(value, str(field["name"]))}
    if kind == "SINGLE_SELECT":
        option = next(
            (
                o["id"]
                for o in field.get("options") or ()
                if o["name"].casefold() == value.casefold()
            ),
            None,
        )
        if option is None:
            names = ", ".join(o["name"] for o in field.get("options") or ())
            raise EditError(f"'{field['name']}' has no option '{value}' (it has {names})")
        return {"singleSelectOptionId": option}
    if kind == "DATE":
        return {"date": value}
    return {"text": value}


# ── shared ───────────────────────────────────────────────────────────────────────────────


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise EditError(f"'{name}' takes a number, not '{value}'") from None


async def _get(client: httpx.AsyncClient, path: str) -> Any:
    try:
        response = await client.get(path)
    except httpx.HTTPError as exc:
        raise EditError(f"no sandbox answers at {client.base_url} ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise EditError(f"the sandbox answered {response.status_code} to {path}")
    return response.json()


async def _graphql(client: httpx.AsyncClient, document: str, variables: Mapping[str, Any]) -> Any:
    try:
        response = await client.post("/graphql", json={"query": document, "variables": variables})
    except httpx.HTTPError as exc:
        raise EditError(f"no sandbox answers at {client.base_url} ({type(exc).__name__})") from None
    body = response.json() if response.status_code == 200 else {}
    if response.status_code != 200 or body.get("errors"):
        errors = "; ".join(str(e.get("message")) for e in body.get("errors") or ())
        raise EditError(f"the sandbox GitHub refused: {errors or response.status_code}")
    return body.get("data") or {}
