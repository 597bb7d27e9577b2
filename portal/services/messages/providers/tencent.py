"""Tencent Cloud SMS (API 3.0, version 2021-01-11): `SendSms`, signed with TC3-HMAC-SHA256.

Written from Tencent Cloud's documentation: the signature v3 page (https://cloud.tencent.com/document/api/382/52072,
in English https://www.tencentcloud.com/document/api/382/40467), SendSms
(https://cloud.tencent.com/document/api/382/55981) and the SMS error codes
(https://cloud.tencent.com/document/api/382/52075). `message_id` goes in SessionContext, which Tencent echoes back.
The small helpers both providers share (settings, timeouts, scrubbing) live in aliyun.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from portal import clock as portal_clock
from portal.services.messages.providers.base import Delivered, Outgoing, PermanentFailure, TemporaryFailure
from portal.services.messages.providers.shared import (
    config_value,
    retry_after_header,
    scrub,
    seconds_to_beijing_midnight,
    sign_names,
    template_id,
    templates_setting,
    timeout_setting,
    timeouts,
)

ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE, VERSION, ACTION = "sms", "2021-01-11", "SendSms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"

# Throttling answers and how long each lasts. The per-number daily limits (10 a day by default) count per natural
# day in Beijing time: retrying within the hour cannot clear them, so they wait until midnight (see `throttle_wait`).
WAIT_S = {"LimitExceeded.PhoneNumberThirtySecondLimit": 30.0, "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
          "LimitExceeded.DeliveryFrequencyLimit": 60.0, "RequestLimitExceeded": 1.0}
DAILY = {"LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.DailyLimit", "LimitExceeded.AppDailyLimit",
         "LimitExceeded.PhoneNumberSameContentDailyLimit", "LimitExceeded.AppCountryOrRegionDailyLimit",
         "LimitExceeded.AppGlobalDailyLimit", "LimitExceeded.AppMainlandChinaDailyLimit"}
PERMANENT = {"LimitExceeded.PhoneNumberCountLimit", "FailedOperation.ContainSensitiveWord",
             "FailedOperation.PhoneNumberInBlacklist", "InvalidParameterValue.IncorrectPhoneNumber"}
PERMANENT_PREFIXES = ("AuthFailure", "UnauthorizedOperation", "UnsupportedOperation", "InvalidParameter",
                      "MissingParameter", "UnknownParameter", "InvalidAction", "FailedOperation")
TEMPORARY_PREFIXES = ("InternalError", "ResourceUnavailable", "ResourceInsufficient", "RequestLimitExceeded",
                      "LimitExceeded", "FailedOperation.MarketingSendTimeConstraint")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def canonical_request(headers: Mapping[str, str], payload: bytes, method: str = "POST", path: str = "/",
                      query: str = "") -> str:
    """Method, URI, query, the signed headers (names and values lower-cased and trimmed, sorted), their names, and
    the payload's SHA-256, one per line."""
    lower = {name.lower(): value.strip().lower() for name, value in headers.items()}
    names = sorted(lower)
    listed = "".join(f"{name}:{lower[name]}\n" for name in names)
    return f"{method}\n{path}\n{query}\n{listed}\n{';'.join(names)}\n{_sha256(payload)}"


def credential_scope(timestamp: int, service: str) -> str:
    return f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d}/{service}/tc3_request"


def string_to_sign(timestamp: int, service: str, request: str) -> str:
    return f"{ALGORITHM}\n{timestamp}\n{credential_scope(timestamp, service)}\n{_sha256(request.encode())}"


def tc3_signature(secret_key: str, timestamp: int, service: str, request: str) -> str:
    """HMAC chain SecretDate → SecretService → SecretSigning, then HMAC of the string to sign, in hex."""
    secret_date = _hmac(f"TC3{secret_key}".encode(), f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d}")
    secret_signing = _hmac(_hmac(secret_date, service), "tc3_request")
    return hmac.new(secret_signing, string_to_sign(timestamp, service, request).encode(), hashlib.sha256).hexdigest()


def tc3_authorization(secret_id: str, secret_key: str, *, service: str, timestamp: int, payload: bytes,
                      headers: Mapping[str, str], method: str = "POST", path: str = "/", query: str = "") -> str:
    """The Authorization header for any TC3 call (any service, action or payload): `headers` are the signed ones."""
    request = canonical_request(headers, payload, method, path, query)
    names = ";".join(sorted(name.lower() for name in headers))
    return (f"{ALGORITHM} Credential={secret_id}/{credential_scope(timestamp, service)}, SignedHeaders={names}, "
            f"Signature={tc3_signature(secret_key, timestamp, service, request)}")


