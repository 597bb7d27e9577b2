"""Realistic, clearly fictional demo data for `make run`. Loading twice changes nothing.

Regions, one account per role along a union chain, and grievance tickets in every state of the workflow
(taken there through the real services). Later capabilities add their own records here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Channel, Kind, Rating, Region, Role, Station, StationKind, Ticket
from portal.services import regions, stations, supervision, tickets, users

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
    tickets_created: int = 0
    sample: tuple[str, str] | None = None  # (ticket number, query code) to try tracking with
    stations_created: int = 0


# Fictional requests, each taken through the real workflow to a different state. Steps name the staff
# member by the region of the union acting: (region, action, *arguments).
P, C, D, T = "44", "4401", "440106", "440106006"
SCENARIOS = [
    ("appeal", "labour.wages", "工地老板拖欠我们班组 3 个月工资，共 12 人，一直说下个月给。", T, "某某建筑劳务公司",
     3_600_000, 12, 9, [(P, "accept"), (P, "dispatch", C), (C, "accept"), (C, "dispatch", D), (D, "accept"),
                        (D, "dispatch", T), (T, "accept"),
                        (T, "reply", "已约谈企业负责人，企业承诺本月 25 日前足额支付工资。", 3_600_000)]),
    ("consultation", "labour.hours", "外卖平台每天要求在线 12 小时，超时算不算加班？", D, "", None, None,
     1, []),
    ("consultation", "security.insurance", "公司试用期不给交社保，这样合法吗？", D, "某某科技有限公司", None, None,
     2, [(P, "accept")]),
    ("help", "support.hardship", "孩子生病住院，家里经济困难，想申请困难帮扶。", T, "", None, None,
     6, [(P, "accept"), (P, "dispatch", C)]),
    ("appeal", "security.injury", "送餐途中被车撞伤，站点说不算工伤，不给报销。", D, "某某配送站", None, None,
     8, [(P, "accept"), (P, "dispatch", C), (C, "accept"), (C, "dispatch", D), (D, "accept")]),
    ("appeal", "labour.dismissal", "公司突然通知我明天不用来了，没有任何补偿。", "440104001", "某某餐饮公司", None, 1,
     5, [(P, "accept"), (P, "dispatch", C), (C, "accept"), (C, "dispatch", D), (D, "return_up",
                                                                                "用人单位注册地在越秀区，不属本区管辖。")]),
    ("appeal", "labour.contract", "入职半年一直没签劳动合同，要求签合同被拒绝。", D, "某某物流公司", None, 1,
     12, [(P, "accept"), (P, "dispatch", C), (C, "accept"), (C, "request_extension", 30, "需调取考勤和工资记录。")]),
    ("suggestion", "other.union", "建议在石牌街道多设几个户外劳动者驿站，夏天太热。", T, "", None, None,
     10, [(P, "accept"), (P, "reply", "感谢建议，已转交天河区总工会，将在明年驿站建设中统筹考虑。")]),
    ("consultation", "labour.hours", "春节加班工资怎么算？", D, "", None, None,
     20, [(P, "accept"), (P, "reply", "法定节假日安排工作的，应支付不低于工资 300% 的工资报酬。"),
          ("worker", "rate", "satisfied")]),
    ("help", "support.psychological", "最近压力很大，晚上睡不着，想找人聊聊。", D, "", None, None,
     15, [(P, "accept"), (P, "reply", "已为您预约心理咨询师，将电话联系您。"), ("worker", "rate", "unsatisfied")]),
    ("consultation", "labour.wages", "想问一下最低工资标准是多少。", D, "", None, None,
     3, [("worker", "withdraw")]),
    ("appeal", "labour.wages", "和第一件同一个工地，也被拖欠工资。", T, "某某建筑劳务公司", 300_000, 1,
     4, [(P, "accept"), (P, "merge", 0)]),
    ("consultation", "security.insurance", "医保断缴了怎么补？", D, "", None, None,
     30, [(P, "accept"), (P, "reply", "可携带身份证到社保经办机构办理补缴。"),
          (P, "return_visit", "basically_satisfied")]),
]


def _load_tickets(now: datetime) -> tuple[int, tuple[str, str] | None]:
    """Submit and handle the scenario tickets; nothing happens when tickets exist already."""
    if db.session.scalar(select(Ticket.id).limit(1)) is not None:
        return 0, None
    staff = {a.region_code: users.find_user(a.phone) for a in ACCOUNTS if a.role is Role.STAFF}
    made: list[Ticket] = []
    sample = None
    for n, (kind, category, text, place, employer, owed, workers, days_ago, steps) in enumerate(SCENARIOS):
        at = now - timedelta(days=days_ago, hours=n)
        receipt = tickets.submit(tickets.Submission(
            kind=Kind(kind), category=category, description=text, place_code=place, employer=employer,
            amount_owed_fen=owed, workers_affected=workers, channel=Channel.QR if n % 3 == 0 else Channel.WEB,
        ), token=f"demo-{n:02d}", now=at)
        ticket = receipt.ticket
        for step, (who, action, *args) in enumerate(steps):
            at_step = at + timedelta(hours=step + 1)
            ticket = _step(ticket, staff.get(who), action, args, at_step, made)
        made.append(ticket)
        if n == 0:
            sample = (ticket.number, receipt.query_code)
    return len(made), sample


def _step(ticket: Ticket, user, action: str, args: list, at: datetime, made: list[Ticket]) -> Ticket:
    if action == "accept":
        return tickets.accept(ticket, user, at)
    if action == "dispatch":
        return tickets.dispatch(ticket, user, args[0], "请核实情况，依法依规处理。", at)
    if action == "reply":
        return tickets.reply(ticket, user, args[0], at, args[1] if len(args) > 1 else None)
    if action == "return_up":
        return tickets.return_up(ticket, user, args[0], at)
    if action == "request_extension":
        return tickets.request_extension(ticket, user, args[0], args[1], at)
    if action == "rate":
        return tickets.rate(ticket, Rating(args[0]), "", at)
    if action == "withdraw":
        return tickets.withdraw(ticket, "问题已自行解决。", at)
    if action == "merge":
        return tickets.merge(ticket, user, made[args[0]].id, at)
    if action == "return_visit":
        return tickets.record_return_visit(ticket, user, Rating(args[0]), "电话回访，职工表示基本满意。", at)
    return tickets.close(ticket, user, at)


# Rest stations: (kind, name pattern) with a fictional partner's name where one hosts the station.
STATION_KINDS = [
    (StationKind.UNION, "{town}工会驿站"),
    (StationKind.OUTDOOR, "某某银行{town}网点户外劳动者服务站"),
    (StationKind.OUTDOOR, "{town}环卫工人爱心驿站"),
    (StationKind.PARTNER, "某某便利店{town}店爱心驿站"),
    (StationKind.UNION, "{district}新就业形态劳动者驿站"),
]
WEEKDAYS_ONLY = {d: [["08:30", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []}
HOURS = [
    {d: [["00:00", "24:00"]] for d in stations.WEEKDAYS},  # 24 hours
    {d: [["08:00", "20:00"]] for d in stations.WEEKDAYS},
    {d: [["07:00", "11:30"], ["13:30", "21:00"]] for d in stations.WEEKDAYS},
    {d: [["18:00", "02:00"]] for d in stations.WEEKDAYS},  # night shift, past midnight
    WEEKDAYS_ONLY,
]
COMMON = ("water", "seats", "charging", "toilet", "air_conditioning", "microwave", "wifi", "first_aid")
RARE = ("fridge", "power_bank", "aed", "battery_swap", "umbrella", "reading", "job_screen", "lawyer")
BIG_CITIES = {"4401": 40, "4403": 40, "4419": 25, "4406": 25}  # Guangzhou, Shenzhen, Dongguan, Foshan


def _load_stations(now: datetime) -> int:
    """A few hundred stations clustered around the cities' centres (fixed seed: the same every time); the demo
    station manager looks after the two in 石牌街道."""
    if db.session.scalar(select(Station.id).where(Station.external_id.like("demo-%")).limit(1)) is not None:
        return 0
    rng = random.Random(12351)  # noqa: S311 — fictional data, the same on every machine
    manager = users.find_user("19900000201")
    made = 0
    for city in regions.children(regions.ancestry(T)[0].code):
        districts = [d for d in regions.children(city.code) if d.lat is not None] or [city]
        for n in range(BIG_CITIES.get(city.code, 10)):
            district = districts[n % len(districts)]
            towns = [t for t in regions.children(district.code)] or [district]
            town = rng.choice(towns)
            if made < 2:  # the manager's own two stations, in the demo chain's street
                district, town = regions.place(D), regions.place(T)
            kind, pattern = rng.choice(STATION_KINDS)
            codes = [c for c in COMMON if rng.random() < 0.7] + [c for c in RARE if rng.random() < 0.2]
            hours = rng.choice(HOURS)
            if made == 0:  # the street's flagship station: open round the clock, with the usual facilities
                kind, pattern, codes, hours = StationKind.UNION, "{town}工会驿站", list(COMMON[:6]), HOURS[0]
            data = stations.StationData(
                name=pattern.format(town=town.name, district=district.name), kind=kind,
                address=f"{city.name}{district.name}{town.name}某某路{rng.randrange(1, 400)}号",
                region_code=town.code, lat=district.lat + rng.gauss(0, 0.02), lng=district.lng + rng.gauss(0, 0.02),
                facilities=stations.mask_of(codes), hours=hours, phone="020-0000" + f"{made:04d}",
                holiday_note="节假日照常开放" if rng.random() < 0.5 else "", external_id=f"demo-{made}")
            stations.add(data, now, managers=[manager] if made < 2 and manager else [])
            made += 1
    db.session.commit()
    return made


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
    count, sample = _load_tickets(now)
    supervision.sweep(now)
    return DemoResult(created_regions, accounts, count, sample, _load_stations(now))
