"""A real webhook receiver on a local port: it verifies each message's Standard Webhooks
signature with the secret its endpoint was given (the `standardwebhooks` package, as any
receiver would) and answers with the statuses it is told to, 204 once they run out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: dict[str, Any] | None


@dataclass
class Receiver:
    url: str
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 204
    received: list[Received] = field(default_factory=list)

    def verified(self, path: str) -> list[dict[str, Any]]:
        """The messages that reached `path` with a valid signature, in order, each once (a
        retry carries the same webhook-id, which is how a receiver drops duplicates)."""
        seen: dict[str, dict[str, Any]] = {}
        for r in self.received:
            if r.path == path and r.verified and r.payload is not None:
                seen.setdefault(r.headers["webhook-id"], r.payload)
        return list(seen.values())


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            secret = receiver.secrets.get(self.path)
            payload = None
            try:
                if secret is None:
                    raise WebhookVerificationError("no secret for this path")
                payload = Webhook(secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            with lock:
                receiver.received.append(Received(self.path, headers, body, verified, payload))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
            self.send_response(status if verified else 401)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def body_of(received: Received) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(received.body)
    return parsed
