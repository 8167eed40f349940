"""The post-incident review draft: a golden file, and untrusted text kept inert.

Regenerate the golden file after an intended change with ``UPDATE_GOLDEN=1 pytest tests/pir``
and read the diff before committing it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from console.domain.lifecycle import (
    Acknowledge,
    Action,
    AddLink,
    AddNote,
    AlertRepeated,
    Assign,
    Escalate,
    Hold,
    MarkBreached,
    Resolve,
    Resume,
    apply,
    created_entry,
)
from console.domain.models import (
    HoldReason,
    Incident,
    Link,
    LinkKind,
    Priority,
    ResolutionCode,
    Service,
    TimelineEntry,
    User,
)
from console.domain.review import md_block, md_inline, render_pir
from console.domain.sla import SlaPolicy

GOLDEN = Path(__file__).parent / "golden"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 9, hour, minute, tzinfo=UTC)


SERVICES = [Service(id="payments", name="Payments API", team="platform")]
USERS = [
    User(id="alice", name="Alice Moreau", team="platform"),
    User(id="bob", name="Bob Okafor", team="platform"),
    User(id="carol", name="Carol Lind", team="data"),
]


def story() -> tuple[Incident, list[TimelineEntry]]:
    """A P1 with an escalation, a reassignment, a vendor hold, a breach and hostile text."""
    incident = Incident(
        id=4,
        key="INC-1042",
        title="Checkout | 502s *everywhere* \x1b[31m<b>now</b>",
        description="Alertmanager: HighErrorRate\n# not a heading\n- not a list\n| not | a table |",
        service="payments",
        impact=1,
        urgency=1,
        priority=Priority.P1,
        source="alertmanager",
        alert_count=1,
        created_at=at(9, 58),
        updated_at=at(9, 58),
    )
    timeline = [created_entry(incident, "alertmanager")]
    steps: list[tuple[datetime, str, Action]] = [
        (at(10, 13), "escalator", MarkBreached(clock="response")),
        (at(10, 13), "escalator", Escalate(automatic=True, level=2, paged=("bob",))),
        (at(10, 16), "bob", Acknowledge()),
        (at(10, 20), "bob", AddNote(text="card processor returns 502 for ~40% of calls")),
        (at(10, 25), "bob", AlertRepeated(count=3, summary="HighErrorRate firing")),
        (at(10, 31), "bob", Assign(assignee="alice")),
        (at(10, 40), "alice", Hold(reason=HoldReason.AWAITING_VENDOR, note="ticket #88412")),
        (at(11, 40), "alice", Resume(note="vendor rolled back their TLS change")),
        (
            at(11, 45),
            "alice",
            AddLink(
                link=Link(kind=LinkKind.CHANGE, ref="CHG-311", title="TLS rotation", state="done")
            ),
        ),
        (
            at(12, 5),
            "alice",
            Resolve(code=ResolutionCode.FIXED, note="retries enabled; vendor fix confirmed"),
        ),
    ]
    for when, actor, action in steps:
        incident, entries = apply(incident, action, actor, when)
        timeline.extend(entries)
    return incident, timeline


def render() -> str:
    incident, timeline = story()
    return render_pir(
        incident,
        timeline,
        services=SERVICES,
        users=USERS,
        sla_policy=SlaPolicy(),
        now=at(15),
    )


def test_review_draft_matches_the_golden_file() -> None:
    text = render()
    golden = GOLDEN / "inc-1042.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_the_draft_has_every_section_and_the_facts() -> None:
    text = render()
    for heading in (
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Who took part",
        "## SLA outcomes",
        "## Escalations",
        "## Related records",
        "## Contributing factors",
        "## What went well",
        "## What could go better",
        "## Action items",
    ):
        assert f"\n{heading}\n" in text
    # 09:58 -> 12:05 is 2h07m on the wall; 1h on hold; counted 1h07m
    assert "- Duration: 2h07m from detection to resolution, of which 1h00m on hold" in text
    # response: acknowledged 18 minutes in, target 15m -> breached by 3m
    assert "| Response (to acknowledge) | 15m | 18m00s | **breached** by 3m00s |" in text
    # resolution: counted 1h07m of 4h -> met
    assert "| Resolution (to resolve) | 4h | 1h07m | met |" in text
    assert "to level 2 automatically, paging Bob Okafor (bob)" in text
    assert "- Alice Moreau (alice): reassigned" not in text  # bob reassigned, not alice
    assert "- Bob Okafor (bob): acknowledged, wrote notes, reassigned, was paged" in text


def test_untrusted_text_cannot_break_the_structure() -> None:
    text = render()
    assert "\x1b" not in text
    title_line = text.splitlines()[0]
    assert title_line == (
        r"# Post-incident review: INC-1042: Checkout \| 502s \*everywhere\* \<b\>now\</b\>"
    )
    # every table row still has its cell count: escaped pipes do not count
    for line in text.splitlines():
        if line.startswith("| ") and line.count("|") - line.count(r"\|") == 6:
            assert line.endswith("|")
    assert "\n\\# not a heading" in text
    assert "\n\\- not a list" in text
    assert md_inline("a|b") == r"a\|b"
    assert md_block("1. one\n> two") == "1\\. one  \n\\> two"
