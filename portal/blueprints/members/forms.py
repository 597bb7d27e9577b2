"""The member sign-up form and the campaigns' claim form."""

from __future__ import annotations

from datetime import datetime

from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal.exceptions import InvalidInput
from portal.forms import CSRF_EXPIRED, Form, OneTimeForm
from portal.i18n import lazy_gettext as _l
from portal.models import Membership
from portal.services import members
from portal.services.users import MAX_PASSWORD_LENGTH


class SignUpForm(Form):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(_l("Enter your mobile number.")),
                                                         Length(max=20)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(_l("Choose a password.")),
                                                                  Length(max=MAX_PASSWORD_LENGTH)])
    number = StringField(_l("Union membership number"), validators=[
        DataRequired(_l("Enter the membership number on your union card.")), Length(max=40)])
    name = StringField(_l("Your name, as on your union card"), validators=[
        DataRequired(_l("Enter your name as it is on your union card.")), Length(max=64)])
    remember = BooleanField(_l("Keep me signed in on this phone for 14 days"))

    def try_sign_up(self, now: datetime) -> Membership | None:
        """The new membership, or None with the service's findings beside the fields they concern."""
        try:
            return members.sign_up(phone=self.phone.data, password=self.password.data, number=self.number.data,
                                   name=self.name.data, now=now)
        except InvalidInput as error:
            self.show_error(error)
            return None


class ClaimForm(OneTimeForm):
    """One campaign's Claim button. Its token is the claim's key: a double tap or a retry returns the voucher
    the first one claimed. Each button on the page needs its own token, so build them with formdata=None."""

    def problem(self) -> str:
        """Why the button was refused: an expired page (the CSRF token or the form's own), said once."""
        return " ".join(dict.fromkeys(str(e) for e in [*self.form_errors, *self.token.errors])) or str(CSRF_EXPIRED)
