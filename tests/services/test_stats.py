"""The dashboard's figures, proved: the rollups kept by every ticket change equal a full recomputation, and the
figures read from them equal a brute-force count over the tickets and the ledger themselves, on random data
driven through the real services. Then jurisdiction scoping, the public "<5" rule, the period and the K-line.

The brute force below reads Ticket and LedgerEntry rows in plain Python and never touches stat_cell: it is the
reference, written from the issue's definitions, not from the rollups' code.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.exceptions import InvalidInput, NotFound
from portal.extensions import db
from portal.models import Channel, Kind, LedgerEntry, Rating, RegionLevel, Role, Status, Ticket, TicketEvent, User
from portal.services import ledger, regions, stats, tickets
from portal.vocabulary import KIND_LABELS
from tests.conftest import NOW

BEIJING = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 20)  # NOW's day in Beijing
CLOSED_GROUP = {Status.CLOSED, Status.WITHDRAWN, Status.MERGED}
DIRECT = {Channel.WEB, Channel.QR, Channel.API}
PHRASES = ("老板拖欠我们三个月工资", "公司一直不签劳动合同", "每天加班到深夜却没有加班费", "在工地摔伤了公司不给报工伤",
           "单位没有给我们缴纳社保", "被公司无故辞退没有经济补偿", "工作压力太大晚上失眠焦虑",
           "家里困难孩子上学需要帮扶", "希望工会驿站延长开放时间", "想了解怎样加入工会", "包工头卷款跑路工钱拿不到",
           "试用期被克扣工资")
CATEGORIES = ("labour.contract", "labour.wages", "labour.dismissal", "labour.hours", "security.injury",
              "security.insurance", "support.psychological", "support.hardship", "other.union", "other.other")
# Always among the places, so the scopes checked below hold tickets: Tianhe (a district and a town in it),
# Yuexiu, Futian, and a town of Dongguan, a city whose towns have no district above them.
FIXED_PLACES = ("440106", "440106006", "440104", "440304", "441900003")
SCOPES = ("44", "4401", "440106", "440106006", "4419")


def beijing_day(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def beijing_hour(moment: datetime) -> int:
    return moment.astimezone(BEIJING).hour


# ------------------------------------------------------------------------------------------ random data

class World:
    """Random tickets and contacts over the 40 days before NOW, each ticket then walked through the workflow
    by the right people at increasing times."""

    def __init__(self, seed: int, make_user):
        self.rng = random.Random(seed)
        self.staff: dict[str, int] = {}
        self.tokens = iter(range(1_000_000))
        self.places = self._places()
        for code in sorted({p.code for place in self.places for p in regions.ancestry(place)}):
            self.staff[code] = make_user(Role.STAFF, region=code).id  # before this session reads anything

    def _places(self) -> list[str]:
        rng, chosen = self.rng, list(FIXED_PLACES)
        for city in ("4401", "4403", "4406"):
            districts = rng.sample(regions.places(RegionLevel.DISTRICT, city), 2)
            chosen += [d.code for d in districts]
            chosen += [t.code for d in districts for t in rng.sample(regions.places(RegionLevel.TOWN, d.code), 1)]
        chosen += [t.code for t in rng.sample(regions.places(RegionLevel.TOWN, "4419"), 2)]
        return chosen

    def user(self, code: str) -> User:
        """The staff member of the union of `code` (cases move only along their place's chain of unions)."""
        return db.session.get(User, self.staff[code])

    def token(self) -> str:
        return f"w-{next(self.tokens)}"

    def moment(self) -> datetime:
        """A time in the last 40 days, a sixth of them this morning (so "today" has figures)."""
        if self.rng.random() < 1 / 6:
            return NOW - timedelta(seconds=self.rng.randint(0, 10 * 3600 - 1))
        return NOW - timedelta(seconds=self.rng.randint(0, 40 * 86400))

    def description(self) -> str:
        return "，".join(self.rng.sample(PHRASES, self.rng.randint(1, 3))) + "。"

    def build(self, arrivals: int = 150, contacts: int = 40) -> None:
        rng = self.rng
        plan = [(self.moment(), "ticket") for _ in range(arrivals)] + [(self.moment(), "ledger")
                                                                      for _ in range(contacts)]
        for at, what in sorted(plan):
            kind = rng.choice(list(Kind))
            category, place = rng.choice(CATEGORIES), rng.choice(self.places)
            if what == "ticket":
                sub = tickets.Submission(kind=kind, category=category, description=self.description(),
                                         place_code=place, channel=rng.choice((Channel.WEB, Channel.QR, Channel.API)),
                                         urgent=rng.random() < 0.05)
                ticket = tickets.submit(sub, token=self.token(), now=at).ticket
            else:
                taker = rng.choice(["44", "4401", "440106", "4403", "441900003", place])
                to_ticket = rng.random() < 0.4
                contact = ledger.Contact(
                    channel=rng.choice(ledger.CHANNELS), kind=kind, category=category, summary=self.description(),
                    answer="" if to_ticket else "已当场解答。", to_ticket=to_ticket, place_code=place)
                logged = ledger.log(self.user(taker), contact, self.token(), at)
                if not to_ticket:
                    continue
                ticket = logged.receipt.ticket
            self.walk(ticket, at)

    def walk(self, ticket: Ticket, at: datetime) -> None:
        """Up to nine steps, each at a random time between the last step and NOW."""
        for _ in range(self.rng.randint(0, 9)):
            at += (NOW - at) * self.rng.random() * 0.4
            found = self.moves(ticket)
            if not found:
                return
            ticket = self.rng.choice(found)(ticket, at)

    def moves(self, ticket: Ticket) -> list:
        """The actions open to the ticket now, each as often as it should tend to be chosen."""
        rng, status, handler = self.rng, ticket.status, regions.place(ticket.handler_code)
        staff = self.user(handler.code)
        below = [p.code for p in regions.ancestry(ticket.place_code) if p.parent_code == handler.code]
        found = []
        if status in tickets.ACTIONS["accept"].starts_from:
            found += [lambda t, at: tickets.take("accept", t, staff, at)] * 4
        if status in tickets.ACTIONS["dispatch"].starts_from and below:
            found += [lambda t, at: tickets.take("dispatch", t, staff, at, target=rng.choice(below), note="请处理")] * 3
        if status in tickets.ACTIONS["return_up"].starts_from and handler.parent_code:
            found.append(lambda t, at: tickets.take("return_up", t, staff, at, reason="不属于本级"))
        if status in tickets.ACTIONS["report_up"].starts_from and handler.parent_code:
            found.append(lambda t, at: tickets.take("report_up", t, staff, at, result="已协调处理"))
        if status in tickets.ACTIONS["reply"].starts_from:
            found += [lambda t, at: tickets.take("reply", t, staff, at, text="已答复", recovered_fen=rng.choice(
                [None, None, 0, rng.randint(1, 3_000_000)]))] * 4
        if status in tickets.ACTIONS["request_extension"].starts_from and ticket.period_days < 30:
            found.append(lambda t, at: tickets.take("request_extension", t, staff, at,
                                                    days=rng.randint(t.period_days + 1, 30), reason="案情复杂"))
        if status is Status.EXTENSION_REQUESTED:
            decider = self.user(handler.parent_code or handler.code)
            found += [lambda t, at: tickets.take("decide_extension", t, decider, at, approve=rng.random() < 0.7,
                                                 note="")] * 3
        if status is Status.REPLIED:
            found += [lambda t, at: tickets.take("rate", t, None, at, rating=rng.choice(list(Rating)), comment="")] * 2
            found += [lambda t, at: tickets.take("return_visit", t, staff, at, rating=rng.choice(list(Rating)),
                                                 comment="")] * 2
        if status is Status.RETURN_VISIT:
            found += [lambda t, at: tickets.take("close", t, staff, at,
                                                 recovered_fen=rng.choice([None, rng.randint(1, 900_000)]))] * 3
        if status is Status.CLOSED and ticket.reopen_count == 0:
            found.append(lambda t, at: tickets.take("reopen", t, staff, at, reason="工人再次来电"))
        if status is Status.SUBMITTED:
            found.append(lambda t, at: tickets.take("withdraw", t, None, at, reason="已自行解决"))
        if ticket.is_open:
            targets = db.session.scalars(select(Ticket.number).where(Ticket.open, Ticket.id != ticket.id,
                                                                 tickets.visible_to(staff)).order_by(Ticket.id)).all()
            if targets:
                found.append(lambda t, at: tickets.take("merge", t, staff, at, into=rng.choice(targets)))
        return found


@pytest.fixture
def world(ctx, make_user):
    """The random world of a seed, built through the services."""

    def build(seed: int) -> World:
        stats.forget_cache()
        made = World(seed, make_user)
        made.build()
        return made

    return build


# ------------------------------------------------------------------------------------------ brute force

@dataclass
class Rows:
    """Every ticket and contact as plain values, read once."""

    tickets: list
    contacts: list

    @classmethod
    def read(cls) -> Rows:
        return cls(db.session.scalars(select(Ticket)).all(), db.session.scalars(select(LedgerEntry)).all())


def within(code: str, scope: str) -> bool:
    """By the region tree itself, not by code prefixes."""
    return scope in [p.code for p in regions.ancestry(code)]


GROUP = {Status.REPLIED: "replied", Status.RETURN_VISIT: "replied", Status.CLOSED: "closed",
         Status.WITHDRAWN: "withdrawn", Status.MERGED: "withdrawn"}  # any other status: in progress


def brute_figures(rows: Rows, scope: str, first: date, last: date) -> stats.Figures:
    mine = [t for t in rows.tickets if within(t.place_code, scope) and first <= beijing_day(t.received_at) <= last]
    calls = [e for e in rows.contacts if within(e.region_code, scope) and first <= beijing_day(e.at) <= last]
    contacts = Counter(e.channel for e in calls) + Counter(t.channel for t in mine if t.channel in DIRECT)
    groups = Counter(GROUP.get(t.status, "in_progress") for t in mine)
    answered = [t for t in mine if t.replied_at is not None]
    recovered = [t.amount_recovered_fen for t in mine if t.amount_recovered_fen]
    ratings = Counter(t.rating for t in mine if t.rating is not None)
    return stats.Figures(
        contacts={c: contacts[c] for c in Channel}, created=len(mine),
        dispatched=sum(t.dispatched_at is not None for t in mine), in_progress=groups["in_progress"],
        replied=groups["replied"], closed=groups["closed"], withdrawn=groups["withdrawn"],
        on_time=sum(t.replied_at < t.due_at for t in answered), late=sum(t.replied_at >= t.due_at for t in answered),
        ratings={r: ratings[r] for r in Rating}, recovered_fen=sum(recovered), recovered_cases=len(recovered),
        categories=dict(Counter(f"{t.kind.value}/{t.category}" for t in mine)))


def brute_open(rows: Rows, scope: str) -> tuple[int, int]:
    open_ = [t for t in rows.tickets if within(t.place_code, scope) and t.status not in CLOSED_GROUP]
    return len(open_), sum(t.due_at <= NOW for t in open_)


def brute_ranking(rows: Rows, scope: str, first: date, last: date) -> list[tuple[str, int]]:
    counts = {child.code: 0 for child in regions.children(scope)}
    for t in rows.tickets:
        if first <= beijing_day(t.received_at) <= last:
            for p in regions.ancestry(t.place_code):
                if p.code in counts:
                    counts[p.code] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def brute_breakdown(rows: Rows, scope: str, first: date, last: date, path: str) -> list[tuple[str, int, float]]:
    """(code, n, share of the level) for the kinds, a kind's groups, or a group's categories."""
    counts: Counter = Counter()
    for t in rows.tickets:
        if not (within(t.place_code, scope) and first <= beijing_day(t.received_at) <= last):
            continue
        kind, group = t.kind.value, t.category.split(".")[0]
        if not path:
            counts[kind] += 1
        elif path == kind:
            counts[f"{kind}/{group}"] += 1
        elif path == f"{kind}/{group}":
            counts[f"{kind}/{group}/{t.category}"] += 1
    total = sum(counts.values())
    return [(code, n, n / total) for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def brute_candles(rows: Rows, scope: str, first: date, last: date) -> list[tuple]:
    """Per day: (day, total, open, close, low, high, 7-day mean of the close) of the contacts by Beijing hour."""
    moments = [e.at for e in rows.contacts if within(e.region_code, scope)]
    moments += [t.received_at for t in rows.tickets if t.channel in DIRECT and within(t.place_code, scope)]
    hours = Counter((beijing_day(m), beijing_hour(m)) for m in moments)

    def candle(day: date) -> tuple:
        busy = sorted(h for (d, h) in hours if d == day)
        if not busy:
            return 0, 0, 0, 0, 0
        span = [hours[day, h] for h in range(busy[0], busy[-1] + 1)]
        return sum(span), span[0], span[-1], min(span), max(span)

    result, day = [], first
    while day <= last:
        closes = [candle(day - timedelta(days=n))[2] for n in range(7)]
        result.append((day, *candle(day), sum(closes) / 7))
        day += timedelta(days=1)
    return result


def brute_words(rows: Rows, scope: str, last: date) -> Counter:
    """Every ticket's words (stats.hot_words_of is the definition of a ticket's words), over 30 days."""
    return Counter(word for t in rows.tickets if within(t.place_code, scope)
                   and last - timedelta(days=29) <= beijing_day(t.received_at) <= last
                   for word in stats.hot_words_of(t.description))


# ----------------------------------------------------------------------------------------------- proofs

def without_old_words(cells: dict, now: datetime) -> dict:
    """A rebuild recomputes words for the last month only (jieba over every description would take minutes)."""
    since = beijing_day(now) - timedelta(days=stats.HOT_WORD_DAYS + 1)
    return {cell: n for cell, n in cells.items() if cell[1] != "word" or cell[2] >= since}


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_kept_by_every_change_equal_a_full_recomputation(world, seed):
    made = world(seed)
    rows = Rows.read()
    assert len(rows.tickets) > 150 and len(rows.contacts) == 40 and len(made.staff) > 20
    # The walk took every action there is, and the data touches every measure, Dongguan's towns included.
    assert set(db.session.scalars(select(TicketEvent.action))) == {
        "submitted", "accepted", "dispatched", "returned_up", "reported_up", "replied", "extension_requested",
        "extension_approved", "extension_denied", "rated", "return_visit", "closed", "reopened", "withdrawn",
        "merged"}
    assert {GROUP.get(t.status, "in_progress") for t in rows.tickets} == {"in_progress", "replied", "closed",
                                                                          "withdrawn"}
    assert any(t.place_code.startswith("4419") for t in rows.tickets)
    kept = stats.all_cells()
    assert {measure for _, measure, _, _ in kept} == {"created", "status", "category", "contact", "hour",
                                                      "dispatched", "answer", "rating", "recovered", "open_due",
                                                      "word"}
    stats.rebuild(NOW)
    rebuilt = stats.all_cells()
    assert rebuilt == without_old_words(kept, NOW)
    assert len(rebuilt) > 1000 and len(without_old_words(kept, NOW)) < len(kept)  # some words were older


PERIODS = [("today", "", ""), ("month", "", ""), ("range", "2026-10-12", "2026-11-15"),
           ("range", "2026-11-02", "2026-11-08")]  # the last is under a fortnight: its K-line shows 30 days


@pytest.mark.parametrize("seed", [3])
def test_every_figure_equals_a_brute_force_count_over_the_tickets_and_the_ledger(world, seed):
    world(seed)
    rows = Rows.read()
    checked = Counter()
    for scope in SCOPES:
        open_now, overdue_now = brute_open(rows, scope)
        for name, first, last in PERIODS:
            p = stats.period(name, first, last, NOW)
            board = stats.dashboard(scope, p, NOW)
            expected = brute_figures(rows, scope, p.first, p.last)
            assert board.figures == expected, (scope, p)
            assert board.today == brute_figures(rows, scope, TODAY, TODAY)
            assert (board.open_now, board.overdue_now) == (open_now, overdue_now)
            assert [(r.place.code, r.n) for r in board.ranking] == brute_ranking(rows, scope, p.first, p.last)
            f = board.figures
            assert f.contacts_total == sum(expected.contacts.values())
            assert f.resolution_rate == rate(expected.replied + expected.closed, expected.created - expected.withdrawn)
            assert f.on_time_rate == rate(expected.on_time, expected.on_time + expected.late)
            assert f.satisfaction_rate == rate(expected.ratings[Rating.SATISFIED]
                                               + expected.ratings[Rating.BASICALLY_SATISFIED],
                                               sum(expected.ratings.values()))
            for path in ("", "appeal", "appeal/labour", "help/support"):
                shares = stats.dashboard(scope, p, NOW, path=path).breakdown.shares
                assert [(s.code, s.n, s.share) for s in shares] == brute_breakdown(
                    rows, scope, p.first, p.last, path), (scope, p, path)
            span = (p.first, p.last) if p.days >= 14 else (p.last - timedelta(days=29), p.last)
            assert [(c.day, c.total, c.open, c.close, c.low, c.high, c.average) for c in board.candles] == \
                brute_candles(rows, scope, *span), (scope, p)
            check_words(board.words, brute_words(rows, scope, p.last))
            checked["scope/period"] += 1
            checked["non-empty"] += f.created > 0 and f.contacts_total > 0
    assert checked["scope/period"] == 20 and checked["non-empty"] >= 17  # a town may be quiet on one day


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def check_words(shown: list[tuple[str, int]], counted: Counter) -> None:
    """The 60 most frequent words with their counts; at the cut, any of the words tied with the last."""
    assert counted, "the data should have words"
    assert len(shown) == min(60, len(counted))
    assert all(counted[word] == n for word, n in shown)
    assert [n for _, n in shown] == sorted((n for _, n in shown), reverse=True)
    left_out = [n for word, n in counted.items() if word not in dict(shown)]
    assert not left_out or max(left_out) <= shown[-1][1]



# ------------------------------------------------------------------------------------ jurisdiction scoping

@pytest.fixture
def viewers(ctx, make_user):
    """One user per role, and staff at each level of Guangzhou's chain and of Dongguan's, as live rows."""
    ids = {"admin": make_user(Role.ADMIN).id, "member": make_user(Role.MEMBER).id,
           "station_manager": make_user(Role.STATION_MANAGER).id, "merchant": make_user(Role.MERCHANT).id}
    for code in ("44", "4401", "440106", "440106006", "4403", "4419", "441900003"):
        ids[code] = make_user(Role.STAFF, region=code).id
    return {key: db.session.get(User, user_id) for key, user_id in ids.items()}


@pytest.mark.parametrize(("viewer", "requested", "scope"), [
    (None, "", "44"), (None, "4403", "4403"), (None, "440106006", "440106006"), (None, " 4401 ", "4401"),
    ("admin", "", "44"), ("admin", "4419", "4419"), ("admin", "441900003", "441900003"),
    ("44", "", "44"), ("44", "4403", "4403"),
    ("4401", "", "4401"), ("4401", "440106", "440106"), ("4401", "440106006", "440106006"),
    ("440106", "", "440106"), ("440106", "440106006", "440106006"),
    ("440106006", "", "440106006"),
    ("4419", "", "4419"), ("4419", "441900003", "441900003"), ("441900003", "", "441900003"),
])
def test_each_viewer_sees_their_own_region_or_any_region_below_it(viewers, viewer, requested, scope):
    assert stats.scope_of(viewers.get(viewer), requested) == scope


@pytest.mark.parametrize(("viewer", "requested"), [
    (None, "4499"), (None, "11"), (None, "110101"), (None, "440106999"), (None, "441900"), (None, "x" * 500),
    ("admin", "11"),
    ("4401", "44"), ("4401", "4403"), ("4401", "440304"), ("4401", "441900003"),
    ("440106", "4401"), ("440106", "440104"), ("440106", "440104001"),
    ("440106006", "440106"), ("440106006", "440106007"),
    ("4403", "4401"), ("441900003", "4419"),
    ("member", ""), ("member", "4401"), ("station_manager", ""), ("merchant", ""),
])
def test_any_other_region_does_not_exist_for_the_viewer(viewers, viewer, requested):
    with pytest.raises(NotFound):
        stats.scope_of(viewers.get(viewer), requested)


def test_a_citys_screen_never_counts_another_citys_requests_or_contacts(ctx, make_user):
    staff = {code: make_user(Role.STAFF, region=code).id for code in ("4401", "4403")}
    made = iter(range(100))

    def ticket(place: str, text: str, channel: Channel = Channel.WEB, hours: int = 1) -> None:
        tickets.submit(tickets.Submission(kind=Kind.APPEAL, category="labour.wages", description=text,
                                          place_code=place, channel=channel),
                       token=f"c-{next(made)}", now=NOW - timedelta(hours=hours))

    for hours in (1, 2, 3):
        ticket("440106006", "老板拖欠工资三个月，工资一直不发。", hours=hours)
    for hours in (1, 2, 3, 4, 5):
        ticket("440304", "在工地摔伤，公司不给认定工伤。", channel=Channel.QR, hours=hours)
    call = ledger.Contact(channel=Channel.HOTLINE, kind=Kind.CONSULTATION, category="labour.contract",
                          summary="咨询劳动合同", answer="已解答。")
    ledger.log(db.session.get(User, staff["4403"]), call, "call-1", NOW - timedelta(hours=1))
    ledger.log(db.session.get(User, staff["4401"]), call, "call-2", NOW - timedelta(hours=1))
    p = stats.period("today", "", "", NOW)
    guangzhou, shenzhen, province = (stats.dashboard(code, p, NOW) for code in ("4401", "4403", "44"))
    assert (guangzhou.figures.created, shenzhen.figures.created, province.figures.created) == (3, 5, 8)
    assert guangzhou.figures.contacts[Channel.WEB] == 3 and guangzhou.figures.contacts[Channel.QR] == 0
    assert shenzhen.figures.contacts[Channel.QR] == 5 and shenzhen.figures.contacts[Channel.WEB] == 0
    assert (guangzhou.figures.contacts[Channel.HOTLINE], shenzhen.figures.contacts[Channel.HOTLINE]) == (1, 1)
    assert (guangzhou.figures.contacts_total, shenzhen.figures.contacts_total, province.figures.contacts_total) \
        == (4, 6, 10)
    assert (guangzhou.open_now, shenzhen.open_now) == (3, 5)
    assert sum(c.total for c in guangzhou.candles) == 4 and sum(c.total for c in shenzhen.candles) == 6
    assert {r.place.code for r in guangzhou.ranking} == {p.code for p in regions.children("4401")}
    assert {r.place.code: r.n for r in guangzhou.ranking if r.n} == {"440106": 3}
    assert {r.place.code: r.n for r in province.ranking if r.n} == {"4403": 5, "4401": 3}
    assert "工伤" not in dict(guangzhou.words) and "工伤" in dict(shenzhen.words)
    assert "工资" in dict(guangzhou.words) and "工资" not in dict(shenzhen.words)
    elsewhere = stats.dashboard("4406", p, NOW)
    assert (elsewhere.figures.created, elsewhere.figures.contacts_total, elsewhere.words) == (0, 0, [])


# ---------------------------------------------------------------------------------------- the "<5" rule

def test_counts_below_five_are_shown_as_less_than_five_and_rates_need_five_cases():
    assert [stats.masked(n) for n in range(8)] == ["<5"] * 5 + [5, 6, 7]
    assert stats.masked(1_000_000) == 1_000_000
    assert [stats.masked_rate(1, n) for n in range(5)] == [None] * 5
    assert stats.masked_rate(2, 3) is None and stats.masked_rate(5, 5) == 1.0 and stats.masked_rate(0, 5) == 0.0
    # A rate times a base shown elsewhere must not give back a count of 1 to 4, of the part or of the rest
    assert stats.masked_rate(4, 5) is None and stats.masked_rate(1, 3000) is None and stats.masked_rate(57, 60) is None
    assert stats.masked_rate(55, 60) == round(55 / 60, 4) and stats.masked_rate(5, 3000) == round(5 / 3000, 4)
    # A slice's share only where its count is shown
    assert stats.masked_share(4, 60) is None and stats.masked_share(58, 60) == round(58 / 60, 4)


def hand_made_board(n: int) -> stats.Dashboard:
    """A screen where every count is n, except those that are 0 (in progress, closed, late, withdrawn) or 4 (a
    word) or 6 × n (all contacts)."""
    f = stats.Figures(
        contacts={c: n for c in stats.CONTACT_CHANNELS}, created=n, dispatched=n, in_progress=0, replied=n,
        closed=0, withdrawn=0, on_time=n, late=0,
        ratings={Rating.SATISFIED: n, Rating.BASICALLY_SATISFIED: 0, Rating.UNSATISFIED: 0},
        recovered_fen=n * 12_345, recovered_cases=n, categories={"appeal/labour.wages": n} if n else {})
    return stats.Dashboard(
        scope=regions.place("4401"), period=stats.Period("today", TODAY, TODAY), today=f, figures=f, open_now=n,
        overdue_now=n, ranking=[stats.Ranked(regions.place("440106"), n), stats.Ranked(regions.place("440104"), 0)],
        breakdown=stats.breakdown(f.categories), candles=[], words=[("工资", n), ("合同", 4)],
        stations=stats.StationFigures(3, 2, 1), benefits=stats.BenefitFigures(n, n * 1_000), version="1.1")


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 37])
def test_public_figures_show_no_count_below_five_no_rate_over_fewer_than_five_and_no_small_money(ctx, n):
    def m(count: int) -> int | str:
        return "<5" if count < 5 else count

    def r(rate: float) -> float | None:
        return rate if n >= 5 else None

    assert stats.public_figures(hand_made_board(n)) == {
        "region": {"code": "4401", "label": "广州市"},
        "period": {"code": "today", "first": "2026-11-20", "last": "2026-11-20"},
        "contacts": {c.value: m(n) for c in stats.CONTACT_CHANNELS} | {"total": m(6 * n)},
        "tickets": {"created": m(n), "dispatched": m(n), "in_progress": "<5", "replied": m(n), "closed": "<5"},
        "rates": {"resolution": r(1.0), "on_time": r(1.0), "satisfaction": r(1.0)},
        "overdue_now": m(n),
        "recovered_yuan": round(n * 123.45, 2) if n >= 5 else None,
        "today": {"contacts": m(6 * n), "created": m(n), "closed": "<5"},
        "ranking": [{"code": "440106", "label": "天河区", "tickets": m(n)},
                    {"code": "440104", "label": "越秀区", "tickets": "<5"}],
        "categories": [{"code": "appeal", "label": str(KIND_LABELS[Kind.APPEAL]), "tickets": m(n),
                        "share": r(1.0)}] if n else [],
        "hot_words": [{"word": "工资", "count": n}] if n >= 5 else [],
        "stations": {"count": 3, "open_now": 2, "all_day": 1},
        "benefits": {"vouchers_redeemed": m(n), "saved_yuan": n * 10.0 if n >= 5 else None},
    }


