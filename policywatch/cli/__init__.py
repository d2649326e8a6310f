"""The `policywatch` command line: the root group and its commands, one module per group.

Each command parses its options, calls the layer below and renders the answer. Modules that are
slow to import (Scrapy, Alembic, matplotlib, the classifier) are imported inside the commands
that need them, so that `policywatch --help` stays quick.
"""

from __future__ import annotations

import click

from policywatch import __version__
from policywatch.cli import (
    calendar,
    crawl,
    daemon,
    demo,
    extract,
    history,
    mail,
    paradigms,
    report,
    serve,
    sources,
)
from policywatch.cli.app import App
from policywatch.config import ConfigError, load_config


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", envvar="POLICYWATCH_CONFIG",
              help="TOML configuration file (or POLICYWATCH_CONFIG).")
@click.option("--db", "db", metavar="URL", envvar="POLICYWATCH_DB",
              help="SQLAlchemy database URL (or POLICYWATCH_DB); default: a SQLite file in the "
                   "user's data directory.")
@click.version_option(__version__, prog_name="policywatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db: str | None) -> None:
    """Watch how the world regulates cross-border data flows.

    \b
    Example:
      policywatch crawl --sources my-sources/ && policywatch history --since 7d
    """
    try:
        ctx.obj = App(load_config(config_path), db)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.call_on_close(ctx.obj.close)


for group in (sources, crawl, extract, history, calendar, paradigms, report, mail, demo, daemon, serve):
    for command in group.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="policywatch")
