#!/usr/bin/env python3
"""TEST DOUBLE -- a WebDriver endpoint that is not chromedriver, for
Sextant's tests.  It never ships in the product.

It forwards every WebDriver command to a real endpoint (chromedriver) and
records it; unless told otherwise it answers the vendor routes under
/session/{id}/goog/ (chromedriver's CDP endpoint) with the W3C error
"unknown command", as a remote WebDriver that is not chromedriver does.  Python 3 standard library only; listens on
127.0.0.1.

  python3 webdriver_nocdp.py --port N   (N = 0 picks a free port; the port
                                         is printed as "PORT=<n>" on stdout)

Control API:

  POST /__script    {"upstream": "http://127.0.0.1:9515", "cdp": false}
                    where to forward, and whether the goog/ routes are
                    forwarded too (default false: refused).
  GET  /__requests  every command received, oldest first:
                    [{"method": "GET", "path": "/session/…/screenshot"}, …]

Exits cleanly on SIGTERM.
"""

import argparse
import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

from double_server import serve


class State:
    """The upstream and the record, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.upstream = None
        self.cdp = False
        self.requests = []


STATE = State()


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self, body):
        req = urllib.request.Request(STATE.upstream + self.path, data=body, method=self.command,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        if self.path == "/__script" and self.command == "POST":
            script = json.loads(body or b"{}")
            with STATE.lock:
                STATE.upstream = script.get("upstream")
                STATE.cdp = bool(script.get("cdp"))
            return self.answer(200, {"ok": True})
        if self.path == "/__requests":
            with STATE.lock:
                return self.answer(200, list(STATE.requests))
        with STATE.lock:
            STATE.requests.append({"method": self.command, "path": self.path})
        if "/goog/" in self.path and not STATE.cdp:
            return self.answer(404, {"value": {"error": "unknown command",
                                               "message": "unknown command: " + self.path,
                                               "stacktrace": ""}})
        return self.forward(body)

    do_GET = do_POST = do_DELETE = handle_any

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    return serve(Handler, ap.parse_args().port)


if __name__ == "__main__":
    sys.exit(main())
