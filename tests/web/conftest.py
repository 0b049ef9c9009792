"""Web fixtures: the write path (app over the session deployment) and a written story."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures.writepath import *  # noqa: F403
from fixtures.writepath import WritePath
from lotlink.config import Settings
from web.chromium import browser  # noqa: F401  (the session's Chromium, for browser tests)
from web.site import Site, start_site
from web.story import Story, tamper, write_story


@pytest.fixture
def write_settings(service_settings: Settings) -> Settings:  # type: ignore[no-redef]
    """The write path's settings; the tests anchor and index themselves, deterministically."""
    from pydantic import SecretStr

    return service_settings.model_copy(
        update={
            "keystore_scrypt_n": 2**10,
            "keystore_password": SecretStr("test passphrase"),
            "anchorer_enabled": False,
            "report_rate_limit": 3,
        }
    )


@pytest.fixture
def story(write_path: WritePath) -> Story:
    """The story written, anchored and indexed; the "tampered" lot's inspection edited in SQL."""
    written = write_story(write_path)
    tamper(write_path, written.digests["tampered"][1])
    return written


@pytest.fixture
def scan_site(write_path: WritePath, story: Story) -> Iterator[Site]:
    """The story served over HTTP by uvicorn (see `web.site`); its `urls` name each lot's page."""
    site = start_site(write_path, story)
    try:
        yield site
    finally:
        site.stop()
