"""Draw the README's before/after picture of ``reorder``: docs/reorder.png.

Runs a real sync with ``[outputs] reorder = true`` against a small sandbox Jira (in
process), then renders the backlog as Jira's Rank order had it before and after, side by
side, and screenshots the page with headless Chromium (scripts/ensure-chromium.sh)::

    .venv/bin/python scripts/reorder_picture.py [--out docs/reorder.png]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import random
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from config.models import JiraSource, OutputsConfig, PriosyncConfig
from config.secrets import BasicCredentials
from connectors.jira import JiraConnector
from priosync.domain import Plan
from sandbox.jira import JiraSandbox, create_jira_app
from sync.pipeline import Reads, plan_reads
from sync.writer import apply_plan

CHROMIUM = "/usr/bin/chromium"
INPUTS = {"reach": "Reach", "impact": "Impact", "confidence": "Confidence", "effort": "Effort"}
SCALES = {
    "impact": {"Massive": 3, "High": 2, "Medium": 1, "Low": 0.5, "Minimal": 0.25},
    "confidence": {"High": 1.0, "Medium": 0.8, "Low": 0.5},
}
PIN = "priority-pinned"
OUTPUTS = OutputsConfig(reorder=True, pin_label=PIN)


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    title: str
    rank: int | None
    note: str  # "moved", "pinned", "needs input", ""


async def sync(sandbox: JiraSandbox) -> tuple[Plan, int]:
    source = JiraSource.model_validate(
        {
            "name": "web",
            "kind": "jira",
            "url": "https://acme.atlassian.net",
            "deployment": "cloud",
            "jql": "project = WEB AND statusCategory != Done",
            "pacing": {"writes_per_second": 1000, "reads_per_second": 1000},
        }
    )
    config = PriosyncConfig.model_validate(
        {
            "scoring": {"model": "rice", "inputs": INPUTS, "scales": SCALES},
            "outputs": OUTPUTS.model_dump(),
            "sources": [source.model_dump()],
        }
    )
    connector = JiraConnector.from_config(
        source,
        inputs=INPUTS,
        outputs=OUTPUTS,
        scales=SCALES,
        credentials=BasicCredentials(email="demo@example.com", token=SecretStr("sandbox-token")),
        transport=httpx.ASGITransport(app=create_jira_app(sandbox)),
    )
    plan = plan_reads(config, Reads(items={"web": await connector.read()}))
    report = await apply_plan(plan, {"web": connector}, audit=None, run_id=None)
    await connector.aclose()
    assert not report.move_failed
    return plan, connector.ranks.requests


def rows(sandbox: JiraSandbox, plan: Plan, *, moved: set[str]) -> list[Row]:
    ranked = {r.item.key: r for r in plan.ranking}
    out = []
    for key in sandbox.rank_order():
        if key not in ranked:
            continue
        r = ranked[key]
        note = (
            "pinned"
            if PIN in r.item.current.labels
            else "needs input"
            if r.rank is None
            else "moved"
            if key in moved
            else ""
        )
        out.append(Row(key, r.item.title, r.rank, note))
    return out


def column(title: str, subtitle: str, items: list[Row], *, after: bool) -> str:
    cards = []
    for row in items:
        badge = f"#{row.rank}" if row.rank is not None else "—"
        tag = ""
        if row.note == "moved":
            tag = (
                '<span class="tag moved">moved</span>'
                if after
                else '<span class="tag moving">moves</span>'
            )
        elif row.note in ("pinned", "needs input"):
            tag = f'<span class="tag keep">{row.note} · keeps its place</span>'
        moved = "moved" if after else "moving"
        cls = "card " + (moved if row.note == "moved" else row.note.replace(" ", "-"))
        cards.append(
            f'<div class="{cls}"><span class="rank">{badge}</span>'
            f'<span class="key">{html.escape(row.key)}</span>'
            f'<span class="title">{html.escape(row.title)}</span>{tag}</div>'
        )
    return (
        f'<section><h2>{html.escape(title)}</h2><p class="sub">{html.escape(subtitle)}</p>'
        + "".join(cards)
        + "</section>"
    )


PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: 'DejaVu Sans', sans-serif; background: #f4f5f7; margin: 0; padding: 28px; color: #172b4d; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} .lead {{ margin: 0 0 20px; color: #42526e; font-size: 14px; }}
main {{ display: flex; gap: 28px; align-items: flex-start; }}
section {{ flex: 1 1 0; min-width: 0; background: #ebecf0; border-radius: 6px; padding: 14px; }}
h2 {{ font-size: 15px; margin: 0; text-transform: uppercase; letter-spacing: .04em; color: #5e6c84; }}
.sub {{ font-size: 12px; color: #6b778c; margin: 2px 0 10px; }}
.card {{ display: flex; align-items: center; gap: 10px; background: #fff; border-radius: 3px;
  padding: 8px 10px; margin-bottom: 6px; border-left: 4px solid transparent; box-shadow: 0 1px 1px rgba(9,30,66,.25); font-size: 13px; }}
.card.moved {{ border-left: 4px solid #36b37e; }} .card.moving {{ border-left: 4px solid #ffab00; }} .card.pinned, .card.needs-input {{ opacity: .75; }}
.rank {{ min-width: 34px; font-weight: bold; color: #0052cc; }} .key {{ color: #5e6c84; min-width: 60px; }}
.title {{ flex: 1; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
.tag {{ font-size: 11px; border-radius: 3px; padding: 1px 6px; white-space: nowrap; }}
.tag.moved {{ background: #e3fcef; color: #006644; }} .tag.moving {{ background: #fff0b3; color: #7a5d00; }} .tag.keep {{ background: #dfe1e6; color: #42526e; }}
</style></head><body><h1>{title}</h1><p class="lead">{lead}</p><main>{before}{after}</main></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/reorder.png"))
    args = parser.parse_args()
    sandbox = JiraSandbox.seeded(issues=14, seed=3)
    sandbox.ranks.shuffle(random.Random(6))  # noqa: S311 (a reproducible picture)
    # A person pins one ranked issue where it stands.
    sandbox.human_edit("WEB-12", update={"labels": [{"add": PIN}]})
    plan_before = sandbox.rank_order()
    plan, requests = asyncio.run(sync(sandbox))
    moved = {m.key for m in plan.moves}
    after = rows(sandbox, plan, moved=moved)
    order_after = sandbox.rank_order()
    sandbox.ranks.set(sandbox.find(k).id for k in plan_before)  # type: ignore[union-attr]
    before = rows(sandbox, plan, moved=moved)
    sandbox.ranks.set(sandbox.find(k).id for k in order_after)  # type: ignore[union-attr]
    ranked = sum(1 for r in plan.ranking if r.rank is not None and PIN not in r.item.current.labels)
    page = PAGE.format(
        title="reorder = true: the backlog's own order follows the ranking",
        lead=(
            f"{len(moved)} of {ranked} ranked issues moved, the minimum (N − the longest run "
            f"already in order), in {requests} rank calls. The pinned issue and the one "
            "missing input kept their places."
        ),
        before=column("Jira backlog before", "Rank order as people left it", before, after=False),
        after=column("After priosync sync", "Rank order = priosync's ranking", after, after=True),
    )
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "reorder.html"
        page_path.write_text(page, encoding="utf-8")
        subprocess.run(  # noqa: S603 (our own page, a fixed executable)
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                "--window-size=1280,640",
                f"--screenshot={args.out.resolve()}",
                page_path.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
