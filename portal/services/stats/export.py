"""The screen's figures as spreadsheet rows: one line per day of the period and their total, counted as the
screen counts them (the same cells, the same `Figures`), for staff who take the numbers into a report."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import StatCell
from portal.services.stats.figures import (
    CONTACT_CHANNELS,
    FIGURE_MEASURES,
    Figures,
    Period,
    cells_between,
    figures,
    figures_from,
)


def rows_for_export(region: str, p: Period) -> Iterable[list]:
    """One line per day and a total, for the CSV export: counts and rates as the screen shows them."""
    by_day: dict[date, dict] = {}
    for day, measure, key, n in db.session.execute(
            select(StatCell.day, StatCell.measure, StatCell.key, StatCell.n)
            .where(or_(*(cells_between(region, m, p.first, p.last) for m in FIGURE_MEASURES)))):
        by_day.setdefault(day, {})[measure, key] = n
    header = (["date"] + [f"contacts_{c.value}" for c in CONTACT_CHANNELS]
              + ["contacts_total", "created", "dispatched", "in_progress", "replied", "closed",
                 "withdrawn_or_merged", "resolution_rate", "answered_on_time", "answered_late", "on_time_rate",
                 "rated", "satisfaction_rate", "recovered_yuan", "recovered_cases"])
    yield header
    day = p.first
    while day <= p.last:
        yield _export_row(day.isoformat(), figures_from(by_day.get(day, {})))
        day += timedelta(days=1)
    yield _export_row("total", figures(region, p.first, p.last))


def _export_row(label: str, f: Figures) -> list:
    def pct(rate: float | None) -> str:
        return "" if rate is None or not math.isfinite(rate) else f"{rate * 100:.1f}%"

    return ([label] + [f.contacts[c] for c in CONTACT_CHANNELS]
            + [f.contacts_total, f.created, f.dispatched, f.in_progress, f.replied, f.closed, f.withdrawn,
               pct(f.resolution_rate), f.on_time, f.late, pct(f.on_time_rate), f.rated, pct(f.satisfaction_rate),
               f"{f.recovered_fen / 100:.2f}", f.recovered_cases])
