"""What both real providers share: reading their settings, the template id of a message, a provider's words made
safe for a reason, the waits their answers imply."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime

import requests

from portal.services import sla
from portal.services.messages.providers.base import Outgoing, PermanentFailure

PHONE_LIKE = re.compile(r"\+?\d[\d\- ]{6,}\d")


def scrub(text: object, limit: int = 120) -> str:
    """A provider's message made safe for a reason or a log line: no phone-like digit runs, short."""
    return PHONE_LIKE.sub("…", str(text))[:limit]


def seconds_to_beijing_midnight(now: datetime) -> float:
    """Daily quotas are counted per natural day in Beijing time: how long until they reset."""
    return max((sla.end_of(sla.local_date(now)) - now).total_seconds(), 60.0)


def timeouts(value: float | tuple[float, float]) -> tuple[float, float]:
    """(connect, read) seconds; one number stands for both."""
    try:
        pair = tuple(float(t) for t in value) if isinstance(value, tuple | list) else (float(value), float(value))
    except (TypeError, ValueError):
        raise ValueError("SMS_TIMEOUT_S must be a number of seconds") from None
    if len(pair) != 2 or not all(0 < t <= 120 for t in pair):
        raise ValueError("SMS_TIMEOUT_S must be between 0 and 120 seconds")
    return pair


def config_value(config: Mapping, key: str):
    """A required setting, or ValueError naming it (config validation calls from_config at start)."""
    value = config.get(key)
    if value in (None, "", {}):
        raise ValueError(f"{key} is required for the SMS provider")
    return value


def timeout_setting(config: Mapping) -> float | tuple[float, float]:
    """SMS_TIMEOUT_S, 5 s when unset (0 is refused by `timeouts`, not read as unset)."""
    value = config.get("SMS_TIMEOUT_S")
    return 5.0 if value is None or value == "" else value


def templates_setting(config: Mapping) -> dict[str, dict[str, str]]:
    """SMS_TEMPLATES as {locale: {portal template: provider template id}}; a JSON string (from the environment)
    is read too."""
    value = config_value(config, "SMS_TEMPLATES")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValueError("SMS_TEMPLATES must be JSON: {locale: {template: id}}") from error
    if not isinstance(value, Mapping) or not all(
            isinstance(ids, Mapping) and all(isinstance(v, str | int) for v in ids.values()) for ids in value.values()):
        raise ValueError("SMS_TEMPLATES must map each locale to {template: provider template id}")
    return {locale: {name: str(tid) for name, tid in ids.items()} for locale, ids in value.items()}


def sign_names(value: str | Mapping[str, str]) -> Callable[[str], str]:
    """SMS_SIGN_NAME is one string for every locale, or {locale: sign name}."""
    if isinstance(value, str):
        return lambda locale: value
    names = dict(value)
    return lambda locale: names.get(locale) or names.get("zh_CN") or next(iter(names.values()))


def template_id(templates: Mapping[str, Mapping[str, str]], message: Outgoing) -> str:
    """The provider's id of the message's template in its language (SMS_TEMPLATES), or a refusal for good."""
    found = templates.get(message.locale, {}).get(message.template)
    if not found:
        raise PermanentFailure(f"no template id for {message.template} in {message.locale}", "no-template")
    return found


def retry_after_header(response: requests.Response) -> float | None:
    """A numeric Retry-After header, when a gateway sent one."""
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None
