"""The complaint rules on data built to trigger them and on data built not to: the Poisson rate
test against the product's baseline (with its prior when history is short), the burst rule,
how exposure is counted from shipments, and how alerts are updated, closed and raised again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from scipy.stats import poisson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.market import NOW, Market, spread
from lotlink.config import Settings
from lotlink.models import Alert, AlertState, ReportCategory, WebhookDelivery
from lotlink.services.complaint_alerts import (
    BURST_RULE,
    RATE_RULE,
    evaluate_lot,
    product_figures,
    sweep,
)

SETTINGS = Settings()  # the documented defaults: p < 0.001, prior 1 per 10,000, bursts 3 in 24 h


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


def history(market: Market, *, lots: int = 20, units: int = 10_000, each: int = 1) -> None:
    """`lots` earlier lots of the product, each shipped whole, each with `each` complaints."""
    for i in range(lots):
        code = f"OLD-{i:02d}"
        shipped(market, code, units)
        market.complaints(code, spread(each, days=30, end=NOW - timedelta(days=60)))


def shipped(market: Market, code: str, units: int) -> str:
    """A lot of `units`, shipped whole from the plant."""
    key = market.lot(code, units=units)
    market.ship(code, units=units, place="9521000000035")
    return key


def rules_fired(session: Session, lot_key: str) -> dict[str, Alert]:
    alerts = session.scalars(select(Alert).where(Alert.lot_key == lot_key)).all()
    return {alert.rule: alert for alert in alerts}


def test_a_lot_complained_of_far_above_its_product_rate_raises_a_rate_alert(
    session: Session,
) -> None:
    market = Market(session, SETTINGS)
    history(market)  # 20 complaints over 200,000 units: 1 per 10,000
    key = shipped(market, "BAD-1", 10_000)
    market.complaints("BAD-1", spread(8, days=20))  # spread out: no burst

    evaluate_lot(session, SETTINGS, key, now=NOW)
    session.commit()

    fired = rules_fired(session, key)
    assert set(fired) == {RATE_RULE}
    alert = fired[RATE_RULE]
    expected = (2 + 20) / (20_000 + 200_000) * 10_000  # prior 2 over 20,000 units, plus history
    assert alert.statistic["expected"] == pytest.approx(expected)
    assert alert.p_value == pytest.approx(poisson.sf(7, expected))
    assert alert.p_value is not None and alert.p_value < 2e-5
    assert alert.state is AlertState.OPEN and alert.supplier_address == market.supplier
    assert "8 complaints about 10,000 H87 shipped" in alert.reason
    assert "one-sided Poisson p = " in alert.reason


def test_a_large_lot_with_its_products_normal_rate_raises_nothing(session: Session) -> None:
    market = Market(session, SETTINGS)
    history(market)
    key = shipped(market, "BIG-1", 1_000_000)
    # 100 complaints over 30 days: the product's rate; and four of them on the last day.
    market.complaints("BIG-1", spread(96, days=30) + [NOW - timedelta(hours=h) for h in range(4)])

    evaluate_lot(session, SETTINGS, key, now=NOW)
    sweep(session, SETTINGS, now=NOW)

    assert rules_fired(session, key) == {}
    assert session.scalars(select(Alert)).all() == []


def test_three_complaints_within_hours_on_a_small_lot_raise_a_burst_alert(
    session: Session,
) -> None:
    market = Market(session, SETTINGS)
    history(market)
    key = shipped(market, "SMALL-1", 2_000)
    market.complaints("SMALL-1", [NOW - timedelta(hours=h) for h in (1, 3, 6)])

    evaluate_lot(session, SETTINGS, key, now=NOW)

    fired = rules_fired(session, key)
    # 0.2 expected in its lifetime: P(X >= 3) = 0.00115 is not below 0.001, so only the burst.
    assert set(fired) == {BURST_RULE}
    burst = fired[BURST_RULE]
    assert burst.statistic["in_window"] == 3
    assert burst.statistic["expected_in_window"] == pytest.approx(0.2 / 30, rel=1e-3)
    assert burst.p_value == pytest.approx(poisson.sf(2, burst.statistic["expected_in_window"]))
    assert burst.reason.startswith("3 complaints within 24 hours")


def test_the_same_complaints_spread_over_days_raise_nothing(session: Session) -> None:
    market = Market(session, SETTINGS)
    history(market)
    key = shipped(market, "SMALL-2", 2_000)
    market.complaints("SMALL-2", [NOW - timedelta(days=d) for d in (1, 4, 9)])

    evaluate_lot(session, SETTINGS, key, now=NOW)

    assert rules_fired(session, key) == {}


def test_with_no_history_the_prior_rate_is_the_baseline(session: Session) -> None:
    market = Market(session, SETTINGS)
    key = shipped(market, "FIRST-1", 1_000)
    market.complaints("FIRST-1", [NOW - timedelta(days=d) for d in (2, 5, 8)])

    baseline = product_figures(session, market.gtin).baseline(key, SETTINGS)
    assert baseline.rate == pytest.approx(1e-4) and baseline.lots == 0

    evaluate_lot(session, SETTINGS, key, now=NOW)
    rate = rules_fired(session, key)[RATE_RULE]
    assert rate.statistic["baseline_lots"] == 0
    assert rate.p_value == pytest.approx(poisson.sf(2, 0.1))  # 1,000 units at the prior


def test_a_product_with_a_high_normal_rate_does_not_alert_at_the_prior(session: Session) -> None:
    """Long history outweighs the prior: 30 per 10,000 is this product's normal."""
    market = Market(session, SETTINGS)
    history(market, lots=20, units=10_000, each=30)
    key = shipped(market, "NORMAL-1", 1_000)
    market.complaints("NORMAL-1", spread(4, days=20))

    figures = product_figures(session, market.gtin)
    assert figures.baseline(key, SETTINGS).rate == pytest.approx((2 + 600) / 220_000)
    evaluate_lot(session, SETTINGS, key, now=NOW)
    assert rules_fired(session, key) == {}


