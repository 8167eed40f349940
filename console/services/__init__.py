"""Background services (escalator, notifier, reviews) that use only the backend contract."""
