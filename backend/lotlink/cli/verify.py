"""`lotlink verify BUNDLE --rpc URL`: check an evidence bundle against the chain, nothing else.

Prints one line per check group and the totals; exits 1 when any check fails, 2 when the
bundle cannot be read or the endpoint not reached.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from web3 import HTTPProvider, Web3

from lotlink.verify_bundle import verify_bundle


def verify(
    bundle: Annotated[Path, typer.Argument(help="An evidence bundle (…/evidence JSON).")],
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC endpoint of the chain.")],
    confirmations: Annotated[
        int, typer.Option(min=0, help="Blocks each record must be buried under.")
    ] = 0,
) -> None:
    """Check an evidence bundle against the chain: hashes, signatures, roles at the anchoring
    block, Merkle proofs, confirmations, each lot's event chain, lineage, recalls, certificates."""
    try:
        document = json.loads(bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        typer.secho(f"lotlink verify: cannot read {bundle}: {error}", err=True, fg="red")
        raise typer.Exit(2) from None
    w3 = Web3(HTTPProvider(rpc, request_kwargs={"timeout": 30}))
    if not w3.is_connected():
        typer.secho(f"lotlink verify: no JSON-RPC endpoint answers at {rpc}", err=True, fg="red")
        raise typer.Exit(2)
    report = verify_bundle(document, w3, confirmations=confirmations)
    counts = (len(document.get("events", [])), len(document.get("lots", [])))
    typer.echo(f"{bundle}: {counts[0]} events, {counts[1]} lots, chain {document.get('chainId')}")
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)
