"""The merchant directory's question (GET: it changes nothing, so no CSRF) and the counter's forms."""

from __future__ import annotations

from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal.exceptions import DomainError, InvalidInput
from portal.forms import Form, OneTimeForm, yuan_to_fen
from portal.i18n import lazy_gettext as _l
from portal.inputs.fields import DayField, WholeField
from portal.models import MerchantCategory, OfferKind, Voucher
from portal.services import benefits, geo, merchants
from portal.vocabulary import MERCHANT_CATEGORY_LABELS, OFFER_KIND_LABELS
from portal.widgets.whereabouts import Origin, WhereaboutsForm, centre_of

ID = Regexp(r"[0-9]{1,9}\Z", message=_l("Choose one of the options shown."))
MONEY = _l("Enter an amount in yuan, for example 35 or 35.50.")
REUSED = _l("This page was already used for another redemption. Read the member's card again for a new one.")


class DirectoryForm(WhereaboutsForm):
    """Shared links carry these parameters: what cannot be read is explained beside its field, never a 500."""

    category = SelectField(_l("Category"), choices=[SelectChoice("", _l("All categories"))]
                           + [SelectChoice(c.value, label) for c, label in MERCHANT_CATEGORY_LABELS.items()],
                           validators=[Optional()])

    def validate_lat(self, field) -> None:
        if (field.data or self.lng.data) and (geo.degrees(field.data, 90) is None
                                              or geo.degrees(self.lng.data, 180) is None):
            raise ValidationError(_l("This location could not be read. Share your location again or choose a "
                                     "place."))

    def chosen_category(self) -> MerchantCategory | None:
        return MerchantCategory(self.category.data) if self.category.data and not self.category.errors else None

    def origin(self, place) -> Origin | None:
        """The phone's location when it was shared and could be read, else the centre of the place chosen."""
        if self.lat.data and not self.lat.errors:
            return Origin(geo.degrees(self.lat.data, 90), geo.degrees(self.lng.data, 180), str(_l("your location")))
        return centre_of(place)

    def problems(self) -> list[str]:
        return [str(e) for name in ("lat", "category", "radius") for e in self[name].errors]


class CardForm(Form):
    """The member's card, read at the counter: the numeric code typed, or the QR's token scanned or pasted."""

    code = StringField(_l("Member code"), validators=[DataRequired(_l("Type the code under the member's QR, or "
                                                                      "scan the QR.")), Length(max=200)])
    bill = StringField(_l("Bill (yuan, optional)"), validators=[Length(max=20)])

    def validate_bill(self, field) -> None:
        if field.data and not 1 <= (_fen(field.data) or 0) <= merchants.MAX_BILL_FEN:
            raise ValidationError(_l("Enter the bill: more than ¥0 and at most ¥100,000."))

    def bill_fen(self) -> int | None:
        """The bill, when one was typed: the checkout then chooses what saves most and shows what to pay."""
        return _fen(self.bill.data) if self.bill.data and not self.bill.errors else None


def _fen(raw: str | None) -> int | None:
    try:
        return yuan_to_fen(raw, "")
    except ValueError:
        raise ValidationError(MONEY) from None


class RedeemForm(OneTimeForm):
    """The confirm step. After a card is read: its signed checkout ref, the offer and the voucher chosen (by id,
    among those the checkout listed). Or, on the counter page, a voucher's code alone. The token keys the
    redemption, so a double tap finds the first one."""

    ref = HiddenField()
    bill = StringField(_l("Bill (yuan)"), validators=[DataRequired(_l("Enter the bill in yuan.")), Length(max=20)])
    offer = StringField(validators=[Optional(), ID])
    voucher = StringField(validators=[Optional(), ID])
    voucher_code = StringField(_l("Voucher code"), validators=[Length(max=40)])

    def validate_bill(self, field) -> None:
        if not 1 <= (_fen(field.data) or 0) <= merchants.MAX_BILL_FEN:
            raise ValidationError(_l("Enter the bill: more than ¥0 and at most ¥100,000."))

    def validate_voucher_code(self, field) -> None:
        if not self.ref.data and not benefits.normalise_code(field.data):
            raise ValidationError(_l("Type the code of the voucher."))

    def bill_fen(self) -> int | None:
        try:
            fen = _fen(self.bill.data)
        except ValidationError:
            return None
        return fen if fen and 1 <= fen <= merchants.MAX_BILL_FEN else None

    def sale(self, membership_id: int | None, vouchers: list[Voucher]) -> benefits.Sale:
        """What to redeem: a chosen voucher must be one the checkout offered (its code never left the server)."""
        if membership_id is None:
            return benefits.Sale(bill_fen=_fen(self.bill.data), voucher_code=self.voucher_code.data)
        chosen = next((v for v in vouchers if str(v.id) == self.voucher.data), None)
        if self.voucher.data and chosen is None:
            raise InvalidInput(fields={"voucher": _l("This voucher cannot be used now. Choose again.")})
        return benefits.Sale(bill_fen=_fen(self.bill.data), voucher_code=chosen.code if chosen else "",
                             offer_id=int(self.offer.data) if self.offer.data else None, membership_id=membership_id)

    def show(self, error: DomainError) -> None:
        """A refusal beside the bill, the one field the pages draw with its errors (they draw the offers and
        vouchers as choices of their own); the rest above the form."""
        if "Idempotency-Key" in error.fields:  # this page's token already made another redemption (back button)
            error = InvalidInput(fields={**error.fields, "Idempotency-Key": REUSED})
        self.show_error(error, only={"bill"})


class ActionForm(Form):
    """The CSRF token of one-button forms: undo a redemption, end an offer."""


class OfferForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=100)])
    kind = RadioField(_l("Kind of discount"), default=OfferKind.PERCENT.value,
                      choices=[SelectChoice(k.value, label) for k, label in OFFER_KIND_LABELS.items()])
    percent_off = WholeField(_l("Percent off"), validators=[Optional(), NumberRange(min=1, max=90)])
    max_saving = StringField(_l("At most (yuan, optional)"), validators=[Length(max=20)])
    amount = StringField(_l("Amount off (yuan)"), validators=[Length(max=20)])
    min_spend = StringField(_l("Minimum spend (yuan, optional)"), validators=[Length(max=20)])
    per_day = WholeField(_l("Uses per member per day (0: no limit)"), default=0,
                           validators=[Optional(), NumberRange(min=0, max=100)])
    per_month = WholeField(_l("Uses per member per month (0: no limit)"), default=0,
                             validators=[Optional(), NumberRange(min=0, max=100)])
    starts_on = DayField(_l("First day (optional: today)"), validators=[Optional()])
    ends_on = DayField(_l("Last day (optional)"), validators=[Optional()])
    terms = TextAreaField(_l("Terms (optional)"), validators=[Length(max=1000)])

    def validate_max_saving(self, field) -> None:
        _fen(field.data)

    def validate_amount(self, field) -> None:
        _fen(field.data)

    def validate_min_spend(self, field) -> None:
        _fen(field.data)

    def offer_data(self) -> merchants.OfferData:
        return merchants.OfferData(
            title=self.title.data or "", kind=OfferKind(self.kind.data), percent_off=self.percent_off.data or 0,
            amount_fen=_fen(self.amount.data) or 0, max_saving_fen=_fen(self.max_saving.data) or 0,
            min_spend_fen=_fen(self.min_spend.data) or 0, per_day=self.per_day.data or 0,
            per_month=self.per_month.data or 0, starts_on=self.starts_on.data, ends_on=self.ends_on.data,
            terms=self.terms.data or "")
