"""The Textual console: the App, its context Protocol, the command palette and the feed."""
