"""The form base class every portal form derives from, and the CSRF re-render contract."""

from __future__ import annotations

import re

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from portal.services import evidence

YUAN = re.compile(r"\d{1,10}(\.\d{1,2})?")
CSRF_EXPIRED = _l("For your safety this form had expired. Nothing you typed was lost: "
                  "please check it and send it again.")


class Form(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if g.get("csrf_failed"):
            # The global CSRF check rejected this request; never act on it, whatever the form says.
            self.form_errors.append(str(CSRF_EXPIRED))
            return False
        return valid


def rerender_on_csrf_error(view):
    """Mark a form view: when the CSRF check fails, the view runs again with the form forced invalid, so
    the worker gets the form back with everything typed (and a fresh token) instead of a bare 400 page."""
    view.rerender_on_csrf_error = True
    return view


def read_uploads(field) -> list[evidence.Upload]:
    """Each file of a MultipleFileField read once (one byte past the limit is enough to refuse it), its
    stream closed at once."""
    files = []
    for f in field.data or []:
        if getattr(f, "filename", None):
            files.append(evidence.Upload(f.filename, f.read(evidence.MAX_BYTES + 1)))
            f.close()
    return files


def yuan_to_fen(raw: str | None, field_name: str) -> int | None:
    """"12,000.50" → 1200050; ValueError(field_name) for anything that is not an amount of money."""
    text = (raw or "").strip().replace(",", "")
    if not text:
        return None
    if not YUAN.fullmatch(text):
        raise ValueError(field_name)
    yuan, _, cents = text.partition(".")
    return int(yuan) * 100 + int(cents.ljust(2, "0"))
