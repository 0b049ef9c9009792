"""A lean JSON-RPC client: raw JSON in and out, batches, errors sorted.

web3.py's request pipeline (middleware, result formatters, AttributeDicts) costs more than the
whole rest of indexing a log, and several times what the anchorer's sender does with a batch's
answers, so the indexer and the sender speak JSON-RPC themselves (logs decoded from their raw
hex). Every failure ends as one of three errors: the endpoint refused a log range or result
size (`LogRangeRefusedError`: ask for less), it is unreachable or overloaded (retryable), or it
rejected the request for good (not retryable).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import requests

from lotlink.errors import ChainRpcError, ChainUnavailableError, LogRangeRefusedError

# What endpoints say when an eth_getLogs range or its result is too large (geth, Erigon, Besu,
# Alchemy, Infura, QuickNode, Ankr, anvil's forks...). Matched case-insensitively.
RANGE_REFUSALS = (
    "query returned more than",
    "block range",
    "limit exceeded",
    "range is too large",
    "range too large",
    "response size",
    "too many results",
    "exceed maximum block range",
    "query timeout",
    "log response size exceeded",
)
# -32005: EIP-1474 "limit exceeded"; providers use it for oversized log queries.
RANGE_REFUSAL_CODES = frozenset({-32005})
RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


def is_range_refusal(code: int | None, message: str) -> bool:
    """True when a JSON-RPC error means "ask for fewer blocks"."""
    lowered = message.lower()
    return code in RANGE_REFUSAL_CODES or any(text in lowered for text in RANGE_REFUSALS)


class RpcClient:
    """JSON-RPC over HTTP with a keep-alive session; results come back as plain JSON values."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._session = _session_for(url)
        self._headers = {**self._session.headers, "Content-Type": "application/json"}
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._session.close()

    def call(self, method: str, params: list[Any], *, span: tuple[int, int] | None = None) -> Any:
        """One call; `span` (from, to) marks an eth_getLogs whose refusal means "narrower"."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        reply = self._post(body, method=method, span=span)
        if not isinstance(reply, dict):
            raise ChainRpcError(method=method, reason="the endpoint's answer is not an object",
                                retryable=True)  # fmt: skip
        return _result(reply, method=method, span=span)

    def batch(self, calls: list[tuple[str, list[Any]]], *, settled: bool = False) -> list[Any]:
        """Several calls in one HTTP request; results in the order of `calls`. A call the
        endpoint answers with an error raises its `ChainRpcError`, or with `settled` stands in
        the results in its place (the others' answers are still of use)."""
        if not calls:
            return []
        first = next(self._ids)
        bodies = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        self._ids = itertools.count(first + len(calls))
        method = calls[0][0]
        replies = self._post(bodies, method=method, span=None)
        if not isinstance(replies, list) or len(replies) != len(calls):
            raise ChainRpcError(method=method, reason="the endpoint answered a batch partially",
                                retryable=True)  # fmt: skip
        by_id = {reply.get("id"): reply for reply in replies if isinstance(reply, dict)}
        results: list[Any] = []
        for i, (method, _) in enumerate(calls):
            try:
                results.append(_result(by_id.get(first + i, {}), method=method, span=None))
            except ChainRpcError as error:
                if not settled:
                    raise
                results.append(error)
        return results

    def _post(self, body: Any, *, method: str, span: tuple[int, int] | None) -> Any:
        # Prepared here with the session's headers, cookies and auth, as `Session.post` would,
        # without its merging of per-request settings into the session's (~120 µs a call).
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method="POST",
            url=self.url,
            headers=self._headers,
            data=json.dumps(body),
            cookies=self._session.cookies,
            auth=self._session.auth,
        )
        try:
            response = self._session.send(prepared, timeout=self.timeout)
        except requests.RequestException as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ChainUnavailableError(url=_public(self.url), reason=reason) from None
        if response.status_code == 413 and span is not None:
            raise LogRangeRefusedError(from_block=span[0], to_block=span[1], reason="HTTP 413")
        if response.status_code != 200:
            text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            if span is not None and is_range_refusal(None, text):
                raise LogRangeRefusedError(from_block=span[0], to_block=span[1], reason=text)
            raise ChainRpcError(
                method=method,
                reason=f"HTTP {response.status_code} {text}".strip(),
                retryable=response.status_code in RETRYABLE_HTTP,
            )
        try:
            return response.json()
        except ValueError:
            raise ChainRpcError(method=method, reason="the endpoint's answer is not JSON",
                                retryable=True) from None  # fmt: skip


def _result(reply: dict[str, Any], *, method: str, span: tuple[int, int] | None) -> Any:
    error = reply.get("error")
    if error is None:
        if "result" not in reply:
            raise ChainRpcError(method=method, reason="no result in the answer", retryable=True)
        return reply["result"]
    code = error.get("code") if isinstance(error, dict) else None
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    if span is not None and is_range_refusal(code, message):
        raise LogRangeRefusedError(from_block=span[0], to_block=span[1], reason=message)
    # -32603 internal errors and -32000 "header not found" style answers pass with time;
    # malformed requests (-32600/-32601/-32602) do not.
    retryable = code not in (-32600, -32601, -32602)
    raise ChainRpcError(
        method=method,
        reason=f"{message} (code {code})",
        retryable=retryable,
        code=code if isinstance(code, int) else None,
        data=error.get("data") if isinstance(error, dict) else None,
    )


def _session_for(url: str) -> requests.Session:
    """A session for `url` with the environment's settings for it read once, here.

    A session that trusts the environment reads it again for every request (proxies and
    NO_PROXY, a CA bundle, ~/.netrc: about 145 µs, most of what a small call costs). The
    endpoint is fixed, so what the environment says of it is resolved now; a deployment
    behind HTTP(S)_PROXY still reaches its endpoint through the proxy."""
    session = requests.Session()
    found = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies = found["proxies"]
    session.verify = found["verify"]
    session.cert = found["cert"]
    session.auth = requests.utils.get_netrc_auth(url)
    session.trust_env = False
    return session


def _public(url: str) -> str:
    """scheme://host[:port]: hosted endpoints keep API keys in the path."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
