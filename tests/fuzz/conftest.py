"""The fuzz harness's shared pieces (tests/fuzz/): hostile values, the world the requests run against, clients
signed in as each role, and the one check every response must pass.

A probe is one request: it fails when the answer is a 5xx or a status outside ALLOWED, when the body shows a
stack trace, when the request raised or logged an unhandled error, or when a statement sent to the database
carried a value no database keeps (a NUL byte, a lone surrogate: PostgreSQL refuses them, SQLite would store
them), so a run on SQLite also finds what would fail on PostgreSQL.

Rate limits are off for these clients (Flask-Limiter's `enabled`, restored after each test): a 429 would
otherwise hide whatever the rest of a run would have found. PORTAL_FUZZ_SCALE multiplies every example count
(e.g. 10 for a long run on a workstation); the default keeps both files within about a minute on SQLite.
"""

from __future__ import annotations

import html
import logging
import os
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qsl, quote_from_bytes, urljoin, urlsplit, urlunsplit

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, event, select

from portal.access import API_KEY, MERCHANT_KEY, PUBLIC, SIGNED_IN
from portal.extensions import db, limiter
from portal.models import Role, Status
from portal.services import benefits, evidence, members, open311, stations, tickets
from tests import factories
from tests.conftest import csrf_token, login
from tests.factories import NOW, PASSWORD

ALLOWED = frozenset({200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429})
TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|sqlalchemy\.|psycopg"
                   r"|OperationalError|IntegrityError|DataError|UnicodeEncodeError|OverflowError")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
INT64 = 2**63
SCALE = float(os.environ.get("PORTAL_FUZZ_SCALE", "1"))

# Who a request is sent as: nobody, an account of each role, a merchant's till (its key), a partner channel.
ANONYMOUS, TILL, CHANNEL = "anonymous", "till", "channel"
ROLES = [ANONYMOUS, *Role]


def fuzz_settings(examples: int) -> settings:
    """Deterministic and bounded: the same examples on every run, none kept between runs, no time limit per
    example (a first request may compile templates), health checks about fixtures and speed off."""
    return settings(derandomize=True, database=None, max_examples=max(1, round(examples * SCALE)),
                    deadline=None, print_blob=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                           HealthCheck.large_base_example])


# --------------------------------------------------------------------------------------------- hostile values

INTEGERS = ["0", "-0", "-1", "1", "007", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
            "9223372036854775807", "9223372036854775808", "1" + "0" * 20, "9" * 40, "1e3", "1e400", "-1e400", "1.5",
            "0.1", ".5", "NaN", "nan", "Infinity", "-Infinity", "inf", "0x1f", "0o17", "0b1", "+1", " 1", "1 ", "1_000",
            "1,000", "１２", "²", "¹²", "١٢٣", "٣", "۴", "߁", "๑๒", "१२", "Ⅻ", "½", "𝟏𝟐", "1\x00", "-"]
DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01", "2026-02-30",
         "2026-02-29", "2026-13-01", "2026-00-10", "2026-1-1", "20261120", "2026/11/20", "２０２６-１１-２０",
         "٢٠٢٦-١١-٢٠", "2026-11-20T25:00", "-2026-11-20", "+12026-11-20", "2026-11-20\x00", "0000-00-00",
         "2026-11-20T08:00:00+99:00", "0001-01-01T00:00", "9999-12-31T23:59", "2026-11-20T08:00Z"]
TIMES = ["24:00", "25:00", "23:59:60", "-1:00", "8:00", "08:00-32:00", "24h", "00:00-24:00", "22:00-06:00",
         "08:00-12:00, 14:00-20:00", "０８:００-１２:００", "٠٨:٠٠-١٢:٠٠", "99:99-99:99", "08:00-08:00"]
TEXTS = ["", " ", "\x00", "a\x00b", "\ud800", "\udfff", "a\udc80b", "e\u0301", "\u00e9", "\u202e\u202dabc",
         "\u200f", "\u200b", "\ufeff", "😀", "👨\u200d👩\u200d👧", "<script>alert(1)</script>",
         '"><svg onload=alert(1)>', "'; DROP TABLE ticket;--", "' OR '1'='1", "%", "_", "\\", "{{7*7}}",
         "${7*7}", "%s%n%x", "\r\n[CRITICAL] forged", "../../etc/passwd", '=HYPERLINK("http://evil.example")',
         "+1", "@SUM(1)", "\t", "\x7f", "\x1b[31m", "𠮷", "ǅ", "ﬁ", "Ａ", "ｱ", "x" * 10_000, "中" * 10_000,
         "\u0301" * 200, "null", "undefined", "true", "[]", "{}", "13800000000", "+8613800000000"]