class TencentSms:
    """Sends one templated text through Tencent Cloud SendSms; never retries, never sleeps (the outbox does).
    TC3 has no nonce: the timestamp is the only moving part of the signature, so `clock` alone makes it pure."""

    name = "tencent"

    def __init__(self, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str | Mapping[str, str],
                 templates: Mapping[str, Mapping[str, str]], *, region: str = "ap-guangzhou",
                 endpoint: str | None = None, timeout: float | tuple[float, float] = 5.0,
                 clock: Callable[[], datetime] = portal_clock.now, session: requests.Session | None = None):
        self.secret_id, self._secret_key, self.sdk_app_id = secret_id, secret_key, str(sdk_app_id)
        self.sign_name = sign_names(sign_name)
        self.templates = {locale: dict(ids) for locale, ids in templates.items()}
        self.region = region
        self.endpoint = endpoint or ENDPOINT
        self.host = urlsplit(self.endpoint).netloc
        self.timeout = timeouts(timeout)
        self.clock = clock
        self.session = session or requests.Session()
        self.session.verify = True

    @classmethod
    def from_config(cls, config: Mapping, **kwargs) -> TencentSms:
        """Built from the SMS_* settings; ValueError names the first one missing or wrong."""
        return cls(config_value(config, "SMS_TENCENT_SECRET_ID"), config_value(config, "SMS_TENCENT_SECRET_KEY"),
                   config_value(config, "SMS_TENCENT_SDK_APP_ID"), config_value(config, "SMS_SIGN_NAME"),
                   templates_setting(config), region=config.get("SMS_TENCENT_REGION") or "ap-guangzhou",
                   endpoint=config.get("SMS_ENDPOINT") or None, timeout=timeout_setting(config), **kwargs)

    def request(self, message: Outgoing) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one signed SendSms call: a pure function of the message and the clock."""
        payload = json.dumps({
            "PhoneNumberSet": [f"+86{message.phone}"], "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name(message.locale), "TemplateId": template_id(self.templates, message),
            "TemplateParamSet": [str(value) for value in message.params.values()],
            "SessionContext": message.message_id,
        }, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self.clock().timestamp())
        signed = {"Content-Type": CONTENT_TYPE, "Host": self.host, "X-TC-Action": ACTION}
        authorization = tc3_authorization(self.secret_id, self._secret_key, service=SERVICE, timestamp=timestamp,
                                          payload=payload, headers=signed)
        return payload, {**signed, "Authorization": authorization, "X-TC-Timestamp": str(timestamp),
                         "X-TC-Version": VERSION, "X-TC-Region": self.region}

    def send(self, message: Outgoing) -> Delivered:
        """Deliver one message or raise TemporaryFailure / PermanentFailure; nothing else escapes."""
        try:
            payload, headers = self.request(message)
            response = self.session.post(self.endpoint, data=payload, headers=headers, timeout=self.timeout)
        except (PermanentFailure, TemporaryFailure):
            raise
        except requests.Timeout:
            raise TemporaryFailure(f"no answer from Tencent SMS within {self.timeout[1]:g} s", "timeout") from None
        except requests.ConnectionError:
            raise TemporaryFailure(f"cannot reach Tencent SMS at {self.host}", "connection") from None
        except Exception as error:  # the outbox must only ever see the two failures
            raise TemporaryFailure(f"Tencent SMS request failed: {type(error).__name__}", "error") from None
        return self.read(response)

    def read(self, response: requests.Response) -> Delivered:
        """Map an answer to Delivered or a failure: Response.Error for the request, SendStatusSet[0] for the number."""
        if response.status_code >= 500:
            raise TemporaryFailure(f"Tencent SMS answered HTTP {response.status_code}", str(response.status_code),
                                   retry_after_header(response))
        try:
            answer = response.json()["Response"]
            status = answer["Error"] if "Error" in answer else answer["SendStatusSet"][0]
            code = status["Code"]
            if not isinstance(code, str) or not isinstance(status, dict):
                raise TypeError
        except Exception:  # HTML, truncated JSON, the wrong shape: all unreadable
            raise TemporaryFailure(f"unreadable answer from Tencent SMS (HTTP {response.status_code})",
                                   "unreadable") from None
        if code == "Ok" and "Error" not in answer:
            if not isinstance(serial := status.get("SerialNo"), str) or not serial:
                raise TemporaryFailure("unreadable answer from Tencent SMS (no SerialNo)", "unreadable")
            return Delivered(serial)
        reason = f"Tencent SMS refused ({code}): {scrub(status.get('Message', ''))}"
        if code in PERMANENT:
            raise PermanentFailure(reason, code)
        if code.startswith(TEMPORARY_PREFIXES):
            raise TemporaryFailure(reason, code, retry_after_header(response) or self.throttle_wait(code))
        if code.startswith(PERMANENT_PREFIXES):
            raise PermanentFailure(reason, code)
        raise TemporaryFailure(reason, code)  # an unknown code: retried, then dead-lettered with it

    def throttle_wait(self, code: str) -> float | None:
        """How long a limit lasts: 30 s, an hour, or until midnight Beijing time for the daily quotas."""
        if code in DAILY:
            return seconds_to_beijing_midnight(self.clock())
        return WAIT_S.get(code)
