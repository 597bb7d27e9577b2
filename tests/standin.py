"""A local HTTP server standing in for Aliyun's or Tencent's SMS endpoint, so tests (and `flask worker` processes
they start) can drive the real providers over real HTTP: success, hangs, 5xx, throttling, refusals and garbage.

It checks each request's signature with its own, independent implementation of the documented algorithm (not the
provider's code) and answers the provider's documented auth error on a bad one. Like an idempotent provider it
delivers a message id once: a second request with the same id is answered like the first and not counted again.
Handling is light (no logging, one lock) so two workers can push well over 200 requests a second through it.

    with sms_standin("tencent", secret="k") as standin:
        standin.mode = "500"               # every request from now on
        standin.queue("503", "hang")       # the next two requests, then `mode` again
        ... standin.url, standin.attempts, standin.delivered
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
TRANSPORT_MODES = {"hang", "500", "502", "503", "garbage", "truncated", "wrong-shape", "refuse"}
# What each named business answer is, per provider ("code:<CODE>" answers any other code).
NAMED = {
    "aliyun": {"throttle": "isv.BUSINESS_LIMIT_CONTROL", "throttle-hour": "isv.BUSINESS_LIMIT_CONTROL",
               "throttle-day": "isv.BUSINESS_LIMIT_CONTROL", "permanent": "isv.MOBILE_NUMBER_ILLEGAL",
               "api-throttle": "Throttling.User", "system-error": "isp.SYSTEM_ERROR"},
    "tencent": {"throttle": "LimitExceeded.PhoneNumberThirtySecondLimit",
                "throttle-hour": "LimitExceeded.PhoneNumberOneHourLimit",
                "throttle-day": "LimitExceeded.PhoneNumberDailyLimit",
                "permanent": "InvalidParameterValue.IncorrectPhoneNumber", "api-throttle": "RequestLimitExceeded",
                "system-error": "InternalError.Timeout"},
}
ALIYUN_WINDOW = {"throttle": "触发分钟级流控Permits:1", "throttle-hour": "触发小时级流控Permits:5",
                 "throttle-day": "触发天级流控Permits:10"}
TENCENT_PER_NUMBER = ("LimitExceeded.", "FailedOperation.", "InvalidParameterValue.")  # in SendStatusSet


@dataclass
class Attempt:
    """One request as the stand-in saw it (params: Aliyun's TemplateParam object, Tencent's TemplateParamSet)."""

    message_id: str
    phone: str
    template_id: str
    params: object
    sign_name: str
    signature_ok: bool
    mode: str
    reference: str = ""


@dataclass
class StandIn:
    kind: str
    secret: str
    key_id: str | None = None
    hang_s: float = 5.0
    url: str = ""
    mode: str = "ok"
    attempts: list[Attempt] = field(default_factory=list)
    delivered: dict[str, Attempt] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # message ids asked again after delivery
    script: deque[str] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def queue(self, *modes: str) -> None:
        """The next requests' modes, one each, before `mode` applies again ("fail twice then ok")."""
        with self.lock:
            self.script.extend(modes)

    def wait_for(self, delivered: int, timeout_s: float = 10.0) -> bool:
        """Whether `delivered` distinct message ids arrived within `timeout_s` (for work done by other threads or
        processes, such as `flask worker`)."""
        deadline = time.monotonic() + timeout_s
        while len(self.delivered) < delivered and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.delivered) >= delivered

    def next_mode(self) -> str:
        with self.lock:
            return self.script.popleft() if self.script else self.mode


# --------------------------------------------------------------------------------------------- signatures

