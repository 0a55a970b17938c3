"""Run a composite ``action.yml`` the way a GitHub runner would, on this machine.

Usage::

    python scripts/run_action.py --input command=plan --input config=priosync.toml \\
        --workspace . --python "$(command -v python3)"

What it does, in the runner's order:

1. Copies the action's directory to ``$RUNNER_TEMP/_actions/priosync`` (a runner downloads
   the action the same way), so installing from it never touches this checkout.
2. Resolves the inputs (defaults, then ``--input``; an unknown or missing required input is
   an error, as on a runner).
3. Sets the runner's variables: ``GITHUB_ACTIONS``, ``CI``, ``GITHUB_ACTION_PATH``,
   ``GITHUB_WORKSPACE``, ``RUNNER_TEMP``, ``RUNNER_OS``, ``GITHUB_STEP_SUMMARY`` (one file
   for the whole action), and a fresh ``GITHUB_OUTPUT`` / ``GITHUB_ENV`` / ``GITHUB_PATH``
   per step, read back after the step.
4. Runs each ``run:`` step with ``bash --noprofile --norc -eo pipefail`` in the workspace,
   after substituting ``${{ inputs.* }}``, ``${{ steps.<id>.outputs.* }}``,
   ``${{ github.action_path }}``, ``${{ github.workspace }}``, ``${{ github.token }}``
   (``GITHUB_TOKEN`` of the environment; input defaults may use it), ``${{ runner.os }}``,
   ``${{ runner.temp }}`` and ``${{ env.* }}``. Any other expression, and ``if:``, are
   refused rather than guessed.
5. Skips other ``uses:`` steps and says so. ``actions/setup-python`` is stood in for by
   putting ``--python`` first on ``PATH`` as ``python``; ``actions/cache`` (pip downloads)
   simply misses. ``actions/cache/restore`` and ``actions/cache/save`` are emulated with
   ``--cache-dir``, as GitHub keeps them: an entry per key, never overwritten; restore takes
   the exact key, else the newest entry whose key starts with a ``restore-keys`` prefix
   (without ``--cache-dir`` they miss and save nothing). Each run gets a fresh
   ``GITHUB_RUN_ID``, so two runs are two entries, as on GitHub.
6. Stops at the first failing step, evaluates the action's ``outputs``, and prints a JSON
   result: ``conclusion`` (success/failure), ``failed_step``, ``exit_code``, ``outputs``,
   ``summary`` (the summary file's path) and ``skipped_steps``.

The caller's environment passes through, like a workflow's ``env:`` (tokens included); the
script never prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: bash as a runner finds it, on PATH.
BASH = shutil.which("bash") or "/bin/bash"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
#: Left out of the copy: VCS data, environments, caches and build output.
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    # Local caches (a debootstrapped rootfs holds absolute symlinks: following them would
    # copy the host's whole file system).
    ".cache",
    ".hypothesis",
    "__pycache__",
    "*.egg-info",
    "build",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".cache",
    "node_modules",
)


class ActionError(Exception):
    """The action cannot be run as written (bad YAML, an unsupported expression, …)."""


@dataclass
class StepRecord:
    """How one step ended."""

    name: str
    outputs: dict[str, str] = field(default_factory=dict)
    exit_code: int = 0
    skipped: bool = False


@dataclass
class RunResult:
    """The action's conclusion, as a workflow would see it."""

    conclusion: str
    outputs: dict[str, str]
    summary: Path
    failed_step: str | None = None
    exit_code: int = 0
    skipped_steps: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "conclusion": self.conclusion,
            "failed_step": self.failed_step,
            "exit_code": self.exit_code,
            "outputs": self.outputs,
            "summary": str(self.summary),
            "skipped_steps": self.skipped_steps,
        }


# ── pure: reading the action and evaluating expressions ─────────────────────────────────


def load_action(path: Path) -> dict[str, Any]:
    """Parse ``action.yml`` and check it is a composite action."""
    action = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(action, dict) or action.get("runs", {}).get("using") != "composite":
        raise ActionError(f"{path}: runs.using must be 'composite'")
    return action


