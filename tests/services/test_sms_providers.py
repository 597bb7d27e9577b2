"""The real SMS providers: their signatures reproduce the worked examples of Aliyun's and Tencent's documentation,
and every answer a provider can give (over real HTTP, to the stand-in in tests/standin.py) becomes Delivered, a
TemporaryFailure or a PermanentFailure, with no phone number in any reason."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime

import pytest

from portal.services.messages.providers import aliyun, tencent
from portal.services.messages.providers.aliyun import AliyunSms
from portal.services.messages.providers.base import Delivered, Outgoing, PermanentFailure, TemporaryFailure
from portal.services.messages.providers.tencent import TencentSms
from tests.factories import NOW
from tests.standin import sms_standin

PHONE = "13800138000"
SECRET = "standin-secret"
SIGN = "职工服务平台"
TEMPLATES = {"aliyun": {"zh_CN": {"accepted": "SMS_471001"}, "en": {"accepted": "SMS_471002"}},
             "tencent": {"zh_CN": {"accepted": "2100101"}, "en": {"accepted": "2100102"}}}
SECONDS_TO_BEIJING_MIDNIGHT = 14 * 3600  # NOW is 10:00 in Shanghai


def message(message_id="msg-1", locale="zh_CN", template="accepted"):
    return Outgoing(message_id, PHONE, template, {"ticket": "GD-2611-0042", "link": "https://p.example/t/Ab3"},
                    locale, "")


def provider(kind, url, secret=SECRET, timeout=2.0):
    if kind == "aliyun":
        return AliyunSms("LTAI-standin", secret, SIGN, TEMPLATES["aliyun"], endpoint=url, timeout=timeout,
                         clock=lambda: NOW, nonce=lambda: "f0e1d2c3")
    return TencentSms("AKID-standin", secret, "1400000001", SIGN, TEMPLATES["tencent"], endpoint=url,
                      timeout=timeout, clock=lambda: NOW)


def failure(kind, mode, expected=TemporaryFailure, **options):
    """Send one message against the stand-in in `mode`; the failure raised (checked free of the number)."""
    with sms_standin(kind, secret=SECRET) as standin:
        standin.mode = mode
        with pytest.raises(expected) as raised:
            provider(kind, standin.url, **options).send(message())
    assert type(raised.value) is expected
    assert PHONE not in raised.value.reason and PHONE not in str(raised.value)
    return raised.value


# ----------------------------------------------------------------------------- Aliyun: the documented examples

# https://help.aliyun.com/en/sdk/product-overview/rpc-mechanism (RPC request syntax and signature, SignatureVersion
# 1.0: the ECS DescribeRegions example with AccessKeyId "testid" and AccessKeySecret "testsecret")
ECS_PARAMS = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
              "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
ECS_STRING_TO_SIGN = ("GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3D"
                      "HMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
                      "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26")
# https://help.aliyun.com/document_detail/101343.html (SMS: HTTP protocol and signature, the SendSms example)
SMS_DOC = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
           "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
           "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
           "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
           "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
SMS_DOC_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="  # the page shows it URL-encoded: zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D


def test_aliyun_signature_reproduces_the_documented_rpc_example():
    assert aliyun.string_to_sign("GET", ECS_PARAMS) == ECS_STRING_TO_SIGN
    assert aliyun.rpc_signature("GET", ECS_PARAMS, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert aliyun.rpc_signature("GET", dict(reversed(ECS_PARAMS.items())), "testsecret") == \
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY="  # the order given does not matter: parameters are sorted


def test_aliyun_signature_reproduces_the_older_pages_example():
    """The same example as the older signature pages print it, with the parameter spelt TimeStamp
    (https://help.aliyun.com/en/cmn/developer-reference/signature-mechanism shows
    Signature=CT9X0VtwR86fNWSnsc6v8YGOjuE%3D)."""
    older = {("TimeStamp" if k == "Timestamp" else k): v for k, v in ECS_PARAMS.items()}
    assert aliyun.rpc_signature("GET", older, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_aliyun_signature_reproduces_the_documented_send_sms_example():
    assert aliyun.rpc_signature("GET", SMS_DOC, "testSecret") == SMS_DOC_SIGNATURE


def test_aliyun_percent_encoding_follows_the_documented_rules():
    assert aliyun.percent_encode("a b*c~d/e+") == "a%20b%2Ac~d%2Fe%2B"
    assert aliyun.percent_encode("工") == "%E5%B7%A5"


def test_aliyun_builds_the_documented_send_sms_request():
    """The provider's own parameters for the documented message, signed as the page signs them (GET, XML), give the
    documented signature: names, timestamp format, OutId and TemplateParam's JSON are all as Aliyun expects."""
    sms = AliyunSms("testId", "testSecret", "阿里云短信测试专用", {"zh_CN": {"welcome": "SMS_71390007"}},
                    clock=lambda: datetime(2017, 7, 12, 2, 42, 19, tzinfo=UTC),
                    nonce=lambda: "45e25e9b-0a6f-4070-8c85-2956eda1b466")
    params = sms.request_params(Outgoing("123", "15300000001", "welcome", {"customer": "test"}))
    assert params["Signature"] == aliyun.rpc_signature("POST", {k: v for k, v in params.items() if k != "Signature"},
                                                       "testSecret")
    documented = {k: v for k, v in params.items() if k != "Signature"} | {"Format": "XML"}
    assert documented == SMS_DOC
    assert aliyun.rpc_signature("GET", documented, "testSecret") == SMS_DOC_SIGNATURE


