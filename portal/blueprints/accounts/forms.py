from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from portal.exceptions import InvalidInput
from portal.forms import Form
from portal.i18n import lazy_gettext as _l
from portal.services.users import MAX_PASSWORD_LENGTH, normalise_phone


def mainland_mobile(form, field):
    try:
        field.data = normalise_phone(field.data)
    except InvalidInput as error:
        raise ValidationError(_l("Enter an 11-digit mainland mobile number.")) from error


class LoginForm(Form):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(_l("Enter your mobile number.")),
                                                         Length(max=20), mainland_mobile])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this phone for 14 days"))


CODE_MAX = 32  # a 6-digit code or a 10-character recovery code, with the spaces and dashes people type


class CodeForm(Form):
    """The second step of a sign-in: the authenticator app's code."""

    code = StringField(_l("Verification code"), validators=[DataRequired(_l("Enter the code.")), Length(max=CODE_MAX)])


class RecoveryCodeForm(Form):
    """The second step of a sign-in with a recovery code instead (the phone is lost)."""

    code = StringField(_l("Recovery code"), validators=[DataRequired(_l("Enter one of your recovery codes.")),
                                                        Length(max=CODE_MAX)])


class ReauthenticationForm(Form):
    """The password again, and a current code for an account with a second factor, before a sensitive change."""

    password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your password.")),
                                                                 Length(max=MAX_PASSWORD_LENGTH)])
    code = StringField(_l("Current verification code"), validators=[Optional(), Length(max=CODE_MAX)])


class PasswordChangeForm(ReauthenticationForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password.")),
                                                                 Length(max=MAX_PASSWORD_LENGTH)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Enter the new password again.")),
        EqualTo("new_password", _l("The two new passwords are not the same."))])


class PhoneChangeForm(ReauthenticationForm):
    new_phone = StringField(_l("New mobile number"), validators=[DataRequired(_l("Enter the new mobile number.")),
                                                                Length(max=20), mainland_mobile])


class EnrolmentForm(ReauthenticationForm):
    """Setting up an authenticator from the account page: the page's nonce names the secret it showed."""

    nonce = HiddenField(validators=[Regexp(r"^[A-Za-z0-9_-]{16,64}$", message=_l(
        "This page had expired. Scan the new QR code, then enter the code the app shows."))])
    new_code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Enter the code the app shows.")),
                                                               Length(max=CODE_MAX)])


class FirstEnrolmentForm(Form):
    """Setting up the authenticator at the first sign-in of a staff member (the password was just given)."""

    code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Enter the code the app shows.")),
                                                           Length(max=CODE_MAX)])


class ResetForm(Form):
    """An administrator's reset of someone's second factor."""

    phone = StringField(_l("Mobile number of the account"), validators=[
        DataRequired(_l("Enter the mobile number of the account.")), Length(max=20), mainland_mobile])
