"""screens of the Incident Console (Textual)."""
