"""Find, read and validate the configuration, turning every problem into a ``ConfigError``.

Where the file comes from: ``--config``, else ``PRIOSYNC_CONFIG``, else ``./priosync.toml``.
The environment then overrides single settings as ``PRIOSYNC_<SECTION>__<KEY>``.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import hashlib
import json
import os
import re
import stat
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from config.models import FileSource, PriosyncConfig, Problem
from priosync.errors import ConfigError, ConfigErrors

DEFAULT_FILE = "priosync.toml"

# Keys that hold secrets, and the variable to use instead, by the table they appear in.
_SECRET_KEY = re.compile(
    r"^(token|api_token|apitoken|api_key|apikey|password|passwd|pat|secret|private_key|"
    r"webhook_secret|github_webhook_secret|jira_webhook_secret|client_secret)$",
    re.IGNORECASE,
)
# Values shaped like real credentials are refused wherever they appear.
_SECRET_VALUE = re.compile(
    r"^(ghp_|gho_|ghu_|ghs_|ghr_|github_pat_)[A-Za-z0-9_]{20,}$|^ATATT[A-Za-z0-9_\-=]{20,}$"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
_ENV_SECTIONS = ("SCORING", "OUTPUTS", "SOURCES", "SCHEDULE", "SERVER", "STATE")
# Variables priosync reads that are not settings overrides (secrets, the service's options).
_ENV_OTHER = (
    "PRIOSYNC_CONFIG",
    "PRIOSYNC_GITHUB_WEBHOOK_SECRET",
    "PRIOSYNC_JIRA_WEBHOOK_SECRET",
    "PRIOSYNC_JIRA_WEBHOOK_TOKEN",
    "PRIOSYNC_REPORT_TOKEN",
    "PRIOSYNC_WEBHOOK_IGNORE_ACTORS",
)
_SOURCE_KINDS = ("jira", "github", "file")


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    path: Path
    config: PriosyncConfig
    #: sha256 of the effective settings (file plus environment overrides), for the audit log.
    sha256: str


def find_config_path(
    explicit: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The file to load, or a ``ConfigError`` that says where priosync looked."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        candidates = [(explicit, "--config")]
    elif env.get("PRIOSYNC_CONFIG"):
        candidates = [(Path(env["PRIOSYNC_CONFIG"]), "PRIOSYNC_CONFIG")]
    else:
        candidates = [(Path(DEFAULT_FILE), "the current directory")]
    path, origin = candidates[0]
    if not path.is_file():
        raise ConfigError(
            f"no configuration file at {path} (from {origin}); "
            "create one with `priosync init` or pass --config PATH",
            file=str(path),
        )
    return path


def load_config(
    path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Read and validate the configuration; raise ``ConfigError`` naming file, key, expected, found."""
    env = os.environ if environ is None else environ
    file = find_config_path(path, env)
    raw = read_toml(file)
    return validate_config(raw, file=file, environ=env)


#: A config is a few tables deep; anything deeper is a mistake (or an attack on the parser).
MAX_DEPTH = 16
#: No config is this big; a larger file is not one.
MAX_FILE_BYTES = 1_048_576


def read_regular_file(path: Path, *, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or a ``ConfigError``.

    A device, a pipe or a directory is refused before anything is read (``/dev/zero`` would
    never end, a FIFO would hang), and nothing past the limit is read.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} file: {exc.strerror or exc}", file=str(path)
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"the {what} path is not a regular file",
            file=str(path),
            found="a device, pipe or directory",
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} file: {exc.strerror or exc}", file=str(path)
        ) from None
    if len(data) > max_bytes:
        raise ConfigError(
            f"the {what} file is too large",
            file=str(path),
            expected=f"at most {max_bytes:,} bytes",
            found="more",
        )
    return data


def read_toml(file: Path) -> dict[str, Any]:
    """The file's TOML as data: UTF-8 (a byte-order mark is allowed), at most 1 MiB and
    ``MAX_DEPTH`` levels deep; every failure a ``ConfigError``."""
    data = read_regular_file(file, max_bytes=MAX_FILE_BYTES, what="configuration")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=str(file)
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(file)) from None
    except ValueError as exc:  # a number past Python's 4,300-digit limit
        raise ConfigError(f"not a usable TOML value: {exc}", file=str(file)) from None
    except RecursionError:
        raise ConfigError(
            "not valid TOML: nested too deeply",
            file=str(file),
            expected=f"at most {MAX_DEPTH} levels",
        ) from None
    check_depth(raw, file=str(file))
    return raw


