#!/usr/bin/env python3
"""remote_write sending: tally and Prometheus each drain the same backlog into VictoriaMetrics, in one run.

Each sender (tally with its defaults and only the HTTP listener; Prometheus 2.42) starts empty with a
remote_write destination whose receiver (VictoriaMetrics) is not up yet, and takes the same
samples from `rw-load` (rw-load.c beside this file) over its own remote_write receiver: C connections
x N requests x S samples, timestamps from now on, one second apart per series. They pile up in the
sender's WAL. Then VictoriaMetrics starts, and the clock runs from when it answers until the
sender reports every sample acknowledged (tally_remote_storage_samples_total,
prometheus_remote_storage_samples_total). Reported: samples/s drained, the sender's CPU over the
drain (utime+stime from /proc, in cores), and VictoriaMetrics' count of what it stored.
Both senders get the same queue_config (capacity 10000, max_shards 50, max_samples_per_send 2000,
min_backoff 30ms, max_backoff 100ms, so each starts sending within 100 ms of the receiver, and
batch_send_deadline 200ms: the drain's last, partly filled batch waits that long in either sender,
and at the default 5s that wait alone would be most of a 4-second drain). Environment:
RW_CAPACITY, RW_MAX_SHARDS, RW_PER_SEND, RW_DEADLINE change those; RW_KEEP_LOG=PREFIX keeps each
sender's log as PREFIX.NAME.log.

Needs: apt-get install prometheus victoria-metrics libsnappy-dev; swift build -c release --product tally.
  .ci/bench/remote_write_send.py [--series 2000] [--requests 500] [--conns 4] [--rounds 2]
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.parse

from benchlib import ROOT, TALLY, free_port
from remote_write_receive import LOAD, cpu_seconds, http_get, wait_ready

QUEUE = ("{capacity: " + os.environ.get("RW_CAPACITY", "10000") + ", max_shards: " + os.environ.get("RW_MAX_SHARDS", "50") + ", max_samples_per_send: " + os.environ.get("RW_PER_SEND", "2000") + ", batch_send_deadline: " + os.environ.get("RW_DEADLINE", "200ms") + ", "
         "min_backoff: 30ms, max_backoff: 100ms}")


def start_sender(name, directory, vm_port):
    port = free_port()
    log = open(os.path.join(directory, "sender.log"), "w")
    url = f"http://127.0.0.1:{vm_port}/api/v1/write"
    if name == "tally":
        config = os.path.join(directory, "tally.yaml")
        with open(config, "w") as f:
            f.write(f"data_dir: {directory}/data\nhttp:\n  listen: 127.0.0.1:{port}\nstatsd:\n  udp: 'off'\n  tcp: 'off'\n"
                    "logs:\n  tcp: 'off'\n  udp: 'off'\n  syslog_tcp: 'off'\n  syslog_udp: 'off'\n"
                    f"remote_write:\n  - url: {url}\n    queue_config: {QUEUE}\n")
        proc = subprocess.Popen([TALLY, "serve", "--config", config], stdout=log, stderr=subprocess.STDOUT)
        wait_ready(port, "/readyz", proc)
        metric = "tally_remote_storage_samples_total"
    else:
        with open(os.path.join(directory, "prometheus.yml"), "w") as f:
            f.write(f"global:\n  scrape_interval: 1h\nscrape_configs: []\nremote_write:\n  - url: {url}\n    queue_config: {QUEUE}\n")
        proc = subprocess.Popen(["prometheus", f"--config.file={directory}/prometheus.yml", f"--storage.tsdb.path={directory}/data",
                                 f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver"],
                                stdout=log, stderr=subprocess.STDOUT)
        wait_ready(port, "/-/ready", proc)
        metric = "prometheus_remote_storage_samples_total"
    return proc, port, metric


def acknowledged(port, metric):
    _, text = http_get(port, "/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(metric))


def run_one(name, args):
    directory = tempfile.mkdtemp(prefix=f"rw-send-{name}-")
    vm_port = free_port()
    vm = None
    try:
        sender, port, metric = start_sender(name, directory, vm_port)
        t0 = int(time.time() * 1000)
        load = subprocess.run([LOAD, "-p", str(port), "-c", str(args.conns), "-s", str(args.series), "-n", str(args.requests),
                               "-t", str(t0), "-i", "1000"], capture_output=True, text=True)
        sent = json.loads(load.stdout)
        if sent["other"]:
            sys.exit(f"{name} refused {sent['other']} requests (first status {sent['first_other_status']})")
        total = sent["samples"]
        vm = subprocess.Popen(["victoria-metrics", f"-storageDataPath={directory}/vm", f"-httpListenAddr=127.0.0.1:{vm_port}",
                               "-retentionPeriod=10y", "-search.maxUniqueTimeseries=10000000", "-search.latencyOffset=0s"],
                              stdout=open(os.path.join(directory, "vm.log"), "w"), stderr=subprocess.STDOUT)
        wait_ready(vm_port, "/health", vm)
        start, cpu0, vm_cpu0 = time.time(), cpu_seconds(sender.pid), cpu_seconds(vm.pid)
        done = 0
        while time.time() - start < 600:
            done = acknowledged(port, metric)
            if done >= total:
                break
            time.sleep(0.05)
        seconds, cpu, vm_cpu = time.time() - start, cpu_seconds(sender.pid) - cpu0, cpu_seconds(vm.pid) - vm_cpu0
        http_get(vm_port, "/internal/force_flush")
        query = f'sum(count_over_time({{__name__=~"rw_bench_.+"}}[{args.requests + 10}s]))'
        stored = 0
        for _ in range(20):
            _, body = http_get(vm_port, "/api/v1/query?" + urllib.parse.urlencode({"query": query, "time": (t0 + args.requests * 1000) / 1000}), timeout=600)
            result = json.loads(body)["data"]["result"]
            stored = int(float(result[0]["value"][1])) if result else 0
            if stored >= total:
                break
            time.sleep(1)
        for proc in (sender, vm):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        return {"samples": total, "acknowledged": done, "seconds": seconds, "rate": done / seconds, "cpu": cpu / seconds, "stored": stored,
                "vm_cpu": vm_cpu / seconds}
    finally:
        if vm and vm.poll() is None:
            vm.kill()
        if os.environ.get("RW_KEEP_LOG"):
            shutil.copy(os.path.join(directory, "sender.log"), os.environ["RW_KEEP_LOG"] + f".{name}.log")
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--conns", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="tally,prometheus")
    args = parser.parse_args()
    os.makedirs(os.path.dirname(LOAD), exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", LOAD, os.path.join(ROOT, ".ci/bench/rw-load.c"), "-lsnappy", "-lpthread"], check=True)
    names = args.only.split(",")
    results = {n: [] for n in names}
    for round_ in range(args.rounds):
        for name in (names if round_ % 2 == 0 else list(reversed(names))):
            r = run_one(name, args)
            results[name].append(r)
            print(f"round {round_ + 1} {name:11} {r['rate'] / 1e6:6.2f} M samples/s  {r['cpu']:.2f} cores  {r['seconds']:.2f} s  "
                  f"acknowledged {r['acknowledged']:.0f}/{r['samples']}  stored by VictoriaMetrics {r['stored']} "
                  f"(its CPU {r['vm_cpu']:.2f} cores)", flush=True)
    best = {n: max(rs, key=lambda r: r["rate"]) for n, rs in results.items()}
    base = best.get("tally", next(iter(best.values())))["rate"]
    print(f"\n{args.conns * args.requests * args.series} samples of {args.conns * args.series} series drained into VictoriaMetrics "
          f"(best of {args.rounds}; ratio = sender / tally):")
    for name in names:
        r = best[name]
        print(f"  {name:11} {r['rate'] / 1e6:6.2f} M samples/s  {r['cpu']:.2f} cores  "
              f"{r['rate'] / max(r['cpu'], 1e-9) / 1e6:5.2f} M samples per core-second  ratio {r['rate'] / base:.2f}")


if __name__ == "__main__":
    main()
