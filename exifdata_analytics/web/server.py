"""Serving the browser: waitress (a pure-Python, multi-threaded WSGI server) in front of the
Flask app, bound to 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import InputError
from .app import ANY_ADDRESS, LOOPBACK_NAMES, create_app

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8770
THREADS = 8


@dataclass(frozen=True)
class ServerPlan:
    url: str  # where to open it
    warning: Optional[str]  # said before serving when the database is visible beyond this machine


def plan(host: str, port: int) -> ServerPlan:
    if not 0 < port < 65536:
        raise InputError(f"--port {port} is not a port number (1-65535)")
    shown = "127.0.0.1" if host in ANY_ADDRESS else host
    if ":" in shown:
        shown = f"[{shown}]"
    warning = None
    if host not in LOOPBACK_NAMES:
        warning = (f"--host {host}: the browser is reachable from other machines"
                   f"{' on every network of this one' if host in ANY_ADDRESS else ''}; anyone who can reach "
                   f"port {port} can see your images and prompts (there is no login). Use it on a network you trust.")
    return ServerPlan(f"http://{shown}:{port}/", warning)


def make_server(db_path: Path, thumbnail_dir: Optional[Path], host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
    """A waitress server, bound and ready (``.run()`` serves until interrupted, ``.close()``)."""
    from waitress.server import create_server

    app = create_app(db_path, thumbnail_dir, host)
    try:
        server = create_server(app, host=host, port=port, threads=THREADS, ident="ExifData Analytics",
                               clear_untrusted_proxy_headers=True)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); another program may use the "
                         "port: pass another with --port") from None
    except (socket.gaierror, ValueError) as exc:
        raise InputError(f"--host {host!r} is not an address of this machine ({exc})") from None
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # 'task queue depth' chatter under load
    return server
