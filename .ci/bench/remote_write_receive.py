#!/usr/bin/env python3
"""remote_write receiving: tally, VictoriaMetrics and Prometheus take the same requests, in one run.

Each receiver starts empty on 127.0.0.1 and takes the requests that `rw-load` (rw-load.c beside this
file: protobuf encoded there, snappy from libsnappy, HTTP/1.1 keep-alive, one thread per
connection) builds before its clock starts: C connections, each owning S series of five labels
(node_exporter-like) and sending N requests of one sample per series, in time order. Reported
per receiver: samples/s over the whole send, the CPU the receiver used (utime+stime from /proc, in
cores), and a check that every sample was stored, by PromQL count_over_time on the receiver's own
query API. Rounds alternate the receivers so that the machine's drift falls on all of them.

Needs: apt-get install prometheus victoria-metrics libsnappy-dev; swift build -c release --product tally.
With --new-series every request names series never sent before (no receiver can recognise a series
by its bytes): the cost of taking new series, not only new samples.

  .ci/bench/remote_write_receive.py [--series 2000] [--requests 500] [--conns 4] [--rounds 2] [--new-series]
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.parse, urllib.request

from benchlib import ROOT, TALLY, free_port

LOAD = os.path.join(ROOT, ".build/bench/rw-load")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def http_get(port, path, timeout=30):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_ready(port, path, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"receiver exited with {proc.returncode}")
        try:
            if http_get(port, path, timeout=2)[0] == 200:
                return
        except Exception:
            pass
        time.sleep(0.1)
    sys.exit(f"receiver on {port} not ready")


def start(name, directory):
    port = free_port()
    log = open(os.path.join(directory, "server.log"), "w")
    if name == "tally":
        config = os.path.join(directory, "tally.yaml")
        with open(config, "w") as f:
            f.write(f"data_dir: {directory}/data\nhttp:\n  listen: 127.0.0.1:{port}\nstatsd:\n  udp: 'off'\n  tcp: 'off'\n"
                    "logs:\n  tcp: 'off'\n  udp: 'off'\n  syslog_tcp: 'off'\n  syslog_udp: 'off'\n")
        cmd = [TALLY, "serve", "--config", config]
        path, ready = "/api/v1/write", "/readyz"
    elif name == "victoria-metrics":
        cmd = ["victoria-metrics", f"-storageDataPath={directory}/data", f"-httpListenAddr=127.0.0.1:{port}",
               "-retentionPeriod=10y", "-search.maxUniqueTimeseries=10000000", "-search.maxSamplesPerQuery=1000000000"]
        path, ready = "/api/v1/write", "/health"
    else:
        with open(os.path.join(directory, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        cmd = ["prometheus", f"--config.file={directory}/prometheus.yml", f"--storage.tsdb.path={directory}/data",
               "--storage.tsdb.retention.time=10y", f"--web.listen-address=127.0.0.1:{port}",
               "--web.enable-remote-write-receiver"]
        path, ready = "/api/v1/write", "/-/ready"
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(port, ready, proc)
    return proc, port, path


def stored(port, selector, time_s, window_s, expected):
    """Samples the receiver answers for, retried for a while (VictoriaMetrics indexes within a second or two)."""
    query = f"sum(count_over_time({selector}[{window_s}s]))"
    got = None
    for _ in range(30):
        _, body = http_get(port, "/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": time_s}), timeout=600)
        result = json.loads(body)["data"]["result"]
        got = int(float(result[0]["value"][1])) if result else 0
        if got == expected:
            break
        time.sleep(1)
    return got


def run_one(name, args):
    directory = tempfile.mkdtemp(prefix=f"rw-recv-{name}-")
    try:
        proc, port, path = start(name, directory)
        before = cpu_seconds(proc.pid)
        out = subprocess.run([LOAD, "-p", str(port), "-P", path, "-c", str(args.conns), "-s", str(args.series),
                              "-n", str(args.requests), "-i", "5000"] + (["-N"] if args.new_series else []),
                             capture_output=True, text=True)
        after = cpu_seconds(proc.pid)
        if not out.stdout:
            sys.exit(f"rw-load failed against {name}: {out.stderr}")
        result = json.loads(out.stdout)
        result["cpu_cores"] = (after - before) / result["seconds"]
        span = (result["last_ms"] - result["first_ms"]) // 1000 + 10
        result["stored"] = stored(port, '{__name__=~"rw_bench_.+"}', result["last_ms"] / 1000, span, result["samples"])
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        return result
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2000, help="series per connection = samples per request")
    parser.add_argument("--requests", type=int, default=500, help="requests per connection")
    parser.add_argument("--conns", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="tally,victoria-metrics,prometheus")
    parser.add_argument("--new-series", action="store_true", help="every request names new series")
    args = parser.parse_args()
    os.makedirs(os.path.dirname(LOAD), exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", LOAD, os.path.join(ROOT, ".ci/bench/rw-load.c"), "-lsnappy", "-lpthread"], check=True)
    names = args.only.split(",")
    results = {n: [] for n in names}
    for round_ in range(args.rounds):
        for name in (names if round_ % 2 == 0 else list(reversed(names))):
            r = run_one(name, args)
            results[name].append(r)
            print(f"round {round_ + 1} {name:17} {r['samples_per_second'] / 1e6:6.2f} M samples/s  "
                  f"{r['cpu_cores']:.2f} cores  {r['seconds']:.2f} s  stored {r['stored']}/{r['samples']}  "
                  f"non-2xx {r['other']} (first {r['first_other_status']})  {r['compressed_bytes_per_request']} B/request",
                  flush=True)
    print(f"\n{args.conns} connections x {args.requests} requests x {args.series} samples"
          f"{' (new series in every request)' if args.new_series else ''} "
          f"(best of {args.rounds}; ratio = receiver / tally):")
    best = {n: max(rs, key=lambda r: r["samples_per_second"]) for n, rs in results.items()}
    base = best.get("tally", next(iter(best.values())))["samples_per_second"]
    for name in names:
        r = best[name]
        print(f"  {name:17} {r['samples_per_second'] / 1e6:6.2f} M samples/s  {r['cpu_cores']:.2f} cores  "
              f"{r['samples_per_second'] / max(r['cpu_cores'], 1e-9) / 1e6:5.2f} M samples per core-second  "
              f"ratio {r['samples_per_second'] / base:.2f}  stored {r['stored'] == r['samples']}")


if __name__ == "__main__":
    main()
