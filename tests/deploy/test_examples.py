"""Static checks of the action, the example workflows, the Dockerfile and the Kubernetes files.

These parse the files and check the properties that matter (non-root, health checks, secrets
from a Secret, read-only config, pinned actions). The image itself is built and run by
tests/container (`make container-test`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import validate_config

REPO = Path(__file__).resolve().parents[2]
PACKAGES = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
WORKFLOWS = REPO / "examples" / "github-actions"
DEPLOY = REPO / "examples" / "deploy"
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PRIVATE_KEY|_PAT$|EMAIL")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as the boolean True.
    found = workflow.get("on", workflow.get(True))
    assert isinstance(found, dict)
    return found


def steps(workflow: dict[Any, Any]) -> Iterator[dict[str, Any]]:
    for job in workflow["jobs"].values():
        yield from job["steps"]


def our_action_steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [
        s for s in steps(workflow) if str(s.get("uses", "")).split("@")[0].endswith("/priosync")
    ]


ACTION = load_yaml(REPO / "action.yml")


class TestActionYml:
    def test_declares_the_documented_inputs_and_outputs(self) -> None:
        """Inputs: config, command, max-writes, source, python-version, state, comment,
        github-token; outputs carry the counts."""
        assert set(ACTION["inputs"]) == {
            "config",
            "command",
            "max-writes",
            "source",
            "python-version",
            "state",
            "comment",
            "github-token",
        }
        assert {"changed", "unchanged", "skipped", "failed"} <= set(ACTION["outputs"])
        assert ACTION["runs"]["using"] == "composite"

    def test_run_steps_never_splice_inputs_into_shell(self) -> None:
        """Inputs reach scripts through env, so an input cannot inject shell commands."""
        run_steps = [s for s in ACTION["runs"]["steps"] if "run" in s]
        assert run_steps
        for step in run_steps:
            assert step["shell"] == "bash"
            assert "${{ inputs." not in step["run"]

    def test_keeps_the_audit_log_in_the_actions_cache(self) -> None:
        """The state folder is restored before priosync runs and saved after, under a per-run key
        with a prefix to restore from; the save comes before the step that fails the action."""
        steps = ACTION["runs"]["steps"]
        uses = [str(s.get("uses", "")).split("@")[0] for s in steps]
        restore, save = uses.index("actions/cache/restore"), uses.index("actions/cache/save")
        run = next(i for i, s in enumerate(steps) if s.get("id") == "run")
        assert restore < run < save < len(steps) - 1
        assert steps[restore]["with"]["restore-keys"] == "${{ steps.state.outputs.prefix }}"
        assert steps[save]["with"]["key"] == steps[restore]["with"]["key"]
        assert "GITHUB_RUN_ID" in next(s["run"] for s in steps if s.get("id") == "state")

    def test_installs_from_its_own_checkout_with_a_pip_cache(self) -> None:
        """priosync is installed from GITHUB_ACTION_PATH, and pip downloads are cached."""
        runs = [s["run"] for s in ACTION["runs"]["steps"] if "run" in s]
        assert any("pip install" in r and '"$GITHUB_ACTION_PATH"' in r for r in runs)
        assert any(
            str(s.get("uses", "")).startswith("actions/cache@") for s in ACTION["runs"]["steps"]
        )


@pytest.fixture(params=sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def workflow_file(request: pytest.FixtureRequest) -> Path:
    return WORKFLOWS / str(request.param)


@pytest.fixture
def workflow(workflow_file: Path) -> dict[Any, Any]:
    return dict(load_yaml(workflow_file))


class TestWorkflows:
    def test_grant_only_read_access_to_the_repository(self, workflow: dict[Any, Any]) -> None:
        """Workflows read the repository only; the PR workflow may also write its one comment."""
        allowed = {"contents": "read"}
        if "pull_request" in triggers(workflow):
            allowed["pull-requests"] = "write"
        assert workflow["permissions"] == allowed
        for job in workflow["jobs"].values():
            assert "write" not in str(job.get("permissions", ""))

    def test_pin_the_action_to_a_full_commit_and_say_how(self, workflow_file: Path) -> None:
        """`uses: OWNER/priosync@<40 hex>`, with a comment just above on how to pin it."""
        lines = workflow_file.read_text().splitlines()
        uses = [i for i, line in enumerate(lines) if "/priosync@" in line]
        assert uses
        for index in uses:
            assert re.fullmatch(r"\s*uses: OWNER/priosync@[0-9a-f]{40}", lines[index])
            above = " ".join(lines[index - 3 : index])
            assert "full commit SHA" in above
            assert "git ls-remote" in above

    def test_list_every_secret_and_source_at_the_top(self, workflow_file: Path) -> None:
        """Each secret and variable the workflow reads, and its sources, are named in its header."""
        text = workflow_file.read_text()
        header = text.split("\nname:", 1)[0]
        for name in set(re.findall(r"\$\{\{ (?:secrets|vars)\.(\w+) \}\}", text)):
            if name != "GITHUB_TOKEN":
                assert name in header, f"{workflow_file.name}: {name} is not listed at the top"
        assert "sources:" in header
        for source in re.findall(r"^\s+source: ([\w-]+)$", text, flags=re.M):
            assert source in header

    def test_runs_never_overlap(self, workflow: dict[Any, Any]) -> None:
        """A concurrency group is set on the workflow or on every job."""
        jobs = workflow["jobs"].values()
        assert "concurrency" in workflow or all("concurrency" in job for job in jobs)

    def test_use_this_action_with_valid_inputs(self, workflow: dict[Any, Any]) -> None:
        """Each workflow uses the priosync action with declared inputs and a known command."""
        used = our_action_steps(workflow)
        assert used
        for step in used:
            given = step.get("with", {})
            assert set(given) <= set(ACTION["inputs"])
            command = str(given.get("command", "sync"))
            assert command in {"sync", "plan"} or command.startswith("${{")

    def test_pass_tokens_from_secrets_or_an_app_token(self, workflow: dict[Any, Any]) -> None:
        """Tokens given to the action come from secrets or a step output, never literals."""
        for step in our_action_steps(workflow):
            for name, value in step.get("env", {}).items():
                assert SECRET_NAME.search(name)
                assert re.fullmatch(
                    r"\$\{\{ (secrets\.\w+|steps\.[\w-]+\.outputs\.token) \}\}", value
                )

    def test_every_job_has_a_timeout(self, workflow: dict[Any, Any]) -> None:
        """A stuck tracker cannot hold a runner for the default six hours."""
        assert all("timeout-minutes" in job for job in workflow["jobs"].values())


class TestSpecificWorkflows:
    def test_scheduled_sync_runs_on_a_schedule_and_by_hand(self) -> None:
        """The scheduled workflow has a cron schedule and workflow_dispatch, and syncs."""
        workflow = load_yaml(WORKFLOWS / "priosync-schedule.yml")
        on = triggers(workflow)
        assert on["schedule"][0]["cron"]
        assert "workflow_dispatch" in on
        assert workflow["concurrency"]["cancel-in-progress"] is False

    def test_pull_request_plans_when_the_config_changes(self) -> None:
        """The PR workflow triggers on priosync.toml changes, only plans, and comments once."""
        workflow = load_yaml(WORKFLOWS / "priosync-plan-on-pr.yml")
        assert triggers(workflow)["pull_request"]["paths"] == ["priosync.toml"]
        assert [s["with"]["command"] for s in our_action_steps(workflow)] == ["plan"]
        assert [s["with"]["comment"] for s in our_action_steps(workflow)] == ["true"]

    def test_github_projects_uses_an_app_token(self) -> None:
        """The Projects workflow mints an App token and passes it as GITHUB_TOKEN."""
        workflow = load_yaml(WORKFLOWS / "priosync-github-projects.yml")
        all_steps = list(steps(workflow))
        minting = [
            s
            for s in all_steps
            if str(s.get("uses", "")).startswith("actions/create-github-app-token@")
        ]
        assert len(minting) == 1
        assert set(minting[0]["with"]) >= {"app-id", "private-key"}
        token_ref = f"${{{{ steps.{minting[0]['id']}.outputs.token }}}}"
        assert [s["env"]["GITHUB_TOKEN"] for s in our_action_steps(workflow)] == [token_ref]

    def test_matrix_runs_one_job_per_source(self) -> None:
        """The matrix workflow passes each matrix source to the action, one group per source."""
        workflow = load_yaml(WORKFLOWS / "priosync-matrix.yml")
        job = workflow["jobs"]["sync"]
        assert len(job["strategy"]["matrix"]["source"]) > 1
        assert "matrix.source" in job["concurrency"]["group"]
        assert our_action_steps(workflow)[0]["with"]["source"] == "${{ matrix.source }}"


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            logical.append(pending)
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


class TestDockerfile:
    instructions = dockerfile_instructions(REPO / "Dockerfile")

    def args(self, name: str) -> list[str]:
        return [a for n, a in self.instructions if n == name]

    def test_builds_on_slim_python_unless_told_otherwise(self) -> None:
        """The base image is a build argument that defaults to python:3.11-slim."""
        assert self.args("FROM") == ["${BASE_IMAGE}"]
        assert "BASE_IMAGE=python:3.11-slim" in self.args("ARG")

    def test_runs_as_a_non_root_user(self) -> None:
        """The last USER is not root and comes after every RUN."""
        names = [n for n, _ in self.instructions]
        user = self.args("USER")[-1].split(":")[0]
        assert user not in {"root", "0"}
        assert names.index("USER") > max(i for i, n in enumerate(names) if n == "RUN")

    def test_serves_by_default_with_a_health_check(self) -> None:
        """`priosync serve` is the default command and HEALTHCHECK asks /healthz with Python."""
        assert self.args("ENTRYPOINT") == ['["priosync"]']
        assert self.args("CMD") == ['["serve"]']
        (check,) = self.args("HEALTHCHECK")
        assert "/healthz" in check
        assert '"python"' in check
        assert "curl" not in check
        # The port the service listens on, not a fixed 8080.
        assert "PRIOSYNC_SERVER__PORT" in check
        assert ":8080/" not in check

    def test_reads_config_from_a_mount_and_keeps_state_on_a_volume(self) -> None:
        """PRIOSYNC_CONFIG points into /config and PRIOSYNC_STATE into the /state volume."""
        env = " ".join(self.args("ENV"))
        assert "PRIOSYNC_CONFIG=/config/priosync.toml" in env
        assert "PRIOSYNC_STATE=/state/" in env
        assert self.args("VOLUME") == ['["/state"]']

    def test_dockerignore_keeps_the_context_small(self) -> None:
        """The build context admits only the packages the wheel ships: no .venv, .git or tests."""
        lines = (REPO / ".dockerignore").read_text().splitlines()
        assert lines[lines.index("**")] == "**"
        top = {p.split(".")[0] for p in PACKAGES}
        assert {"!pyproject.toml", *(f"!{name}/" for name in top)} <= set(lines)
        copied = {a.split()[0] for a in self.args("COPY")}
        assert top <= copied


def k8s_documents() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted(DEPLOY.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return dict(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(doc["spec"]["template"]["spec"])


def find(kind: str) -> dict[str, Any]:
    (doc,) = [d for d in k8s_documents() if d["kind"] == kind]
    return doc


class TestKubernetes:
    @pytest.mark.parametrize("kind", ["CronJob", "Deployment"])
    def test_takes_secrets_only_from_a_secret(self, kind: str) -> None:
        """Token-like variables come from secretKeyRef into an existing Secret, never inline."""
        secret = find("Secret")
        container = pod_spec(find(kind))["containers"][0]
        secret_env = [e for e in container["env"] if SECRET_NAME.search(e["name"])]
        assert secret_env
        for entry in secret_env:
            ref = entry["valueFrom"]["secretKeyRef"]
            assert "value" not in entry
            assert ref["name"] == secret["metadata"]["name"]
            assert ref["key"] in secret["stringData"]

    @pytest.mark.parametrize("kind", ["CronJob", "Deployment"])
    def test_mounts_config_read_only_and_runs_unprivileged(self, kind: str) -> None:
        """The config volume is mounted read-only at /config; the pod runs as non-root."""
        spec = pod_spec(find(kind))
        mounts = {m["mountPath"]: m for m in spec["containers"][0]["volumeMounts"]}
        assert mounts["/config"]["readOnly"] is True
        assert "readOnly" not in mounts["/state"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False

    def test_cronjob_never_overlaps(self) -> None:
        """The scheduled sync forbids concurrent runs and runs `priosync sync`."""
        cronjob = find("CronJob")
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        assert pod_spec(cronjob)["containers"][0]["args"][0] == "sync"

    def test_deployment_probes_healthz_behind_a_service(self) -> None:
        """Readiness and liveness probes ask /healthz; the Service selects the pods by label."""
        deployment, service = find("Deployment"), find("Service")
        container = pod_spec(deployment)["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/healthz"
            assert container[probe]["httpGet"]["port"] in {p["name"] for p in container["ports"]}
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "http"
        assert container["args"] == ["serve"]

    def test_example_config_is_valid(self) -> None:
        """The ConfigMap's priosync.toml passes priosync's own validation."""
        raw = tomllib.loads(find("ConfigMap")["data"]["priosync.toml"])
        loaded = validate_config(raw, file=Path("configmap"), environ={})
        assert [s.name for s in loaded.config.sources] == ["web"]


def replica_documents() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted((DEPLOY / "replicas").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]


def find_replica(kind: str) -> dict[str, Any]:
    (doc,) = [d for d in replica_documents() if d["kind"] == kind]
    return doc


class TestReplicas:
    def test_three_replicas_roll_without_stopping_all(self) -> None:
        """replicas: 3, a rolling update (they share the queue), and a budget keeping two."""
        deployment, budget = find_replica("Deployment"), find_replica("PodDisruptionBudget")
        assert deployment["spec"]["replicas"] == 3
        assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert 1 <= budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]

    def test_the_postgresql_url_comes_from_a_secret(self) -> None:
        """PRIOSYNC_STATE is a secretKeyRef into the URL Secret, which holds a postgresql:// URL;
        the tokens come from the tokens Secret; no state volume (the store is the database)."""
        container = pod_spec(find_replica("Deployment"))["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        ref = env["PRIOSYNC_STATE"]["valueFrom"]["secretKeyRef"]
        url_secret = find_replica("Secret")
        assert ref["name"] == url_secret["metadata"]["name"]
        assert url_secret["stringData"][ref["key"]].startswith("postgresql://")
        tokens = find("Secret")
        for name, entry in env.items():
            assert "value" not in entry
            if name != "PRIOSYNC_STATE" and SECRET_NAME.search(name):
                assert entry["valueFrom"]["secretKeyRef"]["name"] == tokens["metadata"]["name"]
        assert "/state" not in {m["mountPath"] for m in container["volumeMounts"]}
        assert container["args"] == ["serve"]

    def test_readiness_and_liveness_are_different_probes(self) -> None:
        """Readiness asks /healthz/ready (the store), liveness /healthz/live (the process)."""
        container = pod_spec(find_replica("Deployment"))["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz/live"
        ports = {p["name"] for p in container["ports"]}
        assert {
            container[p]["httpGet"]["port"] for p in ("readinessProbe", "livenessProbe")
        } <= ports
        assert pod_spec(find_replica("Deployment"))["securityContext"]["runAsNonRoot"] is True

    def test_the_service_selects_the_replicas(self) -> None:
        """The Service routes to the replica pods only, not to the one-replica Deployment."""
        deployment, service = find_replica("Deployment"), find_replica("Service")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        single = find("Deployment")["spec"]["template"]["metadata"]["labels"]
        assert not service["spec"]["selector"].items() <= single.items()
