#!/usr/bin/env python3
"""bench/sdk: Skyvern's own SDKs, unchanged, against this stack, call by call.

    ./stack up                                   # SX_STACK_AGENT=0 is fine: this starts its own
    python3 bench/sdk/run.py --skyvern DIR [--skyvern-old DIR] [--ts DIR]

DIR is a Skyvern checkout (or an export of one) outside this tree:
  --skyvern      today's tree: skyvern/client/ (the run API under /v1)
  --skyvern-old  the tree before the run API (e.g. the parent of 4e7dd87f9):
                 skyvern/client/ speaks /api/v1/tasks
  --ts           a built TypeScript SDK (bench/sdk/build-ts.sh makes one from
                 skyvern-ts/client/)
Each SDK runs in a process of its own (bench/sdk/sdk_py.py, sdk_ts.js).

This script starts, on free loopback ports, the LLM test double (scripted
so that a task on the product fixture completes in one step), the webhook
receiver double, and a sextant-agent on the stack's config pointed at the
double; it stops them at the end.  It prints a Markdown table: call, pass or
FAIL, and the error.  Exit status 1 when a call failed.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

LLM_SCRIPT = {"rules": [
    # The product fixture: done at once; then verification and extraction.
    {"kind": "decide", "match": "Aeropress", "answers": [
        {"reasoning": "The product page is shown", "actions": [{"action": "complete"}]}]},
    # The callback form (never/): a slow step, so that cancel meets a live task.
    {"kind": "decide", "match": None, "answers": [
        {"__delay": 5, "reasoning": "Waiting", "actions": [{"action": "wait", "seconds": 1}]}]},
    {"kind": "verify", "answers": [{"goal_achieved": True, "reasoning": "The price is shown"}]},
    {"kind": "extract", "answers": [{"name": "Aeropress Clear Coffee Maker", "price": 249}]},
]}


def stack_env():
    path = os.path.join(os.environ.get("SX_VAR_DIR", os.path.join(ROOT, "var")), "stack.env")
    env = {}
    for line in open(path):
        m = re.match(r"^(\w+)='(.*)'$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


class Procs:
    """The processes this script starts; stop() ends exactly those."""

    def __init__(self):
        self.procs = []

    def double(self, script):
        p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/doubles", script), "--port", "0"],
                             stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline().strip()
        if not line.startswith("PORT="):
            raise RuntimeError("%s printed %r" % (script, line))
        return "http://127.0.0.1:" + line.split("=", 1)[1]

    def agent(self, env, llm):
        conf = tempfile.NamedTemporaryFile("w", prefix="sx-sdk-agent-", suffix=".conf", delete=False)
        ours = {"llm_provider": "openai", "llm_base_url": llm + "/v1", "llm_api_key_env": "SX_SDK_LLM_KEY",
                "llm_max_retries": "0", "agent_workers": "2", "poll_interval_ms": "100"}
        for line in open(env["SX_CONF"]):
            if line.split("=", 1)[0].strip() not in ours:
                conf.write(line)
        conf.write("".join("%s = %s\n" % kv for kv in ours.items()))
        conf.close()
        log = open(os.path.join(env["SX_VAR"], "log", "agent-sdk-bench.log"), "a")
        p = subprocess.Popen([os.path.join(ROOT, "sextant-agent"), "--config", conf.name],
                             stdout=log, stderr=log, env=dict(os.environ, SX_SDK_LLM_KEY="double"))
        self.procs.append(p)

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def run_driver(cmd, env):
    """Runs one SDK driver; returns its result rows."""
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    rows = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
    if out.returncode and not rows:
        rows.append({"sdk": " ".join(cmd[:2]), "call": "start the driver", "ok": False,
                     "detail": (out.stderr.strip().splitlines() or ["exit %d" % out.returncode])[-1]})
    return rows


def table(rows):
    print("| SDK | call | result | error |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % (r["sdk"], r["call"], "pass" if r["ok"] else "FAIL",
                                         r["detail"].replace("|", "\\|")))
    bad = sum(1 for r in rows if not r["ok"])
    print("\n%d passed, %d failed" % (len(rows) - bad, bad))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skyvern", help="today's Skyvern tree (skyvern/client/)")
    ap.add_argument("--skyvern-old", help="Skyvern's tree before the run API (skyvern/client/)")
    ap.add_argument("--ts", help="the built TypeScript SDK (bench/sdk/build-ts.sh)")
    args = ap.parse_args()
    env = stack_env()
    procs = Procs()
    rows = []
    try:
        llm = procs.double("llm_double.py")
        hook = procs.double("webhook_receiver.py")
        post(llm + "/__script", LLM_SCRIPT)
        procs.agent(env, llm)
        denv = dict(os.environ, SX_URL=env["SX_URL"], SX_API_KEY=env["SX_API_KEY"],
                    SDK_SITE=env["SX_URL"] + "/sites/", SDK_HOOK=hook)
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        if args.skyvern:
            rows += run_driver([py, os.path.join(HERE, "sdk_py.py"), "--sdk", args.skyvern,
                                "--surface", "run"], denv)
        if args.skyvern_old:
            rows += run_driver([py, os.path.join(HERE, "sdk_py.py"), "--sdk", args.skyvern_old,
                                "--surface", "task"], denv)
        if args.ts:
            rows += run_driver(["node", os.path.join(HERE, "sdk_ts.js"), args.ts], denv)
    finally:
        procs.stop()
    return 1 if table(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
