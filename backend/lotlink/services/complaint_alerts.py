"""Complaint alerts: a lot whose consumers complain more than its product's other lots would
lead one to expect.

**Exposure.** A lot's complaints are set against the units of it that reached the market: its
``shipped`` checkpoints' quantities (a shipment that names no quantity for the lot counts as the
whole lot; one in another unit than the lot's is counted as the whole lot too), totalled per
shipping place, and the largest place's total taken, at most the lot's registered quantity.
Every unit passes each tier of the chain once, so one place's total never counts a unit twice
(plant → distributor → shops would, if summed), and the first tier's sees them all. A lot with
complaints but no recorded shipment is taken as wholly shipped: the complaints show it is out
there. Failed checkpoints do not count.

**Baseline.** The product's (GTIN's) own complaint rate, from its other lots in the same unit,
leaving out lots that have a complaint alert not yet closed (the baseline is what normal looks
like). A product with little history borrows strength from a configured prior: the rate is the
posterior mean of a Gamma prior (``complaint_prior_rate`` per unit, worth
``complaint_prior_units`` units of history) updated with the other lots' complaints and units::

    rate = (prior_rate * prior_units + complaints_other) / (prior_units + units_other)

With no history the rate is the prior's; with a great deal it is the product's own.

**Rate rule** (``poisson_rate``). Under the baseline, a lot of ``n`` units expects
``mu = rate * n`` complaints; with ``k`` observed, the one-sided Poisson test's p-value is
``P(X >= k | mu)`` (``scipy.stats.poisson.sf(k - 1, mu)``). An alert when ``p < alert_p_value``
(default 0.001) and ``k >= alert_min_complaints`` (default 3: one complaint about a tiny lot is
no pattern).

*Multiple testing.* Each lot is tested again with every complaint and by every sweep, and a
catalogue has many lots, so the threshold is a per-lot false-alarm rate, not a family-wise one:
with 1,000 lots at their normal rate, about one alert is expected from chance at 0.001. That
is the intended trade for a screening signal that a person then looks at; a large catalogue
that wants fewer false alarms lowers ``LOTLINK_ALERT_P_VALUE`` (a Bonferroni-minded operator
divides 0.05 by the number of active lots).

**Burst rule** (``burst``). At least ``complaint_burst_count`` complaints (default 3) received
within ``complaint_burst_hours`` (default 24) of each other, when the baseline expects fewer
than one in such a window: ``mu_window = rate * n * hours / (24 * complaint_market_days)``, the
lot's expected complaints spread evenly over its days on the market (default 30). It catches a
cluster (an illness outbreak, a bad pallet) that a large lot's lifetime total would hide for
weeks. Its Poisson p-value for the window is shown beside the reason.

Suspected-counterfeit reports are not counted: they are about copies, not about the lot.
Both rules run when a report arrives (one product's figures: a handful of indexed queries) and
in a periodic sweep over every product with complaints.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scipy.stats import poisson
from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select
from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.db.engine import make_session_factory
from lotlink.models import (
    Alert,
    AlertState,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    CheckpointStatus,
    Lot,
    ProblemReport,
    ReportCategory,
)
from lotlink.services.alerts import AlertSignal, raise_alert
from lotlink.services.periodic import PeriodicTask

log = logging.getLogger("lotlink.alerts")

KIND = "complaints"
RATE_RULE = "poisson_rate"
BURST_RULE = "burst"
NOT_ABOUT_THE_LOT = (ReportCategory.SUSPECTED_COUNTERFEIT,)


@dataclass(slots=True)
class LotFigures:
    """One lot's complaints and exposure (units on the market, in its unit)."""

    lot_key: str
    lot_code: str
    owner: str
    unit: str
    units: float
    complaints: int


@dataclass(frozen=True, slots=True)
class Baseline:
    """The product's complaint rate per unit, and the history behind it."""

    rate: float
    complaints: int
    units: float
    lots: int


