"""`policywatch serve`: the store in a browser, a feed reader or a program, read-only."""

from __future__ import annotations

import click

from policywatch.cli.app import App, pass_app

DEFAULT_PORT = 8780


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; beyond loopback only with credentials from the "
                   "environment (POLICYWATCH_SERVE_TOKEN, or POLICYWATCH_SERVE_USER and "
                   "POLICYWATCH_SERVE_PASSWORD).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on.")
@pass_app
def serve(app: App, host: str, port: int) -> None:
    """A read-only web view of the store: changes, instruments with word-marked diffs, trends,
    source health; Atom feeds of any filter (/feed.atom) and of each configured subscription
    (/feed/NAME.atom), and a JSON API (/api/openapi.json).

    \b
    Example:
      policywatch serve --port 8780
      POLICYWATCH_SERVE_TOKEN=s3cret policywatch serve --host 0.0.0.0
    """
    import uvicorn

    from policywatch.web import create_app
    from policywatch.web.security import LOOPBACK_NAMES, Credentials, binding_refusal, is_loopback
    from policywatch.web.store import ReadOnlyStore
    from storage.database import StoreError

    try:
        credentials = Credentials.from_environment()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    refusal = binding_refusal(host, credentials)
    if refusal:
        raise click.ClickException(refusal)
    try:
        store = ReadOnlyStore(app.database_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving {app.database_url} read-only on http://{shown}:{port}/ (Ctrl-C stops)",
               err=True)
    hosts = LOOPBACK_NAMES if is_loopback(host) else ("*",)
    uvicorn.run(create_app(store, credentials, hosts, app.config.subscriptions), host=host,
                port=port, log_level="warning", server_header=False, proxy_headers=False)


COMMANDS = (serve,)
