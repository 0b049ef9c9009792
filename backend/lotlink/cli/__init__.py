"""The ``lotlink`` command. Each concern owns a sub-command module; this one assembles them.

Every LotlinkError ends as one line on stderr and exit status 1: no traceback reaches a user.
"""

from __future__ import annotations

import sys

import typer

from lotlink.cli import (
    actor,
    alerts,
    anchorer,
    bench,
    chain,
    contracts,
    db,
    drill,
    export,
    indexer,
    labels,
    recall,
    serve,
    submit,
    verify,
)
from lotlink.errors import LotlinkError

app = typer.Typer(
    name="lotlink",
    help="Lotlink: product traceability anchored on an Ethereum-compatible chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(contracts.app, name="contracts")
app.add_typer(chain.app, name="chain")
app.command("deploy")(chain.deploy)
app.add_typer(db.app, name="db")
app.command("serve")(serve.serve)
app.add_typer(bench.app, name="bench")
app.add_typer(actor.app, name="actor")
app.command("submit")(submit.submit)
app.command("indexer")(indexer.indexer)
app.command("reindex")(indexer.reindex)
app.command("anchorer")(anchorer.anchorer)
app.command("labels")(labels.labels)
app.command("verify")(verify.verify)
app.add_typer(recall.app, name="recall")
app.add_typer(alerts.app, name="alerts")
app.add_typer(alerts.webhooks, name="webhook")
app.add_typer(export.app, name="export")
app.command("drill")(drill.drill)


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except LotlinkError as error:
        typer.secho(f"lotlink: {error}", err=True, fg=typer.colors.RED)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
