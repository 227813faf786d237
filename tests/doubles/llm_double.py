#!/usr/bin/env python3
"""TEST DOUBLE -- an LLM stand-in for Sextant's tests.  It is not a model, it
never ships in the product, and nothing in the product has a "fake mode".

No machine that runs the tests reaches a real LLM provider, so this server
speaks both wire formats the agent uses and replays answers a test scripted:

  POST /v1/chat/completions   OpenAI Chat Completions (OpenAI-compatible servers)
  POST /v1/messages           Anthropic Messages

answering in the providers' response shapes with usage token counts
(input = characters of system + user prompt // 4, output = characters of
the answer // 4).  Python 3 standard library only; listens on 127.0.0.1.

  python3 llm_double.py --port N      (N = 0 picks a free port; the port is
                                       printed as "PORT=<n>" on stdout)

Control API for the tests:

  POST /__script  {"rules":[{"match": "substring of the user prompt" | null,
                             "kind": "decide" | "verify" | "extract" |
                                     "start_url" | "errors" | "any",
                             "answers": [ ... ]}, ...]}
      Replaces the script.  The first rule whose kind and match fit a request
      answers it.  The kind comes from the marker at the top of the system
      prompt (SEXTANT-DECIDE, SEXTANT-VERIFY, SEXTANT-EXTRACT,
      SEXTANT-START-URL: the start URL of a run created without url,
      SEXTANT-ERRORS: which error codes apply to a failing task,
      SEXTANT-VERIFY-EXTRACT: the one call that verifies and extracts, kind
      "verify_extract", answered by a rule of that kind or else composed
      from the verify and extract rules as {"goal_achieved", "reasoning",
      "extracted": <the extract answer>}; any other call is of kind
      "unknown").  Each rule has
      its own cursor; after its last answer it repeats the last.  An answer is
        - a JSON object or array: sent as the model's text, JSON-encoded;
        - {"__raw": "text"}: the text sent verbatim (for garbage answers);
        - {"__http": 500, "__retry_after": "1", "__body": {...}}: an HTTP
          error (the body defaults to the provider's error shape);
        - {"__delay": seconds, ...}: waits, then answers with the rest.
      In an answer with "actions", an action may name its element by its
      visible label instead of its id: {"action":"input_text","label":"Full
      name","text":"..."}.  The double finds the element line in the prompt
      ("[e12] input:text "Full name" ...") whose first double-quoted string is
      that label (exact match first, then case-insensitive) and writes
      "element":"e12" in its place; "nth": 2 picks the second element with
      that label (two questions that both offer "Yes"); "context": "Maria
      Lopez" keeps only the lines whose row="…" or in="…" (the scraper's
      context of a repeated label) contains that text, and then exactly one
      line must match unless "nth" is given too (a context that does not
      tell the rows apart is a broken script).  When no line matches, or a
      context leaves several, it answers HTTP 500 "test double: no element
      labelled ..." or "test double: N elements labelled ..." without
      moving the cursor, so the test fails visibly even through the
      client's retries.
  GET  /__requests   every request received: path, headers (the auth
                     header's value is never recorded, only that it was
                     there), the body with image data elided, the prompts.
  POST /__reset      clears the script and the recorded requests.

Exits cleanly on SIGTERM.
"""

import argparse
import base64
import copy
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from double_server import serve

MARKERS = (("SEXTANT-VERIFY-EXTRACT", "verify_extract"),
           ("SEXTANT-DECIDE", "decide"), ("SEXTANT-VERIFY", "verify"),
           ("SEXTANT-EXTRACT", "extract"), ("SEXTANT-START-URL", "start_url"),
           ("SEXTANT-ERRORS", "errors"))
AUTH_HEADERS = ("authorization", "x-api-key")
ELEMENT_LINE = re.compile(r'^\s*\[([^\]\s]+)\]\s+\S+\s+"((?:[^"\\]|\\.)*)"(.*)$', re.M)
CONTEXT_ATTR = re.compile(r' (?:row|in)="((?:[^"\\]|\\.)*)"')


