"""The service routes webhooks by each tracker's spec and names no tracker vocabulary itself."""

from __future__ import annotations

from pathlib import Path

from connectors.github.webhooks import WEBHOOK as GITHUB
from connectors.jira.webhooks import WEBHOOK as JIRA
from service.app import WEBHOOKS

SERVICE = Path(__file__).parents[2] / "service"


class TestRouting:
    def test_each_endpoint_uses_its_trackers_spec(self) -> None:
        """/webhooks/jira routes by Jira's spec and /webhooks/github by GitHub's."""
        assert WEBHOOKS == {"jira": JIRA, "github": GITHUB}

    def test_the_service_names_no_trackers_header(self) -> None:
        """No signature, delivery or event header a spec names is spelled out under service/."""
        headers = {
            name.casefold()
            for spec in (JIRA, GITHUB)
            for name in (spec.signature.header, spec.delivery_header, spec.event_header)
            if name is not None
        }
        for module in sorted(SERVICE.glob("*.py")):
            text = module.read_text(encoding="utf-8").casefold()
            assert not [h for h in headers if h in text], module.name
