"""The form base class every portal form derives from, and the CSRF re-render contract."""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Mapping
from functools import lru_cache

from flask import current_app, g, has_request_context
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import HiddenField, SelectChoice
from wtforms.validators import Length, ValidationError

from portal.exceptions import DomainError, InvalidInput
from portal.i18n import FORM_TRANSLATIONS
from portal.i18n import lazy_gettext as _l
from portal.inputs import parse
from portal.services import evidence, taxonomy
from portal.vocabulary import CATEGORY_LABELS, GROUP_LABELS
from portal.widgets.html import render_field

YUAN = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")  # ASCII: \d would take ١٢ and ²
UNDECLARED_MAX = 1000
CSRF_EXPIRED = _l("For your safety this form had expired. Nothing you typed was lost: "
                  "please check it and send it again.")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return FORM_TRANSLATIONS

        def render_field(self, field, render_kw):
            """WTForms' drawing, byte for byte, without its cost (portal.widgets.html)."""
            return render_field(field, render_kw)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators) & self._storable()
        refusal = g.get("form_refusal")
        if refusal is not None:
            # The request was refused before the view ran (an expired CSRF token) or failed under it (the database
            # could not take it): never act on it, whatever the form says; say why above the form.
            if str(refusal) not in self.form_errors:
                self.form_errors.append(str(refusal))
            return False
        return valid

    def _storable(self) -> bool:
        """Text a database can hold, the same in every form (portal.inputs.parse.storable): NFC, so a name typed on
        two phones compares equal; a NUL byte (PostgreSQL refuses it, a 500) or a lone surrogate (not UTF-8) in
        any field is refused beside that field, whatever the form's own validators say; and a field that declares
        no Length of its own (a hidden field, a date typed as text) holds at most UNDECLARED_MAX characters."""
        ok = True
        for field in self:
            try:
                if isinstance(field.data, str) and len(field.data) > UNDECLARED_MAX and not _declares_length(field):
                    raise InvalidInput(fields={field.name: _l("Use at most %(num)d characters.", num=UNDECLARED_MAX)})
                if isinstance(field.data, str):
                    field.data = parse.storable(field.data, field.name)
                elif isinstance(field.data, list | tuple):
                    field.data = [parse.storable(v, field.name) if isinstance(v, str) else v for v in field.data]
            except InvalidInput as error:
                field.errors = [*field.errors, str(error.fields[field.name])]
                ok = False
        return ok

    def show_error(self, error: DomainError, aliases: Mapping[str, str | None] | None = None, *,
                   only: Collection[str] | None = None, at: str | None = None, findings: bool = True) -> None:
        """A service's refusal on the form, the one way to show it: each per-field finding beside the field it
        names, or above the form when the form has no such visible field; the message, when there is no finding,
        above the form too.

        `aliases` maps a service's name for a field to the form's (None: the page shows that finding elsewhere);
        `only` names the fields that show findings (the page draws the others itself, without their errors);
        `at` puts the message beside that field instead (a file that could not be read); `findings=False`
        shows the message alone, for a service whose findings are codes for machines rather than sentences."""
        if not findings or not error.fields:
            self._add_error(at, error.message)
        for name, message in error.fields.items() if findings else ():
            target = (aliases or {}).get(name, name)
            if target is not None:
                self._add_error(target if only is None or target in only else None, message)

    def _add_error(self, name: str | None, message) -> None:
        field = self._fields.get(name) if name else None
        if field is not None and not isinstance(field, HiddenField):  # a hidden field shows no errors itself
            field.errors = [*field.errors, str(message)]
        elif str(message) not in self.form_errors:
            self.form_errors.append(str(message))


def _declares_length(field) -> bool:
    return any(isinstance(v, Length) for v in field.validators)


def rerender_on_csrf_error(view):
    """Mark a form view: when the CSRF check fails, the view runs again with the form forced invalid, so
    the worker gets the form back with everything typed (and a fresh token) instead of a bare 400 page."""
    view.rerender_on_csrf_error = True
    return view


def refuse_forms(message) -> None:
    """Every form of this request refuses to validate and shows `message` above itself. portal.errors sets it before
    running a marked view again (an expired CSRF token, the database unavailable), so the view draws its form
    filled in and acts on nothing; a OneTimeForm keeps the token it was sent, so sending it again is safe."""
    g.form_refusal = message


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


def _serializer() -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=8)
def _serializer_for(secret_key: str) -> URLSafeTimedSerializer:
    """Made once per key (it keeps no state between uses): building one costs as much as signing a token."""
    return URLSafeTimedSerializer(secret_key, salt="form-token")


def new_form_token() -> str:
    """A one-time token for a form that creates something: signed and dated, so the server knows it issued
    it and when; its random part keys the record, so a second post of the same form finds the first. Each one
    issued is noted for the request: portal.pagecache cuts them out of a page it keeps."""
    token = _serializer().dumps(secrets.token_urlsafe(18))
    if has_request_context():
        g.setdefault("form_tokens", []).append(token)
    return token


def read_form_token(signed: str) -> str | None:
    try:
        return _serializer().loads(signed or "", max_age=current_app.config["FORM_TOKEN_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None


class OneTimeForm(Form):
    """A form that creates something (a grievance, a ledger entry): it carries a one-time token, so a double
    tap, a resubmission or a retry after a lost response finds what the first one created."""

    token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.token.data:
            self.token.data = new_form_token()

    def validate_token(self, field) -> None:
        if read_form_token(field.data) is None:
            field.data = new_form_token()
            raise ValidationError(CSRF_EXPIRED)

    def record_key(self) -> str:
        return read_form_token(self.token.data) or ""


def category_choices() -> list[SelectChoice]:
    """The taxonomy as grouped options, for every form that asks what a request is about."""
    return [SelectChoice("", _l("Choose…"))] + [
        SelectChoice(c.code, CATEGORY_LABELS[c.code], optgroup=GROUP_LABELS[group.code])
        for group in taxonomy.TAXONOMY for c in group.categories]
