"""`lotlink drill LOT`: a mock recall against a running Lotlink service, timed step by step.

1. **trace**: ``GET /api/v1/lots/{key}/trace?direction=downstream``, every lot made from LOT and
   every shipment and receipt of them;
2. **evidence**: ``GET /api/v1/lots/{key}/evidence``, the bundle a regulator would keep;
3. **verify**: `verify_bundle` of that bundle against the chain's JSON-RPC endpoint alone (the
   service is not trusted for this step: a row edited in its database fails here).

Prints each step's wall time and counts (lots, shipments, places, events verified); exits 1 when
verification fails, naming the failing checks, and 3 (as `lotlink verify`) when nothing failed but
the endpoint could not answer some checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from web3 import HTTPProvider, Web3

from lotlink.chain.roles import NODE_ERRORS, node_message
from lotlink.cli.service import Service, TokenOption, UrlOption, lot_key_of
from lotlink.cli.verify import exit_not_checked
from lotlink.config import get_settings
from lotlink.errors import ChainUnavailableError
from lotlink.verify_bundle import verify_bundle

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    seconds: float
    counts: str


def _places(trace: dict[str, Any]) -> set[str]:
    """The GLNs the traced goods were shipped from, to, or received at."""
    found: set[str] = set()
    for shipment in trace["shipments"]:
        for movement in (shipment["shipped"], shipment["received"]):
            if movement is not None and movement["place"]["gln"]:
                found.add(movement["place"]["gln"])
        found.update(p["gln"] for p in shipment["destinations"] if p["gln"])
    return found


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def _line(step: Step) -> str:
    return f"  {step.name:<10} {step.seconds * 1000:>9.1f} ms   {step.counts}"


def drill(
    lot: Annotated[str, typer.Argument(help="The lot: 0x lot key, GTIN/LOT or Digital Link.")],
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc", help="JSON-RPC endpoint to verify against; default: LOTLINK_PUBLIC_RPC_URL."
        ),
    ] = None,
    confirmations: Annotated[
        int, typer.Option(min=0, help="Blocks each record must be buried under.")
    ] = 0,
    token: TokenOption = None,
    url: UrlOption = None,
) -> None:
    """Run a mock recall of LOT: downstream trace, evidence bundle, verification against the
    chain; print how long each step took and what it found."""
    key = lot_key_of(lot)
    endpoint = rpc or get_settings().effective_public_rpc_url
    w3 = Web3(HTTPProvider(endpoint, request_kwargs={"timeout": 60}))
    if not w3.is_connected():
        raise ChainUnavailableError(url=endpoint, reason="no answer to a JSON-RPC request")
    with Service(url, token) as service:
        trace, trace_s = _timed(
            lambda: service.get("drill: trace", f"/api/v1/lots/{key}/trace", direction="downstream")
        )
        bundle, bundle_s = _timed(
            lambda: service.get("drill: evidence", f"/api/v1/lots/{key}/evidence")
        )
    try:
        report, verify_s = _timed(lambda: verify_bundle(bundle, w3, confirmations=confirmations))
    except NODE_ERRORS as error:
        raise ChainUnavailableError(url=endpoint, reason=node_message(error)) from None
    events = len(bundle["events"])
    checks = sum(report.checked.values())
    failed = sum(len(problems) for problems in report.failures.values())
    failed += sum(len(reasons) for reasons in report.unchecked.values())
    steps = [
        Step(
            "trace",
            trace_s,
            f"{len(trace['lots'])} lots, {len(trace['shipments'])} shipments, "
            f"{len(_places(trace))} places",
        ),
        Step(
            "evidence",
            bundle_s,
            f"{events} events, {len(bundle['lots'])} lots, {len(bundle['recalls'])} recalls, "
            f"{len(bundle['certificates'])} certificates",
        ),
        # An event counts as verified only when the whole bundle is: a failing check may be
        # about any event's chain, lineage or anchor.
        Step(
            "verify",
            verify_s,
            f"{events if report.ok else 0}/{events} events verified, "
            f"{checks - failed}/{checks} checks passed",
        ),
    ]
    traced = next((x for x in trace["lots"] if x["lot_key"] == key), None)
    name = key if traced is None else f"(01){traced['gtin']}(10){traced['lot_code']}"
    typer.echo(f"drill of {name} at {service.url}, verified against {endpoint}")
    for step in steps:
        typer.echo(_line(step))
    typer.echo(f"  {'total':<10} {sum(s.seconds for s in steps) * 1000:>9.1f} ms")
    if not report.ok:
        for text in report.lines():
            if "FAIL" in text or " ?  " in text or text.startswith("    "):
                typer.echo(text)
    if report.failed:
        typer.secho(f"verification FAILED: {', '.join(report.failed_groups)}", err=True, fg="red")
        raise typer.Exit(1)
    if not report.ok:
        exit_not_checked(report, command="lotlink drill", rpc=endpoint)
    typer.echo("verification ok")
