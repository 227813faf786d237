#!/usr/bin/env python3
"""bench/cluster/run.py: Sextant on a three-node Galera cluster, checked for
correctness while a node crashes and comes back.

    ./stack up && stack.d/cluster.sh up        # once (SX_STACK_AGENT=0)
    python3 bench/cluster/run.py [--tasks 2000] [--kill-node 2] [--kill-at 0.3]
                                 [--down-seconds 20] [--agent-workers 1] [--rate 10]
                                 [--agent-set browser_mode=shared ...]

Starts, on loopback, two API hosts (nginx + sextant-api, the first preferring
node 1, the second node 2), three agent hosts (sextant-agent preferring node 1,
2 and 3; each with its own chromedriver/Chromium), the LLM test double and the
webhook receiver double.  Posts TASKS tasks round-robin through the two API
hosts from 8 client threads, RATE a second; when KILL_AT of them are posted it SIGKILLs
node KILL_NODE, and DOWN_SECONDS later starts it again (it rejoins by IST).
Then waits for every task to end and checks:
  * every acknowledged task exists once (and nothing else was stored);
  * every task ran to a final status once: one "finished" line in all the
    agents' logs, status completed (a lease takeover is one run, attempt > 1);
  * every task's webhook arrived, all its deliveries under one delivery id;
  * no API request took longer than the failover bound
    (db_read_timeout + db_connect_timeout x nodes, from the cluster's configs).
Prints a Markdown summary; exits 1 when a check fails.
"""
import argparse, collections, json, os, re, shutil, signal, subprocess, sys, threading, time, urllib.error, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VAR = os.environ.get("SX_VAR_DIR") or os.path.join(ROOT, "var")
CL = os.path.join(VAR, "cluster")
PORT_BASE = int(os.environ.get("SX_CLUSTER_PORT_BASE", "31400"))


def load_env(path):
    env = {}
    for line in open(path):
        m = re.match(r"^(\w+)='(.*)'$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


ENV = load_env(os.path.join(VAR, "stack.env"))


def http(method, url, body=None, key=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("x-api-key", key)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read() or b"null")


def conf_lines(path, drop):
    return [l for l in open(path) if l.split("=")[0].strip() not in drop]


def write_conf(base, path, over):
    with open(path, "w") as f:
        f.write("".join(conf_lines(base, over)) + "".join("%s = %s\n" % kv for kv in over.items()))
    os.chmod(path, 0o600)
    return path


def conf_value(path, key, default):
    for l in open(path):
        k, _, v = l.partition("=")
        if k.strip() == key:
            return v.strip().strip('"')
    return default


def admin(*args):
    return subprocess.run([os.path.join(ROOT, "sextant-admin"), "--config", os.path.join(CL, "sextant1.conf")] + list(args),
                          capture_output=True, text=True, check=True).stdout.strip()


def node_sql(n, query):
    out = subprocess.run(["mariadb", "--no-defaults", "--socket=" + os.path.join(CL, "node%d" % n, "mysqld.sock"),
                          "-u", "root", "sextant", "-N", "-B", "-e", "SET SESSION wsrep_sync_wait = 1; " + query],
                         capture_output=True, text=True, check=True)
    return [l.split("\t") for l in out.stdout.splitlines()]


def cluster(*args):
    subprocess.run([os.path.join(ROOT, "stack.d", "cluster.sh")] + [str(a) for a in args], check=True,
                   stdout=subprocess.DEVNULL)


class Procs:
    """Everything this run starts, stopped in reverse order (by pid, never by name)."""

    def __init__(self):
        self.items = []

    def start(self, name, argv, log, **kw):
        p = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True, **kw)
        self.items.append((name, p))
        return p

    def stop(self):
        for name, p in reversed(self.items):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for name, p in reversed(self.items):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def double(procs, script, name):
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/doubles", script), "--port", "0"],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    procs.items.append((name, p))
    return "http://127.0.0.1:%s" % p.stdout.readline().strip().split("=")[1]


NGINX = """daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/cb; fastcgi_temp_path {d}/fc; proxy_temp_path {d}/px;
    scgi_temp_path {d}/sc; uwsgi_temp_path {d}/uw;
    include {root}/nginx/sextant-keys.conf;
    limit_conn_zone $sextant_key_bucket zone=sextant_key_conn:10m;
    limit_req_zone $sextant_key_bucket zone=sextant_key_req:10m rate=100000r/s;
    upstream sextant_api {{ server unix:{sock}; }}
    server {{
        listen 127.0.0.1:{port};
        include {root}/nginx/sextant-rules.conf;
    }}
}}
"""


