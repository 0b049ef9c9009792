"""Scans of serialised codes: kept off the request path, then judged by the copy rules.

A scan page is served from memory in about a millisecond (see `lotlink.web.page_cache`); a
database write per scan would cost more than the page. So the resolver only appends the scan to
this process's buffer (`ScanRecorder.record`, a lock and a list append), and a background thread
writes the buffer every ``scan_flush_seconds`` in one multi-row INSERT, then re-judges each
serial it wrote (`judge_serial`). A rule that fires stores a `CopyFlag` (which the serial's scan
page shows from then on: the flag is part of the page's fingerprint) and raises an alert for
the lot's supplier. Scans buffered when a process dies hard are lost: they are evidence for a
heuristic, not records, and losing a few only delays a flag.

A view's place comes with the request (the ``Lotlink-Coarse-Location`` header of a scanning app
or edge proxy) or afterwards from the page's script when the person agrees to share it
(``POST /api/v1/scans``); the latter is given to that view's scan (`locate_scan`), so one view
is never counted twice.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lotlink.config import Settings
from lotlink.gs1.digital_link import DigitalLink
from lotlink.indexer.derived import lot_journey
from lotlink.models import CopyFlag, CopyRule, Lot, SerialScan
from lotlink.services.alerts import AlertSignal, raise_alert
from lotlink.services.copies import (
    EARTH_RADIUS_KM,
    CopyPolicy,
    CopySignal,
    Place,
    Scan,
    copy_signals,
    serials_in,
)

log = logging.getLogger("lotlink.scans")

#: No two places on Earth are further apart than this (half the great circle).
HALF_EARTH_KM = math.pi * EARTH_RADIUS_KM
#: At most this many of a serial's newest scans are judged (a copied code on a million packs
#: must not make one flush read a million rows).
MAX_SCANS = 2000


def travel_reach(policy: CopyPolicy) -> timedelta:
    """How far back from a new scan an older located one can still make impossible travel: the
    furthest trip on Earth at the top plausible speed (any pair further apart is possible)."""
    return timedelta(hours=HALF_EARTH_KM / policy.max_speed_kmh)


@dataclass(frozen=True, slots=True)
class PendingScan:
    gtin: str
    lot_code: str
    serial: str
    at: datetime
    place: Place | None
    # The place of a page view already recorded (sent later by the page's script, when the
    # person agreed): it is given to that view's scan rather than counted as another scan.
    locates: bool = False


#: How long after a page view its script may still give the view a place.
LOCATE_WINDOW = timedelta(minutes=10)


def locate_scan(session: Session, lot_key: str, scan: PendingScan) -> bool:
    """Gives `scan`'s place to the newest unplaced scan of its serial in the last
    `LOCATE_WINDOW`; False when there is none (the place is then a scan of its own)."""
    assert scan.place is not None
    newest = (
        select(SerialScan.id)
        .where(
            SerialScan.lot_key == lot_key,
            SerialScan.serial == scan.serial,
            SerialScan.lat_tenths.is_(None),
            SerialScan.scanned_at >= scan.at - LOCATE_WINDOW,
        )
        .order_by(SerialScan.scanned_at.desc(), SerialScan.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    placed = session.execute(
        update(SerialScan)
        .where(SerialScan.id == newest)
        .values(lat_tenths=scan.place.lat_tenths, lon_tenths=scan.place.lon_tenths)
    )
    return bool(placed.rowcount)  # type: ignore[attr-defined]


def recorded_serials(session: Session, lot: Lot) -> frozenset[str]:
    """The serials the lot's stored events name (empty when the lot records none)."""
    events = []
    for step in lot_journey(session, lot.lot_key):
        try:
            events.append(json.loads(step.checkpoint.epcis_json)["epcisBody"]["eventList"][0])
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # an unreadable stored event names nothing; its page shows it as failed
    return serials_in(events, gtin=lot.gtin, lot_code=lot.lot_code)


def serial_scans(
    session: Session,
    lot_key: str,
    serial: str,
    *,
    since: datetime | None,
    located_since: datetime | None,
) -> list[Scan]:
    """The serial's scans from `since`, and its located ones from `located_since` (None: none)."""
    reach = [
        *([SerialScan.scanned_at >= since] if since is not None else []),
        *(
            [SerialScan.lat_tenths.is_not(None) & (SerialScan.scanned_at >= located_since)]
            if located_since is not None
            else []
        ),
    ]
    if not reach:
        return []
    rows = session.execute(
        select(SerialScan.scanned_at, SerialScan.lat_tenths, SerialScan.lon_tenths)
        .where(SerialScan.lot_key == lot_key, SerialScan.serial == serial, or_(*reach))
        .order_by(SerialScan.scanned_at.desc())
        .limit(MAX_SCANS)
    )
    return [
        Scan(at, None if lat is None or lon is None else Place(lat, lon)) for at, lat, lon in rows
    ]


