"""What every command that talks to a running Lotlink service shares: the `--url` and `--token`
options, an HTTP client, answers turned into data or into one `ServiceError` line, and lots named
the ways people name them (0x lot key, GTIN/LOT, or a GS1 Digital Link).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import httpx
import typer

from lotlink.cli.labels import parse_link_argument
from lotlink.config import get_settings
from lotlink.errors import InvalidDigitalLinkError, LotlinkError
from lotlink.gs1.keys import lot_key

_LOT_KEY = re.compile(r"^0x[0-9a-fA-F]{64}$")

UrlOption = Annotated[
    str | None, typer.Option("--url", help="The service; default: LOTLINK_PUBLIC_BASE_URL.")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="LOTLINK_API_TOKEN", help="API token (LOTLINK_API_TOKEN)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the service's JSON.")]

# A recall's class and wording, as `lotlink recall issue|update` and `lotlink alerts escalate`
# take them and the service's recall forms expect them.
ClassOption = Annotated[
    int, typer.Option("--class", min=1, max=3, help="1 (most serious), 2 or 3.")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why the lots are recalled.")]
ConsumerOption = Annotated[
    str, typer.Option("--consumer", help="Instructions to consumers (shown on scan pages).")
]
TradeOption = Annotated[str, typer.Option("--trade", help="Instructions to the trade.")]


def recall_wording(recall_class: int, reason: str, consumer: str, trade: str) -> dict[str, Any]:
    """The body of a recall's class and wording."""
    return {
        "recall_class": recall_class,
        "reason": reason,
        "consumer_instructions": consumer,
        "trade_instructions": trade,
    }


class ServiceError(LotlinkError):
    """Raised when the service cannot be reached or refuses a request; carries its problem."""

    def __init__(self, *, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what


def _problem(response: httpx.Response) -> str:
    """The problem+json detail (field first when it names one), else the body's first line."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return f"{response.status_code} {text[0] if text else response.reason_phrase}"
    if not isinstance(body, dict):
        return f"{response.status_code} {response.reason_phrase}"
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
    return f"{response.status_code} {detail}"


class Service:
    """An HTTP client of one service, for one command."""

    def __init__(self, url: str | None, token: str | None, *, timeout: float = 120) -> None:
        self.url = (url or get_settings().public_base_url).rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def request(self, what: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer to a request, or ServiceError for an unreachable service or a 4xx/5xx."""
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ServiceError(what=what, reason=f"cannot reach {self.url} ({error})") from None
        if response.status_code >= 400:
            raise ServiceError(what=what, reason=_problem(response))
        return response

    def get(self, what: str, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return self.request(what, "GET", path, params=query).json()

    def post(self, what: str, path: str, body: dict[str, Any]) -> Any:
        return self.request(what, "POST", path, json=body).json()


def lot_key_of(text: str) -> str:
    """The 0x lot key of a lot named by its key, as GTIN/LOT, or by its Digital Link."""
    if _LOT_KEY.match(text.strip()):
        return text.strip().lower()
    link = parse_link_argument(text.strip())
    if link.lot is None:
        raise InvalidDigitalLinkError(reason=f"{text!r} names a product, not one of its lots")
    return "0x" + lot_key(link.gtin, link.lot).hex()
