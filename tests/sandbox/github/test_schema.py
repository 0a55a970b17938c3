"""The packaged SDL is a faithful subset of GitHub's official schema."""

from __future__ import annotations

from importlib.resources import files

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    print_type,
)

from sandbox.github.graphql_api import RESOLVERS, load_schema
from sandbox.github.schema_trim import trim_schema

PACKAGE = "sandbox.github"


def _signature(field: object) -> str:
    args = getattr(field, "args", {})
    return f"{field.type}({', '.join(f'{n}: {a.type}={a.default_value!r}' for n, a in sorted(args.items()))})"  # type: ignore[attr-defined]


class TestTrimmedSchema:
    def test_regenerating_gives_the_packaged_file(self, official_sdl: str) -> None:
        """The packaged schema.graphql is exactly what schema_trim makes of the official SDL."""
        packaged = files(PACKAGE).joinpath("schema.graphql").read_text(encoding="utf-8")
        assert trim_schema(official_sdl) == packaged

    def test_every_kept_field_is_identical(self, official_schema: GraphQLSchema) -> None:
        """Each kept field has the official type, arguments and defaults; nothing is invented."""
        mismatches = []
        for name, kept in load_schema().type_map.items():
            if name.startswith("__"):
                continue
            official = official_schema.type_map.get(name)
            assert official is not None, name
            if isinstance(kept, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
                for field_name, field in kept.fields.items():
                    theirs = getattr(official, "fields", {}).get(field_name)
                    if theirs is None or _signature(field) != _signature(theirs):
                        mismatches.append(f"{name}.{field_name}")
            elif not isinstance(kept, GraphQLUnionType) and print_type(kept) != print_type(
                official
            ):
                mismatches.append(name)
        assert mismatches == []

    def test_inputs_and_enums_are_whole(self, official_schema: GraphQLSchema) -> None:
        """Input objects and enums are kept with every field and value."""
        sandbox = load_schema()
        for name, kept in sandbox.type_map.items():
            if isinstance(kept, GraphQLInputObjectType):
                assert set(kept.fields) == set(
                    getattr(official_schema.type_map[name], "fields", {})
                ), name

    def test_interfaces_and_unions_only_narrow(self, official_schema: GraphQLSchema) -> None:
        """Kept interface lists and union members are subsets of the official ones."""
        for name, kept in load_schema().type_map.items():
            official = official_schema.type_map.get(name)
            if isinstance(kept, GraphQLObjectType):
                assert {i.name for i in kept.interfaces} <= {i.name for i in official.interfaces}  # type: ignore[union-attr]
            if isinstance(kept, GraphQLUnionType):
                assert {t.name for t in kept.types} <= {t.name for t in official.types}  # type: ignore[union-attr]

    def test_every_resolver_names_a_served_field(self) -> None:
        """No resolver is registered for a type or field the schema does not have."""
        schema = load_schema()
        unknown = [
            f"{t}.{f}" for t, f in RESOLVERS
            if not isinstance(schema.type_map.get(t), GraphQLObjectType)
            or f not in getattr(schema.type_map[t], "fields", {})
        ]  # fmt: skip
        assert unknown == []

    def test_mutations_return_served_payloads(self) -> None:
        """The mutations priosync needs are present and return object payloads."""
        mutation = load_schema().mutation_type
        assert mutation is not None
        for name in (
            "updateProjectV2ItemFieldValue",
            "clearProjectV2ItemFieldValue",
            "addLabelsToLabelable",
            "removeLabelsFromLabelable",
            "createLabel",
        ):
            assert isinstance(get_named_type(mutation.fields[name].type), GraphQLObjectType)