@dataclass(slots=True)
class ProductFigures:
    """Every lot of one GTIN with its figures, and which lots have a complaint alert open."""

    gtin: str
    lots: dict[str, LotFigures] = field(default_factory=dict)
    alerted: set[str] = field(default_factory=set)

    def baseline(self, lot_key: str, settings: Settings) -> Baseline:
        me = self.lots[lot_key]
        others = [
            lot
            for key, lot in self.lots.items()
            if key != lot_key and key not in self.alerted and lot.unit == me.unit
        ]
        complaints = sum(lot.complaints for lot in others)
        units = sum(lot.units for lot in others)
        prior = settings.complaint_prior_units
        rate = (settings.complaint_prior_rate * prior + complaints) / (prior + units)
        return Baseline(rate=rate, complaints=complaints, units=units, lots=len(others))


def _counted() -> ColumnElement[bool]:
    """Reports that count against their lot."""
    return ProblemReport.category.not_in(NOT_ABOUT_THE_LOT)


def product_figures(session: Session, gtin: str) -> ProductFigures:
    """Complaints and exposure of every lot of `gtin` (four queries, whatever the lot count)."""
    figures = ProductFigures(gtin=gtin)
    lots = session.execute(
        select(Lot.lot_key, Lot.lot_code, Lot.owner_address, Lot.unit, Lot.quantity_milli).where(
            Lot.gtin == gtin
        )
    ).all()
    complaints = dict(
        session.execute(
            select(ProblemReport.lot_key, func.count())
            .join(Lot, Lot.lot_key == ProblemReport.lot_key)
            .where(Lot.gtin == gtin, _counted())
            .group_by(ProblemReport.lot_key)
        ).all()
    )
    shipped = _shipped_milli(session, gtin)
    for key, code, owner, unit, milli in lots:
        count = int(complaints.get(key, 0))
        # No shipment recorded: on the market only if someone complained about it.
        units_milli = min(milli, shipped[key]) if key in shipped else (milli if count else 0)
        figures.lots[key] = LotFigures(key, code, owner, unit, units_milli / 1000, count)
    figures.alerted = set(
        session.scalars(
            select(Alert.lot_key)
            .join(Lot, Lot.lot_key == Alert.lot_key)
            .where(Lot.gtin == gtin, Alert.kind == KIND, Alert.state != AlertState.CLOSED)
        )
    )
    return figures


def _shipped_milli(session: Session, gtin: str) -> dict[str, int]:
    """Per lot of `gtin`: the largest total shipped from any one place, in thousandths."""
    link = CheckpointLot
    same_unit = and_(
        link.quantity_milli.is_not(None), or_(link.unit.is_(None), link.unit == Lot.unit)
    )
    per_place = (
        select(
            link.lot_key.label("lot_key"),
            func.sum(case((same_unit, link.quantity_milli), else_=Lot.quantity_milli)).label(
                "milli"
            ),
        )
        .join(Checkpoint, Checkpoint.digest == link.checkpoint_digest)
        .join(Lot, Lot.lot_key == link.lot_key)
        .where(
            Lot.gtin == gtin,
            Checkpoint.kind == CheckpointKind.SHIPPED,
            Checkpoint.status != CheckpointStatus.FAILED,
        )
        .group_by(link.lot_key, Checkpoint.location_gln)
        .subquery()
    )
    rows = session.execute(
        select(per_place.c.lot_key, func.max(per_place.c.milli)).group_by(per_place.c.lot_key)
    )
    return {key: int(milli) for key, milli in rows}


