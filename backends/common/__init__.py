"""Store-neutral code every SQL store shares (SQLite now, PostgreSQL next): how an incident
is built from a ``NewIncident``, conflict messages, what a manual escalation pages, how rows
encode incidents and timeline entries, and the queue's WHERE clause."""
