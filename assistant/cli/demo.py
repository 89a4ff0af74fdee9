"""`ro-assistant demo load`: the demo shops, their users and their repair orders."""

from __future__ import annotations

import click

from assistant.cli.common import load_keyring, progress_bar, run_with_database
from assistant.db.session import Database
from assistant.embedding import embedder_for
from assistant.settings import Settings


@click.group()
def demo() -> None:
    """Demo data."""


@demo.command()
@click.option("--shops", default=2, show_default=True, type=click.IntRange(1, 200))
@click.option("--ros-per-shop", default=400, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=20240601, show_default=True, type=int)
@click.option("--show-logins/--no-show-logins", default=True, show_default=True)
@click.pass_obj
def load(settings: Settings, shops: int, ros_per_shop: int, seed: int, show_logins: bool) -> None:
    """Create the demo shops with a user of each role and load their repair orders."""
    from assistant.demo.load import ShopLoad, demo_logins, load_demo

    ring = load_keyring(settings)
    embedder = embedder_for(settings)

    async def job(db: Database) -> list[ShopLoad]:
        with progress_bar() as bar:
            task = bar.add_task("demo", total=shops * ros_per_shop)
            return await load_demo(
                db,
                ring,
                embedder,
                shops=shops,
                ros_per_shop=ros_per_shop,
                seed=seed,
                on_shop=lambda slug, _n: bar.update(task, description=slug),
                progress=lambda n: bar.advance(task, n),
            )

    loads = run_with_database(settings, job)
    for shop in loads:
        click.echo(f"{shop.tenant.slug}: {shop.report.summary()}")
        for rejection in shop.report.rejected:
            click.echo(f"  rejected {rejection.describe()}", err=True)
    if show_logins:
        click.echo("demo logins (fictional data, local only):")
        for shop in loads[:2]:
            for login in demo_logins(shop.tenant.slug):
                click.echo(
                    f"  {login.slug:<20} {login.role.value:<13} {login.email:<36} "
                    f"password {login.password}"
                )
    if any(shop.report.rejected for shop in loads):
        raise SystemExit(1)
