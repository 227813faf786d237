#!/usr/bin/env python3
"""bench/agent/replay.py: a task solved once, then repeated from its trace
(agent/replay.h), on the application form (tests/sites/apply: 30 fields, 18
of them filled, two questions answered by radio buttons, a certification
checkbox).

    ./stack up                 # once
    python3 bench/agent/replay.py [--rounds 3] [--repeats 3] [--recording on|off]

Each round uses a new organization (so a new key): one first run, decided
by the LLM test double's scripted answers, then `--repeats` runs with other
payload values while the double answers every call with an HTTP 500 (a
model call would fail the task).  The agent keeps its warm browser
(browser_pool = true) and the bench waits 4 s between tasks so that the
next one finds it warm.  Per run: the model calls (requests the double
received), the input tokens recorded on the task's steps, and the time from
POST to the task's finished_at (the database's created_at -> finished_at,
so no polling interval is counted).  Prints Markdown tables and the load
average.
"""
import argparse, os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/agent/run.py: stack env, double, agent, helpers)

GOAL = "Apply for the Senior Data Analyst job with the applicant's details"
FIELDS = [  # (payload key, label, action)
    ("first_name", "First name", "input_text"),
    ("last_name", "Last name", "input_text"),
    ("email", "Email address", "input_text"),
    ("phone", "Phone number", "input_text"),
    ("street", "Street address", "input_text"),
    ("city", "City", "input_text"),
    ("state", "State / Province", "select_option"),
    ("postal", "ZIP / Postal code", "input_text"),
    ("country", "Country", "select_option"),
    ("employer", "Current or most recent employer", "input_text"),
    ("job_title", "Current or most recent job title", "input_text"),
    ("years", "Years of professional experience", "select_option"),
    ("degree", "Highest level of education", "select_option"),
    ("start_date", "Earliest start date", "input_text"),
]
APPLICANTS = [
    {"first_name": "Morgan", "last_name": "Reyes", "email": "morgan.reyes@example.com",
     "phone": "+1 503 555 0148", "street": "1220 SE Ash St", "city": "Portland", "state": "Oregon",
     "postal": "97214", "country": "United States", "employer": "Cascadia Clinics",
     "job_title": "Data Analyst", "years": "7 years", "degree": "Master's degree", "start_date": "2027-01-11"},
    {"first_name": "Avery", "last_name": "Lindqvist", "email": "avery.l@example.org",
     "phone": "+1 206 555 0199", "street": "88 Pine Ave", "city": "Seattle", "state": "Washington",
     "postal": "98101", "country": "United States", "employer": "Sound Analytics",
     "job_title": "Senior Analyst", "years": "5 years", "degree": "Bachelor's degree", "start_date": "2027-02-01"},
    {"first_name": "Riley", "last_name": "Okafor", "email": "riley.okafor@example.net",
     "phone": "+1 415 555 0123", "street": "5 Market St", "city": "San Francisco", "state": "California",
     "postal": "94105", "country": "United States", "employer": "Bay Health",
     "job_title": "BI Developer", "years": "12 years", "degree": "Doctorate (PhD, EdD)", "start_date": "2027-03-15"},
]


def first_script(a):
    acts = []
    for key, label, kind in FIELDS:
        acts.append({"action": kind, "label": label, ("option" if kind == "select_option" else "text"): a[key]})
    acts += [{"action": "click", "label": "Yes"},
             {"action": "click", "label": "No", "nth": 2},
             {"action": "check", "label": "I certify that the information in this application is true and complete"},
             {"action": "click", "label": "Submit application"}]
    return {"rules": [
        {"kind": "decide", "match": "Thank you, your application was received", "answers": [{"actions": [{"action": "complete"}]}]},
        {"kind": "decide", "match": None, "answers": [{"actions": acts}]},
        {"kind": "verify", "answers": [{"goal_achieved": True}]}]}


REFUSE = {"rules": [{"kind": "any", "match": None, "answers": [{"__http": 500}]}]}


def requests_seen(double):
    return len(bench.http("GET", double.url + "/__requests"))


def one_run(double, key, applicant):
    before = requests_seen(double)
    body = {"url": bench.SITE + "apply/index.html", "navigation_goal": GOAL, "navigation_payload": applicant}
    tid = bench.http("POST", bench.ENV["SX_URL"] + "/api/v1/tasks", body, key=key)["task_id"]
    t = bench.wait_final(key, tid)
    calls = requests_seen(double) - before
    steps = bench.http("GET", "%s/api/v1/tasks/%s/steps" % (bench.ENV["SX_URL"], tid), key=key)
    tokens = sum(int(s.get("input_token_count") or 0) for s in steps)
    ms = float(bench.sql("SELECT TIMESTAMPDIFF(MICROSECOND, created_at, finished_at) / 1000 FROM tasks "
                         "WHERE id = '%s'" % tid)[0][0])
    outcome = (t.get("replay") or {}).get("outcome")
    if t["status"] != "completed":
        raise SystemExit("task %s ended %s: %s" % (tid, t["status"], t.get("failure_reason")))
    return {"calls": calls, "tokens": tokens, "ms": ms, "outcome": outcome, "steps": len(steps)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--recording", choices=("on", "off"), default="on",
                    help="the session recording (its encoding runs before the task is final)")
    args = ap.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    bench.clear_queue()
    firsts, repeats = [], []
    with bench.Double() as double:
        bench.EXTRA_OVERRIDES.update({"replay": "auto", "browser_pool": "true",
                                      "recording_enabled": "true" if args.recording == "on" else "false"})
        with bench.Agent(double.url, 1, "/tmp/sextant-bench-replay.log"):
            time.sleep(4)
            for r in range(args.rounds):
                key = bench.new_org()
                double.script(first_script(APPLICANTS[0]))
                firsts.append(one_run(double, key, APPLICANTS[0]))
                time.sleep(4)
                double.script(REFUSE)
                for i in range(args.repeats):
                    repeats.append(one_run(double, key, APPLICANTS[1 + i % 2]))
                    time.sleep(4)
    print("load before: " + load)
    print("load after:  " + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print()
    print("| run | n | outcome | model calls | input tokens | steps | POST -> completed, median (min..max) |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in (("first", firsts), ("repeat", repeats)):
        ms = [x["ms"] for x in rows]
        print("| %s | %d | %s | %s | %s | %s | %.0f ms (%.0f..%.0f) |" % (
            name, len(rows), "/".join(sorted({str(x["outcome"]) for x in rows})),
            "/".join(sorted({str(x["calls"]) for x in rows})),
            "/".join(sorted({str(x["tokens"]) for x in rows})),
            "/".join(sorted({str(x["steps"]) for x in rows})),
            statistics.median(ms), min(ms), max(ms)))


if __name__ == "__main__":
    main()
