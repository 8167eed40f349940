"""console/demo."""
