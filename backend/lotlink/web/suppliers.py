"""The public supplier page, ``/suppliers/{gln}``: the grade, the measures and formula behind
it, and its history as an SVG chart drawn on the server (no script, nothing fetched). Signed in
as that supplier or as a regulator, the page also lists the supplier's serials flagged as
copies.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import CopyFlag, Lot
from lotlink.services.scorecards import GRADES, Snapshot, find_supplier, scorecard
from lotlink.vocabulary import Role
from lotlink.web.session import SignedInDep, WebActor
from lotlink.web.templating import render

router = APIRouter(include_in_schema=False)

# The chart's drawing box, in SVG user units (the SVG scales to the page's width).
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 44


@dataclass(frozen=True, slots=True)
class Band:
    grade: str
    y: float
    height: float
    label_y: float


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    grade: str
    score: float
    label: str
    ticked: bool


@dataclass(frozen=True, slots=True)
class GradeChart:
    width: int
    height: int
    left: int
    plot_right: int
    bands: list[Band]
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _y(score: float) -> float:
    return TOP + (100 - score) / 100 * (HEIGHT - TOP - BOTTOM)


def grade_chart(snapshots: list[Snapshot]) -> GradeChart:
    """Scores over time on bands of the grades (A on top)."""
    bands = []
    ceiling = 100.0
    for letter, floor in GRADES:
        top, bottom = _y(ceiling), _y(floor)
        bands.append(Band(letter, top, bottom - top, (top + bottom) / 2 + 4))
        ceiling = floor
    span = WIDTH - LEFT - RIGHT
    step = span / max(1, len(snapshots) - 1)
    points = [
        Point(
            x=LEFT + i * step,
            y=_y(s.score),
            grade=s.grade,
            score=s.score,
            label=f"{s.at:%b %Y}" if i < len(snapshots) - 1 else "now",
            # Every fourth month and "now" are labelled; the month just before "now" would overlap.
            ticked=i == len(snapshots) - 1 or (i % 4 == 0 and i < len(snapshots) - 2),
        )
        for i, s in enumerate(snapshots)
    ]
    return GradeChart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, bands, points)


def _flagged(request: Request, supplier_address: str) -> list[tuple[CopyFlag, Lot, str]]:
    with request.app.state.read_sessions() as session:
        rows = session.execute(
            select(CopyFlag, Lot)
            .join(Lot, Lot.lot_key == CopyFlag.lot_key)
            .where(Lot.owner_address == supplier_address)
            .order_by(CopyFlag.detected_at.desc())
            .limit(200)
        )
        return [
            (flag, lot, DigitalLink(gtin=lot.gtin, lot=lot.lot_code, serial=flag.serial).path)
            for flag, lot in rows
        ]


def _page(request: Request, gln: str, signed_in: WebActor | None) -> HTMLResponse:
    with request.app.state.read_sessions() as session:
        supplier = find_supplier(session, gln)
        card = scorecard(session, supplier)
        snapshots = [*card.history, card.current]
        private = signed_in is not None and (
            signed_in.actor.address == supplier.address or signed_in.has(Role.REGULATOR)
        )
        return render(
            "supplier.html",
            supplier=supplier,
            card=card,
            chart=grade_chart(snapshots),
            snapshots=snapshots,
            signed_in=signed_in,
            flagged=_flagged(request, supplier.address) if private else None,
        )


@router.get("/suppliers/{gln}")
async def supplier_page(gln: str, request: Request, signed_in: SignedInDep) -> HTMLResponse:
    return await run_in_threadpool(_page, request, gln, signed_in)
