"""The administrators' forms: the roster file, a decision on a sign-up, a new campaign, and one-button actions."""

from __future__ import annotations

from datetime import datetime

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.exceptions import DomainError, InvalidInput, NotFound
from portal.forms import Form, yuan_to_fen
from portal.i18n import lazy_gettext as _l
from portal.inputs.fields import BeijingMomentField, DayField, WholeField
from portal.models import LimitPeriod, MerchantCategory
from portal.services import benefits, members, merchants
from portal.vocabulary import LIMIT_PERIOD_LABELS, MERCHANT_CATEGORY_LABELS, OCCUPATION_LABELS

# 200,000 rows (members.ROSTER_MAX_ROWS) of about 125 bytes each, with room to spare; below the app's
# MAX_CONTENT_LENGTH, so a file too large is explained here rather than by a bare 413 page.
ROSTER_MAX_BYTES = 40 * 1024 * 1024
MONEY = _l("Enter an amount in yuan, for example 35 or 35.50.")


class RosterForm(Form):
    file = FileField(_l("Roster file (CSV)"), validators=[FileRequired(_l("Choose the roster file."))])

    def rows(self) -> list[tuple[int, dict]]:
        """The file's rows; one byte past the limit is enough to refuse it."""
        content = self.file.data.read(ROSTER_MAX_BYTES + 1)
        if len(content) > ROSTER_MAX_BYTES:
            raise InvalidInput(_l("The file is larger than %(mb)d MB. Split it and import the parts one by one.",
                                  mb=ROSTER_MAX_BYTES // (1024 * 1024)))
        return members.read_roster(content)


OCCUPATION_CHOICES = [SelectChoice(code, OCCUPATION_LABELS[code]) for code in members.OCCUPATIONS]


class DecideForm(Form):
    """One pending sign-up's row. Every row of the page has one, so each field's id carries the membership's id;
    the names stay plain, and the token comes from csrf_field()."""

    decision = HiddenField(validators=[AnyOf(["approve", "reject"], message=_l("Choose Approve or Reject."))])
    tag = SelectField(_l("Occupation"), choices=OCCUPATION_CHOICES, default="other")
    valid_until = DayField(_l("Valid until"), validators=[Optional()])
    union_name = StringField(_l("Union"), validators=[Length(max=100)])

    def __init__(self, *args, row: int, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self:
            f.id = f.label.field_id = f"{f.name}-{row}"

    def decide(self, membership_id: int, admin, now: datetime) -> bool:
        """Record the decision; False with the reason in the form when the service refuses it."""
        try:
            members.decide(membership_id, self.decision.data == "approve", admin, now, tag=self.tag.data,
                           valid_until=self.valid_until.data, union_name=self.union_name.data or "")
        except InvalidInput as error:
            self.show_error(error)
            return False
        return True


EVERYONE = SelectChoice("", _l("Every member"))
ANYWHERE = SelectChoice("", _l("Any partner merchant"))


class CampaignForm(Form):
    name = StringField(_l("Campaign name"), validators=[DataRequired(_l("Enter a name.")), Length(max=64)])
    description = TextAreaField(_l("Description (optional)"), validators=[Length(max=2000)])
    amount = StringField(_l("Face value of each voucher (yuan)"), validators=[
        DataRequired(_l("Enter the face value.")), Length(max=20)])
    min_spend = StringField(_l("Minimum spend (yuan, optional)"), validators=[Length(max=20)])
    tag = SelectField(_l("Who may claim"), choices=[EVERYONE, *OCCUPATION_CHOICES], validators=[Optional()])
    category = SelectField(_l("Where vouchers can be used"), validators=[Optional()], choices=[
        ANYWHERE, *(SelectChoice(c.value, label) for c, label in MERCHANT_CATEGORY_LABELS.items())])
    merchant_id = WholeField(_l("Only at this merchant (id, optional)"),
                               validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    stock = WholeField(_l("Vouchers in all"), validators=[InputRequired(_l("Enter how many vouchers there are.")),
                                                             NumberRange(min=1, max=10_000_000)])
    per_member = WholeField(_l("Vouchers per member"), default=1, validators=[
        InputRequired(_l("Enter how many vouchers a member may claim.")), NumberRange(min=1, max=100)])
    limit_period = SelectField(_l("The limit per member holds"), default=LimitPeriod.CAMPAIGN.value,
                               choices=[SelectChoice(p.value, label) for p, label in LIMIT_PERIOD_LABELS.items()])
    starts_at = BeijingMomentField(_l("Starts (Beijing time)"),
                                   validators=[InputRequired(_l("Enter when the campaign starts."))])
    ends_at = BeijingMomentField(_l("Ends (Beijing time)"),
                                 validators=[InputRequired(_l("Enter when the campaign ends."))])
    voucher_days = WholeField(_l("Each voucher is valid for (days; 0: until the campaign ends)"), default=0,
                                validators=[Optional(), NumberRange(min=0, max=366)])
    budget = StringField(_l("Budget (yuan, optional: the whole stock)"), validators=[Length(max=20)])

    def validate_amount(self, field) -> None:
        self._money(field)

    def validate_min_spend(self, field) -> None:
        if (self._money(field) or 0) > merchants.MAX_BILL_FEN:
            raise ValidationError(_l("Enter an amount between ¥0 and ¥100,000."))

    def validate_budget(self, field) -> None:
        self._money(field)

    @staticmethod
    def _money(field) -> int | None:
        try:
            return yuan_to_fen(field.data, field.name)
        except ValueError:
            raise ValidationError(MONEY) from None

    def campaign_data(self) -> benefits.CampaignData:
        return benefits.CampaignData(
            name=self.name.data or "", description=self.description.data or "",
            amount_fen=yuan_to_fen(self.amount.data, "amount") or 0,
            min_spend_fen=yuan_to_fen(self.min_spend.data, "min_spend") or 0, tag=self.tag.data or None,
            category=MerchantCategory(self.category.data) if self.category.data else None,
            merchant_id=self.merchant_id.data, stock=self.stock.data, per_member=self.per_member.data,
            limit_period=LimitPeriod(self.limit_period.data), starts_at=self.starts_at.data,
            ends_at=self.ends_at.data, voucher_days=self.voucher_days.data or 0,
            budget_fen=yuan_to_fen(self.budget.data, "budget"))

    def show(self, error: DomainError) -> None:
        if isinstance(error, NotFound):  # the one thing create_campaign looks up: the merchant
            error = InvalidInput(fields={"merchant_id": _l("No active merchant has this id.")})
        self.show_error(error)


class ActionForm(Form):
    """The CSRF token of one-button forms (stop a campaign)."""
