"""The SQLite store (the embedded default): schema, statements, intake, problems, stats, tokens."""
