"""The dashboard's rollups: numbers kept current in the same transaction as every ticket and ledger change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class StatCell(db.Model):
    """One number of one region on one day: e.g. (4401, 2026-11-20, "contact", "hotline") → 37.

    A ticket adds to the cell of its place and of every region above it, so a dashboard at any level reads
    only its own region's cells. `day` is the Beijing date of receipt, except for "open_due", whose day is the
    last day allowed for the reply (what is open and due before today is overdue now). The key order serves
    the dashboard's reads: one region, one measure, a run of days. `flask stats rebuild` recomputes them all.
    """

    __tablename__ = "stat_cell"

    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True)
    measure: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