def test_exposure_counts_each_unit_once_across_tiers(session: Session) -> None:
    market = Market(session, SETTINGS)
    plant, distributor = "9521000000035", "9521000000042"
    market.lot("TIERS", units=2_400)
    market.ship("TIERS", units=None, place=plant)  # the whole lot to the distributor
    market.ship("TIERS", units=600, place=distributor)  # on to two shops
    market.ship("TIERS", units=600, place=distributor)
    market.lot("PART", units=5_000)
    market.ship("PART", units=1_000, place=plant)
    market.ship("PART", units=1_500, place=plant)
    market.lot("SHELF", units=3_000)  # nothing shipped, nobody complained
    market.lot("UNRECORDED", units=800)  # nothing shipped on record, but complained of
    market.complaints("UNRECORDED", [NOW - timedelta(days=3)])

    lots = product_figures(session, market.gtin).lots
    units = {lots[key].lot_code: lots[key].units for key in market.lots.values()}
    assert units == {"TIERS": 2_400, "PART": 2_500, "SHELF": 0, "UNRECORDED": 800}


def test_counterfeit_reports_do_not_count_against_the_lot(session: Session) -> None:
    market = Market(session, SETTINGS)
    history(market)
    key = shipped(market, "FAKES", 2_000)
    hours = [NOW - timedelta(hours=h) for h in (1, 2, 3, 4, 5)]
    market.complaints("FAKES", hours, category=ReportCategory.SUSPECTED_COUNTERFEIT)

    evaluate_lot(session, SETTINGS, key, now=NOW)

    assert rules_fired(session, key) == {}


def test_new_complaints_update_the_open_alert_and_a_closed_one_returns_only_with_more(
    session: Session,
) -> None:
    market = Market(session, SETTINGS)
    history(market)
    key = shipped(market, "AGAIN", 10_000)
    market.complaints("AGAIN", spread(8, days=20))
    evaluate_lot(session, SETTINGS, key, now=NOW)
    first = rules_fired(session, key)[RATE_RULE]
    first_p = first.p_value
    assert first_p is not None

    market.complaints("AGAIN", [NOW - timedelta(days=2)])
    evaluate_lot(session, SETTINGS, key, now=NOW)
    sweep(session, SETTINGS, now=NOW)
    (alert,) = session.scalars(select(Alert).where(Alert.lot_key == key)).all()
    assert alert.id == first.id and alert.statistic["complaints"] == 9
    assert alert.p_value is not None and alert.p_value < first_p

    alert.state, alert.closed_at, alert.close_note = AlertState.CLOSED, NOW, "explained"
    session.flush()
    evaluate_lot(session, SETTINGS, key, now=NOW)
    assert len(session.scalars(select(Alert).where(Alert.lot_key == key)).all()) == 1

    market.complaints("AGAIN", [NOW - timedelta(days=1)])
    evaluate_lot(session, SETTINGS, key, now=NOW)
    alerts = session.scalars(select(Alert).where(Alert.lot_key == key).order_by(Alert.id)).all()
    assert [a.state for a in alerts] == [AlertState.CLOSED, AlertState.OPEN]
    assert alerts[1].statistic["complaints"] == 10


def test_an_opened_alert_queues_a_webhook_only_for_registered_recipients(
    session: Session,
) -> None:
    """No endpoint registered: nothing queued (delivery itself is tested over HTTP)."""
    market = Market(session, SETTINGS)
    history(market)
    key = shipped(market, "QUIET-HOOKS", 10_000)
    market.complaints("QUIET-HOOKS", spread(9, days=20))
    assert evaluate_lot(session, SETTINGS, key, now=NOW)
    assert session.scalars(select(WebhookDelivery)).all() == []
