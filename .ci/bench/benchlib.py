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


# The listeners a UI benchmark does not use, off, so that its tally finds its ports free.
QUIET_INGEST = ["--statsd-udp", "off", "--statsd-tcp", "off", "--logs-tcp", "off", "--logs-udp", "off",
                "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off"]


class UIServer:
    """`tally serve` (BINARY) on an empty temporary data directory with only its HTTP port, and a
    headless Chromium (Debian's chromium and chromium-driver through Selenium) to open its pages;
    both stopped and the directory removed on exit. `config` is tally.yaml text, if any."""

    def __init__(self, binary, config=None):
        self.binary, self.config = binary, config

    def __enter__(self):
        import subprocess, tempfile
        from head_memory_peers import wait_ready
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        self.work = tempfile.mkdtemp(prefix="tally-ui-bench-")
        arguments = []
        if self.config:
            path = os.path.join(self.work, "tally.yaml")
            with open(path, "w") as f:
                f.write(self.config)
            arguments = ["--config", path]
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.tally = subprocess.Popen([self.binary, "serve", *QUIET_INGEST, "--http", f"127.0.0.1:{port}",
                                       "--data-dir", self.work + "/data", *arguments],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(self.base + "/readyz", self.tally)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        return self

    def __exit__(self, *exc):
        import shutil
        self.driver.quit()
        self.tally.terminate()
        self.tally.wait()
        shutil.rmtree(self.work, ignore_errors=True)
        return False