def recent_complaints(session: Session, lot_key: str, *, since: datetime) -> int:
    """Complaints about the lot received after `since`."""
    counted = session.scalar(
        select(func.count())
        .select_from(ProblemReport)
        .where(ProblemReport.lot_key == lot_key, ProblemReport.received_at > since, _counted())
    )
    return int(counted or 0)


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def findings(
    figures: ProductFigures, lot_key: str, *, in_window: int, settings: Settings
) -> list[AlertSignal]:
    """What the rules find about one lot, given its product's figures and how many of its
    complaints arrived within the burst window."""
    lot = figures.lots[lot_key]
    if lot.complaints == 0 or lot.units <= 0:
        return []
    baseline = figures.baseline(lot_key, settings)
    expected = baseline.rate * lot.units
    per_10k = baseline.rate * 10_000
    common = {
        "units": lot.units,
        "unit": lot.unit,
        "complaints": lot.complaints,
        "baseline_rate": baseline.rate,
        "baseline_lots": baseline.lots,
        "baseline_complaints": baseline.complaints,
        "baseline_units": baseline.units,
        "prior_rate": settings.complaint_prior_rate,
        "prior_units": settings.complaint_prior_units,
    }

    def signal(rule: str, p_value: float, statistic: dict[str, object], reason: str) -> AlertSignal:
        return AlertSignal(
            kind=KIND,
            rule=rule,
            subject=lot_key,
            reason=reason,
            lot_key=lot_key,
            gtin=figures.gtin,
            supplier=lot.owner,
            p_value=p_value,
            statistic={**common, **statistic},
            observed=float(lot.complaints),
        )

    found: list[AlertSignal] = []
    p_rate = float(poisson.sf(lot.complaints - 1, expected))
    if lot.complaints >= settings.alert_min_complaints and p_rate < settings.alert_p_value:
        found.append(
            signal(
                RATE_RULE,
                p_rate,
                {"expected": expected, "threshold": settings.alert_p_value},
                f"{lot.complaints} complaints about {_fmt(lot.units)} {lot.unit} shipped; "
                f"the product's rate ({_fmt(per_10k)} per 10,000) expects {_fmt(expected)}: "
                f"one-sided Poisson p = {p_rate:.2g} < {settings.alert_p_value:g}",
            )
        )
    hours = settings.complaint_burst_hours
    expected_window = expected * hours / (24 * settings.complaint_market_days)
    if in_window >= settings.complaint_burst_count and expected_window < 1:
        p_window = float(poisson.sf(in_window - 1, expected_window))
        found.append(
            signal(
                BURST_RULE,
                p_window,
                {
                    "in_window": in_window,
                    "window_hours": hours,
                    "expected_in_window": expected_window,
                    "burst_count": settings.complaint_burst_count,
                },
                f"{in_window} complaints within {hours:g} hours, where the product's rate "
                f"expects {_fmt(expected_window)} in that time (burst rule: "
                f"{settings.complaint_burst_count} or more when under 1 is expected; "
                f"Poisson p = {p_window:.2g})",
            )
        )
    return found


def evaluate_lots(
    session: Session,
    settings: Settings,
    gtin: str,
    lot_keys: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
) -> list[Alert]:
    """Runs both rules on the lots of `gtin` (default: every lot with complaints) and raises
    or updates their alerts; returns the alerts opened or updated. The caller commits."""
    moment = now or datetime.now(UTC)
    figures = product_figures(session, gtin)
    if lot_keys is None:
        lot_keys = [key for key, lot in figures.lots.items() if lot.complaints]
    since = moment - timedelta(hours=settings.complaint_burst_hours)
    raised: list[Alert] = []
    for key in lot_keys:
        if key not in figures.lots:
            continue
        in_window = recent_complaints(session, key, since=since)
        for signal in findings(figures, key, in_window=in_window, settings=settings):
            alert = raise_alert(session, signal, now=moment)
            if alert is not None:
                raised.append(alert)
    return raised


def evaluate_lot(
    session: Session, settings: Settings, lot_key: str, *, now: datetime | None = None
) -> list[Alert]:
    """Both rules for one lot (as a report about it arrives); the caller commits."""
    gtin = session.scalar(select(Lot.gtin).where(Lot.lot_key == lot_key))
    if gtin is None:
        return []
    return evaluate_lots(session, settings, gtin, [lot_key], now=now)


def sweep(session: Session, settings: Settings, *, now: datetime | None = None) -> list[Alert]:
    """Both rules for every lot with complaints, product by product; commits per product."""
    gtins = session.scalars(
        select(Lot.gtin)
        .join(ProblemReport, ProblemReport.lot_key == Lot.lot_key)
        .distinct()
        .order_by(Lot.gtin)
    ).all()
    raised: list[Alert] = []
    for gtin in gtins:
        raised.extend(evaluate_lots(session, settings, gtin, now=now))
        session.commit()
    return raised


def start_sweeper(settings: Settings, engine: Engine) -> PeriodicTask:
    """The service's complaint sweep, every `alert_sweep_seconds` in a background thread: burst
    windows close and baselines move without new reports, and a report whose evaluation
    failed is caught up."""
    sessions = make_session_factory(engine)

    def work() -> None:
        with sessions() as session:
            sweep(session, settings)

    return PeriodicTask(
        "complaint-sweep", work, interval=settings.alert_sweep_seconds, first_wait=True
    ).start()
