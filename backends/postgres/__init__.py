"""The team store on PostgreSQL (asyncpg): several ``incidents serve`` replicas and consoles
on one database. See ``backends.postgres.store``."""
