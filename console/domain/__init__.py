"""console/domain."""
