#!/usr/bin/env python3
"""TEST DOUBLE -- a stand-in for a client's totp_verification_url endpoint, for
Sextant's tests.  It never ships in the product, and nothing in the product
has a "fake mode".

The agent POSTs {"task_id": "tsk_..."} (signed like a webhook) to a task's
totp_verification_url and expects 200 {"verification_code": "..."}; anything
else means "not yet".  This server answers such POSTs from a script and
records what it received.  Python 3 standard library only; listens on
127.0.0.1.

  python3 totp_endpoint.py --port N   (N = 0 picks a free port; the port is
                                      printed as "PORT=<n>" on stdout)

Control API for the tests:

  POST /__script  {"answers": [{"status": 404},
                               {"status": 200, "body": {"verification_code": "123456"}}]}
      Replaces the script and clears the recorded requests.  Each POST to
      any other path takes the next answer; after the last, the last
      repeats.  "body" (any JSON, default {}) is sent JSON-encoded.
  GET  /__requests  every POST received: path, headers (lower-case names,
                    including x-skyvern-timestamp and x-skyvern-signature),
                    the raw body as text, and the status answered.
  POST /__reset     clears the script and the requests.

Exits cleanly on SIGTERM.
"""

import argparse
import copy
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler

from double_server import serve

LOCK = threading.Lock()
SCRIPT = {"answers": [{"status": 404}], "cursor": 0}
REQUESTS = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "totp-endpoint-test-double/1"

    def log_message(self, fmt, *args):
        pass

    def read_raw(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status, obj):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/__requests":
            with LOCK:
                reqs = copy.deepcopy(REQUESTS)
            self.send_json(200, reqs)
        else:
            self.send_json(404, {"detail": "test double: no route GET %s" % self.path})

    def do_POST(self):
        raw = self.read_raw()
        if self.path == "/__script":
            try:
                body = json.loads(raw.decode("utf-8"))
                answers = body["answers"]
                if not isinstance(answers, list) or not answers:
                    raise ValueError("answers must be a non-empty list")
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
                self.send_json(400, {"detail": "test double: bad script: %s" % e})
                return
            with LOCK:
                SCRIPT["answers"] = answers
                SCRIPT["cursor"] = 0
                del REQUESTS[:]
            self.send_json(200, {"ok": True})
            return
        if self.path == "/__reset":
            with LOCK:
                SCRIPT["answers"] = [{"status": 404}]
                SCRIPT["cursor"] = 0
                del REQUESTS[:]
            self.send_json(200, {"ok": True})
            return
        with LOCK:
            answers = SCRIPT["answers"]
            answer = answers[min(SCRIPT["cursor"], len(answers) - 1)]
            SCRIPT["cursor"] += 1
            status = int(answer.get("status", 200))
            REQUESTS.append({"path": self.path,
                             "headers": {k.lower(): v for k, v in self.headers.items()},
                             "body": raw.decode("utf-8", "replace"),
                             "status": status})
        self.send_json(status, answer.get("body", {}))


def main():
    ap = argparse.ArgumentParser(description="TOTP endpoint test double")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    return serve(Handler, args.port)


if __name__ == "__main__":
    sys.exit(main())
