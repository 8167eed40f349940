"""The HTTP server: FastAPI app, roles, errors, routes, change stream, metrics, serve."""
