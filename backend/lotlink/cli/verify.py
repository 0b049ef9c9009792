"""`lotlink verify BUNDLE --rpc URL`: check an evidence bundle against the chain, nothing else.

Prints one line per check group and the totals. Exits 1 when any check fails; 2 when the bundle
cannot be read or the endpoint not reached (or it stops answering mid-way); 3 when nothing failed
but some checks could not be made, such as a role at a block the node keeps no state or role logs
for (ask an archive node): not verified, and not shown to be false either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from web3 import HTTPProvider, Web3

from lotlink.chain.roles import NODE_ERRORS, node_message
from lotlink.verify_bundle import Report, verify_bundle

#: Exit status when nothing failed but the endpoint could not answer some checks.
EXIT_NOT_CHECKED = 3


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
    try:
        report = verify_bundle(document, w3, confirmations=confirmations)
    except NODE_ERRORS as error:
        typer.secho(
            f"lotlink verify: the endpoint at {rpc} failed mid-check: {node_message(error)}",
            err=True,
            fg="red",
        )
        raise typer.Exit(2) from None
    counts = (len(document.get("events", [])), len(document.get("lots", [])))
    typer.echo(f"{bundle}: {counts[0]} events, {counts[1]} lots, chain {document.get('chainId')}")
    for line in report.lines():
        typer.echo(line)
    if report.failed:
        raise typer.Exit(1)
    if not report.ok:
        exit_not_checked(report, command="lotlink verify", rpc=rpc)


def exit_not_checked(report: Report, *, command: str, rpc: str) -> NoReturn:
    """Ends a command whose report has checks the endpoint could not answer (and no failure)."""
    unchecked = sum(len(reasons) for reasons in report.unchecked.values())
    typer.secho(
        f"{command}: {unchecked} checks ({', '.join(report.unchecked_groups)}) could not be "
        f"made: {rpc} cannot answer them (see above); an archive node can",
        err=True,
        fg="yellow",
    )
    raise typer.Exit(EXIT_NOT_CHECKED)
