"""Every HTML form the portal renders, found the way a browser finds it: each page a role can open (every GET
rule of app.url_map, with real rows in its parameters, and the pages behind a step such as the counter's
checkout) is fetched and its <form> elements read with html.parser — method, action, encoding, each input,
select and textarea, hidden values and the CSRF token. Hypothesis then sends each form back with hostile values
per field: NUL bytes, lone surrogates, NFC/NFD pairs, 10 000 characters, Unicode digits, huge and negative
numbers, NaN and Infinity, dates from year 1 to 9999 and 2026-02-30, values outside a select's choices, fields
missing or repeated, and files with odd names. Each field is also tried alone with the sharpest values of its
kind while the others keep what the page offered, so the checks after validation run too.

The promise (tests/fuzz/conftest.py: the probe): never a 5xx, only the statuses of ALLOWED, no stack trace, and
nothing a database cannot keep sent to it — so a form that answers 2xx or 3xx after creating a row stored no
NUL and no surrogate. A redirect is followed once, so the page showing what was stored is checked too.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from hypothesis import example, given, seed
from hypothesis import strategies as st
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from portal.access import PUBLIC, SIGNED_IN
from portal.extensions import db
from portal.models import Membership, Role
from portal.services import members, station_files
from tests.factories import NOW, PDF, ROSTER_HEADER, STATION_ROWS, jpeg_with_gps
from tests.fuzz.conftest import (
    ANONYMOUS,
    CHOICES_OUTSIDE,
    CONTENT_TYPES,
    DATES,
    FILENAMES,
    TIMES,
    HtmlForm,
    forms_of,
    fuzz_settings,
    hostile_date,
    hostile_number,
    hostile_text,
    multipart,
    real_value,
    send,
    unstorable_rows,
    urlencoded,
)

EXAMPLES_PER_FORM = 25  # generated, after the explicit ones: each field alone with the sharpest values of its kind
SHARP = {
    "text": ["a\x00b", "中" * 10_000, "e\u0301\u202e😀\ud800"],
    "number": ["99999999999999999999", "١٢٣", "NaN"],
    "date": ["0001-01-01", "9999-12-31", "2026-02-30"],
    "choice": ["__nope__", "a\x00b"],
    "hidden": ["a\x00b", "x" * 5000],
    "query": ["a\x00b", "99999999999999999999", "-1", "١٢٣", "0001-01-01"],  # a link's parameter
}
PLAUSIBLE = {"number": "1", "date": "2026-11-21", "datetime-local": "2026-11-21T08:00", "time": "08:00",
             "tel": "13800000000", "email": "worker@example.com", "password": "Plausible-Pass-77",
             "textarea": "这是一段测试文字。", "text": "测试", "search": "工资"}
FILES = [("工伤证明.pdf", "application/pdf", PDF), ("photo.jpg", "image/jpeg", None), ("../../etc/passwd", "", b"root")]
# Tables an administrator imports (roster, stations): a good row with one cell made hostile, in the encodings
# spreadsheets write; and GeoJSON that is not what it claims.
TABLES = [(ROSTER_HEADER.strip().split(","),
           ["GH000088", "王五", "天河区总工会", "delivery", "2020-01-01", "2027-12-31"]),
          (list(station_files.CSV_COLUMNS), next(csv.reader([STATION_ROWS[0]])))]
SHARP_CELLS = ["a\x00b", "99999999999999999999", "0001-01-01", "中" * 5000, "NaN", "١٢٣", '=HYPERLINK("x")',
               "9999-12-31"]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16"]
GEOJSON = [b"[" * 5000 + b"]" * 5000, b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
           b'"geometry": {"type": "Point", "coordinates": [NaN, 1e400]}, "properties": {"name": "\\u0000"}}]}',
           b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", '
           b'"coordinates": ["113", "23"]}, "properties": {"name": ["x"], "external_id": {"a": 1}}}]}',
           b'{"type": "FeatureCollection", "features": "\\ud800"}', b"null", b"\xff\xfe{"]
# The forms each role must find (more are fuzzed: whatever the pages show); a page that loses one fails here.
EXPECTED = {
    ANONYMOUS: {"grievances.index", "tracking.index", "tracking.add_message", "tracking.withdraw", "tracking.rate",
                "accounts.login", "members.signup", "stations.index", "stations.report", "merchants.index",
                "dashboard.public", "regions.picker"},
    Role.MEMBER: {"members.claim", "accounts.change_password", "accounts.change_phone", "grievances.index"},
    Role.STATION_MANAGER: {"stations.hours", "stations.closure", "stations.facility", "stations.confirm",
                           "stations.resolve"},
    Role.MERCHANT: {"merchants.checkout", "merchants.redeem", "merchants.offers", "merchants.end_offer",
                    "merchants.undo"},
    Role.STAFF: {"staff.index", "staff.act", "staff.ledger_page", "dashboard.index"},
    Role.ADMIN: {"benefits.new_campaign", "benefits.roster", "benefits.decide", "benefits.stop", "stations.admin",
                 "dashboard.index"},
}
NOT_FUZZED = {"accounts.logout"}  # nothing to fill in, and it would end the session the other forms run in


def kind_of(f) -> str:
    """The family of hostile values a control gets."""
    if f.kind in ("number", "range") or f.inputmode in ("numeric", "decimal"):
        return "number"
    if f.kind in ("date", "datetime-local", "month", "week"):
        return "date"
    if f.kind in ("select", "radio", "checkbox"):
        return "choice"
    if f.kind in ("hidden", "query"):
        return f.kind
    return "text"


def hostile_for(f) -> st.SearchStrategy[str]:
    family = kind_of(f)
    if family == "number":
        return hostile_number()
    if family == "date":
        return st.one_of(hostile_date(), st.sampled_from(TIMES)) if f.kind != "date" else hostile_date()
    if family == "choice":
        return st.one_of(st.sampled_from(f.options or [""]), st.sampled_from(CHOICES_OUTSIDE), hostile_text())
    if f.kind == "time":
        return st.one_of(st.sampled_from(TIMES), hostile_text())
    return st.one_of(hostile_text(), hostile_number(), st.sampled_from(DATES))


# What a person types into an empty field, by a word in its name (first match), so the checks after validation run.
BY_NAME = [("phone", "13912345678"), ("starts", "2026-11-20T08:00"), ("ends", "2026-12-20T20:00"),
           ("first", "2026-11-01"), ("last", "2026-11-20"), ("until", "2026-11-22T08:00"), ("amount", "25"),
           ("spend", "10"), ("budget", "1000"), ("bill", "88.50"), ("saving", "5"), ("recovered", "1200"),
           ("number", "GH000077"), ("name", "张三丰"), ("code", "ABCD2345")]


def plausible(f, typical: bool = False) -> str:
    """What a person would leave or type: the page's own value; in an empty field that must be filled (or, when
    `typical`, in any empty field), something ordinary of its kind; an optional one is left empty otherwise."""
    if f.value.strip() or f.kind in ("hidden", "submit", "button") or not (f.required or typical):
        return f.value.strip() and f.value
    if f.kind in ("select", "radio", "checkbox"):
        return next((o for o in f.options if o), "")
    hint = next((v for word, v in BY_NAME if word in f.name), None)
    if f.kind in ("date", "datetime-local") and hint and hint[:4].isdigit():
        return hint[:10] if f.kind == "date" else hint
    if f.kind in ("text", "tel", "search") and hint:
        return hint
    return "5" if f.inputmode in ("numeric", "decimal") else PLAUSIBLE.get(f.kind, "测试")


@dataclass
class Source:
    """The request that shows a form: re-sent before each example, so one-time tokens are fresh."""

    method: str
    path: str
    data: dict = field(default_factory=dict)


@dataclass
class Found:
    form: HtmlForm
    source: Source
    endpoint: str

    @property
    def name(self) -> str:
        return f"{self.form.method} {self.endpoint} ({urlsplit(self.form.action).path})"


def endpoint_of(app, form: HtmlForm) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(form.action).path, method=form.method)
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None
    return endpoint


def may_open(access, role: str) -> bool:
    if role == ANONYMOUS:
        return access == PUBLIC
    return access in (PUBLIC, SIGNED_IN) or (isinstance(access, frozenset) and role in access)


def fuzzed_by(access, role: str) -> bool:
    """Who fuzzes a form: the roles its action is for; public forms by visitors and members (a member's
    grievance and look-up differ), forms for any account by members."""
    if access == PUBLIC:
        return role in (ANONYMOUS, Role.MEMBER)
    if access == SIGNED_IN:
        return role == Role.MEMBER
    return isinstance(access, frozenset) and role in access


def sources_for(app, world, role: str) -> list[Source]:
    """Every page `role` may open (real rows in the parameters), and the steps a form only appears after."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static" or "GET" not in rule.methods or not may_open(getattr(view, "access", ""), role):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(next(p for p in _placeholders(rule.rule) if p.endswith(f"{argument}>")),
                                real_value(world, rule.endpoint, argument))
        found.append(Source("GET", path))
    ids = world.ids
    if role == ANONYMOUS:
        found += [Source("GET", f"/track/{number}") for number, _ in ids.tracked]
    if role == Role.STAFF:  # a case in every state, so every action's form appears
        found += [Source("GET", f"/staff/tickets/{ticket_id}") for ticket_id in ids.ticket_ids]
    if role == Role.MERCHANT:  # the checkout after the member's card is read
        with app.app_context():
            code = members.card_code(db.session.get(Membership, ids.member_id), NOW)
            db.session.remove()
        found.append(Source("POST", "/merchant/checkout", {"code": code}))
    return found


