"""Builders of the suite's data: accounts, stations, members, merchants, vouchers and tickets, made through the
real services (so their rules, events and rollups run as in production), at NOW unless told otherwise.

Call them inside an application context (the `ctx` fixture, or `with app.app_context()`); they return model
objects. The `make_*` fixtures of tests/conftest.py wrap them for tests that hold no context, at the test's
clock. Tests take shared values and builders from here (or conftest), never from another test module.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count

from PIL import Image
from sqlalchemy import select

from portal.database import begin_write
from portal.extensions import db
from portal.models import (
    Campaign,
    Kind,
    Membership,
    Merchant,
    MerchantCategory,
    OfferKind,
    OutboxMessage,
    Rating,
    Role,
    Station,
    StationKind,
    Status,
    Ticket,
    User,
    Voucher,
)
from portal.services import benefits, members, merchants, sla, station_files, stations, tickets, twofactor, users
from portal.services.messages import phones, subscriptions

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Shanghai
PASSWORD = "Correct-Horse-9"
# The authenticator key of every staff and administrator account the builders make (they must have a second
# factor); the sign-in helpers compute its codes (tests/conftest.py login, tests/live.py Client.login).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ALL_WEEK = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ROSTER_HEADER = "number,name,union,occupation,member_since,valid_until\n"

_series: dict[str, Iterator[int]] = {}


def fresh() -> None:
    """Number everything from the start again: conftest calls it before each test, so a test's first account is
    always 13800000000 whatever ran before it."""
    _series.clear()


def _next(series: str, start: int = 0) -> int:
    return next(_series.setdefault(series, count(start)))


# ------------------------------------------------------------------------------------------- accounts

def user(role: Role | str = Role.MEMBER, region: str | None = None, password: str = PASSWORD,
         phone: str | None = None, name: str = "测试用户", now: datetime = NOW,
         second_factor: bool | None = None) -> User:
    """An account through the service; phones are numbered (13800000000, 13800000001 …); staff act for the
    province unless given a region. Staff and administrators come with a second factor (TOTP_SECRET), as they
    must to sign in; `second_factor` says otherwise (False: one still to enrol; True: a member's, say)."""
    if region is None and Role(role) is Role.STAFF:
        region = "44"
    made = users.create_user(phone=phone or f"1380000{_next('user'):04d}", password=password, role=role,
                             region_code=region, name=name, now=now)
    if second_factor if second_factor is not None else made.role in twofactor.REQUIRED_ROLES:
        enrol(made, now=now)
    return made


def enrol(account: User, secret: str = TOTP_SECRET, now: datetime = NOW) -> list[str]:
    """Give `account` the authenticator key `secret`, as if set up and confirmed at `now`; its ten recovery codes."""
    begin_write()
    codes = twofactor.install(account, secret, None, now)
    db.session.commit()
    return codes


def totp(now: datetime = NOW, steps: int = 0, secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app holding `secret` shows `steps` 30-second steps after `now`."""
    return twofactor.code_at(secret, now + timedelta(seconds=twofactor.STEP_SECONDS * steps))


# ------------------------------------------------------------------------------------------- stations

def station(lat: float = 23.1353, lng: float = 113.3340, facilities: Iterable[str] = ("water", "seats"),
            hours: dict | None = None, managers: Iterable[User | int] = (), region: str = "440106006",
            now: datetime = NOW, **fields) -> Station:
    """A station open all week (石牌街道, Tianhe, by default), committed; managers as accounts or their ids."""
    n = _next("station")
    data = stations.StationData(
        name=fields.pop("name", f"测试驿站{n}"), kind=fields.pop("kind", StationKind.UNION),
        address=fields.pop("address", "天河区测试路1号"), region_code=region, lat=lat, lng=lng,
        facilities=stations.mask_of(facilities), hours=hours or ALL_WEEK, **fields)
    managers = [m if isinstance(m, User) else db.session.get(User, m) for m in managers]
    made = stations.add(data, now, managers=managers)
    db.session.commit()
    return made


STATION_ROWS = [  # two stations as an administrator's CSV import gives them (station_files.CSV_COLUMNS)
    "gz-1,石牌街道工会驿站,union,天河区石牌路1号,440106006,23.1353,113.3340,water|microwave,020-1,节假日照常,"
    "08:00-20:00,08:00-20:00,08:00-20:00,08:00-20:00,08:00-20:00,24h,",
    "gz-2,车陂环卫驿站,outdoor,天河区车陂路2号,440106,23.1290,113.3900,toilet;charging,,,"
    "22:00-06:00,,,,,,",
]


def station_csv(*rows: str) -> bytes:
    """A station import file (with the BOM spreadsheet programs write) holding `rows` under the header."""
    return ("\ufeff" + "\n".join([",".join(station_files.CSV_COLUMNS), *rows]) + "\n").encode()


# -------------------------------------------------------------------------------------------- members

def roster(text: str, now: datetime = NOW) -> members.RosterReport:
    """An administrator's roster import of `text` (a CSV with ROSTER_HEADER)."""
    return members.import_roster(members.read_roster(text.encode()), None, now)


def member(tag: str = "other", name: str = "张三丰", valid_until: str = "", *, number: str | None = None,
           phone: str | None = None, union: str = "天河区总工会", now: datetime = NOW) -> Membership:
    """An active member: a roster entry, then the member account signed up with its number (GH000001 and
    13900000001, GH000002 and 13900000002 … unless given)."""
    n = _next("member", 1)
    number, phone = number or f"GH{n:06d}", phone or f"1390000{n:04d}"
    report = roster(f"{ROSTER_HEADER}{number},{name},{union},{tag},2020-01-01,{valid_until}\n", now)
    assert report.ok, report
    return members.sign_up(phone=phone, password=PASSWORD, number=number, name=name, now=now)


# ------------------------------------------------------------------------------------------ merchants

def merchant(category: str = "catering", lat: float = 23.1353, lng: float = 113.3340, *, name: str | None = None,
             staff: Iterable[str] = (), offers: Iterable[merchants.OfferData] = (), now: datetime = NOW,
             **fields) -> tuple[Merchant, str]:
    """A merchant (测试商户1, 测试商户2 … unless named) and its till's key; `staff` are phones of merchant
    accounts (made with PASSWORD when new) and `offers` its offers."""
    made, key = merchants.create(name=name or f"测试商户{_next('merchant', 1)}", lat=lat, lng=lng,
                                 category=category, now=now, **fields)
    for phone in staff:
        merchants.add_staff(made.id, phone, now, password=PASSWORD)
    for data in offers:
        merchants.add_offer(made, data, now)
    return made, key


def offer(title: str = "会员九折", percent_off: int = 10, **fields) -> merchants.OfferData:
    """An offer's data: 10 % off unless told otherwise."""
    return merchants.OfferData(**{"title": title, "kind": OfferKind.PERCENT, "percent_off": percent_off} | fields)


# ------------------------------------------------------------------------------------------- vouchers

def campaign(amount_fen: int = 500, stock: int = 100, now: datetime = NOW, **fields) -> Campaign:
    """A campaign open to every member (测试活动1, 测试活动2 … unless named), from a day before `now` for 30 days
    unless told otherwise."""
    start = fields.pop("starts_at", now - timedelta(days=1))
    if isinstance(fields.get("category"), str):
        fields["category"] = MerchantCategory(fields["category"])
    end = fields.pop("ends_at", start + timedelta(days=30))
    data = benefits.CampaignData(name=fields.pop("name", f"测试活动{_next('campaign', 1)}"), amount_fen=amount_fen,
                                 stock=stock, starts_at=start, ends_at=end, **fields)
    return benefits.create_campaign(data, now)


def vouchers(holder: Membership, of: Campaign, count: int = 1, now: datetime = NOW) -> list[Voucher]:
    """Vouchers of a campaign an administrator hands to a member at `now`."""
    return benefits.issue(db.session.get(User, holder.user_id).phone, of.name, count, now)


def voucher(holder: Membership | None = None, of: Campaign | None = None, now: datetime = NOW) -> Voucher:
    """One usable voucher, of a new campaign for a new member unless given them."""
    return vouchers(holder or member(now=now), of or campaign(now=now), 1, now)[0]


# -------------------------------------------------------------------------------------------- tickets

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"  # a minimal PDF
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 40, height: int = 20) -> bytes:
    """A phone's photo: taken in Tianhe (GPS in its EXIF) and held sideways (EXIF orientation 6)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the phone was held sideways: rotate 90° when shown
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (23.0, 7.0, 40.0), 3: "E", 4: (113.0, 21.0, 3.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def wages(**overrides) -> tickets.Submission:
    """A worker's appeal about unpaid wages in 石牌街道 (Tianhe), as the web form sends it."""
    values = dict(kind=Kind.APPEAL, category="labour.wages", description="老板拖欠我们三个月工资，共 12 人。",
                  place_code="440106006", employer="某某建筑劳务公司", amount_owed_fen=1_200_000, workers_affected=12)
    return tickets.Submission(**(values | overrides))


def submit(token: str = "form-token-1", now: datetime = NOW, **overrides) -> tickets.Receipt:
    """`wages(**overrides)` submitted with the form token `token` (the same token gives back the same ticket)."""
    return tickets.submit(wages(**overrides), token=token, now=now)


def staff_of(region: str) -> User:
    """A staff member of the union `region`: the first one the test made, or a new one."""
    found = db.session.scalar(select(User).where(User.role == Role.STAFF, User.region_code == region)
                              .order_by(User.id).limit(1))
    return found or user(Role.STAFF, region)


S = Status
ACCEPT = ("accept", "44", {})
DISPATCH = ("dispatch", "44", {"target": "4401", "note": ""})
REPLY = ("reply", "44", {"text": "已联系用人单位，工资已追回。"})
VISIT = ("return_visit", "44", {"rating": Rating.SATISFIED, "comment": ""})
CLOSE = ("close", "44", {})
# How a case reaches each status: the actions (name, the acting union or None for the worker, inputs), taken in
# turn from submission by the province's union (44) and the Guangzhou union below it (4401).
ROUTES: dict[Status, tuple[tuple[str, str | None, dict], ...]] = {
    S.SUBMITTED: (),
    S.ACCEPTED: (ACCEPT,),
    S.DISPATCHED: (ACCEPT, DISPATCH),
    S.IN_PROGRESS: (ACCEPT, DISPATCH, ("accept", "4401", {})),
    S.RETURNED_UP: (ACCEPT, DISPATCH, ("return_up", "4401", {"reason": "不属于本级受理范围。"})),
    S.EXTENSION_REQUESTED: (ACCEPT, ("request_extension", "44", {"days": sla.MAX_EXTENDED_DAYS,
                                                                 "reason": "需向人社部门调取证据。"})),
    S.REPLIED: (ACCEPT, REPLY),
    S.RETURN_VISIT: (ACCEPT, REPLY, VISIT),
    S.AWAITING_PROMISE: (ACCEPT, ("reply", "44", {"text": "用人单位承诺于12月10日前支付。",
                                                  "promised_by": date(2026, 12, 10)}), VISIT),
    S.CLOSED: (ACCEPT, REPLY, VISIT, CLOSE),
    S.REOPENED: (ACCEPT, REPLY, VISIT, CLOSE, ("reopen", "44", {"reason": "工人反映工资仍未到账。"})),
    S.WITHDRAWN: (("withdraw", None, {"reason": "已自行解决。"}),),
    S.MERGED: (("merge", "44", {}),),  # into another open case, submitted for it
}


def ticket(status: Status = Status.SUBMITTED, *, token: str | None = None, now: datetime = NOW,
           **overrides) -> Ticket:
    """A ticket in `status`, brought there as a case gets there: `submit(**overrides)`, then the real actions of
    ROUTES through the one registry (tickets.take), all at `now`, by staff_of(each union)."""
    token = token or f"factory-ticket-{_next('ticket')}"
    made = submit(token, now, **overrides).ticket
    for name, union, inputs in ROUTES[Status(status)]:
        if name == "merge":
            inputs = {"into": submit(f"{token}-kept", now, **overrides).ticket.number}
        made = tickets.take(name, made, staff_of(union) if union else None, now, **inputs)
    assert made.status is Status(status), (made.status, status)
    return made


def at_once(app, n: int, act, read=lambda: None) -> list:
    """Run `act(read())` in `n` threads, each in an app context of its own, released together by a barrier once
    each has read what it acts on (and committed, as a request that rendered a page has): what each returned, or
    the exception it raised, in the order they ended."""
    barrier, outcomes = threading.Barrier(n), []

    def one():
        with app.app_context():
            try:
                prepared = read()
                db.session.commit()
                barrier.wait(timeout=30)
                outcomes.append(act(prepared))
            except Exception as error:  # noqa: BLE001 — the caller asserts on it
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def sent_code(phone: str) -> str:
    """The six-digit code last queued for this number (what the worker reads on their phone)."""
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "verify",
                                                        OutboxMessage.phone_hash == phones.hash_of(phone))
                            .order_by(OutboxMessage.id.desc()).limit(1))
    return json.loads(row.params)["code"]


def opted_in(made: Ticket, phone: str = "13912345678", locale: str = "zh_CN", now: datetime = NOW) -> Ticket:
    """The worker asked for texts about `made` and typed the code that came (the real two steps)."""
    subscriptions.ask_code(made, phone, locale, now)
    subscriptions.confirm(made, sent_code(phone), now)
    return made
