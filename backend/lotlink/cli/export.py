"""`lotlink export fsma204`: the FSMA 204 sortable spreadsheet from a running Lotlink service,
written to a file (CSV or XLSX). A regulator's token gets every row; another actor's token the
rows of its own records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from lotlink.cli.service import Service, TokenOption, UrlOption, lot_key_of
from lotlink.services.trace import Direction

app = typer.Typer(help="Export records from a Lotlink service.")


@app.command("fsma204")
def fsma204(
    lots: Annotated[
        list[str] | None,
        typer.Option("--lot", help="A lot (0x key, GTIN/LOT or Digital Link); repeatable."),
    ] = None,
    gtin: Annotated[str | None, typer.Option(help="Every lot of this GTIN.")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Events on or after this UTC day (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Events on or before this UTC day.")
    ] = None,
    trace: Annotated[
        Direction | None,
        typer.Option(help="Add every lot upstream, downstream or both of the lots named."),
    ] = None,
    output_format: Annotated[
        Literal["csv", "xlsx"], typer.Option("--format", help="csv or xlsx.")
    ] = "csv",
    out: Annotated[
        Path | None, typer.Option(help="Where to write; default fsma204-<time>.<format>.")
    ] = None,
    token: TokenOption = None,
    url: UrlOption = None,
) -> None:
    """Write the FSMA 204 spreadsheet of key data elements: one row per critical tracking
    event of the lots, TLCs or dates asked for, each with its receipt reference."""
    params = {
        "lot_key": [lot_key_of(lot) for lot in lots or []],
        "gtin": gtin,
        "date_from": date_from,
        "date_to": date_to,
        "trace": None if trace is None else trace.value,
        "format": output_format,
    }
    query = {k: v for k, v in params.items() if v is not None and v != []}
    with Service(url, token) as service:
        response = service.request("export fsma204", "GET", "/api/v1/fsma204", params=query)
    target = out or Path(f"fsma204-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.{output_format}")
    target.write_bytes(response.content)
    rows = response.headers.get("Lotlink-Rows", "?")
    typer.echo(f"wrote {target}: {rows} critical tracking event row(s)")
