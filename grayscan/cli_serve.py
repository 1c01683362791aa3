"""``grayscan serve``: the review web app (``grayscan.web``) on a local address."""

from __future__ import annotations

import getpass
import socket

import click

from .exitcodes import Exit
from .options import console, db_option, fail, open_store


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any non-loopback address needs --password.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 = any free port.")
@click.option("--user", help="Reviewer name recorded with each decision (default: your login name); with a "
                             "password, each reviewer gives a name when logging in.")
@click.option("--password", envvar="GRAYSCAN_PASSWORD", show_envvar=True,
              help="Require a login with this password (prefer the environment variable: a command line is visible "
                   "to other users of the machine).")
@click.option("--reports-dir", type=click.Path(file_okay=False),
              help="Where report batches are written (default: reports/ beside the database).")
def serve(db_path: str, host: str, port: int, user: str | None, password: str | None, reports_dir: str | None) -> None:
    """Review the takedown queue in a browser: keyboard review, bulk decisions, item evidence, report
    batches, account lists and a dashboard.

    Example: grayscan serve --db grayscan.db   (then open http://127.0.0.1:8000)
    """
    import uvicorn

    from crawler.hosts import is_loopback

    from .web.app import create_app

    loopback = is_loopback(host)
    if not loopback and not password:
        fail(f"refusing to serve on {host} without a password: anyone who can reach it could review, report and "
             "export accounts. Give --password (or set GRAYSCAN_PASSWORD), or keep the default --host 127.0.0.1",
             code=Exit.USAGE)
    open_store(db_path).close()  # refuses a missing database; brings the schema forward once, before any request
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family)
        # Accepted connections inherit this: a response's head and body are not held back for an ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}; try another --port (0 = any free port)",
             code=Exit.USAGE)
    reviewer = user or _default_user()
    app = create_app(db_path, user=reviewer, password=password or None, loopback_only=loopback,
                     reports_dir=reports_dir)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    who = "log in with the password" if password else f"reviewing as {reviewer}"
    console.print(f"grayscan serve: http://{shown_host}:{bound_port}/ ({who}; Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    server.run(sockets=[sock])


COMMANDS = [serve]
