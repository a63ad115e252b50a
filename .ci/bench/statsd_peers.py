#!/usr/bin/env python3
"""StatsD over UDP: tally on its defaults beside netdata and brubeck, in one run.

Each server in turn (the order rotates every round) is started pinned to core 0 (`taskset -c 0`)
and statsd-blast sends to it from core 1 for DURATION seconds at each rate; then the script reads
how many lines the server says it took in and how many datagrams the kernel dropped on its socket
(the `drops` column of /proc/net/udp), and stops it. Lost = sent - counted.
  tally    `tally serve`, shipped defaults (data in a temporary directory)
  netdata  Debian's netdata (apt-get install netdata-core netdata-web), only its statsd plugin
           (peers/start-netdata.sh; netdata's stock statsd settings); counted = the sum of its
           netdata.statsd_events chart (every line, errors included)
  brubeck  github/brubeck built by peers/build-brubeck.sh, one worker, recvmmsg of 8
           (peers/start-brubeck.sh); counted = metrics + errors from its self-metrics, received by
           peers/carbon-sink.py (pinned to core 0 too, as brubeck's backend)
brubeck does not know sets (`|s`) and counts them as errors: they are still read and parsed, so they
count as taken in. "CPU" is the cores the server used while the load ran.

Usage (release build of tally first; statsd-blast in .build/bench, brubeck in .build/peers):
  .ci/bench/statsd_peers.py --rates 2e6,4e6,6e6 [--mix c=40,g=15,ms=20,h=10,s=15] [--rounds 2]
"""
import argparse, json, os, signal, subprocess, tempfile, time, urllib.error, urllib.request

from benchlib import ROOT, TALLY, free_port, get, metric

BLAST = os.path.join(ROOT, ".build/bench/statsd-blast")
PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers")


def kernel_drops(port):
    """Datagrams the kernel dropped on every UDP socket bound to `port` (IPv4 and IPv6)."""
    total = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for row in f:
                    fields = row.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port:
                        total += int(fields[-1])
        except FileNotFoundError:
            pass
    return total


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(check, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not become ready")


class Tally:
    name = "tally (defaults)"

    def start(self, port, web):
        self.web = web
        self.data = tempfile.mkdtemp(prefix="tally-peers-")
        self.proc = subprocess.Popen(["taskset", "-c", "0", TALLY, "serve", "--statsd-udp", f"127.0.0.1:{port}",
                                      "--http", f"127.0.0.1:{web}", "--data-dir", self.data, "--log-level", "warning"],
                                     stderr=subprocess.DEVNULL)
        wait_for(lambda: get(web, "/readyz").startswith("ready"), "tally")

    def counted(self):
        return metric(get(self.web, "/metrics"), 'tally_statsd_received_lines_total{transport="udp"}')


class Netdata:
    name = "netdata 1.37 (Debian)"

    def start(self, port, web):
        self.web = web
        self.started = time.time()
        self.proc = subprocess.Popen(["taskset", "-c", "0", os.path.join(PEERS, "start-netdata.sh"), str(port), str(web)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: "statsd" in get(web, "/api/v1/charts"), "netdata")
        time.sleep(1)

    def counted(self):
        after = int(time.time() - self.started) + 5
        url = (f"/api/v1/data?chart=netdata.statsd_events&after=-{after}&points=1&group=sum&format=json"
               "&options=unaligned")
        try:
            data = json.loads(get(self.web, url))
        except urllib.error.HTTPError as error:
            if error.code == 404:  # the chart appears with the first line received
                return 0
            raise
        return sum(value or 0 for value in data["data"][0][1:])


class Brubeck:
    name = "brubeck (github, ebbd222)"

    def start(self, port, web):
        self.rundir = tempfile.mkdtemp(prefix="brubeck-")
        env = dict(os.environ, SINK_CPUS="0")
        self.proc = subprocess.Popen(["taskset", "-c", "0", os.path.join(PEERS, "start-brubeck.sh"), str(port), str(web),
                                      str(free_port()), self.rundir],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: json.load(open(os.path.join(self.rundir, "counts.json")))["flushes"] > 0, "brubeck")

    def counted(self):
        with open(os.path.join(self.rundir, "counts.json")) as f:
            counts = json.load(f)
        return counts["metrics_total"] + counts["errors_total"]


def run_one(server, rate, args, prefix):
    port, web = free_port(), free_port()
    server.start(port, web)
    try:
        drops0 = kernel_drops(port)
        counted0 = server.counted()
        cpu0 = cpu_seconds(server.proc.pid)
        started = time.monotonic()
        out = subprocess.run(["taskset", "-c", "1", BLAST, "-P", "udp", "-p", str(port), "-d", str(args.duration),
                              "-r", str(int(rate)), "-k", str(args.names), "-m", args.mix, "-x", prefix],
                             capture_output=True, text=True, check=True).stdout
        cpu1 = cpu_seconds(server.proc.pid)
        elapsed = time.monotonic() - started
        sent = json.loads(out.strip().splitlines()[-1])
        time.sleep(3)  # every server has flushed its counts (netdata and brubeck each second)
        counted = server.counted() - counted0
        drops = kernel_drops(port) - drops0
    finally:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
    lost = sent["lines"] - counted
    return sent, counted, lost, drops, (cpu1 - cpu0) / elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rates", default="2e6,4e6,6e6")
    p.add_argument("--mix", default="c=40,g=15,ms=20,h=10,s=15")
    p.add_argument("--names", type=int, default=200, help="names per type")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--servers", default="tally,netdata,brubeck")
    args = p.parse_args()
    chosen = {"tally": Tally, "netdata": Netdata, "brubeck": Brubeck}
    servers = [chosen[s]() for s in args.servers.split(",")]
    print(f"# mix={args.mix} names/type={args.names} duration={args.duration}s, each server on core 0, blast on core 1")
    print("| round | server | target lines/s | sent lines/s | counted | lost | kernel drops (datagrams) | CPU |")
    print("|---|---|---|---|---|---|---|---|")
    n = 0
    for round_ in range(args.rounds):
        order = servers[round_ % len(servers):] + servers[:round_ % len(servers)]
        for rate in (float(r) for r in args.rates.split(",")):
            for server in order:
                n += 1
                sent, counted, lost, drops, cpu = run_one(server, rate, args, f"p{n}")
                print(f"| {round_ + 1} | {server.name} | {rate / 1e6:.2f} M | {sent['lines_per_sec'] / 1e6:.2f} M | "
                      f"{counted:.0f} | {100 * lost / max(1, sent['lines']):.3f}% | {drops} | {cpu:.2f} core |", flush=True)


if __name__ == "__main__":
    main()