def _placeholders(rule: str) -> list[str]:
    out, start = [], rule.find("<")
    while start != -1:
        end = rule.index(">", start)
        out.append(rule[start:end + 1])
        start = rule.find("<", end)
    return out


def fetch(client, world, role: str, source: Source) -> tuple[int, str, str]:
    """The status, type and text of the page `source` shows (its response closed: it may be a download)."""
    data = {"csrf_token": world.tokens[role], **source.data} if source.method == "POST" else None
    response = client.open(source.path, method=source.method, data=data)
    page = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    response.close()
    return response.status_code, response.mimetype, page


def discover(app, world, role: str) -> list[list[Found]]:
    """The forms `role` fuzzes, grouped: forms of one endpoint with the same fields (a facility's toggle for
    each facility, one action on several cases) are one group whose examples go to any of them."""
    client = world.client(role)
    groups: dict[tuple, list[Found]] = {}
    for source in sources_for(app, world, role):
        status, mimetype, page = fetch(client, world, role, source)
        if status != 200 or mimetype != "text/html":
            continue
        for form in forms_of(f"http://localhost{source.path}", page):
            endpoint = endpoint_of(app, form)
            if endpoint is None or endpoint in NOT_FUZZED:
                continue
            if not fuzzed_by(getattr(app.view_functions[endpoint], "access", ""), role):
                continue
            key = (form.method, endpoint, form.field_names())
            if not any(f.form.action == form.action for f in groups.get(key, [])):
                groups.setdefault(key, []).append(Found(form, source, endpoint))
    # A query every page's links carry (the language switch) is read by one piece of code: fuzz it once.
    links: dict[tuple, list] = {}
    for key, group in groups.items():
        if group[0].form.link:
            links.setdefault(key[2], []).append(key)
    shared = {key for keys in links.values() if len(keys) > 2 for key in keys[1:]}
    return [group for key, group in groups.items() if key not in shared]


