"""`lotlink recall issue|update|close|list|show`: recalls through a running Lotlink service.

Writes go to ``/api/v1/recalls`` with the actor's API token (a regulator's, or a supplier's for
its own lots: a voluntary recall); the service signs with the actor's custodial key and relays
to the chain. Reads need no token. Lots are named by 0x lot key, GTIN/LOT or Digital Link.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from lotlink.cli.labels import parse_link_argument
from lotlink.cli.service import (
    ClassOption,
    ConsumerOption,
    JsonOption,
    ReasonOption,
    Service,
    TokenOption,
    TradeOption,
    UrlOption,
    lot_key_of,
    recall_wording,
)

app = typer.Typer(help="Issue, update, close and look up recalls through a Lotlink service.")

CLASS_NAMES = {1: "I", 2: "II", 3: "III"}


def _summary(recall: dict[str, Any]) -> str:
    lots = ", ".join(f"{lot['gtin']}/{lot['lot_code']}" for lot in recall["lots"])
    kind = "voluntary " if recall["voluntary"] else ""
    return (
        f"recall {recall['recall_id']}: class {CLASS_NAMES[recall['recall_class']]}, "
        f"{kind}{recall['status']}, issued {recall['issued_at'][:10]}; {lots}; "
        f"{recall['reason'] or '(no wording held)'}"
    )


def _show(recall: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(recall, indent=2))
        return
    typer.echo(_summary(recall))
    for label, key in (
        ("consumers", "consumer_instructions"),
        ("trade", "trade_instructions"),
        ("reason hash", "reason_hash"),
        ("transaction", "tx_hash"),
        ("closed", "closed_at"),
        ("closing reason", "closed_reason"),
    ):
        if recall.get(key):
            typer.echo(f"  {label}: {recall[key]}")


@app.command("issue")
def issue(
    lots: Annotated[
        list[str], typer.Argument(help="Lots to recall: 0x lot key, GTIN/LOT or Digital Link.")
    ],
    recall_class: ClassOption,
    reason: ReasonOption,
    consumer: ConsumerOption = "",
    trade: TradeOption = "",
    token: TokenOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recall lots on chain: any lot for a regulator, its own lots for a supplier (voluntary)."""
    body = recall_wording(recall_class, reason, consumer, trade)
    body["lots"] = [{"lot_key": lot_key_of(lot)} for lot in lots]
    with Service(url, token) as service:
        _show(service.post("recall issue", "/api/v1/recalls", body), as_json)


@app.command("update")
def update(
    recall_id: Annotated[int, typer.Argument(help="The recall's number.")],
    recall_class: ClassOption,
    reason: ReasonOption,
    consumer: ConsumerOption = "",
    trade: TradeOption = "",
    token: TokenOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an active recall's class or wording (its issuer or a regulator)."""
    body = recall_wording(recall_class, reason, consumer, trade)
    with Service(url, token) as service:
        path = f"/api/v1/recalls/{recall_id}/update"
        _show(service.post("recall update", path, body), as_json)


@app.command("close")
def close(
    recall_id: Annotated[int, typer.Argument(help="The recall's number.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the recall ends.")],
    token: TokenOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an active recall (its issuer or a regulator)."""
    with Service(url, token) as service:
        path = f"/api/v1/recalls/{recall_id}/close"
        _show(service.post("recall close", path, {"reason": reason}), as_json)


@app.command("list")
def listing(
    gtin: Annotated[str | None, typer.Option(help="Recalls reaching lots of this GTIN.")] = None,
    lot: Annotated[
        str | None, typer.Option(help="Recalls reaching this lot: GTIN/LOT or Digital Link.")
    ] = None,
    gln: Annotated[
        str | None, typer.Option(help="Recalls reaching lots owned by, at or shipped to a GLN.")
    ] = None,
    issued_from: Annotated[
        str | None, typer.Option("--from", help="Issued on or after this UTC day (YYYY-MM-DD).")
    ] = None,
    issued_to: Annotated[
        str | None, typer.Option("--to", help="Issued on or before this UTC day.")
    ] = None,
    active_on: Annotated[
        str | None, typer.Option(help="Active at any time of this UTC day.")
    ] = None,
    inherited: Annotated[bool, typer.Option(help="Recalls of the lots' ancestors too.")] = True,
    include_closed: Annotated[bool, typer.Option("--all", help="Closed recalls too.")] = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Look recalls up by GTIN, lot, GLN or date: active ones, inherited ones included."""
    lot_code = None
    if lot is not None:
        link = parse_link_argument(lot)
        gtin, lot_code = link.gtin, link.lot
    params = {
        "gtin": gtin,
        "lot_code": lot_code,
        "gln": gln,
        "issued_from": issued_from,
        "issued_to": issued_to,
        "active_on": active_on,
        "inherited": str(inherited).lower(),
        "include_closed": str(include_closed).lower(),
    }
    with Service(url, None) as service:
        found = service.get("recall list", "/api/v1/recalls", **params)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for recall in found:
        typer.echo(_summary(recall))
    typer.echo(f"{len(found)} recall(s)")


@app.command("show")
def show(
    recall_id: Annotated[int, typer.Argument(help="The recall's number.")],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """One recall: class, status, lots, wording, and where it is on chain."""
    with Service(url, None) as service:
        _show(service.get("recall show", f"/api/v1/recalls/{recall_id}"), as_json)
