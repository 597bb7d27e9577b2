"""Text messages as the worker reads them: the words (portal.vocabulary.MESSAGE_TEXTS) in the worker's language,
with their params; the development provider shows them, and an installation registers the same as templates at its
provider (one per name and language; the README lists them).

A message names the portal and the ticket number, and what kind of news there is — never what the request is
about, the employer or the category, so a glance at the worker's phone gives nothing away."""

from __future__ import annotations

from portal.i18n import force_locale
from portal.vocabulary import MESSAGE_TEXTS

# What each template sends the provider, in the order providers that number them ({1}, {2} …) expect. A link goes
# as its token only: providers refuse URLs inside variables (Aliyun's isv.PARAM_NOT_SUPPORT_URL), so the template
# registered there holds the portal's address (…/m/${token}, and …/m/${token}/stop to stop the messages).
PARAMS: dict[str, tuple[str, ...]] = {
    "verify": ("code",),
    "accepted": ("number", "token"),
    "more_information": ("number", "token"),
    "answered": ("number", "token"),
    "extended": ("number", "token"),
    "closed": ("number", "token"),
    "reopened": ("number", "token"),
    "resend": ("number", "token"),
}
NEWS = ("accepted", "more_information", "answered", "extended", "closed", "reopened")  # to opted-in numbers
LOCALES = ("zh_CN", "en")


def locale_of(identifier: str) -> str:
    """The language a page was shown in ("zh_Hans_CN", "en_US" …) as a message's: "en" or "zh_CN"."""
    return "en" if identifier.lower().startswith("en") else "zh_CN"


def render(name: str, params: dict[str, str], locale: str, sign_name: str) -> str:
    """The whole message as the worker reads it, the provider's signature 【first】."""
    with force_locale(locale if locale in LOCALES else LOCALES[0]):
        return f"【{sign_name}】" + str(MESSAGE_TEXTS[name]) % params


def ordered(name: str, params: dict[str, str]) -> dict[str, str]:
    """The params in the template's own order (Tencent Cloud numbers them {1}, {2} …)."""
    return {key: str(params[key]) for key in PARAMS[name]}