def start_api_host(procs, n):
    d = os.path.join(CL, "api%d" % n)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o711)
    port = PORT_BASE + 30 + n
    sock = os.path.join(d, "api.sock")
    conf = write_conf(os.path.join(CL, "sextant%d.conf" % n), os.path.join(d, "sextant.conf"),
                      {"api_socket": sock, "api_workers": "4", "public_base_url": "http://127.0.0.1:%d" % port})
    procs.start("api%d" % n, [os.path.join(ROOT, "sextant-api"), "--config", conf], os.path.join(d, "api.log"))
    for _ in range(300):
        if os.path.exists(sock):
            break
        time.sleep(0.1)
    # sextant-rules.conf includes fastcgi_params relative to the config's directory.
    if not os.path.exists(os.path.join(d, "fastcgi_params")):
        os.symlink("/etc/nginx/fastcgi_params", os.path.join(d, "fastcgi_params"))
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX.format(d=d, root=ROOT, sock=sock, port=port))
    procs.start("nginx%d" % n, ["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d + "/"], os.path.join(d, "nginx.out"))
    url = "http://127.0.0.1:%d" % port
    for _ in range(150):
        try:
            http("GET", url + "/healthz", timeout=2)
            return url
        except Exception:
            time.sleep(0.1)
    raise SystemExit("API host %d does not answer on %s" % (n, url))


def start_agent_host(procs, n, llm_url, workers, extra):
    d = os.path.join(CL, "agent%d" % n)
    os.makedirs(os.path.join(d, "artifacts"), exist_ok=True)
    # Started as root, the agent drops to agent_user before it writes a file.
    user = conf_value(os.path.join(CL, "sextant%d.conf" % n), "agent_user", "").strip('"')
    if os.geteuid() == 0 and user:
        for path in (d, os.path.join(d, "artifacts")):
            shutil.chown(path, user=user)
    conf = write_conf(os.path.join(CL, "sextant%d.conf" % n), os.path.join(d, "sextant.conf"),
                      {"llm_provider": "openai", "llm_base_url": llm_url + "/v1", "llm_api_key_env": "SX_BENCH_LLM_KEY",
                       "agent_workers": str(workers), "poll_interval_ms": "100", "recording_enabled": "false",
                       "artifacts_dir": os.path.join(d, "artifacts"), "llm_max_retries": "0",
                       "lease_seconds": "30", "heartbeat_seconds": "5", "webhook_poll_ms": "200", **extra})
    log = os.path.join(d, "agent.log")
    procs.start("agent%d" % n, [os.path.join(ROOT, "sextant-agent"), "--config", conf], log,
                env=dict(os.environ, SX_BENCH_LLM_KEY="bench"))
    return log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--kill-node", type=int, default=2)
    ap.add_argument("--kill-at", type=float, default=0.3)
    ap.add_argument("--down-seconds", type=float, default=20)
    ap.add_argument("--agent-workers", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--rate", type=float, default=10, help="posts per second, all threads together")
    ap.add_argument("--agent-set", action="append", default=[], metavar="KEY=VALUE",
                    help="an agent configuration override (repeatable), e.g. browser_mode=shared")
    a = ap.parse_args()

    conf1 = os.path.join(CL, "sextant1.conf")
    bound = float(conf_value(conf1, "db_read_timeout", "30")) + 3 * float(conf_value(conf1, "db_connect_timeout", "5"))
    org = admin("org", "create", "cluster-bench")
    key = admin("key", "create", "--org", org)
    procs = Procs()
    try:
        llm = double(procs, "llm_double.py", "llm")
        hook = double(procs, "webhook_receiver.py", "webhook")
        http("POST", llm + "/__script", {"rules": [
            {"kind": "decide", "match": None, "answers": [{"actions": [{"action": "complete"}]}]},
            {"kind": "verify", "match": None, "answers": [{"goal_achieved": True}]}]})
        apis = [start_api_host(procs, 1), start_api_host(procs, 2)]
        extra = dict(kv.split("=", 1) for kv in a.agent_set)
        logs = [start_agent_host(procs, n, llm, a.agent_workers, extra) for n in (1, 2, 3)]
        body = {"url": ENV["SX_URL"] + "/sites/product/index.html", "navigation_goal": "Look at the product",
                "webhook_callback_url": hook + "/hook"}

        acked, failed, latencies = [], [], []
        lock = threading.Lock()
        counter = iter(range(a.tasks))
        killed = threading.Event()
        t_start = time.time()

        def poster():
            for i in counter:
                # Paced, so that the node dies while posts are still coming in.
                time.sleep(max(0.0, t_start + i / a.rate - time.time()))
                url = apis[i % 2] + "/api/v1/tasks"
                t0 = time.time()
                try:
                    st, r = http("POST", url, dict(body, title="t%05d" % i), key=key, timeout=bound + 30)
                    ok = st == 200 and r.get("task_id")
                except (urllib.error.HTTPError, urllib.error.URLError, OSError) as e:
                    ok, r = False, str(e)
                dt = time.time() - t0
                with lock:
                    latencies.append((dt, i % 2 + 1, killed.is_set()))
                    (acked if ok else failed).append(r["task_id"] if ok else (i, r))
                    if len(acked) + len(failed) == int(a.tasks * a.kill_at) and not killed.is_set():
                        killed.set()

        threads = [threading.Thread(target=poster) for _ in range(8)]
        for t in threads:
            t.start()
        killed.wait()
        t_kill = time.time()
        cluster("kill", a.kill_node)
        print("killed node %d at %.1f s (%d posted)" % (a.kill_node, t_kill - t_start, len(acked) + len(failed)), flush=True)
        time.sleep(a.down_seconds)
        cluster("start", a.kill_node)
        t_back = time.time()
        print("node %d back at %.1f s" % (a.kill_node, t_back - t_start), flush=True)
        for t in threads:
            t.join()
        t_posted = time.time()

        ids = set(acked)
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            rows = node_sql(1, "SELECT status, COUNT(*) FROM tasks WHERE org_id = '%s' GROUP BY status" % org)
            st = {r[0]: int(r[1]) for r in rows}
            delivered = node_sql(1, "SELECT COUNT(*) FROM webhook_deliveries WHERE org_id = '%s' AND status = 'delivered'" % org)
            if sum(v for k, v in st.items() if k not in ("queued", "running", "created")) >= len(ids) and \
                    int(delivered[0][0]) >= len(ids):
                break
            time.sleep(2)
        t_done = time.time()

        rows = node_sql(1, "SELECT id, status, attempt FROM tasks WHERE org_id = '%s'" % org)
        in_db = collections.Counter(r[0] for r in rows)
        status = collections.Counter(r[1] for r in rows)
        attempts = collections.Counter(int(r[2]) for r in rows)
        finished = collections.Counter()
        for log in logs:
            for line in open(log, errors="replace"):
                m = re.search(r"msg=finished task=(\S+)", line)
                if m:
                    finished[m.group(1)] += 1
        _, reqs = http("GET", hook + "/__requests")
        deliveries = collections.defaultdict(set)
        for r in reqs:
            try:
                tid = json.loads(r.get("body") or "{}").get("task_id")
            except ValueError:
                tid = None
            deliveries[tid].add(r["headers"].get("x-sextant-delivery-id"))
    finally:
        procs.stop()

    checks = [
        ("acknowledged tasks stored once", all(in_db[i] == 1 for i in ids) and len(in_db) == len(ids),
         "%d acknowledged, %d rows, %d missing, %d unacknowledged rows" %
         (len(ids), len(rows), sum(1 for i in ids if i not in in_db), sum(1 for i in in_db if i not in ids))),
        ("every task final and completed", status.get("completed", 0) == len(ids), dict(status)),
        ("one finish per task in the agents' logs", all(finished[i] == 1 for i in ids),
         "%d tasks finished once, %d more than once, %d never" %
         (sum(1 for i in ids if finished[i] == 1), sum(1 for i in ids if finished[i] > 1),
          sum(1 for i in ids if finished[i] == 0))),
        ("one delivery id per task's webhook", all(len(deliveries.get(i, ())) == 1 for i in ids),
         "%d webhook requests, %d tasks with one id, %d with none, %d with several" %
         (len(reqs), sum(1 for i in ids if len(deliveries.get(i, ())) == 1),
          sum(1 for i in ids if not deliveries.get(i)), sum(1 for i in ids if len(deliveries.get(i, ())) > 1))),
        ("no request beyond the failover bound (%.0f s)" % bound, max(l[0] for l in latencies) <= bound,
         "slowest %.2f s" % max(l[0] for l in latencies)),
    ]
    lat = sorted(l[0] for l in latencies)
    print("\n| | |\n|---|---|")
    print("| tasks posted / acknowledged / refused | %d / %d / %d |" % (a.tasks, len(ids), len(failed)))
    print("| node killed | node %d at %.0f%% of the posts, back after %.0f s |" % (a.kill_node, a.kill_at * 100, a.down_seconds))
    print("| posting took / all final and delivered after | %.1f s / %.1f s |" % (t_posted - t_start, t_done - t_start))
    print("| POST latency p50 / p99 / max | %.3f / %.3f / %.3f s |" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]))
    print("| attempts (1 = claimed once) | %s |" % dict(sorted(attempts.items())))
    for name, ok, detail in checks:
        print("| %s %s | %s |" % ("PASS" if ok else "FAIL", name, detail))
    if failed:
        print("\nrefused posts (first 5): %s" % failed[:5])
    print("\nload: %s" % open("/proc/loadavg").read().strip())
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
