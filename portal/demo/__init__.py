"""Realistic, clearly fictional demo data for `make run` (data, not rules: it is made through the services). Loading
twice changes nothing.

Regions, one account per role along a union chain, and grievance tickets in every state of the workflow
(taken there through the real services). Later capabilities add their own records here: rest stations, and the
member benefits (merchants near the stations, a roster, campaigns, and the demo member's vouchers and savings).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.database import begin_write
from portal.extensions import db
from portal.models import (
    BenefitEvent,
    Channel,
    Kind,
    LimitPeriod,
    Membership,
    MembershipStatus,
    Merchant,
    MerchantCategory,
    OfferKind,
    Rating,
    Region,
    RegionLevel,
    Role,
    Station,
    StationKind,
    Ticket,
)
from portal.services import (
    benefits,
    ledger,
    members,
    merchants,
    regions,
    stations,
    supervision,
    tickets,
    twofactor,
    users,
)
from portal.services.sla import SHANGHAI, local_date

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
ADMIN_PHONE = next(a.phone for a in ACCOUNTS if a.role is Role.ADMIN)

# The second factor of the demo staff and administrator: fixed authenticator keys, published like the password
# (demo data is refused in production), so anyone trying the demo can add them to an app or compute a code:
# .venv/bin/python -c "import pyotp; print(pyotp.TOTP('VTS2TQDWMA5CXD4JOHHOT3ZFNCKTPTET').now())"
DEMO_SECOND_FACTORS = {
    "19900000001": "VTS2TQDWMA5CXD4JOHHOT3ZFNCKTPTET",
    "19900000002": "CNUYOWGISA76CHBANB3QS3TXH2LFJJAS",
    "19900000003": "2BGQWATTZIGOKN2FRTHSTWJTF3WEFKIV",
    "19900000004": "YRBQD2FNJAF45XFGEGPDS2FJTX3355KO",
    "19900000009": "S7EPZ2DYVNGBTV3ZQNHKL5KQIIGVTZ5Q",
}


@dataclass(frozen=True)
class DemoResult:
    regions_created: int
    accounts: list[tuple[DemoAccount, bool]]  # (account, created now)
    tickets_created: int = 0
    sample: tuple[str, str] | None = None  # (ticket number, query code) to try tracking with
    stations_created: int = 0
    benefits: BenefitsDemo | None = None  # None: the benefits were loaded before
    # (account, its demo key or None when it has set up its own authenticator since, otpauth:// URI or "")
    second_factors: tuple[tuple[DemoAccount, str | None, str], ...] = ()


# Fictional requests, each taken through the real workflow (tickets.take) to a different state. Steps name the
# staff member by the region of the union acting, or the worker: (who, action, inputs).
P, C, D, T = "44", "4401", "440106", "440106006"
WORKER = "worker"
NOTE = "请核实情况，依法依规处理。"


@dataclass(frozen=True)
class Earlier:
    """An earlier scenario's ticket, by its place in SCENARIOS (the case a duplicate is merged into)."""

    index: int


@dataclass(frozen=True)
class DaysLater:
    """A date this many days after the step (the date a reply promises an action by)."""

    days: int


def _down(by: str, to: str) -> tuple:
    """Pass the case one level down, with the usual instruction."""
    return by, "dispatch", {"target": to, "note": NOTE}