def resolve_inputs(
    action: Mapping[str, Any], given: Mapping[str, str], context: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Defaults (their expressions evaluated in ``context``) overridden by ``given``; unknown
    names and missing required inputs are errors."""
    declared: Mapping[str, Any] = action.get("inputs") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ActionError(f"unexpected input(s): {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = given[name]
        elif spec.get("required") and "default" not in spec:
            raise ActionError(f"input required and not supplied: {name}")
        else:
            values[name] = substitute(str(spec.get("default", "")), context or {})
    return values


def substitute(text: str, context: Mapping[str, Any]) -> str:
    """Replace each ``${{ … }}`` with its value from ``context``; unknown ones are errors."""
    return EXPRESSION.sub(lambda match: evaluate(match.group(1), context), text)


def evaluate(expression: str, context: Mapping[str, Any]) -> str:
    """A dotted property path (``inputs.x``, ``steps.run.outputs.y``); nothing else."""
    if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", expression):
        raise ActionError(f"unsupported expression: ${{{{ {expression} }}}}")
    value: Any = context
    for part in expression.split("."):
        if not isinstance(value, Mapping) or part not in value:
            if expression.startswith(("steps.", "env.")):
                return ""  # the runner yields '' for a missing step output or variable
            raise ActionError(f"unknown value in expression: ${{{{ {expression} }}}}")
        value = value[part]
    return str(value)


def parse_command_file(text: str) -> dict[str, str]:
    """``GITHUB_OUTPUT``/``GITHUB_ENV`` syntax: ``name=value`` and ``name<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                block.append(body)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


# ── I/O: preparing the runner and running steps ──────────────────────────────────────────


def prepare_runner(temp: Path, action_dir: Path, python: Path) -> tuple[Path, Path]:
    """Copy the action and stand in for setup-python; return (action path, tool bin dir)."""
    action_path = temp / "_actions" / "priosync"
    if action_path.exists():
        shutil.rmtree(action_path)
    shutil.copytree(action_dir, action_path, ignore=COPY_IGNORE, symlinks=True)
    tool_bin = temp / "_tool" / "bin"
    tool_bin.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        # A wrapper, not a symlink: a venv's interpreter finds its pyvenv.cfg only when run
        # by its own path, and a symlink elsewhere would silently run the base interpreter.
        wrapper = tool_bin / name
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} "$@"\n')
        wrapper.chmod(0o755)
    return action_path, tool_bin


def run_step(
    index: int, step: Mapping[str, Any], env: dict[str, str], context: Mapping[str, Any]
) -> StepRecord:
    """Run one composite ``run:`` step with bash; apply its GITHUB_ENV and GITHUB_PATH."""
    name = str(step.get("name") or step.get("id") or f"step {index}")
    if "if" in step:
        raise ActionError(f"{name}: `if:` is not supported by this runner emulation")
    if step.get("shell") != "bash":
        raise ActionError(
            f"{name}: composite run steps need `shell: bash`, got {step.get('shell')!r}"
        )
    step_dir = Path(env["RUNNER_TEMP"]) / "_steps" / str(index)
    step_dir.mkdir(parents=True, exist_ok=True)
    files = {
        kind: step_dir / kind.lower() for kind in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH")
    }
    for path in files.values():
        path.write_text("")
    script = step_dir / "script.sh"
    script.write_text(substitute(str(step["run"]), context))
    step_env = {k: substitute(str(v), context) for k, v in (step.get("env") or {}).items()}
    full_env = {**env, **step_env, **{k: str(p) for k, p in files.items()}}
    done = subprocess.run(  # noqa: S603 (the action's own step, as a runner runs it)
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=env["GITHUB_WORKSPACE"],
        env=full_env,
        check=False,
    )
    env.update(parse_command_file(files["GITHUB_ENV"].read_text()))
    for entry in reversed(files["GITHUB_PATH"].read_text().splitlines()):
        env["PATH"] = f"{entry}{os.pathsep}{env['PATH']}"
    outputs = parse_command_file(files["GITHUB_OUTPUT"].read_text())
    return StepRecord(name=name, outputs=outputs, exit_code=done.returncode)


def cache_step(
    uses: str, given: Mapping[str, str], *, workspace: Path, cache_dir: Path | None
) -> StepRecord:
    """``actions/cache/restore`` or ``actions/cache/save`` on a local directory of entries."""
    path, key = given.get("path", "").strip(), given.get("key", "").strip()
    if not path or not key:
        raise ActionError(f"{uses}: `path` and `key` are required")
    target = workspace / path
    if uses.startswith("actions/cache/save@"):
        entry = cache_dir / _entry_name(key) if cache_dir is not None else None
        if entry is not None and target.is_dir() and not entry.exists():
            shutil.copytree(target, entry / "files")
            (entry / "key").write_text(key)
        return StepRecord(name=uses)
    outputs = {"cache-hit": "false", "cache-matched-key": "", "cache-primary-key": key}
    found = _lookup(cache_dir, key, given.get("restore-keys", "")) if cache_dir else None
    if found is not None:
        matched, entry = found
        shutil.copytree(entry / "files", target, dirs_exist_ok=True)
        outputs.update({"cache-hit": str(matched == key).lower(), "cache-matched-key": matched})
    return StepRecord(name=uses, outputs=outputs)


