"""The triage registry and the key table agree: every mutating key has exactly one entry."""

from console.domain.keys import BY_ID, KEYS, MUTATING
from screens.triage import ACTIONS


def test_every_mutating_key_is_a_registered_action_and_back() -> None:
    triage_keys = {key.id for key in KEYS if key.action.startswith("triage(")}
    assert set(ACTIONS) == triage_keys
    assert triage_keys <= MUTATING
    for action_id, entry in ACTIONS.items():
        assert entry.key is BY_ID[action_id]
        assert entry.key.action == f"triage('{action_id}')"
        # a targeted action plans; an untargeted one (create) performs on its own
        assert (entry.planner is None) == (entry.perform is not None), action_id