class State:
    """The script and the request log, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.requests = []
        self.counter = 0

    def reset(self):
        with self.lock:
            self.rules = []
            self.requests = []


STATE = State()


class LabelUnresolved(Exception):
    """A label the script names that resolves to no element, or with a
    context to several; args[0] is the message the double answers."""


def unescape_label(s):
    return re.sub(r'\\(.)', r'\1', s)


def resolve_labels(answer, prompt):
    """Returns a copy of answer with every action's "label" replaced by the
    element id the prompt gives that label."""
    lines = [(m.group(1), unescape_label(m.group(2)),
              " ".join(unescape_label(c) for c in CONTEXT_ATTR.findall(m.group(3))))
             for m in ELEMENT_LINE.finditer(prompt)]

    def find(label, nth, context):
        """The id of the label's element; with a context and no nth, the one
        element the context leaves."""
        named = label if context is None else "%s (in %s)" % (label, context)
        for same in (lambda t: t == label, lambda t: t.casefold() == str(label).casefold()):
            hits = [eid for eid, text, ctx in lines if same(text) and (context is None or context in ctx)]
            if context is not None and nth is None and len(hits) > 1:
                raise LabelUnresolved("test double: %d elements labelled %r in the prompt's element "
                                      "list (%s): give a context that tells them apart, or nth"
                                      % (len(hits), named, ", ".join(hits)))
            if len(hits) >= (nth or 1):
                return hits[(nth or 1) - 1]
        raise LabelUnresolved("test double: no element labelled %r in the prompt's element list" % (named,))

    def fix(action):
        if isinstance(action, dict) and "label" in action and "element" not in action:
            nth = int(action["nth"]) if "nth" in action else None
            out = {}
            for k, v in action.items():
                if k == "label":
                    out["element"] = find(v, nth, action.get("context"))
                elif k not in ("nth", "context"):
                    out[k] = v
            return out
        return action

    answer = copy.deepcopy(answer)
    if isinstance(answer, dict) and isinstance(answer.get("actions"), list):
        answer["actions"] = [fix(a) for a in answer["actions"]]
    elif isinstance(answer, list):
        answer = [fix(a) for a in answer]
    return answer


def text_of(content):
    """The text of a message content: a string or a list of parts."""
    if isinstance(content, str):
        return content
    out = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                out.append(str(part.get("text", "")))
    return "".join(out)


def elide_images(body):
    """A copy of the request body with base64 image data replaced by its
    decoded size; returns (copy, list of decoded byte strings)."""
    images = []
    body = copy.deepcopy(body)

    def visit(node):
        if isinstance(node, dict):
            if node.get("type") == "image_url" and isinstance(node.get("image_url"), dict):
                url = node["image_url"].get("url", "")
                if isinstance(url, str) and url.startswith("data:") and "," in url:
                    head, data = url.split(",", 1)
                    raw = base64.b64decode(data, validate=False)
                    images.append(raw)
                    node["image_url"]["url"] = "%s,<%d bytes>" % (head, len(raw))
            if node.get("type") == "image" and isinstance(node.get("source"), dict):
                src = node["source"]
                if isinstance(src.get("data"), str):
                    raw = base64.b64decode(src["data"], validate=False)
                    images.append(raw)
                    src["data"] = "<%d bytes>" % len(raw)
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    visit(body)
    return body, images


def image_size(raw):
    """(width, height) of a PNG or JPEG, or None: what a provider bills an image by."""
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
        return [int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")]
    i = 2
    while raw[:2] == b"\xff\xd8" and i + 9 < len(raw):
        if raw[i] != 0xFF:
            return None
        marker, seglen = raw[i + 1], int.from_bytes(raw[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return [int.from_bytes(raw[i + 7:i + 9], "big"), int.from_bytes(raw[i + 5:i + 7], "big")]
        i += 2 + seglen
    return None


def pick_rule(kind, user, kinds=("any",)):
    """(index, answer) of the first rule for kind (or one of kinds) whose match
    fits the user prompt, or (None, None).  STATE.lock must be held."""
    for i, r in enumerate(STATE.rules):
        if r["kind"] not in kinds + (kind,):
            continue
        if r["match"] is not None and r["match"] not in user:
            continue
        return i, r["answers"][min(r["cursor"], len(r["answers"]) - 1)]
    return None, None


def is_special(answer):
    return isinstance(answer, dict) and any(k in answer for k in ("__http", "__raw", "__delay"))


def verify_extract_answer(user):
    """The answer to the agent's one call that verifies and extracts, and the
    rules it used: a "verify_extract" rule when the script has one, else the
    verify rule's verdict with the extract rule's answer as "extracted" (only
    when the goal is achieved), so scripts written for two calls answer one.
    A special verify answer (HTTP error, raw text) is sent as it is; a
    special extract answer is left for the separate extraction call the
    agent then makes.  STATE.lock must be held."""
    i, answer = pick_rule("verify_extract", user, ())
    if i is not None:
        return [i], answer
    vi, verdict = pick_rule("verify", user)
    if vi is None or is_special(verdict) or not isinstance(verdict, dict):
        return ([] if vi is None else [vi]), verdict
    if verdict.get("goal_achieved") is not True:
        return [vi], verdict
    ei, extracted = pick_rule("extract", user)
    if ei is None or ei == vi or is_special(extracted):
        return [vi], verdict
    return [vi, ei], dict(verdict, extracted=extracted)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "llm-test-double/1"
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("llm_double: " + (fmt % args) + "\n")

    # -- plumbing ---------------------------------------------------------

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        return json.loads(raw.decode("utf-8")) if raw else None

    def send_json(self, status, obj, extra_headers=None):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    # -- routes -----------------------------------------------------------

    def do_GET(self):
        if self.path == "/__requests":
            with STATE.lock:
                reqs = copy.deepcopy(STATE.requests)
            self.send_json(200, reqs)
        elif self.path == "/__health":
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, {"error": {"message": "test double: no route GET %s" % self.path}})

    def do_POST(self):
        try:
            body = self.read_json()
        except (ValueError, UnicodeDecodeError) as e:
            self.send_json(400, {"error": {"message": "test double: body is not JSON: %s" % e}})
            return
        if self.path == "/__script":
            self.set_script(body)
        elif self.path == "/__reset":
            STATE.reset()
            self.send_json(200, {"ok": True})
        elif self.path == "/v1/chat/completions":
            self.model_call("openai", body)
        elif self.path == "/v1/messages":
            self.model_call("anthropic", body)
        else:
            self.send_json(404, {"error": {"message": "test double: no route POST %s" % self.path}})

    def set_script(self, body):
        rules = body.get("rules") if isinstance(body, dict) else None
        if not isinstance(rules, list):
            self.send_json(400, {"error": {"message": "test double: want {\"rules\":[...]}"}})
            return
        clean = []
        for r in rules:
            answers = r.get("answers") if isinstance(r, dict) else None
            if not isinstance(answers, list) or not answers:
                self.send_json(400, {"error": {"message": "test double: a rule needs answers"}})
                return
            clean.append({"match": r.get("match"), "kind": r.get("kind") or "any",
                          "answers": answers, "cursor": 0})
        with STATE.lock:
            STATE.rules = clean
        self.send_json(200, {"ok": True, "rules": len(clean)})

    # -- the model --------------------------------------------------------

    def model_call(self, wire, body):
        if not isinstance(body, dict):
            self.send_error_shaped(wire, 400, "test double: request body is not an object")
            return
        if wire == "openai":
            system = "".join(text_of(m.get("content")) for m in body.get("messages", [])
                             if isinstance(m, dict) and m.get("role") == "system")
        else:
            system = text_of(body.get("system", ""))
        user = "".join(text_of(m.get("content")) for m in body.get("messages", [])
                       if isinstance(m, dict) and m.get("role") == "user")
        kind = "unknown"
        for marker, k in MARKERS:
            if marker in system:
                kind = k
                break
        shown, images = elide_images(body)
        headers = {}
        auth = False
        auth_scheme = None
        for k, v in self.headers.items():
            lk = k.lower()
            if lk in AUTH_HEADERS:
                auth = True
                if lk == "authorization":
                    auth_scheme = v.split(" ", 1)[0]
            else:
                headers[lk] = v
        record = {"path": self.path, "wire": wire, "headers": headers, "auth": auth,
                  "auth_scheme": auth_scheme, "kind": kind, "body": shown,
                  "image": bool(images), "image_bytes": [len(i) for i in images],
                  "image_is_png": [i[:8] == b"\x89PNG\r\n\x1a\n" for i in images],
                  "image_size": [image_size(i) for i in images],
                  "system": system, "user": user, "rule": None, "status": None}

        with STATE.lock:
            STATE.requests.append(record)
            STATE.counter += 1
            serial = STATE.counter
            if kind == "verify_extract":
                used, answer = verify_extract_answer(user)
            else:
                rule_index, answer = pick_rule(kind, user)
                used = [] if rule_index is None else [rule_index]
            record["rule"] = used[0] if used else None

        def advance():
            with STATE.lock:
                for i in used:
                    if i < len(STATE.rules):
                        STATE.rules[i]["cursor"] += 1

        if answer is None:
            record["status"] = 500
            self.send_error_shaped(wire, 500, "test double: no scripted answer for a %s call "
                                   "(user prompt starts %r)" % (kind, user[:120]))
            return

        if isinstance(answer, dict) and "__delay" in answer:
            time.sleep(float(answer["__delay"]))
            answer = {k: v for k, v in answer.items() if k != "__delay"}

        if isinstance(answer, dict) and "__http" in answer:
            advance()
            status = int(answer["__http"])
            record["status"] = status
            extra = {}
            if answer.get("__retry_after") is not None:
                extra["Retry-After"] = str(answer["__retry_after"])
            if "__body" in answer:
                self.send_json(status, answer["__body"], extra)
            else:
                self.send_error_shaped(wire, status, "test double: scripted HTTP %d" % status,
                                       extra)
            return

        if isinstance(answer, dict) and "__raw" in answer:
            text = str(answer["__raw"])
        else:
            try:
                text = json.dumps(resolve_labels(answer, user))
            except LabelUnresolved as e:
                # The cursor stays put: a retry meets the same failure.
                record["status"] = 500
                self.send_error_shaped(wire, 500, e.args[0])
                return
        advance()
        record["status"] = 200
        tin = (len(system) + len(user)) // 4
        tout = len(text) // 4
        model = body.get("model", "test-double")
        if wire == "openai":
            resp = {"id": "chatcmpl-double-%d" % serial, "object": "chat.completion",
                    "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "logprobs": None, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": tin, "completion_tokens": tout,
                              "total_tokens": tin + tout}}
        else:
            resp = {"id": "msg_double_%d" % serial, "type": "message", "role": "assistant",
                    "model": model, "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn", "stop_sequence": None,
                    "usage": {"input_tokens": tin, "output_tokens": tout}}
        self.send_json(200, resp)

    def send_error_shaped(self, wire, status, message, extra=None):
        """An error body in the provider's own shape."""
        if wire == "anthropic":
            etype = "rate_limit_error" if status == 429 else (
                "api_error" if status >= 500 else "invalid_request_error")
            obj = {"type": "error", "error": {"type": etype, "message": message}}
        else:
            etype = "rate_limit_exceeded" if status == 429 else (
                "server_error" if status >= 500 else "invalid_request_error")
            obj = {"error": {"message": message, "type": etype, "param": None, "code": None}}
        self.send_json(status, obj, extra)


def main():
    ap = argparse.ArgumentParser(description="LLM test double (not a model)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    Handler.verbose = args.verbose
    return serve(Handler, args.port)


if __name__ == "__main__":
    sys.exit(main())