def fresh(client, world, role: str, found: Found) -> HtmlForm:
    """The form as the page shows it now (new one-time token, a checkout's reference), or as first found."""
    if not any(f.kind == "hidden" and f.name != "csrf_token" for f in found.form.fields):
        return found.form
    for form in forms_of(f"http://localhost{found.source.path}", fetch(client, world, role, found.source)[2]):
        if form.action == found.form.action and form.field_names() == found.form.field_names():
            return form
    return found.form


# A field's fate in one example: kept as the page offered it, filled as a person typically would, given a hostile
# value, left out, or sent twice.
KEEP, TYPICAL, HOSTILE, MISSING, REPEAT = "keep", "typical", "hostile", "missing", "repeat"


def fill(form: HtmlForm, plan: dict, files: list, csrf: str) -> tuple[list, list]:
    """The (name, value) pairs and files a browser would send for `plan` (field name → (fate, value, second)),
    with the session's CSRF token."""
    pairs, uploads = [], []
    first_button = next((f for f in form.fields if f.kind == "submit"), None)
    for f in form.fields:
        fate, value, second = plan.get(f.name, (KEEP, None, None))
        if f.kind == "file":
            uploads += [(f.name, *upload) for upload in files] if fate != MISSING else []
            continue
        if f.name == "csrf_token" or fate == KEEP or (fate == TYPICAL and f.kind in ("submit", "checkbox", "radio")):
            if f.kind == "submit" and (form.plain_submit or f is not first_button):
                continue  # the button pressed is the form's plain one, or its first named one
            if f.kind in ("checkbox", "radio") and not f.value and not f.required:
                continue  # an unticked box: not sent
            pairs.append((f.name, csrf if f.name == "csrf_token" else plausible(f)))
        elif fate == TYPICAL:
            pairs.append((f.name, plausible(f, typical=True)))
        elif fate in (HOSTILE, REPEAT):
            pairs.append((f.name, value))
            pairs += [(f.name, second)] if fate == REPEAT else []
    return pairs, uploads


