#!/usr/bin/env python3
"""Backend answers on the sample site and at Germany scale (issue 20).

Starts `campus serve` (release binary) on a copy of the sample site and on
the converted reference corpus (11,000 authorities, 2,000 units), then asks
each kind of backend answer many times over one keep-alive connection and
prints the median and p90 per kind:

- search without JavaScript, HTML and JSON (`/forms/suche?q=Datenschutz`);
- filtered catalog without JavaScript, HTML and JSON
  (`/forms/katalog?format=on-demand`);
- a booking form posted with a live date that does not exist: the 422 page
  (the unit page again with the message and the input kept); nothing is
  stored. The site gets `bench/intake.toml` appended (per-IP limit raised,
  every other check as in production: real token, Origin, fill time).

Floors (issue 20): every kind at most 20 ms median at Germany scale and at
most 2 x its median on the sample site. Exits 1 when one fails.

usage: python3 bench/backend.py [--requests 200] [--corpus DIR]
  --corpus DIR   an already converted Germany-scale site (skips making one)
  --binary PATH  the campus binary (default: $CARGO_TARGET_DIR or target/,
                 release profile, built if missing)
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402  (finds ../shared/bench from a worktree too)

CORPUS = corpus.make_corpus_script()
SITE_PARTS = ["content", "data", "static", "themes"]
FLOOR_MS = 20.0
FLOOR_RATIO = 2.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(source, target):
    """A copy of a site with the bench limits of bench/intake.toml."""
    os.makedirs(target)
    for part in SITE_PARTS:
        if os.path.isdir(os.path.join(source, part)):
            shutil.copytree(os.path.join(source, part), os.path.join(target, part))
    with open(os.path.join(source, "campus.toml"), encoding="utf-8") as f:
        config = f.read()
    with open(os.path.join(ROOT, "bench", "intake.toml"), encoding="utf-8") as f:
        extra = f.read()
    if re.search(r"^\[backend\]", config, re.M):
        sys.exit(f"{source}/campus.toml has a [backend] table already")
    with open(os.path.join(target, "campus.toml"), "w", encoding="utf-8") as f:
        f.write(config + "\n" + extra)


def hybrid_unit(site):
    folder = os.path.join(site, "content", "einheiten")
    for name in sorted(os.listdir(folder)):
        text = open(os.path.join(folder, name), encoding="utf-8").read()
        if re.search(r"^format: hybrid\s*$", text, re.M):
            return name[:-3]
    sys.exit(f"no hybrid unit in {folder}")


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def ask(self, method, path, body=None, headers=None):
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, data, (time.perf_counter() - started) * 1000


def serve(campus, site, log):
    port = free_port()
    server = subprocess.Popen([campus, "--site", site, "serve", "--address", f"127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while True:
        try:
            c = Client(port)
            status, _, _ = c.ask("GET", "/healthz")
            if status == 200:
                return server, port
        except OSError:
            pass
        if time.time() > deadline or server.poll() is not None:
            server.kill()
            sys.exit(f"campus serve did not start on {site} (see {log.name})")
        time.sleep(0.2)


def measure(port, site, requests):
    c = Client(port)
    base = f"http://127.0.0.1:{port}"
    unit = hybrid_unit(site)
    _, token, _ = c.ask("GET", "/forms/token")
    ts = json.loads(token)["ts"]
    time.sleep(2.5)  # older than the minimum fill time
    booking = urllib.parse.urlencode({
        "einheit": unit, "termin": "1999-01-01", "name": "Bench Mark",
        "email": "bench@", "kommune": "andere", "ts": ts,
    })
    kinds = {
        "search HTML": ("GET", "/forms/suche?q=Datenschutz", None, {}, 200),
        "search JSON": ("GET", "/forms/suche?q=Datenschutz", None, {"Accept": "application/json"}, 200),
        "catalog HTML": ("GET", "/forms/katalog?format=on-demand", None, {}, 200),
        "catalog JSON": ("GET", "/forms/katalog?format=on-demand", None, {"Accept": "application/json"}, 200),
        "booking 422": ("POST", "/forms/buchung", booking,
                        {"Content-Type": "application/x-www-form-urlencoded", "Origin": base}, 422),
    }
    results = {}
    for kind, (method, path, body, headers, expected) in kinds.items():
        times, size = [], 0
        for i in range(requests + 5):
            status, data, ms = c.ask(method, path, body, headers)
            if status != expected:
                sys.exit(f"{kind}: {method} {path} answered {status}, expected {expected}: {data[:300]!r}")
            if i >= 5:  # the first answers warm caches (search index, views)
                times.append(ms)
            size = len(data)
        times.sort()
        results[kind] = (statistics.median(times), times[int(len(times) * 0.9)], size)
    return results


def binary(given):
    if given:
        return given
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "campus"], cwd=ROOT, check=True)
    return os.path.join(target, "release", "campus")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--corpus", default="")
    ap.add_argument("--binary", default="")
    args = ap.parse_args()
    campus = binary(args.binary)
    scratch = tempfile.mkdtemp(prefix="bench-backend-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.requests} requests per kind, one connection")
    figures = {}
    try:
        corpus = args.corpus
        if not corpus:
            hugo = os.path.join(scratch, "hugo")
            corpus = os.path.join(scratch, "corpus")
            subprocess.run([sys.executable, CORPUS, "--format", "hugo", "-m", "11000", "-c", "2000", hugo],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "convert_corpus.py"), hugo, ROOT, corpus],
                           check=True)
        for size, source in (("sample", ROOT), ("germany", corpus)):
            site = os.path.join(scratch, f"site-{size}")
            prepare(source, site)
            log = open(os.path.join(scratch, f"serve-{size}.log"), "w")
            server, port = serve(campus, site, log)
            try:
                figures[size] = measure(port, site, args.requests)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{'answer':14} {'sample ms':>10} {'p90':>6} {'KB':>6} {'Germany ms':>11} {'p90':>6} {'KB':>6} {'ratio':>6}")
    failed = []
    for kind, (small, small_p90, small_size) in figures["sample"].items():
        big, big_p90, big_size = figures["germany"][kind]
        ratio = big / small
        print(f"{kind:14} {small:10.2f} {small_p90:6.2f} {small_size / 1000:6.1f} {big:11.2f} {big_p90:6.2f} {big_size / 1000:6.1f} {ratio:6.2f}")
        if big > FLOOR_MS:
            failed.append(f"{kind}: {big:.2f} ms median at Germany scale (floor {FLOOR_MS:.0f} ms)")
        if ratio > FLOOR_RATIO:
            failed.append(f"{kind}: {ratio:.2f} x the sample site (floor {FLOOR_RATIO:.0f} x)")
    if failed:
        print("FLOORS FAILED:\n  " + "\n  ".join(failed))
        sys.exit(1)
    print("all floors met")


if __name__ == "__main__":
    main()
