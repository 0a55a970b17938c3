"""Cut ``tests/contracts/jira-cloud-v3-subset.json`` from Atlassian's whole OpenAPI description.

Usage::

    python scripts/cut_jira_contract.py SWAGGER-V3.JSON tests/contracts/jira-cloud-v3-subset.json

Keeps the operations listed in the current subset's ``x-subset.operations`` plus any given
with ``--add "METHOD /path"``, every component they reference (transitively), the security
schemes they name and the tags they use; drops ``x-atlassian-narrative``. Content is copied
unchanged; paths follow the order of the operations list, components the upstream order.
The source's sha256 must be the one ``x-subset.source.sha256`` records.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any


def referenced(upstream: dict[str, Any], root: Any) -> set[tuple[str, str]]:
    """(component kind, name) of everything ``root`` references, transitively."""
    seen: set[tuple[str, str]] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                kind, name = ref.split("/")[2:4]
                if (kind, name) not in seen:
                    seen.add((kind, name))
                    todo.append(upstream["components"][kind][name])
            todo.extend(v for k, v in node.items() if k != "$ref")
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def security_names(node: Any) -> set[str]:
    if isinstance(node, dict):
        names = {n for s in node.get("security", ()) for n in s}
        return names.union(*(security_names(v) for k, v in node.items() if k != "security"))
    if isinstance(node, list):
        return set().union(*(security_names(v) for v in node))
    return set()


def cut(upstream: dict[str, Any], current: dict[str, Any], add: list[str]) -> dict[str, Any]:
    subset = dict(current["x-subset"])
    operations = list(dict.fromkeys([*subset["operations"], *add]))
    subset["operations"] = operations
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        method, path = operation.split(" ", 1)
        paths.setdefault(path, {})[method.lower()] = upstream["paths"][path][method.lower()]
    paths = {p: {m: ops[m] for m in upstream["paths"][p] if m in ops} for p, ops in paths.items()}
    refs = referenced(upstream, paths)
    components: dict[str, Any] = {}
    for kind, named in upstream["components"].items():
        if kind == "securitySchemes":
            wanted = security_names(paths) | security_names(upstream.get("security", []))
            components[kind] = {n: v for n, v in named.items() if n in wanted}
            continue
        kept = {n: v for n, v in named.items() if (kind, n) in refs}
        if kept:
            components[kind] = kept
    used = {t for ops in paths.values() for op in ops.values() for t in op.get("tags", ())}
    out: dict[str, Any] = {}
    for key in current:
        if key == "x-subset":
            out[key] = subset
        elif key == "paths":
            out[key] = paths
        elif key == "components":
            out[key] = components
        elif key == "tags":
            out[key] = [t for t in upstream["tags"] if t["name"] in used]
        else:
            out[key] = upstream[key]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream", type=Path)
    parser.add_argument("subset", type=Path)
    parser.add_argument("--add", action="append", default=[], metavar="OPERATION")
    args = parser.parse_args()
    raw = args.upstream.read_bytes()
    current = json.loads(args.subset.read_text(encoding="utf-8"))
    expected = current["x-subset"]["source"]["sha256"]
    if hashlib.sha256(raw).hexdigest() != expected:
        raise SystemExit(f"{args.upstream} is not the recorded source (sha256 {expected})")
    result = cut(json.loads(raw), current, args.add)
    args.subset.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
