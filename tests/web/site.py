"""The real service over HTTP for browser tests: uvicorn in a thread serving the story's
database, with the scan page URLs of its normal, recalled and tampered lots.

Other browser tests (the in-browser verifier's) start it the same way::

    site = start_site(write_path, story)   # or the `scan_site` fixture in tests/web
    page.goto(site.urls["normal"]); ...; site.stop()
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from fixtures.writepath import WritePath
from lotlink.main import create_app
from web.story import Story

LOTS = ("normal", "recalled", "tampered")


@dataclass
class Site:
    base: str
    urls: dict[str, str]
    server: uvicorn.Server
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_site(write_path: WritePath, story: Story | None = None) -> Site:
    """Serves the write path's database (the story's, whose lots `urls` names) on a free local
    port until `Site.stop()`."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = write_path.settings.model_copy(
        update={"public_base_url": base, "anchorer_enabled": False, "indexer_enabled": False}
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="scan-site", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the scan site did not start")
        time.sleep(0.05)
    names = () if story is None else (*LOTS, "milk", "milk_b")
    urls = {name: base + story.path(name) for name in names if story is not None}
    return Site(base=base, urls=urls, server=server, thread=thread)
