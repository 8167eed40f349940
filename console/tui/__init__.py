"""console/tui."""