# ----------------------------------------------------------------------------- Tencent: the documented example

# https://cloud.tencent.com/document/api/382/52072 (签名方法 v3, CVM DescribeInstances, timestamp 1551113065) and
# https://www.tencentcloud.com/document/api/382/40467 (Signature v3, the same example with the EXAMPLE keys)
CVM_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
CVM_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}
CVM_CANONICAL = ("POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
                 "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
CVM_STRING_TO_SIGN = ("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                      "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")


def test_tencent_signature_reproduces_the_documented_tc3_example():
    assert tencent.canonical_request(CVM_HEADERS, CVM_PAYLOAD) == CVM_CANONICAL
    assert tencent.string_to_sign(1551113065, "cvm", CVM_CANONICAL) == CVM_STRING_TO_SIGN
    assert tencent.tc3_signature("Gu5t9xGARNpq86cd98joQYCN3*******", 1551113065, "cvm", CVM_CANONICAL) == \
        "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    assert tencent.tc3_authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
                                     service="cvm", timestamp=1551113065, payload=CVM_PAYLOAD,
                                     headers=CVM_HEADERS) == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")


def test_tencent_builds_a_send_sms_request_with_its_common_headers():
    payload, headers = provider("tencent", "https://sms.tencentcloudapi.com/").request(message())
    assert json.loads(payload) == {"PhoneNumberSet": ["+8613800138000"], "SmsSdkAppId": "1400000001",
                                   "SignName": SIGN, "TemplateId": "2100101",
                                   "TemplateParamSet": ["GD-2611-0042", "https://p.example/t/Ab3"],
                                   "SessionContext": "msg-1"}
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Region"] == "ap-guangzhou" and headers["X-TC-Timestamp"] == str(int(NOW.timestamp()))
    assert headers["Host"] == "sms.tencentcloudapi.com"
    assert headers["Authorization"].startswith(
        f"TC3-HMAC-SHA256 Credential=AKID-standin/{NOW:%Y-%m-%d}/sms/tc3_request, "
        "SignedHeaders=content-type;host;x-tc-action, Signature=")


# ----------------------------------------------------------------------------- both, against the stand-in

KINDS = ["aliyun", "tencent"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_is_delivered_with_its_template_params_sign_and_id(kind):
    with sms_standin(kind, secret=SECRET) as standin:
        sent = provider(kind, standin.url).send(message(locale="en"))
        [attempt] = standin.attempts
    assert isinstance(sent, Delivered) and sent.reference == attempt.reference != ""
    assert attempt.signature_ok and attempt.message_id == "msg-1" and attempt.phone == PHONE
    assert attempt.template_id == TEMPLATES[kind]["en"]["accepted"] and attempt.sign_name == SIGN
    assert attempt.params == ({"ticket": "GD-2611-0042", "link": "https://p.example/t/Ab3"} if kind == "aliyun"
                              else ["GD-2611-0042", "https://p.example/t/Ab3"])
    assert standin.delivered == {"msg-1": attempt}


@pytest.mark.parametrize("kind", KINDS)
def test_a_retry_with_the_same_message_id_is_not_delivered_twice(kind):
    with sms_standin(kind, secret=SECRET) as standin:
        sms = provider(kind, standin.url)
        first, again = sms.send(message()), sms.send(message())
        other = sms.send(message("msg-2"))
    assert first == again != other
    assert len(standin.attempts) == 3 and sorted(standin.delivered) == ["msg-1", "msg-2"]
    assert standin.duplicates == ["msg-1"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_whose_answer_came_too_late_is_delivered_once(kind):
    """The provider took the message but answered after the timeout: the retry (same id) is answered like the
    first and not delivered again, which is what the outbox relies on after a timeout or a killed worker."""
    with sms_standin(kind, secret=SECRET, hang_s=0.6) as standin:
        sms = provider(kind, standin.url, timeout=0.2)
        standin.queue("hang")
        with pytest.raises(TemporaryFailure):
            sms.send(message())
        assert standin.wait_for(1, timeout_s=5)
        again = sms.send(message())
    assert again.reference == standin.delivered["msg-1"].reference
    assert len(standin.attempts) == 2 and standin.duplicates == ["msg-1"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_signature_is_refused_for_good_with_the_documented_code(kind):
    refused = failure(kind, "ok", PermanentFailure, secret="not-the-secret")
    assert refused.code == {"aliyun": "SignatureDoesNotMatch", "tencent": "AuthFailure.SignatureFailure"}[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_a_provider_that_hangs_is_a_temporary_failure_within_the_timeout(kind):
    started = time.monotonic()
    hung = failure(kind, "hang", timeout=0.5)
    assert time.monotonic() - started < 1.5 and hung.code == "timeout"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_server_errors_are_temporary(kind, status):
    error = failure(kind, status)
    assert error.code == status and status in error.reason
    assert error.retry_after == (7.0 if status == "503" else None)  # the stand-in's 503 says Retry-After: 7


@pytest.mark.parametrize(("kind", "mode", "code", "wait"), [
    ("aliyun", "throttle", "isv.BUSINESS_LIMIT_CONTROL", 60.0),
    ("aliyun", "throttle-hour", "isv.BUSINESS_LIMIT_CONTROL", 3600.0),
    ("aliyun", "throttle-day", "isv.BUSINESS_LIMIT_CONTROL", SECONDS_TO_BEIJING_MIDNIGHT),
    ("aliyun", "code:isv.DAY_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", SECONDS_TO_BEIJING_MIDNIGHT),
    ("aliyun", "api-throttle", "Throttling.User", None),
    ("tencent", "throttle", "LimitExceeded.PhoneNumberThirtySecondLimit", 30.0),
    ("tencent", "throttle-hour", "LimitExceeded.PhoneNumberOneHourLimit", 3600.0),
    ("tencent", "throttle-day", "LimitExceeded.PhoneNumberDailyLimit", SECONDS_TO_BEIJING_MIDNIGHT),
    ("tencent", "code:LimitExceeded.DailyLimit", "LimitExceeded.DailyLimit", SECONDS_TO_BEIJING_MIDNIGHT),
    ("tencent", "api-throttle", "RequestLimitExceeded", 1.0),
])
def test_throttling_is_temporary_and_says_how_long_to_wait(kind, mode, code, wait):
    throttled = failure(kind, mode)
    assert throttled.code == code and throttled.retry_after == wait


@pytest.mark.parametrize(("kind", "code"), [
    ("aliyun", "isp.SYSTEM_ERROR"), ("aliyun", "ServiceUnavailable"), ("aliyun", "SignatureNonceUsed"),
    ("aliyun", "isp.SOMETHING_NEW"), ("tencent", "InternalError.Timeout"), ("tencent", "InternalError.SendAndRecvFail"),
    ("tencent", "ResourceUnavailable.Maintenance"), ("tencent", "SomethingNew.Entirely"),
])
def test_provider_side_errors_and_unknown_codes_are_temporary(kind, code):
    assert failure(kind, f"code:{code}").code == code


@pytest.mark.parametrize(("kind", "code"), [
    ("aliyun", "isv.MOBILE_NUMBER_ILLEGAL"), ("aliyun", "isv.SMS_TEMPLATE_ILLEGAL"),
    ("aliyun", "isv.SMS_SIGNATURE_ILLEGAL"), ("aliyun", "isv.AMOUNT_NOT_ENOUGH"),
    ("aliyun", "InvalidAccessKeyId.NotFound"), ("aliyun", "SignatureDoesNotMatch"),
    ("aliyun", "isv.SMS_CONTENT_ILLEGAL"), ("tencent", "InvalidParameterValue.IncorrectPhoneNumber"),
    ("tencent", "FailedOperation.TemplateIncorrectOrUnapproved"),
    ("tencent", "FailedOperation.SignatureIncorrectOrUnapproved"),
    ("tencent", "FailedOperation.InsufficientBalanceInSmsPackage"), ("tencent", "FailedOperation.ContainSensitiveWord"),
    ("tencent", "FailedOperation.PhoneNumberInBlacklist"), ("tencent", "AuthFailure.SecretIdNotFound"),
    ("tencent", "UnauthorizedOperation.SmsSdkAppIdVerifyFail"),
])
def test_refusals_that_retrying_cannot_fix_are_permanent(kind, code):
    refused = failure(kind, f"code:{code}", PermanentFailure)
    assert refused.code == code and code in refused.reason  # the stand-in put the number in its Message: scrubbed


@pytest.mark.parametrize("kind", KINDS)
def test_the_named_permanent_answer_names_no_number(kind):
    refused = failure(kind, "permanent", PermanentFailure)
    assert "…" in refused.reason  # the provider's message kept, its number replaced


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["garbage", "truncated", "wrong-shape"])
def test_an_answer_that_is_not_the_documented_json_is_temporary_and_unreadable(kind, mode):
    error = failure(kind, mode)
    assert error.code == "unreadable" and "unreadable" in error.reason


@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_connection_and_a_refused_one_are_temporary(kind):
    assert failure(kind, "refuse").code == "connection"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TemporaryFailure) as raised:
        provider(kind, f"http://127.0.0.1:{port}/").send(message())
    assert raised.value.code == "connection" and PHONE not in raised.value.reason


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_but_the_two_failures_escapes_send(kind):
    with pytest.raises(TemporaryFailure) as raised:
        provider(kind, "not-a-url").send(message())
    assert raised.value.code == "error"


@pytest.mark.parametrize("kind", KINDS)
def test_the_stand_in_plays_a_script_fail_twice_then_ok(kind):
    with sms_standin(kind, secret=SECRET) as standin:
        standin.queue("500", "throttle")
        sms = provider(kind, standin.url)
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(sms.send(message()))
            except TemporaryFailure as error:
                outcomes.append(error.code)
    assert outcomes[0] == "500" and outcomes[1].startswith(("isv.", "LimitExceeded."))
    assert isinstance(outcomes[2], Delivered) and list(standin.delivered) == ["msg-1"]
    assert [a.mode for a in standin.attempts] == ["500", "throttle", "ok"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_template_without_an_id_is_permanent_and_sends_nothing(kind):
    with sms_standin(kind, secret=SECRET) as standin:
        with pytest.raises(PermanentFailure) as raised:
            provider(kind, standin.url).send(message(template="reopened"))
        assert standin.attempts == []
    assert raised.value.reason == "no template id for reopened in zh_CN"


# ----------------------------------------------------------------------------- settings

CONFIG = {"SMS_SIGN_NAME": SIGN, "SMS_ALIYUN_ACCESS_KEY_ID": "id", "SMS_ALIYUN_ACCESS_KEY_SECRET": "secret",
          "SMS_TENCENT_SECRET_ID": "id", "SMS_TENCENT_SECRET_KEY": "key", "SMS_TENCENT_SDK_APP_ID": "1400000001"}


@pytest.mark.parametrize(("cls", "keys"), [
    (AliyunSms, ["SMS_ALIYUN_ACCESS_KEY_ID", "SMS_ALIYUN_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATES"]),
    (TencentSms, ["SMS_TENCENT_SECRET_ID", "SMS_TENCENT_SECRET_KEY", "SMS_TENCENT_SDK_APP_ID", "SMS_SIGN_NAME",
                  "SMS_TEMPLATES"]),
])
def test_from_config_names_each_missing_setting(cls, keys):
    kind = "aliyun" if cls is AliyunSms else "tencent"
    full = CONFIG | {"SMS_TEMPLATES": TEMPLATES[kind]}
    for key in keys:
        with pytest.raises(ValueError, match=key):
            cls.from_config({k: v for k, v in full.items() if k != key})
    with pytest.raises(ValueError, match="SMS_TEMPLATES"):
        cls.from_config(full | {"SMS_TEMPLATES": "{not json"})
    for timeout in (-1, 0, "soon", (1, 2, 3)):
        with pytest.raises(ValueError, match="SMS_TIMEOUT_S"):
            cls.from_config(full | {"SMS_TIMEOUT_S": timeout})


def test_from_config_reads_defaults_and_a_json_template_map():
    sms = TencentSms.from_config(CONFIG | {"SMS_TEMPLATES": json.dumps(TEMPLATES["tencent"]), "SMS_ENDPOINT": None})
    assert (sms.endpoint, sms.region, sms.timeout) == ("https://sms.tencentcloudapi.com/", "ap-guangzhou", (5.0, 5.0))
    assert sms.templates == TEMPLATES["tencent"] and sms.session.verify is True
    sms = AliyunSms.from_config(CONFIG | {"SMS_TEMPLATES": TEMPLATES["aliyun"], "SMS_TIMEOUT_S": "3",
                                          "SMS_SIGN_NAME": {"zh_CN": "职工服务", "en": "Worker Service"}})
    assert (sms.endpoint, sms.timeout) == ("https://dysmsapi.aliyuncs.com/", (3.0, 3.0))
    assert sms.sign_name("en") == "Worker Service" and sms.sign_name("zh_CN") == "职工服务"
