"""``POST /api/v1/scans``: the rough place of a serial's scan, sent by its page's script when the
person scanning agreed to share it (see `lotlink.services.scans`).

The body holds the serial's link and a latitude and longitude that the script has already
rounded to a tenth of a degree; the service rounds again, so nothing finer is ever kept, and
keeps nothing else about the sender. 202: the place is buffered with the other scans.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from lotlink.api.deps import SessionDep
from lotlink.errors import InvalidInputError, UnknownProductError
from lotlink.gs1.digital_link import parse_digital_link
from lotlink.models import Lot
from lotlink.schemas.common import Input
from lotlink.services.copies import coarse_place
from lotlink.services.scans import ScanRecorder

router = APIRouter(prefix="/api/v1/scans", tags=["scans"])


class ScanPlace(Input):
    link: str = Field(
        max_length=400,
        description="The serial's GS1 Digital Link path, /01/{gtin}/10/{lot}/21/{serial}.",
        examples=["/01/09521000000025/10/IF-2611-A/21/A-000417"],
    )
    lat: float = Field(ge=-90, le=90, description="Latitude, rounded to 0.1°.")
    lon: float = Field(ge=-180, le=180, description="Longitude, rounded to 0.1°.")


class ScanPlaceAccepted(BaseModel):
    place: tuple[float, float] = Field(description="The place as kept: (lat, lon) to 0.1°.")


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Give a serial's scan its rough place (sent by the scan page, with consent)",
)
def give_place(body: ScanPlace, request: Request, session: SessionDep) -> ScanPlaceAccepted:
    link = parse_digital_link(body.link.split("?", 1)[0])
    if link.lot is None or link.serial is None:
        raise InvalidInputError(field="link", reason="must name a lot and a serial (/10/…/21/…)")
    if (
        session.scalar(select(Lot.lot_key).where(Lot.gtin == link.gtin, Lot.lot_code == link.lot))
        is None
    ):
        raise UnknownProductError(gtin=link.gtin, lot=link.lot)
    place = coarse_place(body.lat, body.lon)
    recorder: ScanRecorder | None = getattr(request.app.state, "scans", None)
    if recorder is not None:
        recorder.record(link.gtin, link.lot, link.serial, place, locates=True)
    return ScanPlaceAccepted(place=(place.lat, place.lon))
