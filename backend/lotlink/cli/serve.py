"""`lotlink serve`: chain, deployment, migrations, then the HTTP API."""


def serve() -> None:
    """Start the chain, deploy if needed, migrate, and serve the API."""
    raise NotImplementedError
