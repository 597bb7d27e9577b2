"""Text messages to workers: opting in with a code, what each change sends and what it never says, quiet hours and
the daily cap, delivery that retries, gives up into the dead list and never loses a message, the signed links, the
lost-code message, and the numbers deleted 30 days after a case closes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.exceptions import InvalidInput, NotFound, TooManyAttempts
from portal.extensions import db
from portal.models import (
    DevelopmentMessage,
    MessageDay,
    MessageState,
    OutboxMessage,
    PhoneCheck,
    Rating,
    Status,
    Subscription,
)
from portal.services import tickets
from portal.services.messages import links, outbox, phones, subscriptions
from portal.services.messages.providers import Delivered, PermanentFailure, TemporaryFailure
from portal.services.messages.providers.development import DevelopmentSms
from tests.factories import NOW, opted_in, sent_code, staff_of, submit, ticket

PHONE = "13912345678"
NIGHT = NOW.replace(hour=15)  # 23:00 in Beijing (NOW is 10:00 there)
MORNING = NOW.replace(hour=0) + timedelta(days=1)  # 08:00 in Beijing the next day


def _queued(template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.template != "verify").order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


class Recorder:
    """A provider that keeps what it was given, answering with the outcomes it is told to (then success)."""

    name = "recorder"

    def __init__(self, *outcomes):
        self.outcomes, self.sent = list(outcomes), []

    def send(self, message):
        self.sent.append(message)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        return Delivered(f"ref-{len(self.sent)}")


def _deliver(provider, at=NOW):
    return outbox.deliver(provider, lambda: at)


# ------------------------------------------------------------------------------------------ opting in

def test_a_worker_opts_in_with_the_code_sent_to_the_number(ctx):
    made = submit().ticket
    subscriptions.ask_code(made, "139 1234 5678", "zh_CN", NOW)
    check = db.session.scalar(select(PhoneCheck))
    assert check.expires_at == NOW + timedelta(minutes=10) and check.tries == 0
    verify = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "verify"))
    code = json.loads(verify.params)["code"]
    assert len(code) == 6 and code.isdigit() and code not in check.code_hash
    assert subscriptions.state(made.id, NOW).waiting == "139****5678"
    subscriptions.confirm(made, code, NOW + timedelta(minutes=9))
    assert subscriptions.state(made.id, NOW).on == "139****5678"
    assert db.session.scalar(select(func.count()).select_from(PhoneCheck)) == 0
    sub = db.session.scalar(select(Subscription))
    assert sub.ticket_id == made.id and sub.locale == "zh_CN" and PHONE not in sub.phone_cipher


def test_a_code_lives_ten_minutes_and_allows_five_wrong_tries_then_a_wait(ctx):
    made = submit().ticket
    subscriptions.ask_code(made, PHONE, "zh_CN", NOW)
    code = sent_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidInput) as refused:
            subscriptions.confirm(made, wrong, NOW)
        assert str(left) in str(refused.value.fields["code"])
    with pytest.raises(TooManyAttempts):
        subscriptions.confirm(made, wrong, NOW)
    with pytest.raises(TooManyAttempts):  # even the right code, now
        subscriptions.confirm(made, code, NOW)
    with pytest.raises(TooManyAttempts) as waiting:  # and no new code until the wait is over
        subscriptions.ask_code(made, PHONE, "zh_CN", NOW + timedelta(minutes=5))
    assert 0 < waiting.value.retry_after <= 15 * 60
    subscriptions.ask_code(made, PHONE, "zh_CN", NOW + timedelta(minutes=16))
    with pytest.raises(InvalidInput) as expired:
        subscriptions.confirm(made, sent_code(PHONE), NOW + timedelta(minutes=27))
    assert "code" in expired.value.fields
    assert subscriptions.state(made.id, NOW + timedelta(minutes=27)).on is None


@pytest.mark.parametrize("number", ["12345678901", "1391234567", "+1 415 555 0100", "１３９１２３４５６７８", ""])
def test_numbers_that_are_not_mainland_mobiles_are_refused_naming_the_field(ctx, number):
    with pytest.raises(InvalidInput) as refused:
        subscriptions.ask_code(submit().ticket, number, "zh_CN", NOW)
    assert set(refused.value.fields) == {"phone"}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_number_gets_at_most_three_codes_an_hour_whatever_asks(ctx):
    for i in range(3):
        subscriptions.ask_code(submit(f"t{i}").ticket, PHONE, "zh_CN", NOW + timedelta(minutes=i))
    with pytest.raises(TooManyAttempts):
        subscriptions.ask_code(submit("t9").ticket, PHONE, "zh_CN", NOW + timedelta(minutes=5))
    subscriptions.ask_code(submit("t9").ticket, PHONE, "zh_CN", NOW + timedelta(minutes=61))


def test_the_number_is_nowhere_in_the_database_in_clear(ctx, app):
    opted_in(submit(anonymous=True).ticket, PHONE)
    _deliver(DevelopmentSms())
    db.session.commit()
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            assert PHONE not in " ".join(str(value) for value in row), table.name
    if db.engine.dialect.name == "sqlite":  # the file and its write-ahead log, as a thief would copy them
        path = Path(db.engine.url.database)
        for part in (path, path.with_name(path.name + "-wal")):
            if part.exists():
                assert PHONE.encode() not in part.read_bytes()


# ------------------------------------------------------------------------------------------ what is sent

def test_each_change_the_worker_waits_for_sends_one_message(ctx):
    province = staff_of("44")
    made = opted_in(submit().ticket)
    made = tickets.take("accept", made, province, NOW)
    made = tickets.take("ask_information", made, province, NOW, question="请上传工资条。")
    made = tickets.take("request_extension", made, province, NOW, days=30, reason="需调取证据")
    made = tickets.take("decide_extension", made, province, NOW, approve=True)  # the root decides for itself
    made = tickets.take("reply", made, province, NOW, text="已追回工资。")
    made = tickets.take("return_visit", made, province, NOW, rating=Rating.SATISFIED)
    made = tickets.take("close", made, province, NOW)
    made = tickets.take("reopen", made, province, NOW, reason="工人反映未到账")
    assert [m.template for m in _queued()] == ["accepted", "more_information", "extended", "answered", "closed",
                                                "reopened"]
    assert {m.ticket_id for m in _queued()} == {made.id}


def test_passing_a_case_down_and_the_workers_own_steps_send_nothing_more(ctx):
    province, city = staff_of("44"), staff_of("4401")
    made = opted_in(submit().ticket)
    made = tickets.take("accept_and_dispatch", made, province, NOW, target="4401")
    made = tickets.take("accept", made, city, NOW)  # a second acceptance is the case moving between unions
    made = tickets.take("reply", made, city, NOW, text="答复")
    made = tickets.take("rate", made, None, NOW, rating=Rating.UNSATISFIED)  # reopens: the worker did it
    assert made.status is Status.REOPENED
    assert [m.template for m in _queued()] == ["accepted", "answered"]


def test_nothing_is_queued_for_a_worker_who_did_not_opt_in_or_stopped(ctx):
    made = ticket(Status.REPLIED)
    assert _queued() == []
    other = opted_in(submit("other").ticket)
    subscriptions.stop(other.id)
    tickets.take("accept", other, staff_of("44"), NOW)
    assert _queued() == [] and db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert made.status is Status.REPLIED


def test_stopping_drops_messages_not_sent_yet(ctx):
    made = opted_in(submit().ticket)
    tickets.take("accept", made, staff_of("44"), NOW)
    subscriptions.stop(made.id)
    (row,) = _queued()
    assert row.state is MessageState.CANCELLED and row.phone_cipher is None
    provider = Recorder()
    _deliver(provider)
    assert [m.template for m in provider.sent] == ["verify"]


@pytest.mark.parametrize(("locale", "words"), [("zh_CN", "已受理"), ("en", "has been accepted")])
def test_a_message_names_the_portal_and_the_number_only_in_the_workers_language(ctx, locale, words):
    made = opted_in(submit(employer="某某建筑劳务公司").ticket, locale=locale)
    tickets.take("accept", made, staff_of("44"), NOW)
    provider = Recorder()
    assert _deliver(provider).sent == 2  # the code, then the news
    code, news = provider.sent
    assert code.template == "verify" and code.params == {"code": code.params["code"]}
    assert news.template == "accepted" and list(news.params) == ["number", "token"]
    assert news.params["number"] == made.number and links.read(news.params["token"], NOW) == (made.id, "track")
    assert news.text.startswith("【职工服务门户】") and made.number in news.text and words in news.text
    link = f"http://127.0.0.1:5000/m/{news.params['token']}"
    assert f"{link} " in news.text and news.text.endswith(f"{link}/stop")
    for secret in ("工资", "某某建筑", "wages", "labour", "Unpaid", "拖欠", made.description[:6]):
        assert secret not in news.text


def test_the_answer_links_to_the_rating(ctx):
    made = opted_in(submit().ticket)
    made = tickets.take("reply", tickets.take("accept", made, staff_of("44"), NOW), staff_of("44"), NOW, text="答复")
    provider = Recorder()
    _deliver(provider)
    answered = provider.sent[-1]
    assert answered.template == "answered" and links.read(answered.params["token"], NOW) == (made.id, "rate")


def test_a_continued_request_keeps_the_workers_messages(ctx):
    province = staff_of("44")
    made = opted_in(ticket(Status.REOPENED))
    made = tickets.take("reply", tickets.take("accept", made, province, NOW), province, NOW, text="再次答复")
    made = tickets.take("rate", made, None, NOW, rating=Rating.SATISFIED)
    made = tickets.take("add_information", made, None, NOW, text="老板又不给钱了")
    new = made.follow_up
    assert db.session.scalar(select(Subscription.ticket_id).where(Subscription.ticket_id == new.id)) == new.id
    tickets.take("accept", new, province, NOW)
    assert _queued()[-1].ticket_id == new.id and _queued()[-1].template == "accepted"


# ------------------------------------------------------------------------------------------ when it is sent

def test_quiet_hours_hold_news_until_eight_in_the_morning_but_not_a_code(ctx):
    made = opted_in(submit().ticket, now=NIGHT)
    tickets.take("accept", made, staff_of("44"), NIGHT)
    provider = Recorder()
    result = _deliver(provider, NIGHT)
    assert [m.template for m in provider.sent] == ["verify"] and result.sent == 1
    (held,) = _queued()
    assert held.state is MessageState.QUEUED and held.not_before == MORNING
    assert _deliver(provider, MORNING - timedelta(seconds=1)).sent == 0
    assert _deliver(provider, MORNING).sent == 1 and provider.sent[-1].template == "accepted"


@pytest.mark.parametrize(("beijing_hour", "quiet"), [(21, False), (22, True), (3, True), (7, True), (8, False)])
def test_the_quiet_hours_are_22_to_8_beijing_time(ctx, beijing_hour, quiet):
    at = NOW.replace(hour=(beijing_hour - 8) % 24)
    assert (outbox.quiet_until(at) is not None) is quiet


def test_one_number_gets_at_most_five_messages_a_day_the_rest_the_next_morning(ctx):
    province = staff_of("44")
    made = [opted_in(submit(f"t{i}").ticket, now=NOW - timedelta(hours=2 * (4 - i))) for i in range(4)]
    for one in made:  # eight messages for one number, the codes aside
        one = tickets.take("accept", one, province, NOW)
        tickets.take("ask_information", one, province, NOW, question="请补充材料")
    provider = Recorder()
    assert _deliver(provider).sent == 5 + 4  # the 4 codes are not counted
    later = [m for m in _queued() if m.state is MessageState.QUEUED]
    assert len(later) == 3 and {m.not_before for m in later} == {MORNING}
    assert db.session.scalar(select(MessageDay.n)) == 5
    assert _deliver(provider, MORNING).sent == 3


# ------------------------------------------------------------------------------------------ delivery

def test_a_temporary_failure_is_tried_again_with_backoff(ctx):
    opted_in(submit().ticket)
    provider = Recorder(TemporaryFailure("timeout"), TemporaryFailure("HTTP 503"))
    result = _deliver(provider)
    row = db.session.scalar(select(OutboxMessage))
    assert result.retried == 1 and row.state is MessageState.QUEUED and row.attempts == 1
    assert row.not_before == NOW + timedelta(seconds=30) and row.last_error == "timeout"
    assert _deliver(provider, NOW + timedelta(seconds=29)).handled == 0
    _deliver(provider, NOW + timedelta(seconds=30))
    db.session.refresh(row)
    assert row.not_before == NOW + timedelta(seconds=90) and row.attempts == 2
    assert _deliver(provider, NOW + timedelta(seconds=90)).sent == 1
    assert len({m.message_id for m in provider.sent}) == 1 and len(provider.sent) == 3
    db.session.refresh(row)
    assert row.state is MessageState.SENT and row.phone_cipher is None and row.params == "{}"


def test_the_providers_wait_is_respected(ctx):
    opted_in(submit().ticket)
    _deliver(Recorder(TemporaryFailure("throttled", retry_after=600)))
    assert db.session.scalar(select(OutboxMessage.not_before)) == NOW + timedelta(seconds=600)


def test_a_permanent_refusal_goes_to_the_dead_list_with_its_reason_and_can_be_sent_again(ctx):
    opted_in(submit().ticket)
    result = _deliver(Recorder(PermanentFailure("isv.MOBILE_NUMBER_ILLEGAL: number refused")))
    (dead,) = outbox.dead_letters()
    assert result.dead == 1 and dead.last_error == "isv.MOBILE_NUMBER_ILLEGAL: number refused"
    assert outbox.send_again(dead.id, NOW) and not outbox.send_again(dead.id, NOW)
    assert _deliver(Recorder()).sent == 1


def test_after_the_last_try_a_message_is_dead_not_lost(ctx):
    opted_in(submit().ticket)
    provider = Recorder(*[TemporaryFailure("HTTP 502")] * outbox.MAX_ATTEMPTS)
    at = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        _deliver(provider, at)
        at += outbox.MAX_BACKOFF
    (dead,) = outbox.dead_letters()
    assert dead.attempts == outbox.MAX_ATTEMPTS and "HTTP 502" in dead.last_error
    assert len(provider.sent) == outbox.MAX_ATTEMPTS


def test_a_provider_that_raises_something_else_loses_nothing(ctx):
    opted_in(submit().ticket)
    result = _deliver(Recorder(ValueError("garbage")))
    assert result.retried == 1
    assert db.session.scalar(select(OutboxMessage.state)) is MessageState.QUEUED


def test_a_message_claimed_by_a_worker_that_died_is_sent_again_under_the_same_id(ctx, app):
    lease = timedelta(seconds=app.config["MESSAGES_LEASE_S"])
    opted_in(submit().ticket)
    (claimed,) = outbox.claim(NOW)  # the worker then died before recording anything
    assert outbox.claim(NOW + timedelta(minutes=1)) == []  # still its, for the lease
    (again,) = outbox.claim(NOW + lease + timedelta(seconds=1))
    assert again.outgoing.message_id == claimed.outgoing.message_id and again.outgoing.text == claimed.outgoing.text
    assert outbox.record(again, "ref", NOW) is MessageState.SENT
    assert outbox.record(claimed, "ref", NOW) is MessageState.SENT  # the first worker's late answer changes nothing


def test_the_development_provider_keeps_one_copy_per_message(ctx):
    opted_in(submit().ticket)
    (claimed,) = outbox.claim(NOW)
    provider = DevelopmentSms()
    provider.send(claimed.outgoing)
    provider.send(claimed.outgoing)
    (kept,) = db.session.scalars(select(DevelopmentMessage))
    assert kept.message_id == claimed.outgoing.message_id and "验证码" in kept.text
    assert PHONE not in kept.phone_cipher and phones.unseal(kept.phone_cipher) == PHONE


# ------------------------------------------------------------------------------------------ links

def test_a_link_is_short_signed_for_one_ticket_and_lasts_72_hours(ctx):
    token = links.make(42, "track", NOW)
    assert len(token) <= 28
    assert links.read(token, NOW + timedelta(hours=71, minutes=59)) == (42, "track")
    with pytest.raises(NotFound):
        links.read(token, NOW + timedelta(hours=72))
    tampered = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    for bad in (tampered, token[:-1], token + "A", "", "!!!!", links.make(43, "track", NOW)[:12] + token[12:]):
        with pytest.raises(NotFound):
            links.read(bad, NOW)


# ------------------------------------------------------------------------------------------ a lost code

def test_the_number_and_a_link_are_sent_again_to_a_known_number_only(ctx):
    left = submit("left", anonymous=False, contact_phone=PHONE).ticket
    opted = opted_in(submit("opted").ticket, "13700000000")
    subscriptions.resend(PHONE, "en", NOW)
    subscriptions.resend("13700000000", "zh_CN", NOW)
    subscriptions.resend("13600000000", "zh_CN", NOW)  # no request knows it: nothing
    sent = _queued("resend")
    assert [(m.ticket_id, m.locale) for m in sent] == [(left.id, "en"), (opted.id, "zh_CN")]
    provider = Recorder()
    _deliver(provider)
    resent = [m for m in provider.sent if m.template == "resend"]
    assert left.number in resent[0].text and "Worker Service Portal" in resent[0].text


def test_a_number_is_sent_again_at_most_three_times_a_day(ctx):
    submit("left", anonymous=False, contact_phone=PHONE)
    for _ in range(5):
        subscriptions.resend(PHONE, "zh_CN", NOW)
    assert len(_queued("resend")) == 3
    subscriptions.resend(PHONE, "zh_CN", NOW + timedelta(days=1, seconds=1))
    assert len(_queued("resend")) == 4


# ------------------------------------------------------------------------------------------ forgetting

def test_numbers_are_deleted_30_days_after_the_case_closes(ctx):
    closed = opted_in(ticket(Status.CLOSED))
    still_open = opted_in(submit("open").ticket, "13700000000")
    opted_in(ticket(Status.CLOSED), "13600000000")  # closed now too, but see below
    db.session.execute(OutboxMessage.__table__.update().values(state=MessageState.DEAD))  # kept for "send again"
    db.session.commit()
    subscriptions.forget_closed(NOW + timedelta(days=29))
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 3
    gone = subscriptions.forget_closed(NOW + timedelta(days=30, seconds=1))
    db.session.commit()
    assert gone == 2
    assert list(db.session.scalars(select(Subscription.ticket_id))) == [still_open.id]
    traces = db.session.scalars(select(OutboxMessage).where(OutboxMessage.phone_cipher.is_not(None))).all()
    assert {m.phone_hash for m in traces} == {phones.hash_of("13700000000")}
    assert closed.id not in {m.ticket_id for m in traces}


def test_a_number_that_cannot_be_read_is_refused_not_sent_astray(ctx, app):
    opted_in(submit().ticket)
    app.config["MESSAGES_KEY"], kept = "another-messages-key-that-is-long-enough", app.config["MESSAGES_KEY"]
    try:
        result = _deliver(Recorder())
    finally:
        app.config["MESSAGES_KEY"] = kept
    assert result.sent == 0 and "could not be read" in outbox.dead_letters()[0].last_error


def test_a_late_answer_to_an_old_claim_changes_nothing_once_another_worker_took_over(ctx, app):
    lease = timedelta(seconds=app.config["MESSAGES_LEASE_S"])
    opted_in(submit().ticket)
    (first,) = outbox.claim(NOW)
    (second,) = outbox.claim(NOW + lease + timedelta(seconds=1))
    assert outbox.record(first, TemporaryFailure("timeout"), NOW + lease + timedelta(seconds=2)) \
        is MessageState.SENDING  # the second worker's try is still in hand
    assert outbox.record(second, "ref-2", NOW + lease + timedelta(seconds=3)) is MessageState.SENT
    row = db.session.scalar(select(OutboxMessage))
    assert row.reference == "ref-2" and row.attempts == 2


def test_a_stopping_worker_sends_the_message_in_hand_and_gives_the_rest_back(ctx):
    for i in range(3):
        opted_in(submit(f"t{i}").ticket, f"1391234567{i}")
    provider = Recorder()
    result = outbox.deliver(provider, lambda: NOW, stopping=lambda: len(provider.sent) >= 1)
    assert result.sent == 1 and len(provider.sent) == 1
    states = db.session.execute(select(OutboxMessage.state, OutboxMessage.attempts, OutboxMessage.claimed_until)
                                .order_by(OutboxMessage.id)).all()
    assert states[0][0] is MessageState.SENT
    assert [tuple(s) for s in states[1:]] == [(MessageState.QUEUED, 1, None)] * 2  # due again, the try counted
    assert _deliver(provider).sent == 2 and len({m.message_id for m in provider.sent}) == 3


def test_a_claim_whose_lease_would_run_out_during_a_send_is_not_sent(ctx, app):
    opted_in(submit().ticket)
    lease = timedelta(seconds=app.config["MESSAGES_LEASE_S"])
    moments = iter([NOW, NOW + lease - timedelta(seconds=1)])  # the claim, then a round that took too long
    provider = Recorder()
    outbox.deliver(provider, lambda: next(moments, NOW + lease))
    assert provider.sent == [] and db.session.scalar(select(OutboxMessage.state)) is MessageState.SENDING
    assert _deliver(provider, NOW + lease + timedelta(seconds=1)).sent == 1  # another worker, after the lease
