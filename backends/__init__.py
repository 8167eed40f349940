"""Storage and transport behind the backend contract (``backends.base``)."""