CHOICES_OUTSIDE = ["__nope__", "0", "-1", "9" * 30, "\x00", "\ud800", "x" * 5000, "..", "true"]
FILENAMES = ["", ".", "..", "../../etc/passwd", "a\x00.jpg", "工伤证明.pdf", "x" * 300 + ".jpg", "photo.JPG", "noext",
             ".htaccess", "CON", "a.php.jpg", "\u202egpj.exe", "😀.png", "a\r\nb.jpg", 'a".jpg', "a;b=c.pdf",
             "\ud800.pdf"]
CONTENT_TYPES = ["image/jpeg", "image/png", "application/pdf", "text/html", "application/octet-stream", ""]
# Raw bytes in a URL that are not UTF-8: a lone surrogate as CESU would write it, an overlong slash, BOM halves.
RAW_BYTES = [b"\xff\xfe", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\xaf", b"\x80", b"\xf4\x90\x80\x80", b"\x00",
             b"%", b"%zz", b"\xe2\x80\xae", b"1\xff"]


def _characters():
    """Any code point, lone surrogates (category Cs) included."""
    return st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())


def unicode_digits():
    return st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=12)


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TEXTS), st.sampled_from(INTEGERS), st.text(_characters(), max_size=40),
                     unicode_digits(), st.integers(1000, 12_000).map(lambda n: "あ" * n))


def hostile_number() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(INTEGERS), st.integers(-(10**25), 10**25).map(str), unicode_digits(),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(TEXTS[:12]))


def hostile_date() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(DATES), st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()),
                     st.sampled_from(INTEGERS), st.sampled_from(TEXTS[:12]))


# Tried for every parameter of every rule, as explicit examples, before Hypothesis's own.
PATH_VALUES = [b"0", b"-1", b"2147483647", b"2147483648", b"99999999999999999999", b"1e3", b"0x1f", b"+1", b" 1",
               *(s.encode() for s in ["１２", "²", "١٢٣", "٣", "\ufeff1", "\u202e", "😀", "e\u0301", "中" * 3000]),
               b"\x00", b"1\x00", "\ufffd".encode(), b"\xed\xa0\x80", b"\xff\xfe", b"\xc0\xaf", b"%zz", b"%", b"..",
               b".", b"a/b", b"'; DROP TABLE ticket;--", b"<script>alert(1)</script>", b"x" * 5000]


def hostile_path_value() -> st.SearchStrategy[bytes]:
    """A path segment as the bytes on the wire: text as a browser encodes it (UTF-8, a lone surrogate becoming
    U+FFFD) or as an attacker does (the surrogate's own bytes), numbers of every kind, or raw bytes."""
    text = st.one_of(hostile_text(), hostile_number(), st.sampled_from(["..", ".", "./x", "a/b", "%2e%2e", "%00"]))
    as_browser = text.map(lambda s: s.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode())
    as_attacker = text.map(lambda s: s.encode("utf-8", "surrogatepass"))
    return st.one_of(as_browser, as_attacker, st.sampled_from(RAW_BYTES), st.binary(min_size=1, max_size=24))


def wire(value: str | bytes) -> bytes:
    """Text as an attacker sends it: UTF-8, a lone surrogate written as its own (invalid) bytes."""
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def urlencoded(pairs: list[tuple[str, str | bytes]]) -> str:
    """An application/x-www-form-urlencoded body or query string (ASCII) of `pairs`, repeats kept."""
    return "&".join(f"{quote_from_bytes(wire(k), safe='')}={quote_from_bytes(wire(v), safe='')}" for k, v in pairs)


def _header_value(text: str) -> bytes:
    """A name or filename in a multipart header as browsers write it: UTF-8 (a lone surrogate becomes U+FFFD)
    with quote, CR and LF escaped (WHATWG). Werkzeug reads part headers as strict UTF-8 and, on bytes that are
    not, drops the whole body and leaks the part's temporary file: a ResourceWarning, never a 500."""
    browser = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()
    return browser.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")


