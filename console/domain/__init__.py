"""The pure domain: models and rules, no I/O, no Textual, no FastAPI, no backends."""
