"""The administrative division tree (province → city → district → town), which is also the jurisdiction
tree of the union hierarchy. Codes are the official GB/T 2260 division codes and every child's code
extends its parent's, so a subtree is a range of codes."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    TOWN = "town"


class Region(db.Model):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(
        Enum(RegionLevel, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e])
    )
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    # WGS-84 centroid where the dataset has one (provinces, cities, districts).
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"