# ------------------------------------------------------------------------------------------- the period

@pytest.mark.parametrize(("name", "first", "last", "expected"), [
    ("", "", "", ("month", date(2026, 11, 1), TODAY)),
    ("month", "2020-01-01", "", ("month", date(2026, 11, 1), TODAY)),  # dates matter only for a range
    ("today", "", "", ("today", TODAY, TODAY)),
    ("range", "2026-11-03", "2026-11-03", ("range", date(2026, 11, 3), date(2026, 11, 3))),
    ("range", "2025-11-20", "2026-11-20", ("range", date(2025, 11, 20), TODAY)),  # 366 days
    ("range", "2000-01-01", "2000-12-31", ("range", date(2000, 1, 1), date(2000, 12, 31))),
])
def test_the_period_is_today_this_month_or_a_range_of_at_most_366_days(name, first, last, expected):
    p = stats.period(name, first, last, NOW)
    assert (p.name, p.first, p.last) == expected
    assert p.days == (expected[2] - expected[1]).days + 1


@pytest.mark.parametrize(("name", "first", "last", "field", "message"), [
    ("week", "", "", "period", "Choose today, this month or a range of dates."),
    ("<script>", "", "", "period", "Choose today, this month or a range of dates."),
    ("range", "", "", "first", "Enter both dates, for example 2026-11-01."),
    ("range", "2026-11-01", "", "first", "Enter both dates, for example 2026-11-01."),
    ("range", "2026-13-01", "2026-11-02", "first", "Enter both dates, for example 2026-11-01."),
    ("range", "2026-11-01", "yesterday", "first", "Enter both dates, for example 2026-11-01."),
    ("range", "2026-11-01", "9" * 5000, "first", "Enter both dates, for example 2026-11-01."),
    ("range", "2026-11-10", "2026-11-09", "last", "The last day must not be before the first."),
    ("range", "2026-11-01", "2026-11-21", "first", "Choose dates between 2000-01-01 and today."),  # tomorrow
    ("range", "1999-12-31", "2000-01-05", "first", "Choose dates between 2000-01-01 and today."),
    ("range", "2025-11-19", "2026-11-20", "last", "Choose at most 366 days."),
])
def test_a_bad_period_is_refused_with_a_message_for_the_field(app, name, first, last, field, message):
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        stats.period(name, first, last, NOW)
    assert set(refused.value.fields) == {field}
    with app.test_request_context("/?lang=en"):
        assert str(refused.value.fields[field]) == message