def plans(form: HtmlForm) -> st.SearchStrategy[dict]:
    fates = st.sampled_from([KEEP, TYPICAL, HOSTILE, MISSING, REPEAT])
    names = {f.name: f for f in form.fields if f.name != "csrf_token"}
    return st.fixed_dictionaries({name: st.tuples(fates, hostile_for(f), hostile_for(f)) for name, f in names.items()})


def table(template: int, cells: dict[int, str], encoding: str) -> bytes:
    """A CSV of TABLES[template]: its header and its good row with `cells` (position → value) put in."""
    header, row = TABLES[template]
    row = [cells.get(i, value) for i, value in enumerate(row)]
    out = io.StringIO()
    csv.writer(out).writerows([header, row])
    return out.getvalue().encode(encoding, "surrogatepass" if encoding.startswith("utf-8") else "replace")


def tables() -> st.SearchStrategy[tuple]:
    cells = st.dictionaries(st.integers(0, len(TABLES[1][1]) - 1), hostile_text(), max_size=4)
    content = st.builds(table, st.integers(0, len(TABLES) - 1), cells, st.sampled_from(ENCODINGS))
    return st.tuples(st.sampled_from(["名单.csv", "stations.csv", "x.geojson"]), st.just("text/csv"),
                     st.one_of(content, st.sampled_from(GEOJSON)))


def uploads(form: HtmlForm) -> st.SearchStrategy[list]:
    one = st.tuples(st.sampled_from(FILENAMES), st.sampled_from(CONTENT_TYPES),
                    st.one_of(st.sampled_from([b"", PDF, b"GIF89a\x00\x00", b"\x00" * 64, b"<script>", b"%PDF-1.4"]),
                              st.binary(max_size=256)))
    if any("csv" in f.accept for f in form.fields):
        one = st.one_of(tables(), one)
    return st.lists(one, max_size=3)


