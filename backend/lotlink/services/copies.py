"""Copied-QR detection: the rules that say a serialised code is probably printed more than once.

One serial is one unit. Its scans therefore cannot come from two places faster than anything
travels between them, cannot pile up faster than a pack is ever looked at, and cannot name a
serial the lot never recorded. Each rule reads only the serial's scans (time and a coarse place,
see `lotlink.models.scan`) and the lot's own record, so it can be replayed from the database.

Thresholds (``Settings.copy_*``):

- impossible travel: two consecutive located scans further apart than ``copy_min_distance_km``
  (which absorbs the ~11 km rounding of places and a bus ride) at a speed above
  ``copy_max_speed_kmh`` (default 1,000 km/h: faster than an airliner, door to door);
- scan rate: more than ``copy_rate_limit`` scans in any ``copy_rate_window_seconds``;
- not commissioned: the lot's events name serials (``…/10/{lot}/21/{serial}`` in an EPC list),
  and never this one. A lot that records no serials at all is not judged by this rule: its
  serials were only printed (``lotlink labels --serials``), never recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import unquote

from lotlink.config import Settings
from lotlink.models.scan import CopyRule

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
# Every field of an EPCIS event that lists instance-level identifiers.
_EPC_FIELDS = ("epcList", "inputEPCList", "outputEPCList", "childEPCs", "parentID")
_SERIAL_DL = re.compile(r"/01/(\d{14})/10/([^/?#]+)/21/([^/?#]+)$")

#: The request header a scanning app or an edge proxy may send: ``<lat>,<lon>`` in decimal
#: degrees, any precision; it is rounded to a tenth of a degree before anything keeps it.
COARSE_LOCATION_HEADER = "Lotlink-Coarse-Location"


@dataclass(frozen=True, slots=True)
class Place:
    """A coarse place: latitude and longitude in whole tenths of a degree (about 11 km)."""

    lat_tenths: int
    lon_tenths: int

    @property
    def lat(self) -> float:
        return self.lat_tenths / 10

    @property
    def lon(self) -> float:
        return self.lon_tenths / 10

    def __str__(self) -> str:
        return f"{self.lat:.1f}, {self.lon:.1f}"


@dataclass(frozen=True, slots=True)
class Scan:
    """One scan of a serial, as the rules see it."""

    at: datetime
    place: Place | None = None


@dataclass(frozen=True, slots=True)
class CopySignal:
    """A rule that fired, with its evidence in plain words and its figures."""

    rule: CopyRule
    reason: str
    figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CopyPolicy:
    max_speed_kmh: float = 1000.0
    min_distance_km: float = 50.0
    rate_limit: int = 20
    rate_window: timedelta = timedelta(hours=1)

    @classmethod
    def of(cls, settings: Settings) -> CopyPolicy:
        return cls(
            max_speed_kmh=settings.copy_max_speed_kmh,
            min_distance_km=settings.copy_min_distance_km,
            rate_limit=settings.copy_rate_limit,
            rate_window=timedelta(seconds=settings.copy_rate_window_seconds),
        )


def coarse_place(lat: float, lon: float) -> Place:
    """`lat`, `lon` rounded to a tenth of a degree; ValueError outside the globe."""
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise ValueError(f"{lat}, {lon} is not a place on Earth")
    return Place(round(lat * 10), round(lon * 10))


def parse_coarse_location(text: str | None) -> Place | None:
    """The place in a ``Lotlink-Coarse-Location: <lat>,<lon>`` value, rounded; None if it is
    absent or unreadable (a scan page is never refused over it)."""
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 2:
        return None
    try:
        return coarse_place(float(parts[0]), float(parts[1]))
    except ValueError:
        return None


def distance_km(a: Place, b: Place) -> float:
    """The great-circle distance between two places (haversine, spherical Earth)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    d_phi, d_lambda = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _duration(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def impossible_travel(scans: Sequence[Scan], policy: CopyPolicy) -> CopySignal | None:
    """The fastest implausible hop between consecutive located scans, if any."""
    located = sorted((s for s in scans if s.place is not None), key=lambda s: s.at)
    worst: tuple[float, Scan, Scan, float] | None = None
    for before, after in pairwise(located):
        assert before.place is not None and after.place is not None
        km = distance_km(before.place, after.place)
        if km <= policy.min_distance_km:
            continue
        hours = (after.at - before.at).total_seconds() / 3600
        speed = math.inf if hours <= 0 else km / hours
        if speed > policy.max_speed_kmh and (worst is None or speed > worst[0]):
            worst = (speed, before, after, km)
    if worst is None:
        return None
    speed, before, after, km = worst
    # Beyond a few times the limit a figure says nothing more ("11,452,298 km/h"): say it plainly.
    pace = (
        f"{speed:,.0f} km/h, faster than {policy.max_speed_kmh:,.0f} km/h"
        if speed < 10 * policy.max_speed_kmh
        else "faster than anything travels"
    )
    reason = (
        f"scanned near {before.place} and, {_duration(after.at - before.at)} later, near "
        f"{after.place} (latitude, longitude): {km:,.0f} km apart, {pace}"
    )
    figures = {
        "distance_km": round(km, 1),
        "speed_kmh": None if math.isinf(speed) else round(speed, 1),
        "from": {"lat": before.place.lat, "lon": before.place.lon, "at": before.at.isoformat()},  # type: ignore[union-attr]
        "to": {"lat": after.place.lat, "lon": after.place.lon, "at": after.at.isoformat()},  # type: ignore[union-attr]
        "max_speed_kmh": policy.max_speed_kmh,
    }
    return CopySignal(CopyRule.IMPOSSIBLE_TRAVEL, reason, figures)


def scan_rate(scans: Sequence[Scan], policy: CopyPolicy) -> CopySignal | None:
    """The busiest window, if it holds more scans than one unit plausibly gets."""
    times = sorted(s.at for s in scans)
    start = 0
    busiest = (0, 0)
    for end, moment in enumerate(times):
        while moment - times[start] >= policy.rate_window:
            start += 1
        if end - start + 1 > busiest[1] - busiest[0]:
            busiest = (start, end + 1)
    count = busiest[1] - busiest[0]
    if count <= policy.rate_limit:
        return None
    first = times[busiest[0]]
    reason = (
        f"scanned {count} times within {_duration(policy.rate_window)} from "
        f"{first:%Y-%m-%d %H:%M} UTC; one pack is not scanned more than "
        f"{policy.rate_limit} times in that time"
    )
    figures = {
        "scans": count,
        "window_seconds": policy.rate_window.total_seconds(),
        "limit": policy.rate_limit,
        "from": first.isoformat(),
    }
    return CopySignal(CopyRule.SCAN_RATE, reason, figures)


def not_commissioned(serial: str, recorded: frozenset[str] | None) -> CopySignal | None:
    """Fires when the lot records its serials (`recorded` not empty) and not this one."""
    if not recorded or serial in recorded:
        return None
    reason = (
        f"serial {serial} was never recorded for this lot, whose record names "
        f"{len(recorded)} serial{'s' if len(recorded) != 1 else ''}"
    )
    return CopySignal(CopyRule.NOT_COMMISSIONED, reason, {"recorded_serials": len(recorded)})


def copy_signals(
    serial: str, scans: Sequence[Scan], recorded: frozenset[str] | None, policy: CopyPolicy
) -> list[CopySignal]:
    """Every rule that fires for `serial`."""
    found = [
        impossible_travel(scans, policy),
        scan_rate(scans, policy),
        not_commissioned(serial, recorded),
    ]
    return [signal for signal in found if signal is not None]


def serials_in(events: Iterable[dict[str, Any]], *, gtin: str, lot_code: str) -> frozenset[str]:
    """The serials of lot (`gtin`, `lot_code`) that these EPCIS events name in their EPC lists
    as Digital Links (``…/01/{gtin}/10/{lot}/21/{serial}``)."""
    found: set[str] = set()
    for event in events:
        for name in _EPC_FIELDS:
            value = event.get(name)
            for item in [value] if isinstance(value, str) else value or []:
                if not isinstance(item, str):
                    continue
                match = _SERIAL_DL.search(item)
                if match and match[1] == gtin and unquote(match[2]) == lot_code:
                    found.add(unquote(match[3]))
    return frozenset(found)
