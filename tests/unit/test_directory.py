"""The directory file: parse, locate errors, check, plan, render (pure, no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.demo.seed import directory as demo_directory
from console.domain.directory import (
    Directory,
    DirectoryError,
    check,
    in_use,
    locate,
    parse,
    plan,
    render,
)
from console.domain.escalation import on_call, paged_at, shifts
from console.domain.models import Incident, Override

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "team.toml"

BASE = """\
[[teams]]
id = "ops"
name = "Operations"

[[people]]
handle = "ana"
name = "Ana"
team = "ops"
email = "ana@example.com"

[[people]]
handle = "ben"
name = "Ben"
team = "ops"
contacts = [{ kind = "sms", to = "+1 555 0100" }]

[[schedules]]
id = "ops-oncall"
name = "Ops on call"
timezone = "Europe/London"

[[schedules.layers]]
name = "weekly"
people = ["ana", "ben"]
start = 2026-01-05
handoff = "09:00"
length = "1w"

[[policies]]
id = "ops-escalation"
name = "Ops"

[[policies.levels]]
targets = ["schedule:ops-oncall"]
wait = "10m"

[[services]]
id = "web"
name = "Web"
team = "ops"
policy = "ops-escalation"
depends_on = ["db"]

[[services]]
id = "db"
name = "Database"
team = "ops"
policy = "ops-escalation"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(DirectoryError) as raised:
        parse(text, "team.toml")
    return [str(p) for p in raised.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the text")


def test_the_base_file_and_the_shipped_example_are_valid() -> None:
    parsed = parse(BASE)
    assert [s.id for s in parsed.services] == ["web", "db"]
    assert parsed.services[0].depends_on == ("db",)
    rotation = parsed.schedules[0].rotations[0]
    # 09:00 on the London wall clock, in winter = 09:00 UTC
    assert rotation.start == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert rotation.shift == timedelta(weeks=1)
    assert [p for p in check(parsed, NOW)] == []
    example = parse(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    assert check(example, NOW) == []
    assert {u.id for u in example.users} == {"ana", "ben", "chloe"}


def test_hand_offs_keep_the_wall_clock_across_daylight_saving() -> None:
    schedule = parse(BASE).schedules[0]
    # London moves to BST on 2026-03-29: the Monday 09:00 hand-off is then 08:00 UTC.
    before = shifts(
        schedule, datetime(2026, 3, 23, 0, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    )
    assert [s.start for s in before][1:] == [
        datetime(2026, 3, 23, 9, tzinfo=UTC),
        datetime(2026, 3, 30, 8, tzinfo=UTC),
    ]


def test_demo_directory_round_trips_through_the_file_format() -> None:
    demo = demo_directory(NOW)
    text = render(demo)
    back = parse(text, "demo.toml")
    assert back.sorted() == demo.sorted()
    assert render(back) == text
    assert check(back, NOW) == []


@pytest.mark.parametrize(
    ("edit", "needle", "field", "message"),
    [
        (('email = "ana@', 'emial = "ana@'), "emial", "people[1].emial", "unknown key"),
        (
            ('team = "ops"\nemail', 'team = "opz"\nemail'),
            'team = "opz"',
            "people[1].team",
            "no team 'opz' (known: ops)",
        ),
        (
            ('handoff = "09:00"', 'handoff = "9 o\'clock"'),
            "handoff",
            "schedules[1].layers[1].handoff",
            "time",
        ),
        (
            ('length = "1w"', 'length = "10m"'),
            "length",
            "schedules[1].layers[1].length",
            "at least 1 hour",
        ),
        (
            ("start = 2026-01-05", 'start = "soon"'),
            'start = "soon"',
            "schedules[1].layers[1].start",
            "write a date",
        ),
        (
            ('"Europe/London"', '"Mars/Olympus"'),
            "timezone",
            "schedules[1].timezone",
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            ('people = ["ana", "ben"]', 'people = ["ana", "bob"]'),
            "people = [",
            "schedules[1].layers[1].people[2]",
            "no person 'bob'",
        ),
        (
            ('targets = ["schedule:ops-oncall"]', 'targets = ["ops-oncall"]'),
            "targets",
            "policies[1].levels[1].targets[1]",
            "is not a target",
        ),
        (
            ('targets = ["schedule:ops-oncall"]', 'targets = ["schedule:ops"]'),
            "targets",
            "policies[1].levels[1].targets[1]",
            "no schedule 'ops'",
        ),
        (
            (
                'id = "web"\nname = "Web"\nteam = "ops"\npolicy = "ops-escalation"\n',
                'id = "web"\nname = "Web"\nteam = "ops"\n',
            ),
            "[[services]]",
            "services[1].policy",
            "no escalation policy",
        ),
        (
            ('policy = "ops-escalation"\ndepends_on', 'policy = "nope"\ndepends_on'),
            'policy = "nope"',
            "services[1].policy",
            "no policy 'nope'",
        ),
        (
            ('depends_on = ["db"]', 'depends_on = ["cache"]'),
            "depends_on",
            "services[1].depends_on[1]",
            "no service 'cache'",
        ),
        (
            ('depends_on = ["db"]', 'depends_on = ["web"]'),
            "depends_on",
            "services[1].depends_on[1]",
            "cannot depend on itself",
        ),
        (('id = "db"', 'id  = "web"'), 'id  = "web"', "services[2].id", "defined twice"),
        (('wait = "10m"', 'wait = "0m"'), "wait", "policies[1].levels[1].wait", "longer than zero"),
        (("[[teams]]", "[[team]]"), "[[team]]", "team", "unknown table"),
    ],
)
def test_every_error_names_file_line_and_field(
    edit: tuple[str, str], needle: str, field: str, message: str
) -> None:
    old, new = edit
    text = BASE.replace(old, new, 1)
    assert text != BASE
    found = problems_of(text)
    line = line_of(text, needle)
    expected = f"team.toml:{line}: {field}: "
    assert any(p.startswith(expected) and message in p for p in found), found


def test_a_dependency_loop_names_every_service_on_it() -> None:
    text = BASE + '\n[[services]]\nid = "cache"\nname = "Cache"\npolicy = "ops-escalation"\n'
    text = text.replace(
        'policy = "ops-escalation"\n\n[[services]]\nid = "cache"',
        'policy = "ops-escalation"\ndepends_on = ["cache"]\n\n[[services]]\nid = "cache"',
    )
    text += 'depends_on = ["web"]\n'
    found = problems_of(text)
    assert any("dependency loop: web -> db -> cache -> web" in p for p in found), found


def test_a_level_nobody_can_be_reached_through_is_an_error() -> None:
    text = BASE.replace('email = "ana@example.com"\n', "").replace(
        'targets = ["schedule:ops-oncall"]', 'targets = ["person:ana"]'
    )
    found = problems_of(text)
    line = line_of(text, 'targets = ["person:ana"]')
    assert any(
        p.startswith(f"team.toml:{line}: policies[1].levels[1].targets: no reachable target")
        for p in found
    ), found


def test_not_toml_at_all_names_the_line() -> None:
    found = problems_of(BASE.replace('name = "Operations"', 'name = "Operations'))
    assert found[0].startswith("team.toml:3: not valid TOML")


def test_a_gap_is_reported_with_its_times() -> None:
    text = BASE.replace('length = "1w"', 'length = "1d"\nactive_hours = [9, 17]')
    parsed = parse(text)  # a gap is a warning: the file still applies
    warnings = locate(check(parsed, NOW), text, "team.toml")
    line = line_of(text, "[[schedules.layers]]")
    assert str(warnings[0]) == (
        f"team.toml:{line}: schedules[1].layers: warning: nobody on call from "
        "Wed 2026-03-04 17:00 GMT to Thu 2026-03-05 09:00 GMT"
    )
    assert "more gaps in the next 14 days" in str(warnings[-1])
    assert all(w.warning for w in warnings)


def test_a_schedule_that_starts_later_has_a_gap_until_then() -> None:
    text = BASE.replace("start = 2026-01-05", "start = 2026-03-09")
    warnings = check(parse(text), NOW)
    assert [str(w) for w in warnings] == [
        "schedules[1].layers: warning: nobody on call from Wed 2026-03-04 12:00 GMT to "
        "Mon 2026-03-09 09:00 GMT"
    ]


def test_a_layer_hidden_by_a_later_one_is_reported() -> None:
    text = BASE.replace(
        'length = "1w"\n',
        'length = "1w"\n\n[[schedules.layers]]\nname = "backup"\npeople = ["ben"]\n'
        'start = 2026-01-05\nlength = "1w"\n',
    )
    warnings = [str(w) for w in check(parse(text), NOW)]
    assert warnings == [
        "schedules[1].layers[1]: warning: layers overlap: 'weekly' is hidden by 'backup' from "
        "Wed 2026-03-04 12:00 GMT on, so its people are never on call (a later layer wins "
        "where layers overlap; give the later one active_hours, or merge them)"
    ]


def test_overlapping_overrides_are_reported_with_the_overlap() -> None:
    text = BASE.replace(
        'length = "1w"\n',
        'length = "1w"\n\n[[schedules.overrides]]\nperson = "ana"\n'
        "start = 2026-03-05T09:00:00Z\nend = 2026-03-06T09:00:00Z\n\n"
        '[[schedules.overrides]]\nperson = "ben"\n'
        "start = 2026-03-05T18:00:00Z\nend = 2026-03-07T09:00:00Z\n",
    )
    warnings = [str(w) for w in check(parse(text), NOW)]
    assert warnings == [
        "schedules[1].overrides[2]: warning: overrides overlap: ana and ben both cover "
        "Thu 2026-03-05 18:00 GMT to Fri 2026-03-06 09:00 GMT (the later one wins)"
    ]


def test_the_plan_lists_creates_changes_with_fields_and_removes() -> None:
    current = parse(BASE)
    text = BASE.replace('name = "Database"', 'name = "Databases"').replace(
        'people = ["ana", "ben"]', 'people = ["ben", "ana"]'
    )
    text = text.replace(
        '[[people]]\nhandle = "ben"',
        '[[people]]\nhandle = "cleo"\nname = "Cleo"\nemail = "c@x"\n\n[[people]]\nhandle = "ben"',
    )
    text = text.replace('[[services]]\nid = "web"', '[[services]]\nid = "www"')
    found = plan(current.sorted(), parse(text), NOW)
    assert found.lines() == [
        "plan: 2 to create, 2 to change, 1 to remove",
        "  + create person cleo",
        "  ~ change schedule ops-oncall (layers)",
        "  ~ change service db (name)",
        "  + create service www",
        "  - remove service web",
    ]
    assert {s.id for s in found.changes.services} == {"db", "www"}
    assert plan(parse(text).sorted(), parse(text), NOW).lines() == [
        "no changes: the store already matches the file"
    ]


def test_removing_what_open_incidents_use_names_them() -> None:
    current = parse(BASE)
    without_web = parse(
        BASE.replace(
            '[[services]]\nid = "web"\nname = "Web"\nteam = "ops"\npolicy = "ops-escalation"\ndepends_on = ["db"]\n',
            "",
        )
    )
    found = plan(current, without_web, NOW)
    incident = Incident(id=7, key="INC-7", title="t", service="web", created_at=NOW, updated_at=NOW)
    done = incident.model_copy(update={"id": 8, "key": "INC-8", "status": "resolved"})
    assert in_use(found.changes, [incident]) == [
        "cannot remove service 'web': open incidents use it (INC-7); resolve or reassign "
        "them first, or keep it in the file"
    ]
    assert in_use(found.changes, [i for i in (done,) if i.is_open]) == []


def test_console_overrides_outlive_reapplying_the_file() -> None:
    desired = parse(BASE)
    schedule = desired.schedules[0]
    swap = Override(user="ben", start=NOW, end=NOW + timedelta(hours=8), by="ben")
    old = Override(user="ana", start=NOW - timedelta(days=2), end=NOW - timedelta(days=1), by="ana")
    stored = Directory(
        teams=desired.teams,
        users=desired.users,
        schedules=(schedule.model_copy(update={"overrides": (old, swap)}),),
        policies=desired.policies,
        services=desired.services,
    )
    found = plan(stored, desired, NOW)
    # the ended console override goes, the live one stays, and the plan says so
    assert found.changes.schedules[0].overrides == (swap,)
    assert found.lines()[-1].startswith("  = keep console override of ops-oncall: ben from")


def test_an_override_takes_effect_at_its_start_in_the_escalation() -> None:
    text = BASE.replace(
        'length = "1w"\n',
        'length = "1w"\n\n[[schedules.overrides]]\nperson = "ben"\n'
        "start = 2026-03-04T18:00:00Z\nend = 2026-03-05T09:00:00Z\n",
    )
    parsed = parse(text)
    schedules = {s.id: s for s in parsed.schedules}
    policy = parsed.policies[0]
    start = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    weekly = on_call(parse(BASE).schedules[0], start)
    assert weekly == "ana"  # 2026-03-02 .. 03-09 is ana's week (even weeks from 01-05)
    assert paged_at(policy, 1, start - timedelta(microseconds=1), schedules) == ["ana"]
    assert paged_at(policy, 1, start, schedules) == ["ben"]
    assert paged_at(policy, 1, datetime(2026, 3, 5, 9, tzinfo=UTC), schedules) == ["ana"]
