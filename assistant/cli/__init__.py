"""The `ro-assistant` command line.

Commands act as the application role, inside one named shop as ADMIN (design.md); only
`db migrate` uses the owner role. Errors a user can cause print one line, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from assistant import logging
from assistant.cli import audit, db, demo, ingest, keys, retrieval, shops
from assistant.cli.common import EXPECTED_ERRORS
from assistant.settings import Settings


class _Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Cli)
@click.pass_context
def main(ctx: click.Context) -> None:
    """RO Assistant: chat over a repair shop's own repair orders."""
    settings = Settings.from_env()
    # The CLI speaks to people on stdout/stderr; its JSON log stays quiet unless asked.
    logging.configure(settings.log_level or "WARNING", settings.log_file)
    ctx.obj = settings


for group in (
    db.db,
    shops.tenants,
    shops.users,
    keys.keys,
    ingest.ingest,
    audit.audit,
    demo.demo,
    db.serve,
    retrieval.embedder,
    retrieval.reindex,
    retrieval.search_command,
    retrieval.eval_command,
):
    main.add_command(group)

__all__ = ["main"]
