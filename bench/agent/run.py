#!/usr/bin/env python3
"""bench/agent: the agent's own cost per step, with the LLM test double
answering instantly (tests/doubles/llm_double.py), on the fixture pages.

    ./stack up                       # once (a build without --enable-asan measures the product)
    python3 bench/agent/run.py [--tasks N] [--recording on|off] [--steps-only | --memory-only]
                               [--pages TEXT] [--tokens] [--agent PATH]

Measures, from the agent's "step done" and "action done" log lines and the database:
  * overhead per step excluding LLM time (observe + act), median and p95, per page;
  * time per browser action (the action, its screenshot when it takes one), median
    and p95 per action kind, and how many actions took a screenshot;
  * element-list size in tokens (bytes / 4) per page, and with --tokens in o200k
    tokens (the element list of each decide prompt, counted alone);
  * steps per task, and the settle wait before each observation (issue 16);
  * time from the POST to the first browser action (first action screenshot),
    and to the claim (the task's started_at: the worker's poll, then the claim);
  * memory with 1, 2 and 4 concurrent tasks: the proportional set size
    (PSS, /proc/PID/smaps_rollup) of an agent worker and of the whole
    chromedriver + Chromium process tree under the agent, in total and per
    task.  PSS divides each shared page among the processes that map it, so
    the sum over a tree counts Chromium's shared pages once (summed RSS
    counted them once per process).  With the warm browser pool on, the
    tree includes the warm Chromium each worker keeps for its next task;
    with browser_mode = shared, the one Chromium of the agent's browser
    host and each worker's chromedriver.  --memory-modes pool,nopool,shared
    runs each count in each set-up, interleaved.
Everything runs on loopback and stops by itself; prints Markdown tables.
"""
import argparse, json, os, re, signal, statistics, struct, subprocess, sys, tempfile, time, urllib.error, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load_env():
    env = {}
    for line in open(os.path.join(os.environ.get("SX_VAR_DIR") or os.path.join(ROOT, "var"), "stack.env")):
        m = re.match(r"^(\w+)='(.*)'$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


ENV = load_env()


def http(method, url, body=None, key=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("x-api-key", key)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def sql(query):
    out = subprocess.run(["mariadb", "--socket=" + ENV["SX_DB_SOCKET"], "-u", ENV["SX_DB_USER"],
                          "-p" + ENV["SX_DB_PASSWORD"], ENV["SX_DB_NAME"], "-N", "-B", "-e", query],
                         capture_output=True, text=True, check=True)
    return [l.split("\t") for l in out.stdout.splitlines()]


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


SITE = ENV["SX_URL"] + "/sites/"

# One scripted run per page: (name, path, goal, extraction goal, decide rules).
PAGES = [
    ("job form", "job/index.html", "Apply for a job", None, [
        ("thanks.html", [{"action": "complete"}]),
        (None, [{"action": "input_text", "label": "Full name", "text": "Chris P. Bacon"},
                {"action": "input_text", "label": "Email", "text": "chris@pbacon.com"},
                {"action": "select_option", "label": "How did you hear about us?", "option": "LinkedIn"},
                {"action": "check", "label": "I agree to the processing of my personal data for recruitment purposes"},
                {"action": "click", "label": "Submit application"}])]),
    ("insurance wizard", "wizard/index.html", "Get a car insurance quote", None, [
        ("quote.html", [{"action": "complete"}]),
        ("review.html", [{"action": "click", "label": "Get quote"}]),
        ("vehicle.html", [{"action": "select_option", "label": "Vehicle year", "option": "2019"},
                          {"action": "click", "label": "Personal use"},
                          {"action": "check", "label": "The car is kept in a garage overnight"},
                          {"action": "click", "label": "Continue"}]),
        (None, [{"action": "input_text", "label": "Full name", "text": "Jane Doe"},
                {"action": "input_text", "label": "Date of birth", "text": "1990-04-12"},
                {"action": "select_option", "label": "State", "option": "Oregon"},
                {"action": "click", "label": "Continue"}])]),
    ("shadow DOM + iframe", "shadow/index.html", "Subscribe and send a message", None, [
        ("You are subscribed", [{"action": "complete"}]),
        (None, [{"action": "input_text", "label": "Your name", "text": "Ada"},
                {"action": "input_text", "label": "Newsletter email", "text": "ada@example.com"},
                {"action": "click", "label": "Subscribe"},
                {"action": "input_text", "label": "Your email", "text": "ada@example.com"},
                {"action": "input_text", "label": "Message", "text": "Hello"},
                {"action": "click", "label": "Send message"}])]),
    ("cookie modal", "modal/index.html", "Sign in", None, [
        ("Signed in as", [{"action": "complete"}]),
        ('"Email address"', [{"action": "input_text", "label": "Email address", "text": "sam@example.com"},
                             {"action": "input_text", "label": "Password", "text": "pw-123456"},
                             {"action": "click", "label": "Sign in"}]),
        (None, [{"action": "click", "label": "Accept"}])]),
    ("product (extraction)", "product/index.html", None, "Extract the product name and price", []),
    ("application, 30 fields", "apply/index.html", "Apply for the Senior Data Analyst job", None, [
        ("Thank you, your application was received", [{"action": "complete"}]),
        (None, [{"action": "input_text", "label": "First name", "text": "Morgan"},
                {"action": "input_text", "label": "Last name", "text": "Reyes"},
                {"action": "input_text", "label": "Email address", "text": "morgan.reyes@example.com"},
                {"action": "input_text", "label": "Phone number", "text": "+1 503 555 0148"},
                {"action": "input_text", "label": "Street address", "text": "1220 SE Ash St"},
                {"action": "input_text", "label": "City", "text": "Portland"},
                {"action": "select_option", "label": "State / Province", "option": "Oregon"},
                {"action": "input_text", "label": "ZIP / Postal code", "text": "97214"},
                {"action": "select_option", "label": "Country", "option": "United States"},
                {"action": "input_text", "label": "Current or most recent employer", "text": "Cascadia Clinics"},
                {"action": "input_text", "label": "Current or most recent job title", "text": "Data Analyst"},
                {"action": "select_option", "label": "Years of professional experience", "option": "7 years"},
                {"action": "select_option", "label": "Highest level of education", "option": "Master's degree"},
                {"action": "input_text", "label": "Earliest start date", "text": "2027-01-11"},
                {"action": "click", "label": "Yes"},
                {"action": "click", "label": "No", "nth": 2},
                {"action": "check", "label": "I certify that the information in this application is true and complete"},
                {"action": "click", "label": "Submit application"}])]),
    # The ideal model completes only when the prompt shows the tent, and
    # extracts only what the verify + extract prompt shows of it.
    ("catalog, 2,400 links (extraction)", "catalog/index.html", "Find the Summit Ridge 3 Tent",
     "Extract the name and price of the Summit Ridge 3 Tent", [
        ('"Summit Ridge 3 Tent $349.00"', [{"action": "complete"}]),
        {"kind": "verify_extract", "match": "Summit Ridge 3 Tent $349.00",
         "answers": [{"goal_achieved": True, "reasoning": "the catalog lists it",
                      "extracted": {"name": "Summit Ridge 3 Tent", "price": 349}}]}]),
    # Issue 16: which of 80 Edit/Delete buttons (the row context), a confirm dialog, late pages.
    ("admin table, 40 rows", "admin/users.html", "Delete the user Julia Kowalski", None, [
        ("was deleted", [{"action": "complete"}]),
        ("Are you sure", [{"action": "click", "label": "Delete user"}]),
        # By position (Julia Kowalski is the 29th row), so that a build without row context runs it too.
        (None, [{"action": "click", "label": "Delete", "nth": 29}])]),
    ("late form (1.5 s)", "late/index.html", "Apply for a library card", None, [
        ("Application received", [{"action": "complete"}]),
        ('"Full name"', [{"action": "input_text", "label": "Full name", "text": "Rosa Diaz"},
                         {"action": "input_text", "label": "Email", "text": "rosa@example.com"},
                         {"action": "input_text", "label": "ZIP code", "text": "97214"},
                         {"action": "click", "label": "Request card"}]),
        (None, [{"action": "wait", "seconds": 2}])]),
    ("late combobox (150 ms)", "late/city.html", "Choose Lisbon as the city I am moving to", None, [
        ("Great choice", [{"action": "complete"}]),
        ('option "Lisbon, Portugal"', [{"action": "click", "label": "Lisbon, Portugal"},
                                       {"action": "click", "label": "Continue"}]),
        ('value="Lis"', [{"action": "wait", "seconds": 1}]),
        (None, [{"action": "input_text", "label": "City", "text": "Lis"}])]),
]


def script_for(rules):
    """The double's script for a page: its decide rules (match, actions), and
    rules of other kinds given whole (dicts), before the default verify and
    extract answers; a page with its own verify_extract rule gets no defaults,
    so a prompt its rule does not match fails the task."""
    out = []
    for r in rules:
        if isinstance(r, dict):
            out.append(dict(r))
        else:
            out.append({"kind": "decide", "match": r[0], "answers": [{"actions": r[1]}]})
    if not any(r["kind"] == "verify_extract" for r in out):
        out.append({"kind": "verify", "answers": [{"goal_achieved": True}]})
        out.append({"kind": "extract", "answers": [{"name": "Trailblazer 2 Tent", "price": 249}]})
    return {"rules": out}


class Double:
    def __enter__(self):
        self.p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/doubles/llm_double.py"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        self.url = "http://127.0.0.1:%s" % line.strip().split("=")[1]
        return self

    def script(self, s):
        http("POST", self.url + "/__script", s)

    def __exit__(self, *a):
        self.p.terminate()
        self.p.wait(10)


# Where --dump-calls writes every model call the double received, per page and task.
DUMP_CALLS = None

# Agent config overrides from the command line (--recording).
EXTRA_OVERRIDES = {}

# The sextant-agent binary to measure (--agent; default: the one built here), for A/B runs.
AGENT_BIN = None


class Agent:
    def __init__(self, double_url, workers, log):
        self.workers, self.log, self.double_url = workers, log, double_url

    def __enter__(self):
        over = {"llm_provider": "openai", "llm_base_url": self.double_url + "/v1",
                "llm_api_key_env": "SX_BENCH_LLM_KEY", "agent_workers": str(self.workers),
                "poll_interval_ms": "50", "log_level": "info", "llm_max_retries": "0"}
        over.update(EXTRA_OVERRIDES)
        lines = [l for l in open(ENV["SX_CONF"]) if l.split("=")[0].strip() not in over]
        self.conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        self.conf.write("".join(lines) + "".join("%s = %s\n" % kv for kv in over.items()))
        self.conf.close()
        self.p = subprocess.Popen([AGENT_BIN or os.path.join(ROOT, "sextant-agent"), "--config", self.conf.name],
                                  stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        return self

    def __exit__(self, *a):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
        os.unlink(self.conf.name)


def wait_final(key, tid, timeout=300):
    t0 = time.time()
    while time.time() - t0 < timeout:
        t = http("GET", "%s/api/v1/tasks/%s" % (ENV["SX_URL"], tid), key=key)
        if t["status"] not in ("queued", "running", "created"):
            return t
        time.sleep(0.2)
    raise SystemExit("task %s did not finish" % tid)


def new_org():
    admin = [os.path.join(ROOT, "sextant-admin"), "--config", ENV["SX_CONF"]]
    org = subprocess.run(admin + ["org", "create", "bench"], capture_output=True, text=True, check=True).stdout.strip()
    return subprocess.run(admin + ["key", "create", "--org", org], capture_output=True, text=True, check=True).stdout.strip()


def clear_queue():
    sql("UPDATE tasks SET status='canceled', finished_at=UTC_TIMESTAMP(6) WHERE status IN ('queued','running')")


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open("/proc/%s/stat" % d).read()
                ppid = int(st.rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def pss_kib(pid, fields=("Pss:",)):
    """The process's proportional set size (or the sum of other smaps_rollup
    fields); 0 when it is gone or unreadable."""
    total = 0
    try:
        for l in open("/proc/%d/smaps_rollup" % pid):
            if l.startswith(fields):
                total += int(l.split()[1])
    except OSError:
        pass
    return total


def tree_kib(pids):
    """The resident memory of a set of processes with every physical page
    counted once, however many of them map it, and whatever other programs
    on the machine (other agents' Chromiums) map it too, which summed PSS
    would charge them part of.  A mapping with no shared page counts its
    Rss; the pages of the others are looked up in /proc/PID/pagemap (root
    only): those mapped exclusively count once, the rest by page frame."""
    frames, private = set(), 0
    for pid in pids:
        try:
            smaps = open("/proc/%d/smaps" % pid).read().splitlines()
            pm = open("/proc/%d/pagemap" % pid, "rb")
        except OSError:
            continue
        with pm:
            for start, end, rss, shared in mappings(smaps):
                if not shared:
                    private += rss
                    continue
                try:
                    pm.seek(start // 4096 * 8)
                    data = pm.read((end - start) // 4096 * 8)
                except OSError:
                    continue
                for (e,) in struct.iter_unpack("<Q", data):
                    if not e >> 63:
                        continue                      # not resident
                    if e >> 56 & 1:
                        private += 4                  # mapped by this process alone
                    else:
                        frames.add(e & ((1 << 55) - 1))
    return private + len(frames) * 4


def mappings(smaps):
    """(start, end, Rss KiB, shared KiB) of every mapping in /proc/PID/smaps lines."""
    cur = None
    for line in smaps:
        f = line.split()
        if f and "-" in f[0] and not f[0].endswith(":"):
            if cur:
                yield cur
            a, b = f[0].split("-")
            cur = [int(a, 16), int(b, 16), 0, 0]
        elif cur and len(f) > 1 and f[0] == "Rss:":
            cur[2] = int(f[1])
        elif cur and len(f) > 1 and f[0] in ("Shared_Clean:", "Shared_Dirty:"):
            cur[3] += int(f[1])
    if cur:
        yield cur


def is_browser(pid):
    """A Chromium browser process (not one of its renderers, GPU or utility processes)."""
    try:
        args = open("/proc/%d/cmdline" % pid).read().split("\0")
    except OSError:
        return False
    return any(a.startswith("--user-data-dir=") for a in args) and not any(a.startswith("--type=") for a in args)


def comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return ""


def bench_steps(double, key, per_page, logdir, tokens=False):
    results, calls = [], {}
    log = os.path.join(logdir, "agent-steps.log")
    with Agent(double.url, 1, log):
        for name, path, goal, extract, rules in PAGES:
            double.script(script_for(rules))
            tids = []
            for _ in range(per_page):
                seen = len(http("GET", double.url + "/__requests"))
                body = {"url": SITE + path}
                if goal:
                    body["navigation_goal"] = goal
                if extract:
                    body["data_extraction_goal"] = extract
                tid = http("POST", ENV["SX_URL"] + "/api/v1/tasks", body, key)["task_id"]
                t = wait_final(key, tid)
                if t["status"] != "completed":
                    raise SystemExit("%s: task %s ended %s: %s" % (name, tid, t["status"], t["failure_reason"]))
                tids.append(tid)
                calls[tid] = http("GET", double.url + "/__requests")[seen:]
            results.append((name, tids))
    steps = {}
    for l in open(log):
        if 'msg="step done"' in l:
            f = dict(re.findall(r"(\w+)=(\S+)", l))
            steps.setdefault(f["task"], []).append(f)
    print("| page | steps | overhead per step, median | p95 | LLM wait (double), median | element list, tokens (max) "
          "| POST to first action, median | POST to claim, median | browser open + first load, median | warm | steps per task | settle wait, median |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, tids in results:
        over, llm, toks, opened, warm, settle = [], [], [], [], 0, []
        for t in tids:
            for f in steps.get(t, []):
                over.append(int(f["observe_ms"]) + int(f["act_ms"]))
                llm.append(int(f["llm_ms"]))
                if "settle_ms" in f:
                    settle.append(int(f["settle_ms"]))
                toks.append(int(f["element_bytes"]) // 4)
                if f["order"] == "0" and int(f["session_ms"]) > 0:
                    opened.append(int(f["session_ms"]))
            warm += int(sql("SELECT COUNT(*) FROM steps WHERE task_id = '%s' AND "
                            "JSON_VALUE(output, '$.browser') = 'warm'" % t)[0][0])
        ids = ",".join("'%s'" % t for t in tids)
        rows = sql("SELECT TIMESTAMPDIFF(MICROSECOND, t.created_at, MIN(a.created_at)) FROM tasks t "
                   "JOIN artifacts a ON a.task_id = t.id AND a.type IN ('screenshot_action','screenshot_final') "
                   "WHERE t.id IN (%s) GROUP BY t.id" % ids)
        first = [int(r[0]) / 1000.0 for r in rows if r[0] != "NULL"]
        # How long a queued task waits for a worker to claim it (the poll, then the claim).
        claim = [int(r[0]) / 1000.0 for r in sql("SELECT TIMESTAMPDIFF(MICROSECOND, created_at, started_at) "
                                                 "FROM tasks WHERE id IN (%s)" % ids) if r[0] != "NULL"]
        print("| %s | %d | %.0f ms | %.0f ms | %.0f ms | %d | %.0f ms | %.0f ms | %.0f ms | %d of %d | %.1f | %s |" % (
            name, len(over), statistics.median(over), pct(over, 0.95), statistics.median(llm),
            max(toks), statistics.median(first) if first else float("nan"),
            statistics.median(claim) if claim else float("nan"),
            statistics.median(opened) if opened else float("nan"), warm, len(tids), len(over) / len(tids),
            "%.0f ms" % statistics.median(settle) if settle else "-"))
    bench_actions(log)
    bench_artifact_bytes(results, steps, log)
    if tokens:
        bench_tokens(results, calls)
    if DUMP_CALLS:
        with open(DUMP_CALLS, "w") as f:
            json.dump({name: [calls[t] for t in tids] for name, tids in results}, f, indent=1)


def bench_actions(log):
    # Per action kind: the agent's time for one browser action, screenshot included.
    kinds = {}
    for l in open(log):
        if 'msg="action done"' in l:
            f = dict(re.findall(r"(\w+)=(\S+)", l))
            kinds.setdefault(f["kind"], []).append((int(f["ms"]), f["screenshot"] == "1"))
    if not kinds:
        return
    print()
    print("| action | n | time per action, median | p95 | with a screenshot |")
    print("|---|---|---|---|---|")
    for kind in sorted(kinds):
        ms = [m for m, _ in kinds[kind]]
        print("| %s | %d | %.0f ms | %.0f ms | %d |" % (kind, len(ms), statistics.median(ms), pct(ms, 0.95),
                                                     sum(1 for _, s in kinds[kind] if s)))
    form = [m for k in ("input_text", "select_option", "check", "uncheck") for m, _ in kinds.get(k, [])]
    if form:
        print("| form actions (type, select, check) | %d | %.0f ms | %.0f ms | %d |" % (
            len(form), statistics.median(form), pct(form, 0.95),
            sum(1 for k in ("input_text", "select_option", "check", "uncheck") for _, s in kinds.get(k, []) if s)))


def bench_artifact_bytes(results, steps, log):
    # Artifact bytes per step (all types, and the recording alone) and the
    # recording's encode time at task end (outside the step loop).
    encode = {}
    for l in open(log):
        if 'msg="recording saved"' in l:
            f = dict(re.findall(r"(\w+)=(\S+)", l))
            encode[f["task"]] = int(f["encode_ms"])
    print()
    print("| page | steps | artifact bytes per step (all) | of which recording | recording encode at task end, median |")
    print("|---|---|---|---|---|")
    for name, tids in results:
        ids = ",".join("'%s'" % t for t in tids)
        nsteps = sum(len(steps.get(t, [])) for t in tids)
        total = sql("SELECT COALESCE(SUM(bytes), 0) FROM artifacts WHERE task_id IN (%s)" % ids)[0][0]
        rec = sql("SELECT COALESCE(SUM(bytes), 0) FROM artifacts WHERE type = 'recording' "
                  "AND task_id IN (%s)" % ids)[0][0]
        enc = [encode[t] for t in tids if t in encode]
        print("| %s | %d | %.0f | %.0f | %s |" % (
            name, nsteps, int(total) / max(nsteps, 1), int(rec) / max(nsteps, 1),
            "%.0f ms" % statistics.median(enc) if enc else "-"))


TOKENIZER = os.path.join(ROOT, "bench", "agent", "node_modules", "gpt-tokenizer")


def count_tokens(requests):
    """Input tokens per model call (tokens.mjs: o200k text, OpenAI's image tiles)."""
    if not os.path.isdir(TOKENIZER):
        here = os.path.join(ROOT, "bench", "agent")
        subprocess.run(["npm", "install", "--silent", "--no-save", "--no-package-lock", "--prefix", here,
                        "gpt-tokenizer@4"], check=True, cwd=here)
    out = subprocess.run(["node", os.path.join(ROOT, "bench", "agent", "tokens.mjs")], input=json.dumps(requests),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def bench_tokens(results, calls):
    # Input tokens per task (o200k, images by OpenAI's tile formula), by call
    # kind, and the last step's (its decide and what follows: verify, extract).
    print()
    print("| page | model calls per task | input tokens per task, median | decide | verify | extract | verify + extract (one call) | of which images | last step | element list, o200k (max) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, tids in results:
        per_task, kinds, images, last, elements = [], {}, [], [], []
        for t in tids:
            counted = count_tokens(calls[t])
            elements.extend(c["elements"] for c in counted if c["kind"] == "decide")
            per_task.append(sum(c["total"] for c in counted))
            images.append(sum(c["images"] for c in counted))
            for c in counted:
                kinds.setdefault(c["kind"], []).append(c["total"])
            decides = [i for i, c in enumerate(counted) if c["kind"] == "decide"]
            last.append(sum(c["total"] for c in counted[decides[-1] if decides else 0:]))
        n = len(calls[tids[0]])
        kind = lambda k: "%.0f" % (sum(kinds[k]) / len(tids)) if k in kinds else "-"
        print("| %s | %d | %.0f | %s | %s | %s | %s | %.0f | %.0f | %s |" % (
            name, n, statistics.median(per_task), kind("decide"), kind("verify"), kind("extract"),
            kind("verify_extract"), statistics.median(images), statistics.median(last),
            max(elements) if elements else "-"))


# --memory-modes: the browser set-ups bench_memory compares, each a label and its agent overrides.
MEMORY_MODES = {
    "pool": ("per task, pool on", {"browser_mode": "per_task", "browser_pool": "true"}),
    "nopool": ("per task, pool off", {"browser_mode": "per_task", "browser_pool": "false"}),
    "shared": ("shared browser", {"browser_mode": "shared"}),
}


def bench_memory(double, key, logdir, modes=None):
    """PSS at 1, 2 and 4 concurrent long tasks; with modes (keys of
    MEMORY_MODES), each count runs once per mode, the modes interleaved."""
    # Long tasks (waits), so every worker holds a browser while we sample.
    wait = {"action": "wait", "seconds": 3}
    a = {"actions": [wait, wait, wait]}
    b = {"actions": [{"action": "scroll", "direction": "down"}, wait, wait]}
    double.script({"rules": [{"kind": "decide", "answers": [a, b] * 5}]})
    runs = [(MEMORY_MODES[m][0], MEMORY_MODES[m][1]) for m in modes] if modes else [("", {})]
    print()
    print("| concurrent tasks |%s agent worker PSS (each, max) | chromedriver + Chromium PSS (total, max) "
          "| per task | pages counted once, per task | Chromium browsers (max) |" % (" browsers |" if modes else ""))
    print("|---|%s---|---|---|---|---|" % ("---|" if modes else ""))
    for n in (1, 2, 4):
        for label, over in runs:
            saved = dict(EXTRA_OVERRIDES)
            EXTRA_OVERRIDES.update(over)
            worker_max, browser_max, own_max, browsers_max = memory_run(double, key, logdir, n)
            EXTRA_OVERRIDES.clear()
            EXTRA_OVERRIDES.update(saved)
            print("| %d |%s %.1f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %d |" % (
                n, " %s |" % label if modes else "", worker_max / 1024.0, browser_max / 1024.0,
                browser_max / 1024.0 / n, own_max / 1024.0 / n, browsers_max))
            sys.stdout.flush()


def memory_run(double, key, logdir, n):
    """n long tasks on an agent of n workers, sampled for 25 s: the maxima
    (KiB) of a task worker's PSS, of the summed PSS and of the pages
    (tree_kib, every 5 s) of everything under the agent that is neither
    sextant-agent nor ffmpeg (chromedriver, Chromium), and the count of
    browsers."""
    clear_queue()
    with Agent(double.url, n, os.path.join(logdir, "agent-mem-%d.log" % n)) as a:
        tids = [http("POST", ENV["SX_URL"] + "/api/v1/tasks",
                     {"url": SITE + "job/index.html", "navigation_goal": "wait"}, key,
                     )["task_id"] for _ in range(n)]
        t0, worker_max, browser_max, own_max, browsers_max = time.time(), 0, 0, 0, 0
        next_frames = t0 + 10
        while time.time() - t0 < 25:
            tree = descendants(a.p.pid)
            workers = [p for p in tree if comm(p) == "sextant-agent"]
            for w in workers:
                worker_max = max(worker_max, pss_kib(w))
            # ffmpeg encodes a finished task's recording: not the browser's memory.
            browser = [p for p in tree if comm(p) not in ("sextant-agent", "ffmpeg")]
            browser_max = max(browser_max, sum(pss_kib(p) for p in browser))
            if time.time() >= next_frames:      # reading the page maps takes a while
                own_max = max(own_max, tree_kib(browser))
                next_frames = time.time() + 5
            browsers_max = max(browsers_max, sum(1 for p in tree if is_browser(p)))
            time.sleep(0.5)
        for t in tids:
            try:
                http("POST", "%s/api/v1/tasks/%s/cancel" % (ENV["SX_URL"], t), None, key)
            except urllib.error.HTTPError as e:
                if e.code != 409:       # already finished: nothing to cancel
                    raise
    return worker_max, browser_max, own_max, browsers_max


def chromedriver_logging(log):
    """A wrapper script that runs chromedriver with every command logged to log."""
    real = "/usr/bin/chromedriver"
    for line in open(ENV["SX_CONF"]):
        k, _, v = line.partition("=")
        if k.strip() == "chromedriver_path" and v.strip():
            real = v.strip()
    w = tempfile.NamedTemporaryFile("w", prefix="chromedriver-logging-", suffix=".sh", delete=False)
    w.write('#!/bin/sh\nexec %s "$@" --log-level=ALL --append-log --log-path=%s\n'
            % (real, os.path.abspath(log)))
    w.close()
    os.chmod(w.name, 0o755)
    return w.name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=5, help="tasks per fixture page")
    ap.add_argument("--recording", choices=("on", "off"), default="on",
                    help="the agent's recording_enabled (session recording)")
    ap.add_argument("--steps-only", action="store_true", help="skip the memory benchmark")
    ap.add_argument("--memory-only", action="store_true", help="skip the per-step benchmark")
    ap.add_argument("--memory-modes", default="",
                    help="compare browser set-ups in the memory benchmark, interleaved: a comma-separated "
                         "list of %s" % ", ".join(MEMORY_MODES))
    ap.add_argument("--pages", default="", help="only the pages whose name contains this text")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an agent configuration override (repeatable), e.g. chromedriver_path=...")
    ap.add_argument("--tokens", action="store_true",
                    help="count each task's input tokens (o200k; installs gpt-tokenizer with npm once)")
    ap.add_argument("--dump-calls", metavar="PATH",
                    help="write every model call (prompts, images elided) per page and task as JSON")
    ap.add_argument("--agent", metavar="PATH",
                    help="the sextant-agent binary to run (default: the one in this tree), e.g. another build for A/B")
    ap.add_argument("--webdriver-log", metavar="PATH",
                    help="run chromedriver with its verbose log appended to PATH (read it with wdlog.py)")
    args = ap.parse_args()
    EXTRA_OVERRIDES["recording_enabled"] = "true" if args.recording == "on" else "false"
    for kv in args.set:
        k, _, v = kv.partition("=")
        EXTRA_OVERRIDES[k.strip()] = v.strip()
    PAGES[:] = [p for p in PAGES if args.pages in p[0]]
    global DUMP_CALLS, AGENT_BIN
    DUMP_CALLS = args.dump_calls
    AGENT_BIN = args.agent
    if args.webdriver_log:
        EXTRA_OVERRIDES["chromedriver_path"] = chromedriver_logging(args.webdriver_log)
    logdir = os.path.join(os.environ.get("SX_VAR_DIR") or os.path.join(ROOT, "var"), "log")
    clear_queue()
    key = new_org()
    with Double() as double:
        if not args.memory_only:
            bench_steps(double, key, args.tasks, logdir, args.tokens)
        if not args.steps_only:
            bench_memory(double, key, logdir, [m for m in args.memory_modes.split(",") if m])


if __name__ == "__main__":
    main()
