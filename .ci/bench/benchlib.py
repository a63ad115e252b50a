"""Helpers shared by the benchmark scripts in this folder."""
import os, socket, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TALLY = os.path.join(ROOT, ".build/release/tally")


def free_port():
    """A TCP port free on 127.0.0.1 a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path):
    """GET a path from tally's HTTP port, as text."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.read().decode()


def metric(text, name):
    """The sum of every sample of `name` (a prefix, labels included) in the Prometheus text format."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total
