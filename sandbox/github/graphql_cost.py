"""Static analysis of a GraphQL operation: pagination limits, node count and cost.

GitHub's rules (https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api,
docs/tracker-apis.md §3.7): every connection needs ``first`` or ``last`` between 1 and 100; a
call may touch at most 500,000 nodes; the cost is the number of requests needed to fill
each connection, assuming every ``first``/``last`` is used fully, divided by 100 and
rounded, at least 1. A connection nested under others needs one request per parent node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)

MAX_PAGE = 100
MAX_NODES = 500_000


@dataclass(frozen=True, slots=True)
class CostProblem:
    """A pagination or node-limit violation, in GitHub's error vocabulary."""

    type: str
    message: str
    path: tuple[str, ...]


@dataclass(slots=True)
class CostReport:
    """What an operation will cost and what is wrong with it."""

    requests: int = 0
    nodes: int = 0
    mutations: int = 0
    problems: list[CostProblem] = field(default_factory=list)

    @property
    def cost(self) -> int:
        """Points charged against the hourly GraphQL budget."""
        return max(1, int(self.requests / 100 + 0.5))


@dataclass(frozen=True, slots=True)
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]


def _page_size(
    walk: _Walk, node: FieldNode, path: tuple[str, ...], report: CostReport, fdef: GraphQLField
) -> int:
    args = {a.name.value: a.value for a in node.arguments or ()}
    name = node.name.value
    for arg in ("first", "last"):
        if arg in args and arg in fdef.args:
            size = value_from_ast(args[arg], fdef.args[arg].type, dict(walk.variables))
            if isinstance(size, int):
                if not 1 <= size <= MAX_PAGE:
                    report.problems.append(CostProblem(
                        "EXCESSIVE_PAGINATION",
                        f"Requesting {size} records on the `{name}` connection exceeds the "
                        f"`{arg}` limit of {MAX_PAGE} records.", path))  # fmt: skip
                return max(1, size)
    report.problems.append(CostProblem(
        "MISSING_PAGINATION_BOUNDARIES",
        f"You must provide a `first` or `last` value to properly paginate the `{name}` "
        "connection.", path))  # fmt: skip
    return MAX_PAGE


def _field_def(parent: Any, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _walk(
    walk: _Walk,
    selections: SelectionSetNode,
    parent: Any,
    multiplier: int,
    path: tuple[str, ...],
    report: CostReport,
) -> None:
    for sel in selections.selections:
        if isinstance(sel, InlineFragmentNode):
            target = (
                walk.schema.get_type(sel.type_condition.name.value)
                if sel.type_condition
                else parent
            )
            _walk(walk, sel.selection_set, target, multiplier, path, report)
        elif isinstance(sel, FragmentSpreadNode):
            frag = walk.fragments.get(sel.name.value)
            if frag is not None:
                target = walk.schema.get_type(frag.type_condition.name.value)
                _walk(walk, frag.selection_set, target, multiplier, path, report)
        elif isinstance(sel, FieldNode):
            _walk_field(walk, sel, parent, multiplier, path, report)


def _walk_field(
    walk: _Walk,
    node: FieldNode,
    parent: Any,
    multiplier: int,
    path: tuple[str, ...],
    report: CostReport,
) -> None:
    fdef = _field_def(parent, node.name.value)
    if fdef is None or node.selection_set is None:
        return
    child = get_named_type(fdef.type)
    here = (*path, node.alias.value if node.alias else node.name.value)
    if child.name.endswith("Connection"):
        size = _page_size(walk, node, here, report, fdef)
        report.requests += multiplier
        report.nodes += multiplier * size
        multiplier *= size
    _walk(walk, node.selection_set, child, multiplier, here, report)


def _count_mutations(walk: _Walk, selections: SelectionSetNode) -> int:
    count = 0
    for sel in selections.selections:
        if isinstance(sel, FieldNode):
            count += sel.name.value != "__typename"
        elif isinstance(sel, InlineFragmentNode):
            count += _count_mutations(walk, sel.selection_set)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in walk.fragments:
            count += _count_mutations(walk, walk.fragments[sel.name.value].selection_set)
    return count


def analyse_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> CostReport:
    """Return the cost report of a validated operation with its coerced variables."""
    walk = _Walk(schema, fragments, variables)
    report = CostReport()
    root = (schema.mutation_type if operation.operation.value == "mutation"
            else schema.query_type)  # fmt: skip
    _walk(walk, operation.selection_set, root, 1, (operation.operation.value,), report)
    if operation.operation.value == "mutation":
        report.mutations = _count_mutations(walk, operation.selection_set)
    if report.nodes > MAX_NODES:
        report.problems.append(CostProblem(
            "MAX_NODE_LIMIT_EXCEEDED",
            f"This query requests up to {report.nodes:,} possible nodes which exceeds the "
            f"maximum limit of {MAX_NODES:,}.", (operation.operation.value,)))  # fmt: skip
    return report
