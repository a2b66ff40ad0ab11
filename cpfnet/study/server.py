"""Run the study's app with waitress (a pure-Python, multi-threaded WSGI server, fine from a laptop to a
server behind an HTTPS proxy)."""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import sys

from cpfnet.errors import UserError
from cpfnet.study.app import MAX_BODY, create_app
from cpfnet.study.manifest import Study
from cpfnet.study.store import Store

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(study: Study, store: Store, host: str = "127.0.0.1", port: int = 8000, threads: int = 8,
          secure_cookies: bool = False, admin_token: str | None = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM). Prints the rating page's and the admin page's addresses."""
    from waitress import create_server

    # A deep queue is what a burst of raters looks like; waitress would warn once per queued request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    token = admin_token or study.admin_token()
    app = create_app(study, store, token, secure_cookies=secure_cookies)
    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="cpfnet-study",
                               max_request_body_size=4 * MAX_BODY, channel_timeout=60, connection_limit=400,
                               clear_untrusted_proxy_headers=True)
    except (OSError, socket.gaierror) as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{server.effective_port}"
    if not is_loopback(host):
        log.warning("listening on %s, reachable from the network: serve it through an HTTPS proxy and pass "
                    "--secure-cookies", host)
    print(f"rating page: {address}/", flush=True)
    print(f"admin page:  {address}/admin?token={token}", flush=True)
    print(f"votes in:    {getattr(store, 'path', None) or 'PostgreSQL'}", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr, flush=True)
    finally:
        server.close()
        store.close()