# ------------------------------------------------------------------------------------------- the K-line

@pytest.fixture
def contacts_at(ctx, make_user):
    """Log contacts in the town of 石牌街道 at Beijing times: hotline calls, or web requests."""
    staff = make_user(Role.STAFF, region="440106006").id
    made = iter(range(10_000))

    def log(day: date, hour: int, count: int, channel: Channel = Channel.HOTLINE) -> None:
        for n in range(count):
            at = datetime(day.year, day.month, day.day, hour, n % 60, tzinfo=BEIJING).astimezone(UTC)
            if channel in DIRECT:
                tickets.submit(tickets.Submission(kind=Kind.CONSULTATION, category="labour.contract",
                                                  description="咨询劳动合同", place_code="440106006", channel=channel),
                               token=f"k-{next(made)}", now=at)
            else:
                ledger.log(db.session.get(User, staff), ledger.Contact(
                    channel=channel, kind=Kind.CONSULTATION, category="labour.contract", summary="咨询劳动合同",
                    answer="已解答。"), f"k-{next(made)}", at)

    return log


def test_a_days_candle_opens_with_its_first_busy_hour_and_closes_with_its_last(contacts_at):
    """Contacts by Beijing hour 9:00 → 3, 10:00 → 7 (calls and web requests alike), 12:00 → 1, 17:00 → 2:
    open 3, close 2, high 7, and low 0, for the hours between 9:00 and 17:00 that had none."""
    day = date(2026, 11, 18)
    contacts_at(day, 9, 3)
    contacts_at(day, 10, 4)
    contacts_at(day, 10, 3, Channel.WEB)
    contacts_at(day, 12, 1, Channel.QR)
    contacts_at(day, 17, 2, Channel.MAILBOX)
    contacts_at(day - timedelta(days=1), 23, 5)  # 23:xx Beijing is 15:xx UTC: still the 17th in Beijing
    contacts_at(day + timedelta(days=1), 0, 4)  # 00:xx Beijing, the 19th, though the 18th in UTC
    contacts_at(day + timedelta(days=1), 8, 6)
    candles = {c.day: c for c in stats.kline("440106006", day - timedelta(days=1), day + timedelta(days=1))}
    assert (candles[day].total, candles[day].open, candles[day].close, candles[day].high, candles[day].low) == (
        13, 3, 2, 7, 0)
    quiet_before = candles[day - timedelta(days=1)]
    assert (quiet_before.total, quiet_before.open, quiet_before.close, quiet_before.high, quiet_before.low) == (
        5, 5, 5, 5, 5)
    after = candles[day + timedelta(days=1)]
    assert (after.total, after.open, after.close, after.high, after.low) == (10, 4, 6, 6, 0)
    for code in ("440106", "4401", "44"):  # the same candles at every level above
        assert stats.kline(code, day, day) == stats.kline("440106006", day, day)