def _encode(text: str) -> str:
    """Aliyun's documented percent-encoding, byte by byte."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def aliyun_signature_ok(method: str, params: dict[str, str], secret: str) -> bool:
    given = params.get("Signature", "")
    pairs = sorted((_encode(k), _encode(v)) for k, v in params.items() if k != "Signature")
    text = f"{method}&%2F&" + _encode("&".join(f"{k}={v}" for k, v in pairs))
    expected = base64.b64encode(hmac.new(f"{secret}&".encode(), text.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(given, expected)


def tencent_signature_ok(headers, body: bytes, secret: str) -> bool:
    """Rebuild TC3-HMAC-SHA256 from what arrived: the signed headers named in Authorization, the body, the date of
    X-TC-Timestamp. The age of the timestamp is not checked (the suite runs on a frozen clock)."""
    try:
        algorithm, rest = headers.get("Authorization", "").split(" ", 1)
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        _, date, service, terminator = parts["Credential"].split("/")
        timestamp = int(headers["X-TC-Timestamp"])
        names = parts["SignedHeaders"].split(";")
    except (ValueError, KeyError, TypeError):
        return False
    if algorithm != "TC3-HMAC-SHA256" or terminator != "tc3_request" or date != datetime.fromtimestamp(
            timestamp, UTC).strftime("%Y-%m-%d") or "host" not in names or "content-type" not in names:
        return False
    canonical = "".join(f"{n}:{(headers.get(n) or '').strip().lower()}\n" for n in names)
    request = f"POST\n/\n\n{canonical}\n{';'.join(names)}\n{hashlib.sha256(body).hexdigest()}"
    text = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{hashlib.sha256(request.encode()).hexdigest()}"
    key = hmac.new(f"TC3{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for step in (service, "tc3_request"):
        key = hmac.new(key, step.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(parts.get("Signature", ""), hmac.new(key, text.encode(), hashlib.sha256).hexdigest())


# --------------------------------------------------------------------------------------------- the server

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a requests.Session reuses one connection
    disable_nagle_algorithm = True  # with keep-alive, Nagle and delayed ACKs would cost 40 ms an answer
    wbufsize = 65536  # headers and body leave in one segment (handle_one_request flushes)
    standin: StandIn  # set on the subclass made per server

    def log_message(self, *args):  # no logging per request
        pass

    def do_GET(self):  # Aliyun also accepts the signed query string on a GET
        self.handle_sms("GET", urlsplit(self.path).query.encode())

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_sms("POST", self.rfile.read(length))

    def answer(self, status: int, body: bytes | dict, content_type: str = "application/json;charset=utf-8",
               extra: dict | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, dict) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def handle_sms(self, method: str, body: bytes) -> None:
        standin = self.standin
        mode = standin.next_mode()
        try:
            attempt = self.read_attempt(method, body, mode)
        except (ValueError, KeyError, TypeError, IndexError):
            self.answer(400, b"bad request", "text/plain")
            return
        with standin.lock:
            standin.attempts.append(attempt)
        if mode == "refuse":  # drop the connection without a word
            self.close_connection = True
            return
        if mode == "hang":
            time.sleep(standin.hang_s)  # then deliver after all, as a provider would whose answer was too late
            mode = attempt.mode = "ok"
        if mode in TRANSPORT_MODES:
            return self.transport_failure(mode)
        if not attempt.signature_ok:
            return self.business(attempt, "auth")
        with standin.lock:
            first = standin.delivered.get(attempt.message_id)
            if first is not None:
                standin.duplicates.append(attempt.message_id)
                attempt.reference = first.reference
            elif mode == "ok":
                attempt.reference = f"{next(standin.serial)}^0" if standin.kind == "aliyun" else \
                    f"2433:{next(standin.serial):028d}"
                standin.delivered[attempt.message_id] = attempt
        self.business(attempt, "ok" if attempt.reference else mode)

    def read_attempt(self, method: str, body: bytes, mode: str) -> Attempt:
        standin = self.standin
        if standin.kind == "aliyun":
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
            ok = aliyun_signature_ok(method, params, standin.secret) and params["Action"] == "SendSms" and (
                standin.key_id in (None, params["AccessKeyId"]))
            return Attempt(params["OutId"], params["PhoneNumbers"], params["TemplateCode"],
                           json.loads(params["TemplateParam"]), params["SignName"], ok, mode)
        request = json.loads(body)
        ok = (tencent_signature_ok(self.headers, body, standin.secret) and self.headers.get("X-TC-Action") == "SendSms"
              and self.headers.get("X-TC-Version") == "2021-01-11"
              and (standin.key_id is None or f"Credential={standin.key_id}/" in self.headers["Authorization"]))
        return Attempt(request["SessionContext"], request["PhoneNumberSet"][0].removeprefix("+86"),
                       request["TemplateId"], request["TemplateParamSet"], request["SignName"], ok, mode)

    def transport_failure(self, mode: str) -> None:
        if mode in {"500", "502", "503"}:
            extra = {"Retry-After": "7"} if mode == "503" else None
            return self.answer(int(mode), b"<html><body><h1>Bad Gateway</h1></body></html>", "text/html", extra)
        if mode == "garbage":
            return self.answer(200, b"<!DOCTYPE html><html><body>Service maintenance</body></html>", "text/html")
        if mode == "truncated":
            return self.answer(200, b'{"Response": {"SendStatusSet": [{"Code": "Ok", "Seri' if
                               self.standin.kind == "tencent" else b'{"Code": "OK", "BizId": "12')
        shape = {"Response": {"SendStatusSet": []}} if self.standin.kind == "tencent" else {"Result": "OK"}
        return self.answer(200, shape)

    def business(self, attempt: Attempt, mode: str) -> None:
        """A documented answer: success, the auth error, or a business code."""
        kind, request_id = self.standin.kind, f"standin-{len(self.standin.attempts)}"
        if kind == "aliyun":
            if mode == "ok":
                return self.answer(200, {"Code": "OK", "Message": "OK", "BizId": attempt.reference,
                                         "RequestId": request_id})
            if mode == "auth":
                return self.answer(400, {"Code": "SignatureDoesNotMatch", "RequestId": request_id,
                                         "HostId": "dysmsapi.aliyuncs.com", "Message": "Specified signature does "
                                         "not match our calculation."})
            code = NAMED["aliyun"].get(mode) or mode.removeprefix("code:")
            text = ALIYUN_WINDOW.get(mode, f"{code} for {attempt.phone}")  # the number, to prove it is scrubbed
            return self.answer(200, {"Code": code, "Message": text, "RequestId": request_id})
        if mode == "ok":
            return self.answer(200, {"Response": {"RequestId": request_id, "SendStatusSet": [{
                "SerialNo": attempt.reference, "PhoneNumber": f"+86{attempt.phone}", "Fee": 1,
                "SessionContext": attempt.message_id, "Code": "Ok", "Message": "send success", "IsoCode": "CN"}]}})
        code = "AuthFailure.SignatureFailure" if mode == "auth" else (
            NAMED["tencent"].get(mode) or mode.removeprefix("code:"))
        text = f"{code}: +86{attempt.phone}"  # the number, to prove it is scrubbed
        if code.startswith(TENCENT_PER_NUMBER):
            return self.answer(200, {"Response": {"RequestId": request_id, "SendStatusSet": [{
                "SerialNo": "", "PhoneNumber": f"+86{attempt.phone}", "Fee": 0, "SessionContext": attempt.message_id,
                "Code": code, "Message": text, "IsoCode": "CN"}]}})
        return self.answer(200, {"Response": {"RequestId": request_id, "Error": {"Code": code, "Message": text}}})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that gave up (a timeout test) and closed its socket is normal here; anything else is shown."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


@contextmanager
def sms_standin(kind: str = "aliyun", secret: str = "standin-secret", key_id: str | None = None,
                hang_s: float = 5.0) -> Iterator[StandIn]:
    """A running stand-in on 127.0.0.1 (a free port) for the block; stopped and closed after it."""
    if kind not in NAMED:
        raise ValueError(f"kind must be one of {sorted(NAMED)}")
    standin = StandIn(kind, secret, key_id, hang_s)
    server = Server(("127.0.0.1", 0), type("StandInHandler", (Handler,), {"standin": standin}))
    standin.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