def multipart(pairs: list[tuple[str, str | bytes]], files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of text `pairs` and `files` (name, filename, content type, content)."""
    boundary = b"----fuzz7MA4YWxkTrZu0gW"
    out = []
    for name, value in pairs:
        out += [b"--" + boundary, b'Content-Disposition: form-data; name="' + _header_value(name) + b'"', b"",
                wire(value)]
    for name, filename, content_type, content in files:
        out += [b"--" + boundary, b'Content-Disposition: form-data; name="' + _header_value(name)
                + b'"; filename="' + _header_value(filename) + b'"']
        out += [b"Content-Type: " + content_type.encode()] if content_type else []
        out += [b"", content]
    body = b"\r\n".join([*out, b"--" + boundary + b"--", b""])
    return body, f"multipart/form-data; boundary={boundary.decode()}"


# ----------------------------------------------------------------------------------------------- the probe

class Watch:
    """What the application did during one request besides answering: unhandled errors it logged, and
    statements whose values no database keeps (or no integer column holds)."""

    def __init__(self):
        self.errors: list[str] = []
        self.statements: list[str] = []
        self.answers: Counter[int] = Counter()  # every status answered in the test, for its summary line

    def clear(self) -> None:
        self.errors.clear()
        self.statements.clear()

    def on_statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        rows = parameters if executemany else [parameters]
        for row in rows or ():
            values = row.values() if isinstance(row, dict) else row if isinstance(row, list | tuple) else [row]
            for value in values:
                if isinstance(value, str) and UNSTORABLE.search(value):
                    self.statements.append(f"{statement.split()[0]} with {ascii(value[:60])}: {statement[:120]}")
                elif isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
                    self.statements.append(f"{statement.split()[0]} with the integer {value}: {statement[:120]}")


class _ErrorLog(logging.Handler):
    def __init__(self, watch: Watch):
        super().__init__(logging.ERROR)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        detail = "".join(traceback.format_exception(*record.exc_info)[-3:]) if record.exc_info else ""
        self.watch.errors.append(f"{record.getMessage()}\n{detail}")


@pytest.fixture
def watch(app):
    found = Watch()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", found.on_statement)
    handler = _ErrorLog(found)
    logging.getLogger("portal").addHandler(handler)
    yield found
    logging.getLogger("portal").removeHandler(handler)
    event.remove(engine, "before_cursor_execute", found.on_statement)


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)


def unstorable_rows(app) -> list[str]:
    """Every stored text value holding a NUL or a lone surrogate ('table.column = value'), whatever wrote it:
    after a form answered 2xx or 3xx, nothing a PostgreSQL could not have kept may be in the database."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if table.name in ("region", "alembic_version") or not columns:
                continue
            for row in db.session.execute(select(*columns)):
                found += [f"{table.name}.{c.name} = {ascii(v)[:80]}" for c, v in zip(columns, row, strict=True)
                          if isinstance(v, str) and UNSTORABLE.search(v)]
        db.session.remove()
    return found


def problem_of(response, watch: Watch) -> str | None:
    """Why this answer breaks the promise, or None."""
    body = response.get_data(as_text=True)
    if response.status_code >= 500 or response.status_code not in ALLOWED:
        return f"status {response.status_code}" + (f"; logged: {watch.errors[-1]}" if watch.errors else "")
    if match := TRACE.search(body):
        return f"status {response.status_code} with a stack trace in the body ({match.group(0)!r})"
    if watch.errors:
        return f"status {response.status_code} but logged: {watch.errors[-1]}"
    if watch.statements:
        return f"status {response.status_code} but sent to the database: {watch.statements[0]}"
    return None


def send(client, watch: Watch, method: str, path_info: str, query: str = "", *, follow: bool = True,
         **kwargs) -> str | None:
    """One request with PATH_INFO as a server puts it (the path's bytes, as latin-1), and, when the answer
    redirects within the portal, the page it redirects to; the problem found, or None."""
    watch.clear()
    raw = quote_from_bytes(path_info.encode("latin-1"), safe="/%:@!$&'()*+,;=~") + (f"?{query}" if query else "")
    overrides = {"PATH_INFO": path_info, "QUERY_STRING": query, "REQUEST_URI": raw, "RAW_URI": raw}
    try:
        response = client.open("/", method=method, environ_overrides=overrides, **kwargs)
    except Exception as error:  # with TESTING an error the handlers let through reaches the test client
        return f"raised {type(error).__name__}: {error}\n{''.join(traceback.format_exc(limit=-4))}"
    watch.answers[response.status_code] += 1
    found = problem_of(response, watch)
    response.close()  # a download's file, or a streamed body
    location = response.headers.get("Location", "")
    if found or not follow or response.status_code not in (301, 302, 303) or urlsplit(location).netloc not in (
            "", "localhost"):
        return found
    target = urlsplit(location)
    watch.clear()
    try:
        followed = client.get(target.path, query_string=target.query)
    except Exception as error:
        return f"the redirect to {location[:200]} raised {type(error).__name__}: {error}"
    found = problem_of(followed, watch)
    followed.close()
    return f"the redirect to {location[:200]} answered: {found}" if found else None


# ----------------------------------------------------------------------------------------------- the world

@dataclass
class World:
    """Real rows of every kind a path can name, and a client for each role (signed in when first asked)."""

    app: object
    ids: SimpleNamespace
    phones: dict
    keys: dict
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def client(self, role: str):
        if role not in self.clients:
            client = self.app.test_client()
            if role in self.phones:
                response = login(client, self.phones[role])
                assert response.status_code == 303, (role, response.status_code)
            if role == ANONYMOUS:  # this browser has looked up two tickets, so their pages and forms answer
                for number, code in self.ids.tracked:
                    token = csrf_token(client, "/track/")
                    response = client.post("/track/", data={"csrf_token": token, "number": number, "code": code})
                    assert response.status_code in (200, 303), response.status_code
            self.clients[role] = client
            self.tokens[role] = csrf_token(client, "/")
        return self.clients[role]

    def identity(self, role: str) -> str | None:
        """Who the role's client is signed in as (Flask-Login's token in the session), None for nobody."""
        cookie = self.clients[role].get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return None
        session = self.app.session_interface.get_signing_serializer(self.app).loads(cookie.value)
        return session.get("_user_id")

    def forget(self, role: str) -> None:
        """The role's client changed who it is (a sign-in form worked): the next one is made afresh."""
        self.clients.pop(role, None)
        self.tokens.pop(role, None)

    def headers(self, role: str) -> dict:
        headers = {"X-CSRFToken": self.tokens[role]} if role in self.tokens else {}
        if role in self.keys:
            headers["X-API-Key"] = self.keys[role]
        return headers


def roles_for(access) -> list[str]:
    """Who to send a request to a view as: always nobody, then whoever its declaration lets past."""
    if access == PUBLIC:
        return [ANONYMOUS, Role.MEMBER, Role.STAFF]
    if access == SIGNED_IN:
        return [ANONYMOUS, Role.MEMBER, Role.STAFF]
    if access == MERCHANT_KEY:
        return [ANONYMOUS, TILL]
    if access == API_KEY:
        return [ANONYMOUS, CHANNEL]
    return [ANONYMOUS, *sorted(access)] if isinstance(access, frozenset) else [ANONYMOUS]


def _build_world(app) -> World:
    with app.app_context():
        staff = factories.user(Role.STAFF, "44")
        admin = factories.user(Role.ADMIN)
        manager = factories.user(Role.STATION_MANAGER)
        member = factories.member("delivery", "张三丰")
        pending = members.sign_up(phone="13700000001", password=PASSWORD, number="GH999999", name="李四", now=NOW)
        station = factories.station(managers=[manager])
        stations.report(station.id, False, "饮水机坏了", NOW)
        report = stations.open_reports(station)[0]
        merchant, till_key = factories.merchant(staff=["13600000001"], offers=[factories.offer()])
        campaign = factories.campaign()
        factories.campaign(stock=1000, per_member=50)  # one the member may still claim from, so its form shows
        codes = [v.code for v in factories.vouchers(member, campaign, 3)]
        sale = benefits.Sale(bill_fen=2500, voucher_code=codes[0], membership_id=member.id)
        redemption = benefits.redeem(merchant, sale, NOW).redemption
        _, channel_key = open311.create_channel("模糊测试渠道", NOW)
        evidence_ticket = tickets.submit(factories.wages(), token="fuzz-evidence", now=NOW,
                                         uploads=[evidence.Upload("证明.pdf", factories.PDF)])
        replied = factories.ticket(Status.REPLIED)
        others = [factories.ticket(status).id for status in (Status.ACCEPTED, Status.IN_PROGRESS,
                                                            Status.EXTENSION_REQUESTED, Status.RETURN_VISIT,
                                                            Status.CLOSED)]
        ids = SimpleNamespace(
            ticket_id=evidence_ticket.ticket.id, file_id=evidence_ticket.ticket.attachments[0].id,
            number=evidence_ticket.ticket.number, station_id=station.id, station_code=station.code,
            report_id=report.id, merchant_id=merchant.id, offer_id=merchant.offers[0].id,
            redemption_id=redemption.id, campaign_id=campaign.id, membership_id=pending.id, member_id=member.id,
            voucher_code=codes[1], ticket_ids=[evidence_ticket.ticket.id, replied.id, *others],
            tracked=[(evidence_ticket.ticket.number, evidence_ticket.query_code),
                     (replied.number, tickets.query_code_for(replied.submission_token))])
        phones = {Role.STAFF: staff.phone, Role.ADMIN: admin.phone, Role.STATION_MANAGER: manager.phone,
                  Role.MEMBER: member.user.phone, Role.MERCHANT: "13600000001"}
        db.session.remove()
    return World(app, ids, phones, {TILL: till_key, CHANNEL: channel_key})


@pytest.fixture
def world(app, watch) -> World:
    return _build_world(app)


def real_value(world: World, endpoint: str, argument: str) -> str:
    """A value of `argument` that names a real row, so the other parameters of a rule are the hostile ones."""
    ids = world.ids
    specific = {("stations.facility", "code"): "water", ("stations.short", "code"): ids.station_code,
                ("grievances.index", "code"): "440106006", ("open311.service", "code"): "labour.wages",
                ("api.redeem_voucher", "code"): ids.voucher_code, ("static", "filename"): "css/portal.css"}
    generic = {"ticket_id": ids.ticket_id, "file_id": ids.file_id, "station_id": ids.station_id,
               "report_id": ids.report_id, "merchant_id": ids.merchant_id, "offer_id": ids.offer_id,
               "redemption_id": ids.redemption_id, "campaign_id": ids.campaign_id,
               "membership_id": ids.membership_id, "number": ids.number, "action": "accept"}
    return str(specific.get((endpoint, argument), generic.get(argument, "1")))


# ------------------------------------------------------------------------------------------------ the forms

@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, number, date, select, radio, checkbox, hidden, file, submit, password …
    value: str = ""
    options: list = field(default_factory=list)
    required: bool = False
    inputmode: str = ""
    accept: str = ""


@dataclass
class HtmlForm:
    method: str
    action: str
    enctype: str
    fields: list[FormField]
    plain_submit: bool = False  # a submit button without a name: pressing it sends no button field
    link: bool = False  # an <a href> or hx-get with a query, not a <form>

    def field_names(self) -> tuple[str, ...]:
        return tuple(sorted({f.name for f in self.fields}))


class FormParser(HTMLParser):
    """Every <form> of a page with its method, action, encoding and named controls (radio buttons and
    same-named checkboxes gathered into one field with their options)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: FormField | None = None
        self._option: list | None = None
        self._textarea: FormField | None = None

    def _add(self, new: FormField) -> None:
        same = next((f for f in self._form.fields if f.name == new.name and f.kind == new.kind), None)
        if same is not None and new.kind in ("radio", "checkbox", "submit"):
            same.options += new.options
            same.value = same.value or new.value
        else:
            self._form.fields.append(new)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        for link in (a.get("href", ""), a.get("hx-get", "")):  # a link with a query is a GET form of its own
            target = urlsplit(urljoin(self.page_url, link))
            if target.query and target.netloc == "localhost" and target.scheme == "http":
                fields = [FormField(k, "query", v) for k, v in parse_qsl(target.query, keep_blank_values=True)]
                self.forms.append(HtmlForm("GET", urlunsplit(target._replace(query="", fragment="")),
                                           "application/x-www-form-urlencoded", fields, link=True))
        if tag == "form":
            action = urljoin(self.page_url, html.unescape(a.get("action", "")) or self.page_url)
            self._form = HtmlForm((a.get("method") or "get").upper(), action,
                                  a.get("enctype", "application/x-www-form-urlencoded"), [])
            self.forms.append(self._form)
        elif self._form is None or "disabled" in a:
            return
        elif tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            value = a.get("value", "")
            if not a.get("name"):
                self._form.plain_submit |= kind == "submit"
            elif kind in ("radio", "checkbox", "submit"):
                checked = value if "checked" in a or kind == "submit" else ""
                self._add(FormField(a["name"], kind, checked, [value or "on"], "required" in a))
            else:
                self._add(FormField(a["name"], kind, value, required="required" in a,
                                    inputmode=a.get("inputmode", ""), accept=a.get("accept", "")))
        elif tag == "select" and a.get("name"):
            self._select = FormField(a["name"], "select", required="required" in a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and a.get("name"):
            self._textarea = FormField(a["name"], "textarea", required="required" in a)
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        elif self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            value = self._option[0] if self._option[0] is not None else self._option[1].strip()
            self._select.options.append(value)
            if self._option[2] or (not self._select.value and value):
                self._select.value = value
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # HTML drops a newline right after <textarea>; what is left is what the browser sends
            self._textarea.value = self._textarea.value.removeprefix("\r\n").removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(page_url: str, body: str) -> list[HtmlForm]:
    parser = FormParser(page_url)
    parser.feed(body)
    return parser.forms
