"""Rest stations (工会驿站 / 户外劳动者服务站), their managers, and the audit trail of every change to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.region import Region
from portal.models.types import UTCDateTime
from portal.models.user import User


class StationKind(StrEnum):
    UNION = "union"  # 工会驿站, run by a union
    OUTDOOR = "outdoor"  # 户外劳动者服务站, in a partner's premises (bank branch, shop, community centre)
    PARTNER = "partner"  # 爱心驿站 and other partner points


class Station(db.Model):
    __tablename__ = "station"
    __table_args__ = (
        # the bounding box of a nearest search: a range on latitude, longitude checked in the index itself
        Index("ix_station_lat_lng", "lat", "lng"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # stable short code on the QR poster: /s/<code>
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # the importer's id, for re-imports
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[StationKind] = mapped_column(
        Enum(StationKind, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]))
    address: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)  # a town (or a district)
    lat: Mapped[float] = mapped_column(Float)  # WGS-84
    lng: Mapped[float] = mapped_column(Float)
    facilities: Mapped[int] = mapped_column(Integer, default=0)  # bits of stations.FACILITIES
    # {"mon": [["08:00", "20:00"]], …, "sun": []}: several ranges a day; an end before its start runs past
    # midnight; [["00:00", "24:00"]] is all day; [] closed.
    hours: Mapped[dict] = mapped_column(JSON)
    holiday_note: Mapped[str] = mapped_column(String(200), default="")
    closed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # temporarily closed until then
    closure_reason: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)  # someone confirmed it is all still correct
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    region: Mapped[Region] = relationship()
    managers: Mapped[list[User]] = relationship(secondary="station_manager", order_by="User.id")

    def __repr__(self) -> str:
        return f"<Station {self.code} {self.name}>"


class StationManager(db.Model):
    __tablename__ = "station_manager"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)


class StationChange(db.Model):
    """One change to a station, by whom; rows are only ever added. The public page shows the latest."""

    __tablename__ = "station_change"
    __table_args__ = (Index("ix_station_change_station_at", "station_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(20))  # the actor's role then: station_manager, admin, import
    field: Mapped[str] = mapped_column(String(30))  # facilities, hours, closure, verified, created, import …
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class StationReport(db.Model):
    """A visitor's answer to "is this information correct?": a yes, or a problem for the manager to fix."""

    __tablename__ = "station_report"
    __table_args__ = (Index("ix_station_report_station_at", "station_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    correct: Mapped[bool] = mapped_column(Boolean)
    problem: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
