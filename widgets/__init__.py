"""widgets of the Incident Console (Textual)."""
