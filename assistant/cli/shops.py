"""`ro-assistant tenants …` and `users …`: shops and their accounts, named by slug."""

from __future__ import annotations

import sys

import click

from assistant.cli.common import run_with_database
from assistant.db.session import Database, Role
from assistant.settings import Settings
from assistant.tenants import service
from assistant.tenants.service import find_tenant


@click.group()
def tenants() -> None:
    """Shops (tenants)."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The shop's display name.")
@click.pass_obj
def create_tenant(settings: Settings, slug: str, name: str) -> None:
    """Create a shop."""
    tenant = run_with_database(settings, lambda db: service.create_tenant(db, slug, name))
    click.echo(f"created shop {tenant.slug} ({tenant.name}), id {tenant.tenant_id}")


@tenants.command("list")
@click.pass_obj
def list_tenants(settings: Settings) -> None:
    """List every shop."""
    rows = run_with_database(settings, service.list_tenants)
    for t in rows:
        state = "active" if t.is_active else "disabled"
        click.echo(f"{t.slug:<24} {state:<9} {t.created_at:%Y-%m-%d}  {t.name}")
    if not rows:
        click.echo("no shops yet: ro-assistant tenants create SLUG --name NAME")


@click.group()
def users() -> None:
    """Users of a shop."""


ROLE_CHOICE = click.Choice([r.value for r in Role])


@users.command("create")
@click.option("--tenant", "slug", required=True, help="The shop's slug.")
@click.option("--email", required=True)
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from the first line of standard input.",
)
@click.pass_obj
def create_user(settings: Settings, slug: str, email: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is hashed with argon2id and never echoed."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""

    async def job(db: Database) -> str:
        tenant = await find_tenant(db, slug)
        user = await service.create_user(db, tenant, email, Role(role), password)
        return f"created {user.role.value} user {user.email} in {tenant.slug}"

    click.echo(run_with_database(settings, job))


@users.command("disable")
@click.option("--tenant", "slug", required=True)
@click.option("--email", required=True)
@click.pass_obj
def disable_user(settings: Settings, slug: str, email: str) -> None:
    """Disable a user; it takes effect on their next request."""
    _set_active(settings, slug, email, active=False)
    click.echo(f"disabled {email.lower()} in {slug}")


@users.command("enable")
@click.option("--tenant", "slug", required=True)
@click.option("--email", required=True)
@click.pass_obj
def enable_user(settings: Settings, slug: str, email: str) -> None:
    """Enable a disabled user again."""
    _set_active(settings, slug, email, active=True)
    click.echo(f"enabled {email.lower()} in {slug}")


def _set_active(settings: Settings, slug: str, email: str, *, active: bool) -> None:
    async def job(db: Database) -> None:
        await service.set_user_active(db, await find_tenant(db, slug), email, active)

    run_with_database(settings, job)


@users.command("list")
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def list_users(settings: Settings, slug: str) -> None:
    """List a shop's users."""

    async def job(db: Database) -> list[str]:
        tenant = await find_tenant(db, slug)
        return [
            f"{u.email:<40} {u.role.value:<13} {'active' if u.is_active else 'disabled'}"
            for u in await service.list_users(db, tenant)
        ]

    for line in run_with_database(settings, job):
        click.echo(line)
