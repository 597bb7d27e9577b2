from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

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
