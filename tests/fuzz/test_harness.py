"""The fuzz harness catches what it should (tests/fuzz/conftest.py): a probe that let a 500, a stack trace or a NUL
bound for the database through would pass every fuzz run while finding nothing."""

from __future__ import annotations

from flask import Response

from tests.fuzz.conftest import ALLOWED, Watch, forms_of, multipart, problem_of, urlencoded


def test_the_watch_flags_values_no_database_keeps_in_any_statement():
    watch = Watch()
    watch.on_statement(None, None, "SELECT 1", ("44-20261120-0001", 7, None, b"\x00"), None, False)
    watch.on_statement(None, None, "UPDATE station SET phone=?", {"phone": "13800000000"}, None, False)
    assert watch.statements == []  # ordinary text, numbers, NULL, and bytes (files) pass
    watch.on_statement(None, None, "SELECT ticket.id FROM ticket", ("1\x00",), None, False)
    watch.on_statement(None, None, "INSERT INTO x", {"name": "a\ud800"}, None, False)
    watch.on_statement(None, None, "INSERT INTO x", [("ok",), (2**70,)], None, True)
    assert [s.split()[0] for s in watch.statements] == ["SELECT", "INSERT", "INSERT"]


def test_a_probe_fails_on_a_5xx_an_unlisted_status_a_trace_a_logged_error_or_an_unstorable_statement():
    watch = Watch()
    assert problem_of(Response("ok"), watch) is None
    assert problem_of(Response("", status=404), watch) is None
    assert problem_of(Response("", status=500), watch).startswith("status 500")
    assert 418 not in ALLOWED and problem_of(Response("", status=418), watch).startswith("status 418")
    trace = 'Traceback (most recent call last):\n  File "/portal/x.py", line 3, in f'
    assert "stack trace" in problem_of(Response(trace, status=400), watch)
    watch.errors.append("unhandled error request_id=1")
    assert "logged" in problem_of(Response("", status=422), watch)
    watch.clear()
    watch.statements.append("SELECT with '\\x00'")
    assert "sent to the database" in problem_of(Response("", status=404), watch)


def test_forms_are_read_as_a_browser_reads_them():
    page = """
    <form method="post" action="/grievances/" enctype="multipart/form-data">
      <input type="hidden" name="csrf_token" value="tok&amp;en">
      <input type="radio" name="kind" value="help"><input type="radio" name="kind" value="appeal" checked>
      <select name="city"><option value="">…</option><option value="4401" selected>广州</option></select>
      <textarea name="description">
已有的文字</textarea>
      <input name="amount" inputmode="decimal" required><input type="file" name="evidence" accept="image/jpeg">
      <input name="old" disabled><button type="submit" name="refresh_place" value="1">刷新</button>
      <button type="submit">提交</button>
    </form>
    <a href="/dashboard/?period=month&amp;region=4401">本月</a><a href="https://elsewhere.example/?q=1">外站</a>
    """
    form, link = forms_of("http://localhost/grievances/", page)
    fields = {f.name: f for f in form.fields}
    assert (form.method, form.action, form.enctype, form.plain_submit) == (
        "POST", "http://localhost/grievances/", "multipart/form-data", True)
    assert fields["csrf_token"].value == "tok&en" and "old" not in fields
    kind = fields["kind"]
    assert (kind.kind, kind.options, kind.value) == ("radio", ["help", "appeal"], "appeal")
    assert (fields["city"].options, fields["city"].value) == (["", "4401"], "4401")
    assert fields["description"].value == "已有的文字"  # the newline after <textarea> is not part of it
    assert (fields["amount"].inputmode, fields["amount"].required) == ("decimal", True)
    assert (fields["evidence"].kind, fields["evidence"].accept) == ("file", "image/jpeg")
    assert (link.method, link.action, link.link) == ("GET", "http://localhost/dashboard/", True)
    assert [(f.name, f.value) for f in link.fields] == [("period", "month"), ("region", "4401")]


def test_bodies_carry_hostile_text_as_an_attacker_sends_it():
    assert urlencoded([("q", "a\x00b"), ("q", "\ud800"), ("名", "é")]) == "q=a%00b&q=%ED%A0%80&%E5%90%8D=%C3%A9"
    body, content_type = multipart([("text", "a\x00b")], [("evidence", 'a"\r\n\ud800.pdf', "application/pdf", b"%PDF")])
    boundary = content_type.split("boundary=")[1].encode()
    assert body.startswith(b"--" + boundary) and body.endswith(b"--" + boundary + b"--\r\n")
    assert b"\r\n\r\na\x00b\r\n" in body
    # a filename as browsers write it: quote, CR and LF escaped, a lone surrogate as U+FFFD
    assert b'filename="a%22%0D%0A\xef\xbf\xbd.pdf"' in body