def explicit(form: HtmlForm) -> list[tuple]:
    """Each field alone with the sharpest values of its kind; then every field missing, then every one twice."""
    out = []
    for f in form.fields:
        if f.name == "csrf_token" or f.kind in ("submit", "button", "file"):
            continue
        for value in SHARP[kind_of(f)]:
            out.append(({f.name: (HOSTILE, value, None)}, [], False))
    names = [f.name for f in form.fields if f.name != "csrf_token"]
    out.append(({n: (TYPICAL, None, None) for n in names}, [], False))
    out.append(({n: (MISSING, None, None) for n in names}, [], False))
    out.append(({n: (REPEAT, "1", "2") for n in names}, [], True))
    if any(f.kind == "file" for f in form.fields):
        out.append(({}, [(name, kind, content if content is not None else jpeg_with_gps())
                         for name, kind, content in FILES], False))
    if any("csv" in f.accept for f in form.fields):  # each cell of each table alone, then every cell at once
        for template, (_, row) in enumerate(TABLES):
            out += [({}, [("x.csv", "text/csv", table(template, {i: SHARP_CELLS[i % len(SHARP_CELLS)]}, "utf-8"))],
                     False) for i in range(len(row))]
            out.append(({}, [("x.csv", "text/csv", table(template, dict.fromkeys(range(len(row)), "a\x00"), "utf-8"))],
                        False))
        out += [({}, [("x.geojson", "application/geo+json", body)], False) for body in GEOJSON]
    return out


def send_form(client, watch, form: HtmlForm, plan: dict, files: list, htmx: bool, csrf: str) -> str | None:
    pairs, chosen = fill(form, plan, files, csrf)
    path = unquote_to_bytes(urlsplit(form.action).path).decode("latin-1")  # PATH_INFO: the path's bytes
    headers = {"HX-Request": "true"} if htmx else {}
    if form.method == "GET":
        return send(client, watch, "GET", path, urlencoded(pairs), headers=headers)
    if form.enctype == "multipart/form-data":
        body, content_type = multipart(pairs, chosen)
    else:
        body, content_type = urlencoded(pairs).encode(), "application/x-www-form-urlencoded"
    return send(client, watch, "POST", path, data=body, content_type=content_type, headers=headers)


def fuzz_group(app, world, watch, role: str, group: list[Found], counter: list[int]) -> None:
    first = group[0].form

    @fuzz_settings(EXAMPLES_PER_FORM)
    @given(st.sampled_from(group), plans(first), uploads(first), st.booleans())
    def run(found, plan, files, htmx):
        client = world.client(role)
        signed_in_as = world.identity(role)
        form = fresh(client, world, role, found)
        counter[0] += 1
        problem = send_form(client, watch, form, plan, files, htmx, world.tokens[role])
        if world.identity(role) != signed_in_as:  # signed in, out or up: the next example starts again
            world.forget(role)
        sent = {k: (v[0], ascii(v[1])[:80]) for k, v in plan.items() if v[0] != KEEP}
        assert problem is None, f"{found.name} as {role}, fields {sent}, files {[f[:2] for f in files]}: {problem}"

    for plan, files, htmx in explicit(first):
        run = example(group[0], plan, files, htmx)(run)
    seed(zlib.crc32(f"{role} {group[0].name}".encode()))(run)()


@pytest.mark.parametrize("role", [ANONYMOUS, *Role], ids=str)
def test_hostile_form_values_never_make_a_500(app, world, watch, role):
    groups = discover(app, world, role)
    assert EXPECTED[role] <= {g[0].endpoint for g in groups}, EXPECTED[role] - {g[0].endpoint for g in groups}
    counter, failures = [0], []
    for group in groups:
        before = Counter(watch.answers)
        try:
            fuzz_group(app, world, watch, role, group, counter)
        except AssertionError as error:  # every form is tried; the report lists each one's smallest example
            failures.append(f"{group[0].name}: {error}")
        print(f"  {group[0].name}: answers {dict(sorted((watch.answers - before).items()))}")
    print(f"forms as {role}: {len(groups)} forms, {counter[0]} examples, {len(failures)} failing, "
          f"answers {dict(sorted(watch.answers.items()))}")
    assert not failures, f"{len(failures)} of {len(groups)} forms failed as {role}:\n\n" + "\n\n".join(failures)
    assert unstorable_rows(app) == []  # whatever the forms created or changed holds no NUL and no surrogate
