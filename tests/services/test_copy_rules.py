"""Copied-QR rules on crafted scans: each fires on scans built to trigger it and stays quiet on
scans one real pack could have (plausible journeys, a shopper scanning a few times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lotlink.models.scan import CopyRule
from lotlink.services.copies import (
    CopyPolicy,
    Place,
    Scan,
    coarse_place,
    copy_signals,
    distance_km,
    impossible_travel,
    not_commissioned,
    parse_coarse_location,
    scan_rate,
    serials_in,
)
from lotlink.services.scans import travel_reach

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PARIS = coarse_place(48.8566, 2.3522)
LYON = coarse_place(45.7640, 4.8357)
MARSEILLE = coarse_place(43.2965, 5.3698)
NEW_YORK = coarse_place(40.7128, -74.0060)
VERSAILLES = coarse_place(48.8049, 2.1204)  # ~17 km from Paris
POLICY = CopyPolicy()


def at(minutes: float, place: Place | None = None) -> Scan:
    return Scan(T0 + timedelta(minutes=minutes), place)


def test_places_are_rounded_to_a_tenth_of_a_degree_before_anything_keeps_them() -> None:
    assert Place(489, 24) == PARIS
    assert parse_coarse_location("48.85661,2.35222") == PARIS
    assert parse_coarse_location(" -33.8688 , 151.2093 ") == Place(-339, 1512)
    for bad in (None, "", "48.8", "a,b", "91,0", "0,181", "nan,0", "1,2,3"):
        assert parse_coarse_location(bad) is None
    with pytest.raises(ValueError, match="not a place on Earth"):
        coarse_place(0, 200)


def test_haversine_distance_matches_known_city_pairs() -> None:
    # Great-circle distances of the rounded places (within 1 % of the cities' own).
    assert distance_km(PARIS, LYON) == pytest.approx(392, rel=0.02)
    assert distance_km(PARIS, NEW_YORK) == pytest.approx(5837, rel=0.01)
    assert distance_km(PARIS, PARIS) == 0


@pytest.mark.parametrize(
    ("scans", "why"),
    [
        ([at(0, PARIS), at(240, LYON)], "Paris to Lyon in 4 h: ~100 km/h, a train"),
        ([at(0, PARIS), at(9 * 60, NEW_YORK)], "Paris to New York in 9 h: a flight"),
        ([at(0, PARIS), at(1, VERSAILLES)], "17 km in a minute: within the rounding"),
        ([at(0, PARIS), at(30), at(60, LYON)], "Lyon an hour later, ~390 km/h: a plane could"),
        ([at(0, PARIS), at(5, PARIS), at(600, MARSEILLE)], "a day trip south"),
        ([at(0), at(10)], "no places at all"),
    ],
)
def test_plausible_journeys_are_not_impossible_travel(scans: list[Scan], why: str) -> None:
    assert impossible_travel(scans, POLICY) is None, why


@pytest.mark.parametrize(
    ("scans", "speed"),
    [
        ([at(0, PARIS), at(20, LYON)], 1176),  # 392 km in 20 minutes
        ([at(0, PARIS), at(120, NEW_YORK)], 2918),  # the Atlantic in two hours
        ([at(0, PARIS), at(0, MARSEILLE)], None),  # two places at the same instant
        ([at(0, LYON), at(3, PARIS), at(200, PARIS)], 7840),  # one bad hop among good ones
    ],
)
def test_impossible_speeds_fire_with_their_figures(scans: list[Scan], speed: int | None) -> None:
    signal = impossible_travel(scans, POLICY)
    assert signal is not None and signal.rule is CopyRule.IMPOSSIBLE_TRAVEL
    if speed is None:
        assert signal.figures["speed_kmh"] is None
        assert "under a minute later" in signal.reason
    else:
        assert signal.figures["speed_kmh"] == pytest.approx(speed, rel=0.02)
    if speed is not None and speed < 10_000:
        assert f"{signal.figures['speed_kmh']:,.0f} km/h, faster than 1,000 km/h" in signal.reason
    else:
        assert signal.reason.endswith("km apart, faster than anything travels")


def test_scans_out_of_order_are_judged_in_time_order() -> None:
    # Stored newest first; Paris 09:00, Lyon 13:00, Paris 13:10 -> the last hop is impossible.
    scans = [at(250, PARIS), at(240, LYON), at(0, PARIS)]
    signal = impossible_travel(scans, POLICY)
    assert signal is not None
    assert signal.figures["from"]["lat"] == LYON.lat
    assert "10 min later, near 48.9, 2.4" in signal.reason


def test_scan_rate_fires_only_above_the_limit_within_one_window() -> None:
    policy = CopyPolicy(rate_limit=5, rate_window=timedelta(hours=1))
    a_few = [at(m) for m in (0, 2, 30, 31, 58)]  # five in an hour: a curious shopper
    assert scan_rate(a_few, policy) is None
    spread = [at(m * 20) for m in range(12)]  # twelve, but at most three in any hour
    assert scan_rate(spread, policy) is None
    burst = [at(m) for m in (0, 1, 2, 3, 4, 5, 50)]  # seven in 50 minutes
    signal = scan_rate(burst, policy)
    assert signal is not None and signal.rule is CopyRule.SCAN_RATE
    assert signal.figures["scans"] == 7
    assert "scanned 7 times within 60 min" in signal.reason


def test_a_serial_the_lot_never_recorded_is_flagged_only_if_the_lot_records_serials() -> None:
    assert not_commissioned("A7", frozenset({"A1", "A2"})) is not None
    assert not_commissioned("A1", frozenset({"A1", "A2"})) is None
    assert not_commissioned("A7", frozenset()) is None  # serials printed, never recorded


def test_serials_are_read_from_the_lots_epc_lists_only() -> None:
    gtin, other = "09521234543213", "09521234000017"
    base = f"https://id.gs1.org/01/{gtin}/10/LOT%2F1"
    events = [
        {"epcList": [f"{base}/21/A1", f"{base}/21/A%2F2", f"https://id.gs1.org/01/{other}/10/LOT%2F1/21/X"]},
        {"outputEPCList": [f"{base}/21/B1"], "quantityList": [{"epcClass": base}]},
        {"childEPCs": [f"https://id.gs1.org/01/{gtin}/10/OTHER/21/C1"], "parentID": f"{base}/21/P"},
    ]  # fmt: skip
    assert serials_in(events, gtin=gtin, lot_code="LOT/1") == {"A1", "A/2", "B1", "P"}


def test_copy_signals_gathers_every_rule_that_fires() -> None:
    scans = [at(m, PARIS if m % 2 else LYON) for m in range(30)]
    rules = {s.rule for s in copy_signals("Z9", scans, frozenset({"A1"}), POLICY)}
    assert rules == {CopyRule.IMPOSSIBLE_TRAVEL, CopyRule.SCAN_RATE, CopyRule.NOT_COMMISSIONED}
    quiet = [at(0, PARIS), at(300, LYON)]
    assert copy_signals("A1", quiet, frozenset({"A1"}), POLICY) == []


def test_scans_older_than_the_longest_trip_on_earth_are_not_read_again() -> None:
    # Half the great circle (20,015 km) at 1,000 km/h: any pair further apart in time is possible.
    assert travel_reach(POLICY).total_seconds() / 3600 == pytest.approx(20.015, abs=0.01)
    antipode = coarse_place(-48.9, -177.6)
    assert impossible_travel([at(0, PARIS), at(19.9 * 60, antipode)], POLICY) is not None
    assert impossible_travel([at(0, PARIS), at(20.1 * 60, antipode)], POLICY) is None
