"""`policywatch demo`: the whole loop offline, on the bundled demo web."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="policywatch-demo",
              show_default=True, help="Folder for the demo's database, declarations and outputs.")
@click.option("--force", is_flag=True,
              help="Replace files of the folder that an earlier demo did not write.")
def demo(folder: str, force: bool) -> None:
    """The whole loop offline: crawls of a bundled demo web on loopback across its epochs,
    then the history, the trends chart and a digest.

    Nothing outside the demo folder is touched and no process is left running. One demo at a
    time runs in a folder, and files it did not write are only replaced with --force.

    \b
    Example:
      policywatch demo --dir /tmp/policywatch-demo
    """
    from policywatch.demo import run_demo

    try:
        run_demo(Path(folder), click.echo, force)
    except (RuntimeError, OSError) as exc:
        raise click.ClickException(f"demo: {exc}") from None


COMMANDS = (demo,)
