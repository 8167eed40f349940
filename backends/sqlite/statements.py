"""SQL statements more than one module of the SQLite store runs (each written once).

A module of its own so that the intake module and the store share them without importing
each other (the store loads intake lazily; intake must not import the store at run time).
"""

from __future__ import annotations

INSERT_ENTRY = (
    "INSERT INTO timeline (id, incident_id, version, at, actor, kind, entry)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_CHANGE = "INSERT INTO changes (at, kind, entity, entity_id, version) VALUES (?, ?, ?, ?, ?)"
