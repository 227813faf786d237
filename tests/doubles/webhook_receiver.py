#!/usr/bin/env python3
"""TEST DOUBLE -- a webhook receiver for Sextant's tests and benchmarks.  It
stands in for a client's backend; it never ships in the product.

It records every request it gets and answers as the test scripted.  Python 3
standard library only; listens on 127.0.0.1.

  python3 webhook_receiver.py --port N    (N = 0 picks a free port; the port
                                           is printed as "PORT=<n>" on stdout)

Any path other than the control paths below is a webhook endpoint: every
method is recorded and answered from the script.

Control API:

  POST /__script  {"answers":[{"status":500},
                              {"status":200,"retry_after":"1"},
                              {"status":200,"delay":2.5}, ...]}
      Replaces the script.  Requests are answered in order; after the list
      the last answer repeats; with no script every request gets 200.
      "retry_after" sets a Retry-After header, "delay" waits that many
      seconds before answering, "body" is the answer's body (default "ok").
  GET  /__requests   every request received, oldest first:
                     {"method", "path", "headers": {lower-case name: value},
                      "body": text (when UTF-8) , "body_b64": raw bytes,
                      "received_at": unix seconds (float),
                      "answered": the status sent}
  GET  /__count      {"count": number of requests recorded}
  POST /__reset      clears the script and the record.

Exits cleanly on SIGTERM.
"""

import argparse
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from double_server import serve


class State:
    """The script and the record, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []
        self.cursor = 0
        self.requests = []

    def reset(self):
        with self.lock:
            self.answers = []
            self.cursor = 0
            self.requests = []

    def next_answer(self):
        with self.lock:
            if not self.answers:
                return {"status": 200}
            a = self.answers[min(self.cursor, len(self.answers) - 1)]
            self.cursor += 1
            return a


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _control(self, raw):
        if self.command == "GET" and self.path == "/__requests":
            with STATE.lock:
                data = json.dumps(STATE.requests)
            self._send(200, data)
        elif self.command == "GET" and self.path == "/__count":
            with STATE.lock:
                n = len(STATE.requests)
            self._send(200, json.dumps({"count": n}))
        elif self.command == "POST" and self.path == "/__script":
            try:
                doc = json.loads(raw or b"{}")
                answers = doc.get("answers", [])
                assert isinstance(answers, list)
            except (ValueError, AssertionError, AttributeError):
                self._send(400, json.dumps({"error": "bad script"}))
                return
            with STATE.lock:
                STATE.answers = answers
                STATE.cursor = 0
            self._send(200, json.dumps({"ok": True}))
        elif self.command == "POST" and self.path == "/__reset":
            STATE.reset()
            self._send(200, json.dumps({"ok": True}))
        else:
            self._send(404, json.dumps({"error": "unknown control path"}))

    def _handle(self):
        raw = self._read_body()
        if self.path.startswith("/__"):
            self._control(raw)
            return
        received = time.time()
        answer = STATE.next_answer()
        status = int(answer.get("status", 200))
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_b64": base64.b64encode(raw).decode(),
            "received_at": received,
            "answered": status,
        }
        try:
            rec["body"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            rec["body"] = None
        with STATE.lock:
            STATE.requests.append(rec)
        if answer.get("delay"):
            time.sleep(float(answer["delay"]))
        extra = {}
        if answer.get("retry_after") is not None:
            extra["Retry-After"] = str(answer["retry_after"])
        try:
            self._send(status, answer.get("body", "ok"), "text/plain", extra)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle
    do_PATCH = _handle


def main():
    ap = argparse.ArgumentParser(description="webhook receiver test double")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    return serve(Handler, args.port)


if __name__ == "__main__":
    sys.exit(main())