def check_depth(raw: Any, *, file: str, where: str = "") -> None:
    """Refuse data nested deeper than ``MAX_DEPTH`` (walked without recursion)."""
    stack: list[tuple[Any, int, str]] = [(raw, 0, where)]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(
                "nested too deeply",
                file=file,
                key=path or None,
                expected=f"at most {MAX_DEPTH} levels of tables and lists",
                found="more",
            )
        if isinstance(value, Mapping):
            stack.extend(
                (v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items()
            )
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))


def validate_config(
    raw: Mapping[str, Any], *, file: Path, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Validate already-parsed TOML data (plus environment overrides)."""
    env = os.environ if environ is None else environ
    check_depth(raw, file=str(file))
    problems = [*check_no_secrets(raw, file=str(file)), *check_env_names(env, file=str(file))]
    if problems:
        raise ConfigErrors(problems)
    overrides = env_overrides(env)
    merged = merge_overrides(raw, overrides)
    try:
        config = PriosyncConfig(**merged)
    except ValidationError as exc:
        errors = errors_from_validation(exc, merged, file=str(file), from_env=overrides)
        raise ConfigErrors(list(errors)) from None
    config = resolve_relative_paths(config, base=file.parent)
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()
    return LoadedConfig(path=file, config=config, sha256=digest)


def resolve_relative_paths(config: PriosyncConfig, *, base: Path) -> PriosyncConfig:
    """File sources' paths are relative to the config file, not the working directory."""
    sources = [
        s.model_copy(update={"path": base / s.path})
        if isinstance(s, FileSource) and not s.path.is_absolute()
        else s
        for s in config.sources
    ]
    return config.model_copy(update={"sources": sources})


# ── secrets ──────────────────────────────────────────────────────────────────────────────


def check_no_secrets(raw: Mapping[str, Any], *, file: str) -> Iterator[ConfigError]:
    """Refuse secrets written in the file, naming the variable to use; never echo the value."""
    for key_path, key, value, table in _walk(raw):
        if isinstance(value, str) and _SECRET_KEY.match(key) and value:
            yield ConfigError(
                "secrets are read from the environment only; remove this key and set "
                f"{_secret_variable(key, table)} instead",
                file=file,
                key=key_path,
                found="a value (not shown)",
                expected="no secret in the file",
            )
        elif key == "state" and isinstance(value, str) and _url_has_password(value):
            yield ConfigError(
                "a PostgreSQL password is read from the environment only; write the URL "
                "without it and set PGPASSWORD (or put the whole URL in PRIOSYNC_STATE)",
                file=file,
                key=key_path,
                found="a URL with a password (not shown)",
                expected="postgresql://user@host/database",
            )
        elif isinstance(value, str) and _SECRET_VALUE.search(value):
            yield ConfigError(
                "this looks like a token or private key; secrets are read from the environment "
                "only (see the README's Environment section)",
                file=file,
                key=key_path,
                found="a credential (not shown)",
                expected="no secret in the file",
            )


def _url_has_password(value: str) -> bool:
    if not value.lower().startswith(("postgresql://", "postgres://")):
        return False
    try:
        parts = urlsplit(value)
        return bool(parts.password) or "password=" in parts.query.lower()
    except ValueError:
        return False


def _secret_variable(key: str, table: Mapping[str, Any]) -> str:
    key = key.lower()
    kind = table.get("kind")
    if "webhook" in key:
        return "PRIOSYNC_JIRA_WEBHOOK_SECRET" if "jira" in key else "PRIOSYNC_GITHUB_WEBHOOK_SECRET"
    if kind == "github":
        return (
            "GITHUB_APP_PRIVATE_KEY"
            if "private" in key
            else str(table.get("token_env", "GITHUB_TOKEN"))
        )
    if kind == "jira":
        if key == "pat":
            return str(table.get("pat_env", "JIRA_PAT"))
        return str(table.get("token_env", "JIRA_API_TOKEN"))
    return "the matching environment variable (JIRA_API_TOKEN, JIRA_PAT or GITHUB_TOKEN)"


def check_env_names(environ: Mapping[str, str], *, file: str) -> Iterator[ConfigError]:
    """A ``PRIOSYNC_`` variable that overrides nothing is a typo: say so rather than ignore it."""
    for name in sorted(environ):
        if not name.startswith("PRIOSYNC_") or name in _ENV_OTHER:
            continue
        section = name.removeprefix("PRIOSYNC_").split("__", 1)[0]
        if section not in _ENV_SECTIONS:
            close = difflib.get_close_matches(
                name, [f"PRIOSYNC_{s}" for s in _ENV_SECTIONS] + list(_ENV_OTHER), n=1
            )
            hint = f"; did you mean {close[0]}?" if close else ""
            yield ConfigError(
                f"environment variable {name} overrides no setting{hint}",
                file=file,
                key=name,
                expected="PRIOSYNC_<SECTION>__<KEY> with a section of "
                + ", ".join(s.lower() for s in _ENV_SECTIONS),
                found=name,
            )


def _walk(
    data: Any, prefix: str = "", table: Mapping[str, Any] | None = None
) -> Iterator[tuple[str, str, Any, Mapping[str, Any]]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, str(key), value, data
            yield from _walk(value, path, data)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _walk(value, f"{prefix}[{i}]", table)


# ── environment overrides ────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Override:
    """One ``PRIOSYNC_<SECTION>__<KEY>`` variable: the key path it sets, and the value."""

    variable: str
    path: tuple[str, ...]
    value: Any


def env_overrides(environ: Mapping[str, str]) -> list[Override]:
    """The settings the environment overrides, each value decoded for the key it sets.

    A key that holds text (a field name, a URL, a cron line) takes the value as written; any
    other key (numbers, booleans, lists, tables) reads it as JSON, so ``PRIOSYNC_SERVER__PORT=8081``
    is the number 8081 and ``…__ACCEPT_UNSIGNED=true`` the boolean. A value that is not valid
    JSON stays text, and validation then names the variable — never the value, which may be
    a secret pasted into the wrong variable.
    """
    found = []
    for name in sorted(environ):
        if not name.startswith("PRIOSYNC_") or name in _ENV_OTHER:
            continue
        section, *rest = name.removeprefix("PRIOSYNC_").split("__")
        if section not in _ENV_SECTIONS or any(not part for part in rest):
            continue  # reported by check_env_names, or a malformed name
        path = (section.lower(), *(part.lower() for part in rest))
        value = environ[name]
        if not _holds_text(path):
            with contextlib.suppress(ValueError, RecursionError):
                value = json.loads(value)
        found.append(Override(name, path, value))
    return found


def merge_overrides(raw: Mapping[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """The file's data with each override set at its key path (tables are created as needed)."""
    merged: dict[str, Any] = copy.deepcopy(dict(raw))
    for override in overrides:
        table = merged
        for part in override.path[:-1]:
            nested = table.get(part)
            if not isinstance(nested, dict):
                nested = table[part] = {}
            table = nested
        table[override.path[-1]] = override.value
    return merged


def _holds_text(path: tuple[str, ...]) -> bool:
    """True when the setting at ``path`` is text (str, a path, a choice of words)."""
    annotation: Any = PriosyncConfig
    for part in path:
        model = _model_in(annotation, None)
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            # A key inside a dict setting (scales.impact, inputs.reach): look at its values.
            if typing.get_origin(annotation) is dict:
                annotation = typing.get_args(annotation)[1]
                continue
            return False
        annotation = field.annotation
    return _is_text(annotation)


def _is_text(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return all(_is_text(a) for a in args)
    if origin is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(annotation))
    return annotation in (str, Path)


# ── pydantic errors → ConfigError ────────────────────────────────────────────────────────


def errors_from_validation(
    exc: ValidationError,
    raw: Mapping[str, Any],
    *,
    file: str,
    from_env: Sequence[Override] = (),
) -> Iterator[ConfigError]:
    for err in exc.errors(include_url=False):
        loc = _strip_tags(tuple(err["loc"]))
        kind = err["type"]
        problem = (err.get("ctx") or {}).get("error")
        found = _found(err.get("input"))
        variable = _env_variable(loc, from_env)
        if variable is not None:
            # Never echo an environment value: it may be a token in the wrong variable.
            found = f"the value of {variable} (not shown)"
        if isinstance(problem, Problem):
            key = _join(loc, problem.key)
            problem_found = None if problem.found is None else str(problem.found)
            yield ConfigError(
                str(problem),
                file=file,
                key=key or None,
                expected=problem.expected,
                found=found if variable is not None else problem_found,
            )
        elif kind == "extra_forbidden":
            known = _known_keys(loc[:-1], raw)
            close = difflib.get_close_matches(str(loc[-1]), known, n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            yield ConfigError(
                f"unknown key{hint}",
                file=file,
                key=_join(loc),
                expected="one of " + ", ".join(known) if known else None,
                found=repr(loc[-1]),
            )
        elif kind == "missing":
            yield ConfigError("required key is missing", file=file, key=_join(loc))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            yield ConfigError(
                "unknown source kind",
                file=file,
                key=_join((*loc, "kind")),
                expected=" or ".join(repr(k) for k in _SOURCE_KINDS),
                found=_found((err.get("ctx") or {}).get("tag"))
                if kind == "union_tag_invalid"
                else "nothing",
            )
        elif kind == "value_error":
            yield ConfigError(
                err["msg"].removeprefix("Value error, "),
                file=file,
                key=_join(loc) or None,
                found=None
                if variable is None and isinstance(err.get("input"), (Mapping, list))
                else found,
            )
        else:
            message = err["msg"]
            yield ConfigError(
                "invalid value",
                file=file,
                key=_join(loc) or None,
                expected=_expected_from(message),
                found=found,
            )


def _env_variable(loc: tuple[Any, ...], overrides: Sequence[Override]) -> str | None:
    """The variable that set the value at ``loc`` (or a table around it), if one did."""
    path = tuple(str(p) for p in loc)
    for override in overrides:
        n = len(override.path)
        if path[:n] == override.path or override.path[: len(path)] == path:
            return override.variable
    return None


def _strip_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Discriminated unions add the tag to the path: ("sources", 0, "jira", "url").
    out: list[Any] = []
    for i, part in enumerate(loc):
        if (
            part in _SOURCE_KINDS
            and i >= 2
            and loc[i - 2] == "sources"
            and isinstance(loc[i - 1], int)
        ):
            continue
        out.append(part)
    return tuple(out)


def _join(loc: tuple[Any, ...], extra: str | None = None) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    if extra:
        text = f"{text}{extra}" if extra.startswith("[") else (f"{text}.{extra}" if text else extra)
    return text


def _found(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected_from(message: str) -> str:
    message = message[0].lower() + message[1:] if message else message
    return message.removeprefix("input should be ")


def _known_keys(loc: tuple[Any, ...], raw: Mapping[str, Any]) -> list[str]:
    """The keys the model at ``loc`` accepts, for 'did you mean' hints."""
    annotation: Any = PriosyncConfig
    data: Any = raw
    for part in loc:
        if not isinstance(part, int):
            model = _model_in(annotation, data)
            field = model.model_fields.get(part) if _is_model(model) else None
            if field is None:
                return []
            annotation = field.annotation
        data = data[part] if isinstance(data, (Mapping, list)) and _has(data, part) else None
    model = _model_in(annotation, data)
    return list(model.model_fields) if _is_model(model) else []


def _has(data: Any, part: Any) -> bool:
    if isinstance(data, Mapping):
        return part in data
    return isinstance(part, int) and 0 <= part < len(data)


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _model_in(annotation: Any, data: Any) -> Any:
    """Find the model class inside list[...] / X | None / Annotated[...] / a tagged union."""
    if _is_model(annotation):
        return annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _model_in(args[0], data)
    if origin in (list, tuple):
        return _model_in(args[0], data)
    if origin in (typing.Union, types.UnionType):
        models = [_model_in(a, data) for a in args]
        models = [m for m in models if _is_model(m)]
        kind = data.get("kind") if isinstance(data, Mapping) else None
        for m in models:
            tag = m.model_fields.get("kind")
            if tag is not None and kind in typing.get_args(tag.annotation):
                return m
        return models[0] if len(models) == 1 else None
    return None
