"""The console in a browser: ``incidents web`` over textual-serve (a layer over the TUI)."""
