"""The staff workbench through HTTP: jurisdiction isolation, the inbox, actions and evidence."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from portal.blueprints.staff import forms
from portal.extensions import db
from portal.models import Role, Status, Ticket
from portal.services import evidence, tickets
from tests.conftest import NOW, login
from tests.factories import PDF, wages

LEVELS = {"province": "44", "city": "4401", "district": "440106", "town": "440106006",
          "sibling_city": "4403", "sibling_district": "440104"}


@pytest.fixture
def ticket_at(app):
    """A ticket with a file, handled by the union of `code`."""

    def make(code: str, token: str = "t", **overrides) -> int:
        with app.app_context():
            ticket = tickets.submit(wages(**overrides), token=token, now=NOW,
                                    uploads=[evidence.Upload("合同.pdf", PDF)]).ticket
            db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(handler_code=code))
            db.session.commit()
            tickets.recount()  # moved behind the workflow's back: rebuild the per-union counts
            ticket_id = ticket.id
            db.session.remove()
            return ticket_id

    return make


def client_for(app, make_user, level: str):
    user = make_user(Role.STAFF, region=LEVELS[level])
    client = app.test_client()
    assert login(client, user.phone).status_code == 303
    return client


def listed(client, path: str) -> int:
    """How many cases the inbox page lists."""
    return client.get(path).get_data(as_text=True).count('href="/staff/tickets/')


def token(client, path="/staff/") -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


# (viewer level → sees a ticket handled by the district union?)
SEES_DISTRICT_TICKET = {"province": True, "city": True, "district": True, "town": False,
                        "sibling_city": False, "sibling_district": False}


@pytest.mark.parametrize("level", sorted(SEES_DISTRICT_TICKET))
def test_jurisdiction_isolation_for_pages_files_history_search_and_actions(app, make_user, ticket_at, level, caplog):
    ticket_id = ticket_at("440106")
    client = client_for(app, make_user, level)
    with app.app_context():
        file_id = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id)).attachments[0].id
        db.session.remove()
    sees = SEES_DISTRICT_TICKET[level]
    page = client.get(f"/staff/tickets/{ticket_id}")
    download = client.get(f"/staff/tickets/{ticket_id}/files/{file_id}")
    download.close()  # a WSGI server closes the streamed file; the test client leaves it to us
    inbox = client.get("/staff/?q=44-").get_data(as_text=True)
    with caplog.at_level(logging.INFO):
        act = client.post(f"/staff/tickets/{ticket_id}/accept", headers={"X-CSRFToken": token(client)})
    if sees:
        assert page.status_code == 200 and download.status_code == 200 and "44-20261120-0001" in inbox
        assert act.status_code in (200, 303, 403)  # visible; only the handling union may act (flash otherwise)
    else:
        assert (page.status_code, download.status_code, act.status_code) == (404, 404, 404)
        assert "44-20261120-0001" not in inbox and "没有符合条件的工单" in inbox
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        expected = Status.SUBMITTED if level != "district" else Status.ACCEPTED
        assert ticket.status is expected
        db.session.remove()


def test_evidence_is_downloaded_never_rendered(app, make_user, ticket_at):
    ticket_id = ticket_at("44")
    client = client_for(app, make_user, "province")
    with app.app_context():
        file_id = db.session.get(Ticket, ticket_id).attachments[0].id
        db.session.remove()
    response = client.get(f"/staff/tickets/{ticket_id}/files/{file_id}")
    assert response.data == PDF
    response.close()
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert client.get(f"/staff/tickets/{ticket_id}/files/{file_id + 999}").status_code == 404
    member = app.test_client()
    login(member, make_user(Role.MEMBER).phone)
    assert member.get(f"/staff/tickets/{ticket_id}/files/{file_id}").status_code == 403


def test_the_chain_down_and_the_reply_through_the_workbench(app, make_user, ticket_at):
    ticket_id = ticket_at("44")
    clients = {level: client_for(app, make_user, level) for level in ("province", "city", "district", "town")}

    def act(level, action, **data):
        c = clients[level]
        response = c.post(f"/staff/tickets/{ticket_id}/{action}", data=data | {"csrf_token": token(c)})
        assert response.status_code == 303, response.get_data(as_text=True)[-500:]

    act("province", "accept")
    for upper, lower in [("province", "city"), ("city", "district"), ("district", "town")]:
        act(upper, "dispatch", target=LEVELS[lower], note="请核实")
        act(lower, "accept")
    act("town", "reply", note="已协调企业补发工资。", recovered="12000")
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status is Status.REPLIED and ticket.handler_code == "440106006"
        assert ticket.amount_recovered_fen == 1_200_000
        db.session.remove()


def test_the_ticket_page_offers_only_what_the_viewer_can_do(app, make_user, ticket_at):
    ticket_id = ticket_at("4401")
    with app.app_context():
        db.session.execute(update(Ticket).values(status=Status.IN_PROGRESS))
        db.session.commit()
        tickets.recount()
        db.session.remove()
    city = client_for(app, make_user, "city").get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    for label in ("转办下级", "答复职工", "上报办理结果", "退回上级", "申请延期"):
        assert label in city
    assert "您好！经调查核实" in city  # the appeal reply template
    province = client_for(app, make_user, "province").get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="action-' not in province  # the province watches; the city acts


def test_a_refused_action_explains_itself_and_keeps_the_text(app, make_user, ticket_at):
    ticket_id = ticket_at("44")
    client = client_for(app, make_user, "province")
    client.post(f"/staff/tickets/{ticket_id}/accept", data={"csrf_token": token(client)})
    response = client.post(f"/staff/tickets/{ticket_id}/reply", data={"note": "  ", "csrf_token": token(client)})
    assert response.status_code == 400 and "请填写说明" in response.get_data(as_text=True)
    response = client.post(f"/staff/tickets/{ticket_id}/reply", data={"note": "写好的答复", "recovered": "abc",
                                                                      "csrf_token": token(client)})
    assert response.status_code == 422 and "写好的答复" in response.get_data(as_text=True)
    response = client.post(f"/staff/tickets/{ticket_id}/close", data={"csrf_token": token(client)})
    assert response.status_code == 409
    assert client.post(f"/staff/tickets/{ticket_id}/fly", data={"csrf_token": token(client)}).status_code == 404


def test_administrators_watch_but_do_not_act(app, make_user, ticket_at):
    ticket_id = ticket_at("44")
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN).phone)
    assert admin.get(f"/staff/tickets/{ticket_id}").status_code == 200
    assert admin.post(f"/staff/tickets/{ticket_id}/accept", data={"csrf_token": token(admin)}).status_code == 403


def test_inbox_filters_counts_and_pagination(app, make_user, ticket_at):
    for n in range(23):
        ticket_at("440106", token=f"t{n}", kind="consultation" if n % 2 else "appeal")
    ticket_at("4403", token="elsewhere")
    client = client_for(app, make_user, "city")
    html = client.get("/staff/?view=open").get_data(as_text=True)  # all open: the inbox opens on "to accept"
    assert "共 23 件" in html and "第 1 页，共 2 页" in html and "已提交 23" in html
    assert listed(client, "/staff/?view=open&page=2") == 3
    searched = client.get("/staff/?q=44-").get_data(as_text=True)  # a filter: no total, but a next page
    assert searched.count('href="/staff/tickets/') == 20 and 'rel="next"' in searched and "第 1 页" in searched
    assert listed(client, "/staff/?q=44-&page=2") == 3
    assert listed(client, "/staff/?kind=appeal") == 12 and "下一页" not in client.get("/staff/?kind=appeal").get_data(
        as_text=True)
    assert listed(client, "/staff/?kind=consultation") == 11
    assert "共 23 件" in client.get("/staff/?level=below").get_data(as_text=True)
    assert "共 0 件" in client.get("/staff/?level=own").get_data(as_text=True)
    assert "共 23 件" in client.get("/staff/?status=open").get_data(as_text=True)
    for junk in ("status=nope", "kind=%00", "page=-4", "page=abc", "category=' OR 1=1 --", "page=99999"):
        assert client.get(f"/staff/?{junk}").status_code == 200


def test_the_filters_show_the_choice_in_each_language_and_keep_no_refused_value(app, make_user):
    """The filter selects are rendered once per choice and language: the cache must not mix them up, and a
    refused value must not be kept (anyone could fill memory with them)."""
    client = client_for(app, make_user, "province")
    for _ in range(2):  # the second round is served from the cache
        zh = client.get("/staff/?kind=appeal&lang=zh").get_data(as_text=True)
        en = client.get("/staff/?kind=appeal&lang=en").get_data(as_text=True)
        assert '<option selected value="appeal">申诉投诉</option>' in zh
        assert '<option selected value="appeal">Appeal or complaint</option>' in en
        assert '<option selected value="consultation">' not in zh + en
    kept = len(forms._RENDERED)
    for n in range(5):
        assert client.get(f"/staff/?kind=junk{n}&category=junk{n}").status_code == 200
    assert len(forms._RENDERED) == kept


def test_overdue_filter(app, make_user, ticket_at):
    late = ticket_at("44", token="late")
    ticket_at("44", token="fresh")
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.id == late).values(due_at=NOW))
        db.session.commit()
        db.session.remove()
    client = client_for(app, make_user, "province")
    assert listed(client, "/staff/?overdue=y") == 1
    assert "已超期" in client.get("/staff/?overdue=y").get_data(as_text=True)


@pytest.mark.parametrize(("search", "found"), [("某某建筑", 1), ("100%", 1), ("a_b", 1), ("%", 1), ("_", 1),
                                               ("44-20261120-000", 3), ("不存在的公司", 0)])
def test_search_matches_percent_and_underscore_literally(app, make_user, ticket_at, search, found):
    ticket_at("44", token="a", employer="某某建筑劳务公司")
    ticket_at("44", token="b", employer="100% 劳务", description="工资 a_b")
    ticket_at("44", token="c", employer="别的公司", description="普通")
    client = client_for(app, make_user, "province")
    assert listed(client, "/staff/?" + urlencode({"q": search})) == {"%": 1, "_": 1}.get(search, found)


def test_the_inbox_refreshes_as_a_fragment(app, make_user, ticket_at):
    ticket_at("44")
    client = client_for(app, make_user, "province")
    fragment = client.get("/staff/?kind=appeal", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="staff-inbox"') and "<html" not in fragment


def test_closing_with_wages_recovered_and_reopening_through_the_page(app, make_user, ticket_at):
    ticket_id = ticket_at("44")
    client = client_for(app, make_user, "province")

    def act(action, **data):
        return client.post(f"/staff/tickets/{ticket_id}/{action}", data=data | {"csrf_token": token(client)})

    for action, data in [("accept", {}), ("reply", {"note": "已协调"}), ("return_visit", {"rating": "satisfied"})]:
        assert act(action, **data).status_code == 303
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="recovered-close"' in page  # unpaid wages: closing asks what was recovered
    assert act("close", recovered="8,800.50").status_code == 303
    assert "重新办理" in client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert act("reopen", note="").status_code == 400
    assert act("reopen", note="职工来电：仍未收到工资").status_code == 303
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status is Status.REOPENED and ticket.amount_recovered_fen == 880_050
        db.session.remove()


def test_the_return_visit_asks_for_the_rating_and_chooses_none_for_the_caseworker(app, make_user, ticket_at):
    """A preselected "satisfied" would be recorded for a worker nobody asked (issue 14, figures people trust)."""
    ticket_id = ticket_at("44")
    client = client_for(app, make_user, "province")

    def act(action, **data):
        return client.post(f"/staff/tickets/{ticket_id}/{action}", data=data | {"csrf_token": token(client)})

    assert act("accept").status_code == 303 and act("reply", note="已协调").status_code == 303
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    radios = re.findall(r'<input type="radio" id="rating-[a-z_]+" name="rating"[^>]*>', page)
    assert len(radios) == 3 and not any("checked" in r for r in radios) and all("required" in r for r in radios)
    assert act("return_visit").status_code == 400  # nothing chosen: refused, not "satisfied"
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status is Status.REPLIED and ticket.rating is None
        db.session.remove()


def test_passing_down_offers_the_union_of_the_cases_place_first(app, make_user, ticket_at):
    """The dispatch choice starts at the union on the way to where the problem is (issue 14, item 5)."""
    ticket_id = ticket_at("44")  # about Shipai street, 440106006
    client = client_for(app, make_user, "province")
    accepted = client.post(f"/staff/tickets/{ticket_id}/accept", data={"csrf_token": token(client)})
    assert accepted.status_code == 303
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    selected = re.findall(r'<option value="(\d+)" selected>', page[page.index('id="target-dispatch"'):])
    assert selected[:1] == ["4401"]


def test_accept_and_pass_down_from_the_ticket_page_in_one_press(app, make_user, ticket_at):
    ticket_id = ticket_at("44")
    client = client_for(app, make_user, "province")
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    form = page[page.index(f'action="/staff/tickets/{ticket_id}/accept_and_dispatch"'):]
    assert 'id="target-accept_and_dispatch"' in form[:form.index("</form>")]
    assert re.search(r'<option value="4401" selected>', form[:form.index("</form>")])  # the case's own city
    response = client.post(f"/staff/tickets/{ticket_id}/accept_and_dispatch",
                           data={"csrf_token": token(client), "target": "4401", "note": "请核实"})
    assert response.status_code == 303
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status is Status.DISPATCHED and ticket.handler_code == "4401"
        db.session.remove()
