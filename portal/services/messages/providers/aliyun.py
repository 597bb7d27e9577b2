"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25): `SendSms`, signed with the RPC signature V1 (HMAC-SHA1).

Written from Alibaba Cloud's documentation: the RPC request structure and signature
(https://www.alibabacloud.com/help/en/sdk/product-overview/rpc-mechanism), SendSms
(https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms) and its error codes
(https://help.aliyun.com/zh/sms/developer-reference/api-error-codes). The request is a form POST, so the phone
number travels in the body and not in a URL a proxy might log; `message_id` goes in OutId.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

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

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
VERSION = "2017-05-25"
REGION = "cn-hangzhou"  # dysmsapi is one service for the mainland; the region only names the endpoint's home

# Codes (exact) and families (prefix) from the SendSms error-code page and the common OpenAPI errors.
THROTTLING = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL"}
PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL", "isv.SMS_SIGNATURE_SCENE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL", "isv.INVALID_PARAMETERS", "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL", "isv.SMS_CONTENT_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT", "isv.EXTEND_CODE_ERROR",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "isv.AMOUNT_NOT_ENOUGH", "isv.OUT_OF_SERVICE", "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL", "isv.PRODUCT_UN_SUBSCRIPT", "isv.PRODUCT_UNSUBSCRIBE", "isv.DENY_IP_RANGE",
    "isp.RAM_PERMISSION_DENY", "SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive", "InvalidTimeStamp.Expired", "InvalidTimeStamp.Format", "MissingParameter",
    "InvalidParameter", "InvalidVersion", "InvalidAction.NotFound", "UnsupportedHTTPMethod", "Forbidden.RAM",
    "Forbidden.AccessKeyDisabled",
}
PERMANENT_PREFIXES = ("isv.", "InvalidAccessKeyId.", "Forbidden", "MissingParameter", "InvalidParameter")
TEMPORARY = {"isp.SYSTEM_ERROR", "isv.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "ServiceUnavailable", "InternalError",
             "ServiceTimeout", "SignatureNonceUsed"}  # a used nonce: the retry signs with a fresh one


def percent_encode(value: str) -> str:
    """The documented encoding: UTF-8, then every byte but A-Z a-z 0-9 - _ . ~ as %XY (space is %20, * is %2A)."""
    return quote(value, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """HTTPMethod & percentEncode("/") & percentEncode(the sorted, encoded query), as the RPC V1 page builds it."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def rpc_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)): the trailing "&" is part of the documented key."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Sends one templated text through dysmsapi SendSms; never retries, never sleeps (the outbox does)."""

    name = "aliyun"

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str | Mapping[str, str],
                 templates: Mapping[str, Mapping[str, str]], *, endpoint: str | None = None,
                 timeout: float | tuple[float, float] = 5.0, clock: Callable[[], datetime] = portal_clock.now,
                 nonce: Callable[[], str] = lambda: uuid.uuid4().hex, session: requests.Session | None = None):
        self.access_key_id, self._secret = access_key_id, access_key_secret
        self.sign_name = sign_names(sign_name)
        self.templates = {locale: dict(ids) for locale, ids in templates.items()}
        self.endpoint = endpoint or ENDPOINT
        self.timeout = timeouts(timeout)
        self.clock, self.nonce = clock, nonce
        self.session = session or requests.Session()
        self.session.verify = True

    @classmethod
    def from_config(cls, config: Mapping, **kwargs) -> AliyunSms:
        """Built from the SMS_* settings; ValueError names the first one missing or wrong."""
        return cls(config_value(config, "SMS_ALIYUN_ACCESS_KEY_ID"),
                   config_value(config, "SMS_ALIYUN_ACCESS_KEY_SECRET"), config_value(config, "SMS_SIGN_NAME"),
                   templates_setting(config),
                   endpoint=config.get("SMS_ENDPOINT") or None, timeout=timeout_setting(config), **kwargs)

    def request_params(self, message: Outgoing) -> dict[str, str]:
        """The signed form of one SendSms call: a pure function of the message, the clock and the nonce."""
        params = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON", "RegionId": REGION,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": self.nonce(), "SignatureVersion": "1.0",
            "Timestamp": self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": VERSION,
            "PhoneNumbers": message.phone, "SignName": self.sign_name(message.locale),
            "TemplateCode": template_id(self.templates, message), "OutId": message.message_id,
            "TemplateParam": json.dumps(dict(message.params), ensure_ascii=False, separators=(",", ":")),
        }
        return {**params, "Signature": rpc_signature("POST", params, self._secret)}

    def send(self, message: Outgoing) -> Delivered:
        """Deliver one message or raise TemporaryFailure / PermanentFailure; nothing else escapes."""
        try:
            body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in self.request_params(message).items())
            response = self.session.post(self.endpoint, data=body.encode(), timeout=self.timeout, headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Accept": "application/json"})
        except (PermanentFailure, TemporaryFailure):
            raise
        except requests.Timeout:
            raise TemporaryFailure(f"no answer from Aliyun SMS within {self.timeout[1]:g} s", "timeout") from None
        except requests.ConnectionError:
            raise TemporaryFailure(f"cannot reach Aliyun SMS at {urlsplit(self.endpoint).netloc}", "connection") \
                from None
        except Exception as error:  # the outbox must only ever see the two failures
            raise TemporaryFailure(f"Aliyun SMS request failed: {type(error).__name__}", "error") from None
        return self.read(response)

    def read(self, response: requests.Response) -> Delivered:
        """Map an answer to Delivered or a failure: by its Code when the body is the documented JSON."""
        retry_after = retry_after_header(response)
        try:
            answer = response.json()
            code = answer["Code"]
            if not isinstance(code, str):
                raise TypeError
        except Exception:  # HTML, truncated JSON, the wrong shape: all unreadable
            if response.status_code >= 500:
                raise TemporaryFailure(f"Aliyun SMS answered HTTP {response.status_code}", str(response.status_code),
                                       retry_after) from None
            raise TemporaryFailure(f"unreadable answer from Aliyun SMS (HTTP {response.status_code})",
                                   "unreadable") from None
        if code == "OK" and response.status_code == 200:
            if not isinstance(biz_id := answer.get("BizId"), str) or not biz_id:
                raise TemporaryFailure("unreadable answer from Aliyun SMS (no BizId)", "unreadable")
            return Delivered(biz_id)
        reason = f"Aliyun SMS refused ({code}): {scrub(answer.get('Message', ''))}"
        if code in THROTTLING or code.startswith("Throttling"):
            raise TemporaryFailure(reason, code, retry_after or self.throttle_wait(code, str(answer.get("Message"))))
        if code in TEMPORARY or code.startswith("isp.") or response.status_code >= 500:
            raise TemporaryFailure(reason, code, retry_after)
        if code in PERMANENT or code.startswith(PERMANENT_PREFIXES):
            raise PermanentFailure(reason, code)
        raise TemporaryFailure(reason, code, retry_after)  # an unknown code: retried, then dead-lettered with it

    def throttle_wait(self, code: str, text: str) -> float | None:
        """How long a flow-control answer lasts. BUSINESS_LIMIT_CONTROL says which window tripped in its Message
        (分钟级 / 小时级 / 天级, by default 1 a minute, 5 an hour, 10 a day to one number); a daily one only clears
        at midnight Beijing time, so retrying within the hour would only burn tries."""
        if code == "isv.DAY_LIMIT_CONTROL" or "天级" in text or "day" in text.lower():
            return seconds_to_beijing_midnight(self.clock())
        if code == "isv.MONTH_LIMIT_CONTROL":
            return None
        if "小时级" in text or "hour" in text.lower():
            return 3600.0
        if code == "isv.BUSINESS_LIMIT_CONTROL":
            return 60.0
        return None  # Throttling.*: API call rate, cleared within seconds; the outbox's backoff suffices