def _entry_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def _lookup(cache_dir: Path, key: str, restore_keys: str) -> tuple[str, Path] | None:
    """The exact key's entry, else the newest whose key starts with a restore prefix."""
    entries = [
        (e.stat().st_mtime_ns, (e / "key").read_text(), e)
        for e in cache_dir.iterdir()
        if (e / "key").is_file()
    ]
    for matched, _, entry in ((k, t, e) for t, k, e in entries if k == key):
        return matched, entry
    for prefix in filter(None, (line.strip() for line in restore_keys.splitlines())):
        candidates = sorted((e for e in entries if e[1].startswith(prefix)), reverse=True)
        if candidates:
            return candidates[0][1], candidates[0][2]
    return None


def run_action(
    action_file: Path,
    *,
    inputs: Mapping[str, str],
    workspace: Path,
    temp: Path,
    python: Path,
    environ: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> RunResult:
    """Run every step of the composite action; stop at the first failure, like a runner."""
    action = load_action(action_file)
    base = dict(os.environ if environ is None else environ)
    values = resolve_inputs(action, inputs, {"github": {"token": base.get("GITHUB_TOKEN", "")}})
    action_path, tool_bin = prepare_runner(temp, action_file.parent, python)
    summary = temp / "_summary" / "step_summary.md"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text("")
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "GITHUB_WORKFLOW": "emulated",
        **base,
        "GITHUB_RUN_ID": str(time.time_ns()),
        "GITHUB_RUN_ATTEMPT": "1",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(temp),
        "RUNNER_OS": "Linux",
        "PATH": f"{tool_bin}{os.pathsep}{base.get('PATH', os.defpath)}",
    }
    steps: dict[str, dict[str, dict[str, str]]] = {}
    result = RunResult(conclusion="success", outputs={}, summary=summary)
    for index, step in enumerate(action["runs"]["steps"]):
        context = {
            "inputs": values,
            "steps": steps,
            "env": env,
            "github": {
                "action_path": str(action_path),
                "workspace": str(workspace),
                "token": base.get("GITHUB_TOKEN", ""),
            },
            "runner": {"os": "Linux", "temp": str(temp)},
        }
        uses = str(step.get("uses", ""))
        if uses.startswith(("actions/cache/restore@", "actions/cache/save@")):
            given = {k: substitute(str(v), context) for k, v in (step.get("with") or {}).items()}
            record = cache_step(uses, given, workspace=workspace, cache_dir=cache_dir)
        elif uses:
            result.skipped_steps.append(uses)
            continue
        else:
            record = run_step(index, step, env, context)
        if "id" in step:
            steps[str(step["id"])] = {"outputs": record.outputs}
        if record.exit_code != 0:
            result.conclusion, result.failed_step = "failure", record.name
            result.exit_code = record.exit_code
            break
    context = {"steps": steps, "inputs": values}
    result.outputs = {
        name: substitute(str(spec.get("value", "")), context)
        for name, spec in (action.get("outputs") or {}).items()
    }
    return result


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``name=value`` arguments as a dict."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ActionError(f"expected name=value, got {pair!r}")
        parsed[name] = value
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the action, print the JSON result, exit 0 on success and 1 on failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    repo = Path(__file__).resolve().parents[1]
    parser.add_argument("--action", type=Path, default=repo / "action.yml")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--workspace", type=Path, default=Path.cwd())
    parser.add_argument("--temp", type=Path, help="RUNNER_TEMP (default: a fresh directory)")
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    parser.add_argument(
        "--cache-dir", type=Path, help="where actions/cache/save keeps entries (default: none)"
    )
    args = parser.parse_args(argv)
    try:
        temp = args.temp or Path(tempfile.mkdtemp(prefix="runner-temp-"))
        result = run_action(
            args.action.resolve(),
            inputs=parse_pairs(args.input),
            workspace=args.workspace.resolve(),
            temp=temp.resolve(),
            python=args.python,
            cache_dir=args.cache_dir,
        )
    except ActionError as exc:
        print(f"run_action: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), indent=2))
    return 0 if result.conclusion == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
