"""``GET /api/v1/fsma204``: the FSMA 204 sortable spreadsheet (CSV or XLSX) of the lots, TLCs or
dates asked for, one row per critical tracking event (`lotlink.services.fsma204`).

Regulators get every row; any other actor the rows of its own records (events it signed, lots it
owns), which is what it must hand over itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from lotlink.api.deps import ActorDep, SessionDep, SettingsDep
from lotlink.schemas.fsma204 import Fsma204Query
from lotlink.services.actors import actor_roles
from lotlink.services.fsma204 import COLUMNS, fsma204_rows
from lotlink.services.fsma204_scope import fsma204_request
from lotlink.services.spreadsheets import write_csv, write_xlsx
from lotlink.vocabulary import Role

router = APIRouter(prefix="/api/v1", tags=["regulators"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _about(query: Fsma204Query, request: Request, rows: int, now: datetime) -> list[Any]:
    deployment = request.app.state.deployment
    return [
        ("Rule", "FSMA 204, 21 CFR 1 Subpart S: key data elements, §1.1455(c)(3)(ii)"),
        ("Generated (UTC)", now.replace(microsecond=0)),
        ("Request", str(request.url.query)),
        ("Rows", rows),
        ("Chain id", None if deployment is None else deployment.chain_id),
        ("Contract", None if deployment is None else deployment.address()),
        ("Receipts", "each row's Receipt URL returns the event's self-contained receipt"),
        ("Dates", "event dates are local to the event; Event time (UTC) sorts across zones"),
        ("Format", query.format),
    ]


@router.get("/fsma204", summary="FSMA 204 sortable spreadsheet (CSV or XLSX)")
def export_fsma204(
    query: Annotated[Fsma204Query, Query()],
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    asked = fsma204_request(
        lot_keys=query.lot_key,
        tlcs=query.tlc,
        gtin=query.gtin,
        date_from=query.date_from,
        date_to=query.date_to,
        trace=query.trace,
    )
    regulator = Role.REGULATOR in actor_roles(actor)
    rows = fsma204_rows(
        session,
        asked,
        visible_to=None if regulator else actor.address,
        base_url=settings.public_base_url,
    )
    now = datetime.now(UTC)
    name = f"fsma204-{now:%Y%m%dT%H%M%SZ}.{query.format}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Lotlink-Rows": str(len(rows)),
    }
    if query.format == "xlsx":
        about = _about(query, request, len(rows), now)
        body = write_xlsx(COLUMNS, rows, title="FSMA 204", about=about)
        return Response(body, media_type=XLSX, headers=headers)
    return Response(write_csv(COLUMNS, rows), media_type="text/csv; charset=utf-8", headers=headers)
