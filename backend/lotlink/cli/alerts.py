"""`lotlink alerts list|show|ack|escalate|close` and `lotlink webhook add|list|remove`: alerts and
webhook endpoints through a running Lotlink service, with the actor's API token.

An alert reaches the supplier it concerns and every regulator; `escalate` recalls the alert's
lot on chain (the service signs with the actor's custodial key) and links the recall.
`webhook add` prints the endpoint's signing secret once: messages carry Standard Webhooks
signatures made with it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

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

app = typer.Typer(help="List, acknowledge, escalate and close alerts through a Lotlink service.")
webhooks = typer.Typer(help="Register, list and remove the actor's webhook endpoints.")

AlertArgument = Annotated[int, typer.Argument(help="The alert's number.")]


def _line(alert: dict[str, Any]) -> str:
    what = f"{alert['gtin']}/{alert['lot_code']}" if alert["lot_code"] else alert["gtin"] or "-"
    p_value = "" if alert["p_value"] is None else f", p = {alert['p_value']:.2g}"
    return (
        f"alert {alert['id']}: {alert['kind']}/{alert['rule']} on {what}, {alert['state']}"
        f"{p_value}; {alert['reason']}"
    )


def _show(alert: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(alert, indent=2))
        return
    typer.echo(_line(alert))
    for label, key in (("trace", "trace"), ("recall", "recall"), ("page", "page")):
        if alert["links"].get(key):
            typer.echo(f"  {label}: {alert['links'][key]}")


@app.command("list")
def listing(
    state: Annotated[
        list[str] | None, typer.Option(help="Only this state (repeat): open, acknowledged, …")
    ] = None,
    lot: Annotated[
        str | None, typer.Option(help="Only this lot: 0x key, GTIN/LOT or Digital Link.")
    ] = None,
    kind: Annotated[str | None, typer.Option(help='Only this kind, e.g. "complaints".')] = None,
    token: TokenOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The alerts the token's actor may see, newest first."""
    params = {"state": state, "kind": kind, "lot": None if lot is None else lot_key_of(lot)}
    with Service(url, token) as service:
        found = service.get("alerts list", "/api/v1/alerts", **params)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for alert in found:
        typer.echo(_line(alert))
    typer.echo(f"{len(found)} alert(s)")


@app.command("show")
def show(
    alert_id: AlertArgument, token: TokenOption = None, url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """One alert: its rule, figures, state and links."""
    with Service(url, token) as service:
        _show(service.get("alerts show", f"/api/v1/alerts/{alert_id}"), as_json)


@app.command("ack")
def acknowledge(
    alert_id: AlertArgument, token: TokenOption = None, url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:  # fmt: skip
    """Mark an open alert as seen."""
    with Service(url, token) as service:
        path = f"/api/v1/alerts/{alert_id}/acknowledge"
        _show(service.post("alerts ack", path, {}), as_json)


@app.command("escalate")
def escalate(
    alert_id: AlertArgument,
    recall_class: ClassOption,
    reason: ReasonOption,
    consumer: ConsumerOption = "",
    trade: TradeOption = "",
    token: TokenOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recall the alert's lot on chain and link the recall to the alert."""
    body = recall_wording(recall_class, reason, consumer, trade)
    with Service(url, token) as service:
        _show(service.post("alerts escalate", f"/api/v1/alerts/{alert_id}/escalate", body), as_json)


@app.command("close")
def close(
    alert_id: AlertArgument,
    note: Annotated[str, typer.Option("--note", help="Why the alert is closed.")],
    token: TokenOption = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close an alert, saying why."""
    with Service(url, token) as service:
        path = f"/api/v1/alerts/{alert_id}/close"
        _show(service.post("alerts close", path, {"note": note}), as_json)


@webhooks.command("add")
def add_webhook(
    endpoint: Annotated[str, typer.Argument(help="The http(s) URL to send alerts to.")],
    token: TokenOption = None,
    url: UrlOption = None,
) -> None:
    """Register an endpoint (again: a new secret) and print its signing secret, once."""
    with Service(url, token) as service:
        created = service.post("webhook add", "/api/v1/webhooks", {"url": endpoint})
    typer.echo(f"webhook {created['id']}: {created['url']}")
    typer.echo(f"  secret: {created['secret']}  (keep it: it is not shown again)")


@webhooks.command("list")
def list_webhooks(token: TokenOption = None, url: UrlOption = None) -> None:
    """The actor's endpoints."""
    with Service(url, token) as service:
        found = service.get("webhook list", "/api/v1/webhooks")
    for endpoint in found:
        state = "removed" if endpoint["disabled_at"] else "active"
        typer.echo(f"webhook {endpoint['id']}: {endpoint['url']} ({state})")
    typer.echo(f"{len(found)} endpoint(s)")


@webhooks.command("remove")
def remove_webhook(
    endpoint_id: Annotated[int, typer.Argument(help="The endpoint's number.")],
    token: TokenOption = None,
    url: UrlOption = None,
) -> None:
    """Stop sending to an endpoint."""
    with Service(url, token) as service:
        removed = service.request("webhook remove", "DELETE", f"/api/v1/webhooks/{endpoint_id}")
    typer.echo(f"webhook {endpoint_id}: {removed.json()['url']} removed")