def test_the_moving_average_is_the_mean_of_the_last_seven_closes(contacts_at):
    """Closes of 1, 2 … 8 on eight days (one busy hour each); days without contacts close at 0."""
    first = date(2026, 11, 10)
    for n in range(8):
        contacts_at(first + timedelta(days=n), 14, n + 1)
    candles = stats.kline("440106006", first, first + timedelta(days=9))
    assert [c.close for c in candles] == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0]
    assert [c.average for c in candles] == [1 / 7, 3 / 7, 6 / 7, 10 / 7, 15 / 7, 21 / 7, 28 / 7, 35 / 7, 33 / 7,
                                            30 / 7]
    assert candles[0] == stats.Candle(first, 1, 1, 1, 1, 1, 1 / 7, small_close=True)
    assert [c.small_close for c in candles] == [True] * 10  # a close of 1 to 4 is in every window


def test_the_k_line_shows_a_chosen_fortnight_or_more_and_otherwise_the_30_days_to_its_end():
    assert stats.kline_days(stats.Period("today", TODAY, TODAY)) == (date(2026, 10, 22), TODAY)
    assert stats.kline_days(stats.Period("range", date(2026, 11, 1), date(2026, 11, 13))) == (
        date(2026, 10, 15), date(2026, 11, 13))
    assert stats.kline_days(stats.Period("range", date(2026, 11, 1), date(2026, 11, 14))) == (
        date(2026, 11, 1), date(2026, 11, 14))
