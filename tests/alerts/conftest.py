"""Alert fixtures: a migrated database (SQLite and PostgreSQL in turn) for the rules, and the
write path (the app over the session deployment) for the API, webhooks and escalation."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from db.conftest import engine, sessions  # noqa: F401
from fixtures.writepath import *  # noqa: F403
from lotlink.config import Settings


@pytest.fixture  # type: ignore[no-redef]
def write_settings(service_settings: Settings) -> Settings:
    """No background anchorer, sweep or deliverer: the tests run each step themselves."""
    return service_settings.model_copy(
        update={
            "keystore_scrypt_n": 2**10,
            "keystore_password": SecretStr("test passphrase"),
            "anchorer_enabled": False,
            "webhooks_enabled": False,
            "report_rate_limit": 1000,
        }
    )
