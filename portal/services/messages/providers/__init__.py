"""Text-message providers behind one small interface (base.Provider): Aliyun SMS and Tencent Cloud SMS, implemented
from their documentation, and the development provider that only keeps what it would have sent."""

from __future__ import annotations

from collections.abc import Mapping

from portal.services.messages.providers.base import (
    Delivered,
    DeliveryFailure,
    Outgoing,
    PermanentFailure,
    Provider,
    TemporaryFailure,
)

NAMES = ("aliyun", "tencent", "development")


def for_config(config: Mapping) -> Provider | None:
    """The provider SMS_PROVIDER names, built from the SMS_* settings (ValueError names a missing one); None: off."""
    name = config.get("SMS_PROVIDER") or ""
    if name == "aliyun":
        from portal.services.messages.providers.aliyun import AliyunSms

        return AliyunSms.from_config(config)
    if name == "tencent":
        from portal.services.messages.providers.tencent import TencentSms

        return TencentSms.from_config(config)
    if name == "development":
        from portal.services.messages.providers.development import DevelopmentSms

        return DevelopmentSms()
    if name:
        raise ValueError(f"PORTAL_SMS_PROVIDER must be one of {', '.join(NAMES)} or empty, not {name!r}")
    return None


__all__ = ["NAMES", "Delivered", "DeliveryFailure", "Outgoing", "PermanentFailure", "Provider", "TemporaryFailure",
           "for_config"]