TO_CITY = [(P, "accept"), _down(P, C), (C, "accept")]
TO_DISTRICT = [*TO_CITY, _down(C, D), (D, "accept")]
SCENARIOS = [
    ("appeal", "labour.wages", "工地老板拖欠我们班组 3 个月工资，共 12 人，一直说下个月给。", T, "某某建筑劳务公司",
     3_600_000, 12, 9, [*TO_DISTRICT, _down(D, T), (T, "accept"),
                        (T, "reply", {"text": "已约谈企业负责人，企业承诺本月 25 日前足额支付工资。",
                                      "recovered_fen": 3_600_000})]),
    ("consultation", "labour.hours", "外卖平台每天要求在线 12 小时，超时算不算加班？", D, "", None, None,
     1, []),
    ("consultation", "security.insurance", "公司试用期不给交社保，这样合法吗？", D, "某某科技有限公司", None, None,
     2, [(P, "accept")]),
    ("help", "support.hardship", "孩子生病住院，家里经济困难，想申请困难帮扶。", T, "", None, None,
     6, [(P, "accept"), _down(P, C)]),
    ("appeal", "security.injury", "送餐途中被车撞伤，站点说不算工伤，不给报销。", D, "某某配送站", None, None,
     8, TO_DISTRICT),
    ("appeal", "labour.dismissal", "公司突然通知我明天不用来了，没有任何补偿。", "440104001", "某某餐饮公司", None, 1,
     5, [*TO_DISTRICT[:-1], (D, "return_up", {"reason": "用人单位注册地在越秀区，不属本区管辖。"})]),
    ("appeal", "labour.contract", "入职半年一直没签劳动合同，要求签合同被拒绝。", D, "某某物流公司", None, 1,
     12, [*TO_CITY, (C, "request_extension", {"days": 30, "reason": "需调取考勤和工资记录。"})]),
    ("suggestion", "other.union", "建议在石牌街道多设几个户外劳动者驿站，夏天太热。", T, "", None, None,
     10, [(P, "accept"), (P, "reply", {"text": "感谢建议，已转交天河区总工会，将在明年驿站建设中统筹考虑。"})]),
    ("consultation", "labour.hours", "春节加班工资怎么算？", D, "", None, None,
     20, [(P, "accept"), (P, "reply", {"text": "法定节假日安排工作的，应支付不低于工资 300% 的工资报酬。"}),
          (WORKER, "rate", {"rating": "satisfied"})]),
    ("help", "support.psychological", "最近压力很大，晚上睡不着，想找人聊聊。", D, "", None, None,
     15, [(P, "accept"), (P, "reply", {"text": "已为您预约心理咨询师，将电话联系您。"}),
          (WORKER, "rate", {"rating": "unsatisfied"})]),
    ("consultation", "labour.wages", "想问一下最低工资标准是多少。", D, "", None, None,
     3, [(WORKER, "withdraw", {"reason": "问题已自行解决。"})]),
    ("appeal", "labour.wages", "和第一件同一个工地，也被拖欠工资。", T, "某某建筑劳务公司", 300_000, 1,
     4, [(P, "accept"), (P, "merge", {"into": Earlier(0)})]),
    ("consultation", "security.insurance", "医保断缴了怎么补？", D, "", None, None,
     30, [(P, "accept"), (P, "reply", {"text": "可携带身份证到社保经办机构办理补缴。"}),
          (P, "return_visit", {"rating": "basically_satisfied", "comment": "电话回访，职工表示基本满意。"})]),
    ("appeal", "labour.wages", "离职两个月了，公司还欠最后一个月工资没结。", D, "某某物业服务公司", 520_000, 1,
     4, [(P, "accept"), (P, "reply", {"text": "已联系公司财务，公司承诺 10 日内结清。逾期未付请告诉我们。",
                                      "promised_by": DaysLater(10)}),
          (WORKER, "rate", {"rating": "satisfied"})]),  # awaiting the promised action until its date
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
        for step, (who, action, *inputs) in enumerate(steps):
            when = at + timedelta(hours=step + 1)
            known = {k: made[v.index].number if isinstance(v, Earlier)
                     else local_date(when) + timedelta(days=v.days) if isinstance(v, DaysLater) else v
                     for k, v in (inputs or [{}])[0].items()}
            ticket = tickets.take(action, ticket, staff.get(who), when, **known)
        made.append(ticket)
        if n == 0:
            sample = (ticket.number, receipt.query_code)
    return len(made) + _load_history(now, staff), sample


# A month and a half of background traffic for the big screen: what workers ask (the seeds' mix: mostly
# consultations, most of them about labour relations), where (weighted to the big cities), when (office hours,
# with evenings for riders), and what became of it. Fixed seed: the same every time.
HISTORY_DAYS = 45
HISTORY_TICKETS = 420
HISTORY_CALLS = 900
KIND_WEIGHTS = {Kind.CONSULTATION: 65, Kind.APPEAL: 20, Kind.HELP: 10, Kind.SUGGESTION: 5}
CATEGORY_WEIGHTS = {"labour.wages": 30, "labour.contract": 22, "labour.hours": 14, "labour.dismissal": 10,
                    "security.injury": 8, "security.insurance": 8, "support.psychological": 3,
                    "support.hardship": 3, "other.union": 1, "other.other": 1}
CITY_WEIGHTS = {"4401": 30, "4403": 28, "4419": 14, "4406": 12, "4413": 5, "4420": 4, "4404": 3, "4407": 2,
                "4452": 1, "4405": 1}
HOUR_WEIGHTS = [1, 0, 0, 0, 0, 1, 2, 4, 9, 14, 15, 13, 8, 10, 14, 14, 12, 10, 8, 7, 6, 5, 3, 2]
TEXTS = {
    "labour.wages": ["{who}被拖欠工资{n}个月，老板一直拖着不给结算。", "项目完工后包工头跑了，工钱没人结。",
                     "公司每月克扣绩效工资，工资条也不给看。", "离职后公司拒绝发放最后一个月工资。"],
    "labour.contract": ["入职{n}个月了单位还不签劳动合同。", "试用期被延长到半年，合同里写的和说的不一样。",
                        "合同到期公司不续签也不给补偿。", "劳务派遣合同和用工单位不一致，不知道找谁。"],
    "labour.hours": ["每天工作12小时，加班费从来没有发过。", "平台派单太多，连续上班没有休息日。",
                     "节假日加班只给调休不给加班费，合法吗？", "夜班补贴取消了，工时也变长了。"],
    "labour.dismissal": ["公司以业绩不达标为由辞退我，没有经济补偿。", "怀孕后被调岗降薪，变相逼我辞职。",
                         "工厂搬迁裁员，补偿金标准怎么算？"],
    "security.injury": ["送餐途中摔伤，站点不给认定工伤。", "工地上被砸伤了脚，老板只给了点医药费。",
                        "职业病鉴定要去哪里申请？"],
    "security.insurance": ["公司一直没给交社保，想补缴。", "灵活就业怎么交养老保险和医保？",
                           "换工作后社保断缴了怎么办？"],
    "support.psychological": ["最近工作压力很大，经常失眠焦虑。", "跑单被投诉后心情很差，想找人聊聊。"],
    "support.hardship": ["家里老人生病住院，经济困难，想申请帮扶。", "孩子上学学费凑不齐，能申请困难救助吗？"],
    "other.union": ["怎么加入工会？驿站能办入会吗？", "建议驿站增加微波炉和充电柜。"],
    "other.other": ["想了解职工疗休养政策。", "劳模评选的条件是什么？"],
}
WHO = ["我们班组", "我和几个工友", "我", "我们车间", "我们几个骑手"]
ANSWERS = ["已告知可向劳动监察大队投诉，并提供法律援助热线。", "已解答，建议保留考勤记录和工资流水。",
           "已转介律师值班窗口，明天上午可来电预约。"]


def _history_place(rng: random.Random, towns: dict[str, list[str]]) -> str:
    city = rng.choices(list(CITY_WEIGHTS), weights=list(CITY_WEIGHTS.values()))[0]
    return rng.choice(towns[city])


def _history_time(rng: random.Random, now: datetime, days_ago: int) -> datetime:
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    moment = datetime.combine(local_date(now) - timedelta(days=days_ago), time(hour, rng.randrange(60)), SHANGHAI)
    return min(moment, now - timedelta(minutes=5)).astimezone(now.tzinfo)


def _load_history(now: datetime, staff: dict) -> int:
    """Tickets from the web and QR codes, and hotline calls answered on the spot, over the last 45 days,
    handled through the real services so the dashboard's rollups follow; returns the tickets made."""
    rng = random.Random(12351)  # noqa: S311 — fictional data, the same on every machine
    towns = {city: [p.code for p in regions.places(RegionLevel.TOWN, city)] for city in CITY_WEIGHTS}
    texts = {code: [t.format(who=rng.choice(WHO), n=rng.randint(2, 6)) for t in TEXTS[code]] for code in TEXTS}
    root = staff[P]
    made = 0
    for n in range(HISTORY_TICKETS):
        days_ago = int(rng.triangular(0, HISTORY_DAYS, 0))
        at = _history_time(rng, now, days_ago)
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
        ticket = tickets.submit(tickets.Submission(
            kind=kind, category=category, description=rng.choice(texts[category]),
            place_code=_history_place(rng, towns), channel=Channel.QR if rng.random() < 0.35 else Channel.WEB,
        ), token=f"demo-history-{n}", now=at).ticket
        made += 1
        _history_steps(rng, ticket, root, at, now)
    for n in range(HISTORY_CALLS):
        at = _history_time(rng, now, int(rng.triangular(0, HISTORY_DAYS, 0)))
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        ledger.log(root, ledger.Contact(
            channel=rng.choices([Channel.HOTLINE, Channel.VISIT, Channel.MAILBOX], weights=[85, 8, 7])[0],
            kind=Kind.CONSULTATION, category=category, summary=rng.choice(texts[category]),
            answer=rng.choice(ANSWERS)), token=f"demo-call-{n}", now=at)
    return made


def _history_steps(rng: random.Random, ticket: Ticket, root, at: datetime, now: datetime) -> None:
    """Accepted within hours; most answered within days (a few late), rated, some sent down to the city."""
    age = now - at
    if age < timedelta(hours=3) or rng.random() < 0.03:
        return
    ticket = tickets.take("accept", ticket, root, at + timedelta(hours=2))
    if rng.random() < 0.1:
        tickets.take("dispatch", ticket, root, at + timedelta(hours=3), target=ticket.place_code[:4], note=NOTE)
        return
    days = rng.choice([0.2, 0.5, 1, 1, 2, 3, 4, 9 if ticket.period_days <= 5 else 25])
    replied = at + timedelta(days=days)
    if replied > now:
        return
    recovered = rng.randrange(3, 40) * 100_000 if ticket.category == "labour.wages" and rng.random() < 0.5 else None
    ticket = tickets.take("reply", ticket, root, replied, text=rng.choice(ANSWERS), recovered_fen=recovered)
    if replied + timedelta(days=1) < now and rng.random() < 0.8:
        rating = rng.choices(list(Rating), weights=[85, 12, 3])[0]
        tickets.take("rate", ticket, None, replied + timedelta(days=1), rating=rating, comment="")


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
    made, names = 0, {}
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
            base = pattern.format(town=town.name, district=district.name)
            names[base] = names.get(base, 0) + 1  # two of one kind in one street: the second says which it is
            name = base if names[base] == 1 else f"{base}（{names[base]}号站）"
            data = stations.StationData(
                name=name, kind=kind,
                address=f"{city.name}{district.name}{town.name}某某路{rng.randrange(1, 400)}号",
                region_code=town.code, lat=district.lat + rng.gauss(0, 0.02), lng=district.lng + rng.gauss(0, 0.02),
                facilities=stations.mask_of(codes), hours=hours, phone="020-0000" + f"{made:04d}",
                holiday_note="节假日照常开放" if rng.random() < 0.5 else "", external_id=f"demo-{made}")
            stations.add(data, now, managers=[manager] if made < 2 and manager else [])
            made += 1
    db.session.commit()
    return made


# Member benefits. Partner merchants (fictional "某某" names, like the stations' hosts), each placed a walk away
# from a demo station: (station external_id, or a district where the first demo station is taken), metres, bearing.
@dataclass(frozen=True)
class DemoMerchant:
    name: str
    category: MerchantCategory
    near: str
    metres: int
    bearing: int  # degrees clockwise from north
    street: str
    offers: tuple[tuple, ...]  # (title, kind, percent or fen off, cap, min spend, per day, per month, terms)


PCT, FIX = OfferKind.PERCENT, OfferKind.FIXED
CASHIER_PHONE = "19900000301"
MEMBER_NUMBER = "GZ2024000123"  # the demo member's line on the roster
PENDING = ("19900000102", "GZ2025000888", "王小红")  # a sign-up with a number the roster lacks
SUMMER, CINEMA, FUEL = "夏季清凉券", "一元观影", "国庆加油券"
DEMO_MERCHANTS = [
    DemoMerchant("某某肠粉店（石牌店）", MerchantCategory.CATERING, "demo-0", 250, 40, "天河区石牌街道某某路18号", (
        ("会员九折", PCT, 10, 2000, 0, 1, 0, "每位会员每天限用一次，最多优惠 20 元；不与店内其他优惠同享。"),
        ("满 30 减 5", FIX, 500, 0, 3000, 0, 0, "堂食、外带均可。"))),
    DemoMerchant("某某快餐（岗顶店）", MerchantCategory.CATERING, "demo-1", 400, 120, "天河区石牌街道某某大街66号", (
        ("骑手套餐立减 3 元", FIX, 300, 0, 1500, 1, 0, "外卖骑手、快递员出示会员卡，每天一次。"),)),
    DemoMerchant("某某加油站（天河北）", MerchantCategory.FUEL, "demo-0", 700, 300, "天河区天河北路某某号", (
        ("加油满 200 减 10", FIX, 1000, 0, 20000, 1, 0, "仅限汽油、柴油；每位会员每天一次。"),
        ("洗车九折", PCT, 10, 0, 0, 0, 4, "每月最多四次。"))),
    DemoMerchant("某某影城（天河城店）", MerchantCategory.CINEMA, "demo-1", 600, 250, "天河区天河路某某广场5楼", (
        ("会员观影八折", PCT, 20, 1500, 0, 2, 0, "每天最多两张，每张最多优惠 15 元；特殊场次除外。"),)),
    DemoMerchant("某某便利店（石牌西）", MerchantCategory.SHOPPING, "demo-0", 150, 180, "天河区石牌西路某某号", (
        ("满 50 减 5", FIX, 500, 0, 5000, 1, 0, "烟酒、充值卡除外；每天一次。"),)),
    DemoMerchant("某某大药房（石牌东）", MerchantCategory.HEALTH, "demo-1", 200, 10, "天河区石牌东路某某号", (
        ("药品九五折", PCT, 5, 0, 0, 0, 0, "处方药、医保结算除外。"),)),
    DemoMerchant("某某电动车维修（石牌店）", MerchantCategory.SERVICES, "demo-0", 500, 90, "天河区石牌街道某某巷3号", (
        ("补胎换胎立减 10 元", FIX, 1000, 0, 3000, 1, 0, "电动车、摩托车均可。"),
        ("工时费八折", PCT, 20, 3000, 0, 0, 0, "配件按原价，工时费最多优惠 30 元。"))),
    DemoMerchant("某某换电站（天河）", MerchantCategory.TRANSPORT, "440106", 300, 150, "天河区某某路换电服务点", (
        ("换电月卡立减 20 元", FIX, 2000, 0, 10000, 0, 1, "每月限购一张。"),)),
    DemoMerchant("某某凉茶铺（北京路）", MerchantCategory.CATERING, "440104", 300, 200, "越秀区北京街道某某路12号", (
        ("凉茶八五折", PCT, 15, 0, 0, 0, 0, "店内饮品均可。"),)),
    DemoMerchant("某某电动车租赁（越秀）", MerchantCategory.TRANSPORT, "440104", 650, 330, "越秀区某某路88号", (
        ("月租立减 30 元", FIX, 3000, 0, 20000, 0, 1, "新就业形态劳动者专享，每月一次。"),)),
    DemoMerchant("某某电影院（江南西）", MerchantCategory.CINEMA, "440105", 500, 60, "海珠区江南西路某某号", (
        ("工作日观影立减 10 元", FIX, 1000, 0, 3000, 0, 4, "周一至周五可用，每月最多四次。"),)),
    DemoMerchant("某某超市（上下九）", MerchantCategory.SHOPPING, "440103", 350, 90, "荔湾区上下九步行街某某号", (
        ("会员日九五折", PCT, 5, 5000, 0, 1, 0, "每天一次，最多优惠 50 元。"),)),
]
UNIONS = ("广州市天河区石牌街道总工会", "广州市天河区新就业形态劳动者联合工会", "广州市越秀区北京街道总工会",
          "广州市海珠区环卫工人联合工会", "广州市快递行业工会联合会")
ROSTER_NAMES = ("张伟", "王芳", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏", "徐军", "孙燕", "胡斌",
                "朱琳", "高峰", "林晓红", "何勇", "郭婷", "马超", "罗佳", "梁志明", "宋雪", "郑凯", "李建国", "谢华",
                "韩梅", "唐亮", "冯雨", "曹阳", "彭丹", "邓海")  # 李建国, the 23rd, is the demo member: GZ2024000123
ROSTER_TAGS = ("delivery", "courier", "sanitation", "construction", "driver", "domestic", "security", "factory",
               "delivery", "other")


@dataclass(frozen=True)
class BenefitsDemo:
    merchants: int
    offers: int
    roster: int
    campaigns: int
    vouchers: int
    pending_phone: str


def _beijing(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def _walk(lat: float, lng: float, metres: int, bearing: int) -> tuple[float, float]:
    """The point `metres` away in direction `bearing` (a flat approximation, well within 1 % at these distances)."""
    rad, metres_per_degree = math.radians(bearing), 111_320
    return (lat + metres * math.cos(rad) / metres_per_degree,
            lng + metres * math.sin(rad) / (metres_per_degree * math.cos(math.radians(lat))))


def _anchor(near: str) -> Station | None:
    """A demo station by external_id, or the first demo station in a district other than the manager's two."""
    query = select(Station).where(Station.external_id.like("demo-%")).order_by(Station.id)
    if near.startswith("demo-"):
        return db.session.scalar(query.where(Station.external_id == near))
    return db.session.scalar(query.where(Station.region_code.like(f"{near}%"),
                                         Station.external_id.not_in(["demo-0", "demo-1"])).limit(1))


def _load_merchants(now: datetime, today: date) -> tuple[list[Merchant], int]:
    made, offers = [], 0
    home = _anchor("demo-0")
    for n, m in enumerate(DEMO_MERCHANTS):
        station = _anchor(m.near) or home
        lat, lng = _walk(station.lat, station.lng, m.metres, m.bearing) if station else (23.1353, 113.3340)
        merchant, _key = merchants.create(name=m.name, lat=lat, lng=lng, category=m.category, now=now,
                                          address=f"广州市{m.street}", phone=f"020-0001{n:04d}",
                                          description="工会会员出示电子会员卡即可享受以下优惠。")
        for title, kind, off, cap, min_spend, per_day, per_month, terms in m.offers:
            merchants.add_offer(merchant, merchants.OfferData(
                title=title, kind=kind, percent_off=off if kind is PCT else 0, amount_fen=off if kind is FIX else 0,
                max_saving_fen=cap, min_spend_fen=min_spend, per_day=per_day, per_month=per_month,
                starts_on=today - timedelta(days=90), terms=terms), now)
            offers += 1
        made.append(merchant)
    return made, offers


def _load_roster(admin, now: datetime, today: date) -> int:
    """Thirty members through the roster import, the demo member among them and bound to the demo account (as
    signing up with the number would have done)."""
    until = date(max(2027, today.year + 1), 12, 31).isoformat()
    rows = [(n + 2, {"number": f"GZ2024000{101 + n}", "name": name, "union": UNIONS[n % len(UNIONS)],
                     "occupation": ROSTER_TAGS[n % len(ROSTER_TAGS)],
                     "member_since": date(2018 + n % 7, 1 + n % 12, 1 + n % 28).isoformat(), "valid_until": until})
            for n, name in enumerate(ROSTER_NAMES)]
    next(r for _, r in rows if r["number"] == MEMBER_NUMBER)["occupation"] = "delivery"  # the cooling vouchers' riders
    report = members.import_roster(rows, admin, now)
    if not report.ok:
        raise RuntimeError(f"the demo roster is refused: {report.problems}")
    user = users.find_user(next(a.phone for a in ACCOUNTS if a.role is Role.MEMBER))
    begin_write()
    membership = db.session.scalar(select(Membership).where(Membership.number == MEMBER_NUMBER))
    membership.user_id, membership.status, membership.decided_at = user.id, MembershipStatus.ACTIVE, now
    db.session.add(BenefitEvent(at=now, action="signed_up", actor_id=user.id, membership_id=membership.id,
                                detail="demo"))
    db.session.commit()
    phone, number, name = PENDING
    pending = members.sign_up(phone=phone, password=DEMO_PASSWORD, number=number, name=name, now=now)
    begin_write()
    pending.user.name = f"演示·待审核会员 {name}"
    db.session.commit()
    return report.added


def _load_campaigns(admin, now: datetime, today: date) -> dict[str, int]:
    """Windows relative to today, so the demo works whenever it is loaded; the fuel campaign is over."""
    data = [
        benefits.CampaignData(name=SUMMER, amount_fen=199, stock=5_000, tag="delivery",
                              category=MerchantCategory.CATERING, per_member=1, limit_period=LimitPeriod.DAY,
                              voucher_days=1, starts_at=_beijing(today - timedelta(days=30)),
                              ends_at=_beijing(today + timedelta(days=61)),
                              description="为高温下奔波的外卖骑手送清凉：每天可领一张 1.99 元餐饮券，当天有效。"),
        benefits.CampaignData(name=CINEMA, amount_fen=3_000, min_spend_fen=3_100, stock=500, per_member=2,
                              category=MerchantCategory.CINEMA, starts_at=_beijing(today - timedelta(days=7)),
                              ends_at=_beijing(today + timedelta(days=46)),
                              description="工会会员一元看电影：票价 31 元以内的影片，立减 30 元，每人两张。"),
        benefits.CampaignData(name=FUEL, amount_fen=2_000, min_spend_fen=20_000, stock=1_000, per_member=1,
                              category=MerchantCategory.FUEL, starts_at=_beijing(today - timedelta(days=60)),
                              ends_at=_beijing(today - timedelta(days=29)),
                              description="国庆假期加油满 200 元减 20 元，活动已结束。"),
    ]
    return {d.name: benefits.create_campaign(d, now, admin).id for d in data}


def _load_vouchers(places: list[Merchant], campaigns: dict[str, int], now: datetime, today: date) -> int:
    """The demo member's wallet: two vouchers to use, one used yesterday (with an offer, so the saving shows both),
    one expired unused; and a fuel offer used last week."""
    member = members.of_user(users.find_user(next(a.phone for a in ACCOUNTS if a.role is Role.MEMBER)))
    cashier = users.find_user(CASHIER_PHONE)
    eatery, station = places[0], next(p for p in places if p.category is MerchantCategory.FUEL)
    benefits.claim(member, campaigns[FUEL], _beijing(today - timedelta(days=55), 10))  # never used: expired
    lunch = _beijing(today - timedelta(days=1), 12, 10)
    used = benefits.claim(member, campaigns[SUMMER], lunch)
    benefits.redeem(eatery, benefits.Sale(bill_fen=2_600, voucher_code=used.code, membership_id=member.id,
                                          offer_id=merchants.live_offers(eatery.id, lunch)[0].id),
                    lunch + timedelta(minutes=15), staff=cashier)
    refuel = _beijing(today - timedelta(days=6), 8, 30)
    benefits.redeem(station, benefits.Sale(bill_fen=25_000, membership_id=member.id,
                                           offer_id=merchants.live_offers(station.id, refuel)[0].id),
                    refuel, staff=None, channel="till")
    benefits.claim(member, campaigns[SUMMER], now)
    benefits.claim(member, campaigns[CINEMA], now)
    return 4


def _load_benefits(now: datetime) -> BenefitsDemo | None:
    """Merchants, the roster, campaigns and the demo member's vouchers; nothing when the merchants exist already."""
    if db.session.scalar(select(Merchant.id).where(Merchant.name == DEMO_MERCHANTS[0].name).limit(1)) is not None:
        return None
    today, admin = local_date(now), users.find_user(next(a.phone for a in ACCOUNTS if a.role is Role.ADMIN))
    places, offers = _load_merchants(now, today)
    merchants.add_staff(places[0].id, CASHIER_PHONE, now)
    roster = _load_roster(admin, now, today)
    campaigns = _load_campaigns(admin, now, today)
    vouchers = _load_vouchers(places, campaigns, now, today)
    return BenefitsDemo(len(places), offers, roster, len(campaigns), vouchers, PENDING[0])


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
    second_factors = _enrol_staff(now)
    count, sample = _load_tickets(now)
    supervision.sweep(now)
    return DemoResult(created_regions, accounts, count, sample, _load_stations(now), _load_benefits(now),
                      second_factors)


def _enrol_staff(now: datetime) -> tuple[tuple[DemoAccount, str | None, str], ...]:
    """The demo staff and administrator get their published authenticator keys, unless they have one already
    (an account set up anew on someone's phone keeps it; one an administrator reset gets the demo key again)."""
    begin_write()
    shown = []
    for account in ACCOUNTS:
        if account.phone not in DEMO_SECOND_FACTORS:
            continue
        user, secret = users.find_user(account.phone), DEMO_SECOND_FACTORS[account.phone]
        if not twofactor.enrolled(user):
            twofactor.install(user, secret, None, now)
        ours = user.totp_secret == secret
        shown.append((account, secret if ours else None, twofactor.provisioning_uri(user, secret) if ours else ""))
    db.session.commit()
    return tuple(shown)
