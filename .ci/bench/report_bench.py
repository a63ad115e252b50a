#!/usr/bin/env python3
"""The daily report's latency for a day with 1 M log lines, 10,000 deploy events and 200 services.

Usage (release build first: swift build -c release --product tally):
  .ci/bench/report_bench.py [--lines 1000000] [--deploys 10000] [--services 200] [--runs 5]

Starts `tally serve` on a fresh data directory (log retention 60 days), sends the log lines of
yesterday (UTC) over TCP (JSON, 2% errors from a few templates, 200 services), POSTs the deploy
events (spread over the last 30 days, with incidents) to /api/v1/events, waits until everything
is stored, then times GET /api/v1/report/daily?date=<yesterday> (median of RUNS after a warm-up)
and GET /report/daily (the HTML page).
"""
import argparse, datetime, json, os, random, socket, statistics, subprocess, sys, time, urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import TALLY, free_port, get, metric

p = argparse.ArgumentParser()
p.add_argument("--lines", type=int, default=1_000_000)
p.add_argument("--deploys", type=int, default=10_000)
p.add_argument("--services", type=int, default=200)
p.add_argument("--runs", type=int, default=5)
a = p.parse_args()
rng = random.Random(42)
now = int(time.time())
today = now - now % 86400
yesterday = today - 86400
date = datetime.datetime.fromtimestamp(yesterday, datetime.timezone.utc).strftime("%Y-%m-%d")
services = [f"svc-{i:03d}" for i in range(a.services)]
work = "/tmp/report-bench"
subprocess.run(["rm", "-rf", work])
os.makedirs(work)
with open(f"{work}/bench.yaml", "w") as c:
    c.write("logs:\n  storage:\n    retention: 60d\n    out_of_order_window: 24h\n")
http, logs = free_port(), free_port()
proc = subprocess.Popen([TALLY, "serve", "--config", f"{work}/bench.yaml", "--data-dir", f"{work}/data", "--http", f"127.0.0.1:{http}",
                         "--statsd-udp", "off", "--statsd-tcp", "off", "--logs-udp", "off", "--syslog-udp", "off", "--syslog-tcp", "off",
                         "--logs-tcp", f"127.0.0.1:{logs}"], stderr=open(f"{work}/tally.log", "w"))
try:
    for _ in range(200):
        try:
            get(http, "/readyz"); break
        except Exception:
            time.sleep(0.1)
    # Log lines of yesterday, in time order.
    errors = ["upstream timeout after {}ms calling {}", "connection pool exhausted ({} waiting)", "payment declined: code {}"]
    deps = ["postgres", "redis", "search-index"]
    sock = socket.create_connection(("127.0.0.1", logs))
    buf = []
    step = 86400 / a.lines
    for i in range(a.lines):
        t = yesterday + i * step
        svc = services[rng.randrange(a.services)]
        if rng.random() < 0.02:
            msg = rng.choice(errors).format(rng.randint(100, 9000), rng.choice(deps)) if rng.random() < 0.5 else rng.choice(errors).format(rng.randint(1, 99), "x")
            rec = {"ts": round(t, 3), "service": svc, "level": "error", "msg": msg}
        else:
            rec = {"ts": round(t, 3), "service": svc, "level": "info", "msg": "request completed", "status": 200, "duration_ms": rng.randint(1, 400)}
        buf.append(json.dumps(rec))
        if len(buf) == 5000:
            sock.sendall(("\n".join(buf) + "\n").encode()); buf = []
    if buf:
        sock.sendall(("\n".join(buf) + "\n").encode())
    sock.close()
    # Deploy events over 30 days (and some incidents), oldest first.
    events = []
    for i in range(a.deploys):
        t = today - 30 * 86400 + rng.randint(0, 30 * 86400 - 3600)
        svc = services[rng.randrange(a.services)]
        status = rng.choices(["success", "failure", "rolled_back"], [92, 5, 3])[0]
        events.append({"event": "deployment", "service": svc, "version": f"v{i}", "commit_sha": f"{i:040x}",
                       "commit_time": t - rng.randint(600, 200000), "status": status, "time": t})
        if rng.random() < 0.05:
            events.append({"event": "incident", "service": svc, "incident_id": f"INC-{i}", "state": "opened", "time": t + 900})
            events.append({"event": "incident", "service": svc, "incident_id": f"INC-{i}", "state": "resolved", "time": t + 900 + rng.randint(300, 20000)})
    events.sort(key=lambda e: e["time"])
    for k in range(0, len(events), 2000):
        req = urllib.request.Request(f"http://127.0.0.1:{http}/api/v1/events", data=json.dumps(events[k:k + 2000]).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=60).read()
    expected = a.lines + len(events)
    while True:
        m = get(http, "/metrics")
        if metric(m, "tally_logs_entries_appended_total") + metric(m, "tally_logs_rejected_entries_total") >= expected:
            break
        time.sleep(0.1)
    print(f"## report for {date}: {a.lines} log lines, {a.deploys} deploys ({len(events)} events), {a.services} services; "
          f"refused {metric(m, 'tally_logs_rejected_entries_total'):.0f}")
    def timed(path):
        times = []
        for i in range(a.runs + 1):
            t0 = time.perf_counter()
            body = get(http, path)
            if i:
                times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times), max(times), body
    ms, worst, body = timed(f"/api/v1/report/daily?date={date}")
    report = json.loads(body)
    fk = report["four_keys"]
    print(f"GET /api/v1/report/daily: median {ms:.0f} ms, worst {worst:.0f} ms ({len(body)/1e6:.1f} MB); "
          f"services {len(report['services'])}, day deploys {fk['deployment_frequency']['deploys']}, "
          f"30-day deploys {fk['last_30_days']['deployment_frequency']['deploys']}, "
          f"log lines {sum(sum(s['health']['log_lines_by_level'].values()) for s in report['services'].values())}")
    ms2, worst2, page = timed(f"/report/daily?date={date}")
    print(f"GET /report/daily (HTML): median {ms2:.0f} ms, worst {worst2:.0f} ms ({len(page)/1e6:.1f} MB)")
finally:
    proc.terminate(); proc.wait()
