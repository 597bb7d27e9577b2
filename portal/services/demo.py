"""Realistic, clearly fictional demo data for `make run`. Loading twice changes nothing.

Later capabilities add their own demo records here (tickets, stations, merchants …).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models import Region, Role
from portal.services import regions, users

# Known to anyone who reads the README, hence refused outside development.
DEMO_PASSWORD = "Demo-Portal-2026"  # noqa: S105 — published on purpose, for demos only


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    phone: str
    name: str
    region_code: str | None


# One union chain: 广东省总工会 → 广州市总工会 → 天河区总工会 → 石牌街道总工会. The 199 0000 xxxx numbers
# are not in service; the names say they are demo accounts.
ACCOUNTS = [
    DemoAccount(Role.STAFF, "19900000001", "演示·省总工会值班员", "44"),
    DemoAccount(Role.STAFF, "19900000002", "演示·广州市总工会值班员", "4401"),
    DemoAccount(Role.STAFF, "19900000003", "演示·天河区总工会值班员", "440106"),
    DemoAccount(Role.STAFF, "19900000004", "演示·石牌街道工会值班员", "440106006"),
    DemoAccount(Role.ADMIN, "19900000009", "演示·系统管理员", None),
    DemoAccount(Role.MEMBER, "19900000101", "演示·外卖骑手 李师傅", "440106006"),
    DemoAccount(Role.STATION_MANAGER, "19900000201", "演示·驿站站长 陈姐", "440106006"),
    DemoAccount(Role.MERCHANT, "19900000301", "演示·合作商户收银员", "440106"),
]


@dataclass(frozen=True)
class DemoResult:
    regions_created: int
    accounts: list[tuple[DemoAccount, bool]]  # (account, created now)


def load(now: datetime, provinces: list[str]) -> DemoResult:
    created_regions = 0
    if db.session.scalar(select(Region.code).limit(1)) is None:
        created_regions = regions.import_regions(provinces).created
    accounts = []
    for account in ACCOUNTS:
        exists = users.find_user(account.phone) is not None
        if not exists:
            users.create_user(phone=account.phone, password=DEMO_PASSWORD, role=account.role, now=now,
                              region_code=account.region_code, name=account.name)
        accounts.append((account, not exists))
    return DemoResult(created_regions, accounts)
