"""Regulator fixtures: the write path (anchoring done by the tests, deterministically) and the
multi-hop scenario of `regulator.scenario`."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from fixtures.http_service import http_service  # noqa: F401
from fixtures.writepath import *  # noqa: F403
from fixtures.writepath import WritePath
from lotlink.config import Settings
from regulator.scenario import Scenario, write_scenario


@pytest.fixture
def write_settings(service_settings: Settings) -> Settings:  # type: ignore[no-redef]
    return service_settings.model_copy(
        update={
            "keystore_scrypt_n": 2**10,
            "keystore_password": SecretStr("test passphrase"),
            "anchorer_enabled": False,
        }
    )


@pytest.fixture
def scenario(write_path: WritePath) -> Scenario:
    return write_scenario(write_path)
