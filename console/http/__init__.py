"""console/http."""