def judge_serial(
    session: Session,
    lot: Lot,
    serial: str,
    policy: CopyPolicy,
    *,
    earliest: datetime,
    now: datetime | None = None,
    recorded: frozenset[str] | None = None,
) -> list[CopyFlag]:
    """Runs the copy rules not yet flagged for `serial` of `lot`, whose scans from `earliest`
    on are new (older ones were judged when they were new, so only those within a rule's reach
    of the new ones are read); stores the new flags and alerts (the caller commits)."""
    moment = now or datetime.now(UTC)
    known = set(
        session.scalars(
            select(CopyFlag.rule).where(CopyFlag.lot_key == lot.lot_key, CopyFlag.serial == serial)
        )
    )
    if known >= set(CopyRule):
        return []  # a flooded copy costs one small query per flush, not a recount
    scans = serial_scans(
        session,
        lot.lot_key,
        serial,
        since=None if CopyRule.SCAN_RATE in known else earliest - policy.rate_window,
        located_since=None
        if CopyRule.IMPOSSIBLE_TRAVEL in known
        else earliest - travel_reach(policy),
    )
    if recorded is None:
        recorded = recorded_serials(session, lot)
    signals = [s for s in copy_signals(serial, scans, recorded, policy) if s.rule not in known]
    if not signals:
        return []
    new = [
        CopyFlag(
            lot_key=lot.lot_key, serial=serial, rule=s.rule, reason=s.reason, detected_at=moment
        )
        for s in signals
    ]
    try:
        with session.begin_nested():
            session.add_all(new)
    except IntegrityError:  # another process flagged it first: its flag stands
        return []
    for flag, signal in zip(new, signals, strict=True):
        report_copy(session, lot, flag, signal)
    return new


def report_copy(session: Session, lot: Lot, flag: CopyFlag, signal: CopySignal) -> None:
    """Tells the lot's supplier (and regulators, who see every alert) that one of its codes
    looks copied: an alert, and a signed webhook to their endpoints."""
    raise_alert(
        session,
        AlertSignal(
            kind="copies",
            rule=str(flag.rule),
            subject=f"{lot.lot_key}/{flag.serial}",
            reason=f"Serial {flag.serial} of lot {lot.lot_code} may be a copy: {flag.reason}.",
            lot_key=lot.lot_key,
            gtin=lot.gtin,
            supplier=lot.owner_address,
            statistic={
                "serial": flag.serial,
                "scan_page": DigitalLink(gtin=lot.gtin, lot=lot.lot_code, serial=flag.serial).path,
                **signal.figures,
            },
        ),
        now=flag.detected_at,
    )


def copy_flags(session: Session, lot_key: str, serial: str) -> list[CopyFlag]:
    return list(
        session.scalars(
            select(CopyFlag)
            .where(CopyFlag.lot_key == lot_key, CopyFlag.serial == serial)
            .order_by(CopyFlag.detected_at, CopyFlag.id)
        )
    )


def store_scans(
    sessions: sessionmaker[Session], scans: list[PendingScan], policy: CopyPolicy
) -> list[CopyFlag]:
    """Writes `scans` in one INSERT (scans of lots we do not hold are dropped), then judges
    each serial they touched; returns the new flags."""
    if not scans:
        return []
    with sessions() as session:
        lots = {
            (lot.gtin, lot.lot_code): lot
            for lot in session.scalars(
                select(Lot).where(
                    tuple_(Lot.gtin, Lot.lot_code).in_({(s.gtin, s.lot_code) for s in scans})
                )
            )
        }
        rows: list[dict[str, Any]] = []
        touched: dict[tuple[str, str], tuple[Lot, datetime]] = {}
        located: list[tuple[str, PendingScan]] = []
        for scan in scans:
            lot = lots.get((scan.gtin, scan.lot_code))
            if lot is None:
                continue
            since = scan.at - LOCATE_WINDOW if scan.locates else scan.at
            earliest = touched.get((lot.lot_key, scan.serial), (lot, since))[1]
            touched[(lot.lot_key, scan.serial)] = (lot, min(earliest, since))
            if scan.locates:
                located.append((lot.lot_key, scan))
                continue
            rows.append(
                {
                    "lot_key": lot.lot_key,
                    "serial": scan.serial,
                    "scanned_at": scan.at,
                    "lat_tenths": None if scan.place is None else scan.place.lat_tenths,
                    "lon_tenths": None if scan.place is None else scan.place.lon_tenths,
                }
            )
        if rows:
            session.execute(insert(SerialScan), rows)
        for lot_key, scan in located:  # after the batch's views: a view and its place may meet
            if not locate_scan(session, lot_key, scan):
                session.add(
                    SerialScan(
                        lot_key=lot_key,
                        serial=scan.serial,
                        scanned_at=scan.at,
                        lat_tenths=scan.place.lat_tenths if scan.place else None,
                        lon_tenths=scan.place.lon_tenths if scan.place else None,
                    )
                )
        if not touched:
            return []
        session.commit()
        flags: list[CopyFlag] = []
        serials_of: dict[str, frozenset[str]] = {}
        for (lot_key, serial), (lot, earliest) in touched.items():
            if lot_key not in serials_of:
                serials_of[lot_key] = recorded_serials(session, lot)
            flags.extend(
                judge_serial(
                    session,
                    lot,
                    serial,
                    policy,
                    earliest=earliest,
                    recorded=serials_of[lot_key],
                )
            )
        session.commit()
        return flags


class ScanRecorder:
    """This process's scan buffer and the thread that writes it."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._policy = CopyPolicy.of(settings)
        self._interval = settings.scan_flush_seconds
        self._buffer: list[PendingScan] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(
        self, gtin: str, lot_code: str, serial: str, place: Place | None, *, locates: bool = False
    ) -> None:
        """Buffers one scan, or with `locates` the place of a recent one (no I/O)."""
        scan = PendingScan(gtin, lot_code, serial, datetime.now(UTC), place, locates)
        with self._lock:
            self._buffer.append(scan)

    def flush(self) -> list[CopyFlag]:
        """Writes what is buffered now and judges it; returns the new flags."""
        with self._flushing:
            with self._lock:
                pending, self._buffer = self._buffer, []
            return store_scans(self._sessions, pending, self._policy)

    def start(self) -> ScanRecorder:
        self._thread = threading.Thread(target=self._run, name="lotlink-scans", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._flush_logged()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:  # a database hiccup must not end the thread; the next flush retries
            log.exception("writing scans failed")
