"""Parse, validate, price and execute one GraphQL request body.

Split in two so the app can apply rate limits between pricing and execution:
:func:`prepare_request` turns ``{"query", "variables", "operationName"}`` into a
:class:`PreparedRequest` (or GitHub-shaped errors), :func:`execute_prepared` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from . import graphql_mutations as _mutations  # noqa: F401  (registers the mutation resolvers)
from .graphql_api import (
    JSON,
    GraphQLFault,
    ResolveContext,
    load_schema,
    resolve_field,
    resolve_type,
)
from .graphql_cost import CostReport, analyse_operation


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A validated operation with its coerced variables and cost."""

    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    report: CostReport


def format_error(error: GraphQLError) -> JSON:
    """Return an error in GitHub's shape: ``type`` (when known), ``path``, ``locations``, ``message``."""
    body: JSON = {}
    original = error.original_error
    if isinstance(original, GraphQLFault):
        body["type"] = original.type
    if error.path:
        body["path"] = list(error.path)
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    body["message"] = error.message
    return body


def _select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | str:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        chosen = [op for op in operations if op.name and op.name.value == name]
        return chosen[0] if chosen else f'No operation named "{name}"'
    if len(operations) != 1:
        return "An operation name is required when the document has several operations."
    return operations[0]


def prepare_request(payload: Any) -> PreparedRequest | list[JSON]:
    """Validate a request body against the schema and price it; return errors if it fails."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return [{"message": "A query attribute must be specified and must be a string."}]
    schema = load_schema()
    try:
        document = parse(payload["query"])
    except GraphQLError as exc:
        return [format_error(exc)]
    problems = validate(schema, document)
    if problems:
        return [format_error(e) for e in problems]
    operation = _select_operation(document, payload.get("operationName"))
    if isinstance(operation, str):
        return [{"message": operation}]
    coerced = get_variable_values(schema, operation.variable_definitions or (),
                                  payload.get("variables") or {})  # fmt: skip
    if isinstance(coerced, list):
        return [format_error(e) for e in coerced]
    # graphql-core 3.3 wraps the coerced values; 3.2 returns the dict itself.
    raw: Any = coerced
    variables: dict[str, Any] = dict(raw.coerced if hasattr(raw, "coerced") else raw)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    report = analyse_operation(schema, operation, fragments, variables)
    if report.problems:
        return [
            {"type": p.type, "path": list(p.path), "message": p.message} for p in report.problems
        ]
    return PreparedRequest(document, operation, dict(payload.get("variables") or {}), report)


def execute_prepared(prepared: PreparedRequest, context: ResolveContext) -> JSON:
    """Execute a prepared request; return the response body (``data`` and ``errors``)."""
    name = prepared.operation.name.value if prepared.operation.name else None
    result = execute(load_schema(), prepared.document, context_value=context,
                     variable_values=prepared.variables, operation_name=name,
                     field_resolver=resolve_field, type_resolver=resolve_type)  # fmt: skip
    assert isinstance(result, ExecutionResult)  # no resolver is async
    body: JSON = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    return body
