"""What a Jira administrator does over REST to set priosync up: fields, contexts, options, screens.

Shapes and rules from Atlassian's REST v3 reference (docs/tracker-apis.md §1.11):

- ``POST /field`` (Cloud and Data Center) creates a custom field from ``name``, ``type`` and
  ``searcherKey``; 201 with the field as ``GET /field`` lists it. Without *Administer Jira*
  the spec documents 400.
- ``GET|POST /field/{fieldId}/context`` and ``GET|POST /field/{fieldId}/context/{contextId}/option``
  (Cloud only; Data Center has no REST endpoint that adds options): pages of contexts and
  options; options are created in bulk, ``{"options": [{"value": …}]}`` → 200 with their ids.
  403 without *Administer Jira*, with the messages the spec shows.
- ``POST /screens/addToDefault/{fieldId}`` (Cloud and Data Center) puts a field on the
  default tab of the default screen; 404 when the field is unknown or already there.
- A project's own screens (Cloud): ``GET /issuetypescreenscheme/project?projectId=``, then
  ``/issuetypescreenscheme/mapping``, then ``/screenscheme?id=`` name its screens;
  ``GET /screens/{id}/tabs`` and ``POST /screens/{id}/tabs/{tabId}/fields`` (Data Center
  too) put a field on one.

The sandbox keeps one set of options per field, whichever of its contexts they were added to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import catalog as c
from . import site_fields as sf
from .render import render_field
from .site_fields import FieldRefused

if TYPE_CHECKING:
    from .state import Account, JiraSandbox

FIELD_NOT_FOUND = "The custom field was not found."
CONTEXTS_ADMIN_ONLY = "Only Jira administrators can access custom field contexts."
OPTIONS_ADMIN_ONLY = "Only Jira administrators can manage custom field options."
NO_OPTIONS = "The custom field doesn't support options."
#: Sandbox wording: the spec documents the status (400 for POST /field, 403 for screens) only.
CREATE_ADMIN_ONLY = "Only Jira administrators can create custom fields."
SCREENS_ADMIN_ONLY = "Only Jira administrators can change screens."
MAX_OPTIONS_PER_REQUEST = 1000


def admin_routes(sandbox: JiraSandbox) -> list[Route]:
    """The routes of the administration endpoints, served by ``create_jira_app``."""
    admin = _Admin(sandbox)
    base = "/rest/api/{version}"
    return [
        Route(f"{base}/field", admin.create_field, methods=["POST"]),
        Route(f"{base}/field/{{fieldId}}/context", admin.contexts, methods=["GET", "POST"]),
        Route(
            f"{base}/field/{{fieldId}}/context/{{contextId}}/option",
            admin.options,
            methods=["GET", "POST"],
        ),
        Route(f"{base}/screens/addToDefault/{{fieldId}}", admin.add_to_default, methods=["POST"]),
        Route(f"{base}/issuetypescreenscheme/project", admin.type_scheme_of, methods=["GET"]),
        Route(f"{base}/issuetypescreenscheme/mapping", admin.type_scheme_mapping, methods=["GET"]),
        Route(f"{base}/screenscheme", admin.screen_schemes, methods=["GET"]),
        Route(f"{base}/screens/{{screenId:int}}/tabs", admin.tabs, methods=["GET"]),
        Route(
            f"{base}/screens/{{screenId:int}}/tabs/{{tabId:int}}/fields",
            admin.add_tab_field,
            methods=["POST"],
        ),
    ]


def _error(status: int, *messages: str, errors: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errorMessages": list(messages), "errors": errors or {}}, status)


def _page(values: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    start = _int(request.query_params.get("startAt"), 0)
    size = _int(request.query_params.get("maxResults"), 100)
    page = values[start : start + size]
    return {
        "isLast": start + len(page) >= len(values),
        "maxResults": size,
        "startAt": start,
        "total": len(values),
        "values": page,
    }


def _int(raw: str | None, default: int) -> int:
    try:
        return max(0, int(raw)) if raw not in (None, "") else default
    except ValueError:
        return default


Handler = Callable[[Request], Awaitable[Response]]


class _Admin:
    def __init__(self, sandbox: JiraSandbox) -> None:
        self.sandbox = sandbox

    def actor(self, request: Request) -> Account:
        account = getattr(request.state, "account", None)
        return account if account is not None else self.sandbox.account

    def version(self, request: Request, *, cloud_only: bool) -> str | None:
        """The REST version addressed ("2" or "3"), or None when this site does not serve it."""
        version = str(request.path_params["version"])
        version = "2" if version == "latest" else version
        served = {"2"} if self.sandbox.dc else {"2", "3"}
        if version not in served or (cloud_only and self.sandbox.dc):
            return None
        return version

    async def body(self, request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return None

    def not_served(self, request: Request) -> JSONResponse:
        return _error(404, f"null for uri: {request.url}")

    # POST /field

    async def create_field(self, request: Request) -> Response:
        if self.version(request, cloud_only=False) is None:
            return self.not_served(request)
        body = await self.body(request)
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        if not self.actor(request).jira_admin:
            return _error(400, CREATE_ADMIN_ONLY)
        name, type_key = body.get("name"), body.get("type")
        if not isinstance(name, str) or not isinstance(type_key, str):
            return _error(400, errors={"name" if not isinstance(name, str) else "type": "Required"})
        try:
            created = self.sandbox.fields.create(
                name=name, type_key=type_key, description=str(body.get("description") or "")
            )
        except FieldRefused as refused:
            return _error(400, str(refused))
        self.sandbox.fields_changed()
        # The spec's example adds untranslatedName, its FieldDetails schema forbids it: schema wins.
        return JSONResponse(render_field(created, site=self.sandbox.fields), 201)

    # GET|POST /field/{fieldId}/context

    async def contexts(self, request: Request) -> Response:
        if self.version(request, cloud_only=True) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, CONTEXTS_ADMIN_ONLY)
        field_id = str(request.path_params["fieldId"])
        found = self.sandbox.fields.get(field_id)
        if found is None or not found.custom:
            return _error(404, FIELD_NOT_FOUND)
        if request.method == "GET":
            values = [
                {
                    "id": x.id,
                    "name": x.name,
                    "description": x.description,
                    "isGlobalContext": not x.project_ids,
                    "isAnyIssueType": not x.issue_type_ids,
                }
                for x in self.sandbox.fields.contexts(field_id)
            ]
            return JSONResponse(_page(values, request))
        body = await self.body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return _error(400, errors={"name": "The context name must be given."})
        context = self.sandbox.fields.create_context(
            field_id,
            name=body["name"],
            description=str(body.get("description") or ""),
            project_ids=[str(p) for p in body.get("projectIds") or ()],
            issue_type_ids=[str(t) for t in body.get("issueTypeIds") or ()],
        )
        return JSONResponse(context.to_json(), 201)

    # GET|POST /field/{fieldId}/context/{contextId}/option

    async def options(self, request: Request) -> Response:
        if self.version(request, cloud_only=True) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, OPTIONS_ADMIN_ONLY)
        field_id = str(request.path_params["fieldId"])
        site = self.sandbox.fields
        found = site.get(field_id)
        context_ids = {x.id for x in site.contexts(field_id)}
        if found is None or str(request.path_params["contextId"]) not in context_ids:
            return _error(404, FIELD_NOT_FOUND)
        if found.kind not in ("select", "multiselect"):
            return _error(400, NO_OPTIONS)
        if request.method == "GET":
            values = [{"id": o.id, "value": o.value, "disabled": False} for o in found.options]
            return JSONResponse(_page(values, request))
        body = await self.body(request)
        raw = body.get("options") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not all(
            isinstance(o, dict) and isinstance(o.get("value"), str) for o in raw
        ):
            return _error(400, "Options must be a list of objects with a value.")
        if len(raw) > MAX_OPTIONS_PER_REQUEST:
            return _error(400, f"At most {MAX_OPTIONS_PER_REQUEST} options can be created at once.")
        try:
            added = site.add_options(field_id, [str(o["value"]) for o in raw])
        except FieldRefused as refused:
            return _error(400, str(refused))
        self.sandbox.fields_changed()
        return JSONResponse(
            {"options": [{"id": o.id, "value": o.value, "disabled": False} for o in added]}
        )

    # POST /screens/addToDefault/{fieldId}

    async def add_to_default(self, request: Request) -> Response:
        if self.version(request, cloud_only=False) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, SCREENS_ADMIN_ONLY)
        field_id = str(request.path_params["fieldId"])
        found = self.sandbox.fields.get(field_id)
        if found is None or not found.editable or not self.sandbox.fields.add_to_screen(field_id):
            return _error(
                404, f"The field '{field_id}' does not exist or is already on the screen."
            )
        self.sandbox.fields_changed()
        return JSONResponse({})

    # A project's own screens

    async def type_scheme_of(self, request: Request) -> Response:
        """``GET /issuetypescreenscheme/project?projectId=``: the project's issue type screen scheme."""
        if self.version(request, cloud_only=True) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, SCREENS_ADMIN_ONLY)
        own = self.sandbox.fields.own_screens
        scheme = {
            "id": str(sf.PROJECT_TYPE_SCREEN_SCHEME_ID if own else sf.DEFAULT_SCHEME_ID),
            "name": f"{self.sandbox.project}: Scrum Issue Type Screen Scheme"
            if own
            else "Default Issue Type Screen Scheme",
            "description": "",
        }
        wanted = request.query_params.getlist("projectId")
        values = [{"issueTypeScreenScheme": scheme, "projectIds": [c.PROJECT_ID]}]
        return JSONResponse(_page(values if not wanted or c.PROJECT_ID in wanted else [], request))

    async def type_scheme_mapping(self, request: Request) -> Response:
        """``GET /issuetypescreenscheme/mapping``: issue type → screen scheme."""
        if self.version(request, cloud_only=True) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, SCREENS_ADMIN_ONLY)
        own = self.sandbox.fields.own_screens
        scheme = str(sf.PROJECT_TYPE_SCREEN_SCHEME_ID if own else sf.DEFAULT_SCHEME_ID)
        screen_scheme = str(sf.PROJECT_SCREEN_SCHEME_ID if own else sf.DEFAULT_SCHEME_ID)
        wanted = request.query_params.getlist("issueTypeScreenSchemeId")
        values = [
            {
                "issueTypeId": "default",
                "issueTypeScreenSchemeId": scheme,
                "screenSchemeId": screen_scheme,
            }
        ]
        return JSONResponse(_page(values if not wanted or scheme in wanted else [], request))

    async def screen_schemes(self, request: Request) -> Response:
        """``GET /screenscheme?id=``: the screens (default, edit, …) of screen schemes."""
        if self.version(request, cloud_only=True) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, SCREENS_ADMIN_ONLY)
        schemes = [
            {
                "id": sf.DEFAULT_SCHEME_ID,
                "name": "Default Screen Scheme",
                "description": "",
                "screens": {"default": sf.DEFAULT_SCREEN_ID},
            }
        ]
        if self.sandbox.fields.own_screens:
            schemes.append(
                {
                    "id": sf.PROJECT_SCREEN_SCHEME_ID,
                    "name": f"{self.sandbox.project}: Scrum Default Screen Scheme",
                    "description": "",
                    "screens": {"default": sf.PROJECT_SCREEN_ID},
                }
            )
        wanted = {int(i) for i in request.query_params.getlist("id") if i.isdigit()}
        return JSONResponse(_page([x for x in schemes if not wanted or x["id"] in wanted], request))

    async def tabs(self, request: Request) -> Response:
        """``GET /screens/{screenId}/tabs``: the screen's one tab."""
        if self.version(request, cloud_only=False) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, SCREENS_ADMIN_ONLY)
        screen = int(request.path_params["screenId"])
        if screen not in self.sandbox.fields.screen_ids():
            return _error(404, f"The screen with id '{screen}' does not exist.")
        tab = sf.DEFAULT_TAB_ID if screen == sf.DEFAULT_SCREEN_ID else sf.PROJECT_TAB_ID
        return JSONResponse([{"id": tab, "name": "Field Tab"}])

    async def add_tab_field(self, request: Request) -> Response:
        """``POST /screens/{screenId}/tabs/{tabId}/fields`` with ``{"fieldId": …}``."""
        if self.version(request, cloud_only=False) is None:
            return self.not_served(request)
        if not self.actor(request).jira_admin:
            return _error(403, SCREENS_ADMIN_ONLY)
        site = self.sandbox.fields
        screen, tab = int(request.path_params["screenId"]), int(request.path_params["tabId"])
        tabs = {sf.DEFAULT_SCREEN_ID: sf.DEFAULT_TAB_ID, sf.PROJECT_SCREEN_ID: sf.PROJECT_TAB_ID}
        if screen not in site.screen_ids() or tabs.get(screen) != tab:
            return _error(404, "The screen or the screen tab was not found.")
        body = await self.body(request)
        field_id = str(body.get("fieldId")) if isinstance(body, dict) else ""
        found = site.get(field_id)
        if found is None or not found.editable:
            return _error(404, f"The field '{field_id}' was not found.")
        added = (
            site.add_to_screen(field_id)
            if screen == sf.DEFAULT_SCREEN_ID
            else site.add_to_project_screen(field_id)
        )
        if not added:
            return _error(400, f"The field '{field_id}' is already on the screen.")
        self.sandbox.fields_changed()
        return JSONResponse({"id": found.id, "name": found.name})
