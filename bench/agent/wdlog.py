#!/usr/bin/env python3
"""bench/agent/wdlog.py: where the time of a browser step goes, read from
chromedriver's own verbose log (run.py --webdriver-log PATH writes one).

    python3 bench/agent/wdlog.py PATH [PATH...]

For each log: every WebDriver command the agent sent, how many, and how long
chromedriver took (COMMAND to RESPONSE); then the agent's own time between a
response and its next command, by pair of commands.  Two builds that send
the same commands and spend the same time between them do the same work per
action, whatever the machine's load did to the totals.
"""
import collections, re, sys

CDP_CMD = re.compile(r'"cmd": "([\w.]+)"')
LINE = re.compile(r"^\[(\d+\.\d+)\]\[INFO\]: \[[0-9a-f]+\] (COMMAND|RESPONSE) (\w+)")


def read(path):
    spent, gaps = collections.defaultdict(list), collections.defaultdict(list)
    open_cmd = last = None
    with open(path, errors="replace") as f:
        lines = f.readlines()
    for i, line in enumerate(lines):
        m = LINE.match(line)
        if not m:
            continue
        t, kind, name = float(m.group(1)) * 1000.0, m.group(2), m.group(3)
        if name == "ExecuteCDP":
            # Named by its CDP method: a screenshot, a key event, inserted text.
            for follow in lines[i + 1:i + 4] if kind == "COMMAND" else []:
                c = CDP_CMD.search(follow)
                if c:
                    name = "ExecuteCDP " + c.group(1)
                    break
            if kind == "RESPONSE" and open_cmd and open_cmd[0].startswith("ExecuteCDP"):
                name = open_cmd[0]
        if kind == "COMMAND":
            if last:
                gaps[last[0] + " -> " + name].append(t - last[1])
            open_cmd = (name, t)
        elif open_cmd and open_cmd[0] == name:
            spent[name].append(t - open_cmd[1])
            last, open_cmd = (name, t), None
    return spent, gaps


def table(title, rows, limit):
    print("| %s | n | total ms | median ms | max ms |" % title)
    print("|---|---|---|---|---|")
    for name, v in sorted(rows.items(), key=lambda kv: -sum(kv[1]))[:limit]:
        v = sorted(v)
        print("| %s | %d | %.0f | %.1f | %.1f |" % (name, len(v), sum(v), v[len(v) // 2], v[-1]))
    print()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        spent, gaps = read(path)
        print("### %s\n" % path)
        table("command (chromedriver's time)", spent, 40)
        # Gaps over 1 s are the agent waiting on something else (the LLM, the end of a task).
        table("agent's time between commands", {k: [x for x in v if x < 1000] for k, v in gaps.items()}, 15)


if __name__ == "__main__":
    main()
