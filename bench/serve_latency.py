#!/usr/bin/env python3
"""Edit-to-served latency of `campus serve` on the Germany-scale corpus.

Starts the release binary on the converted reference corpus, then edits the
title of a unit that many authorities selected, several times. Each time it
measures from the file write until an authority page showing that unit serves
the new title, then checks that every dependent page (unit page, catalog, all
selecting authorities) was updated too. Prints the median, min and max;
Also reads the server's resident memory (VmRSS) once the first build is
served and its derived files are made, and again after the edits.
Exits 1 at full size if the median is above 50 ms or the resident memory
above 300 MiB at either point (floors of issue 20).

usage: python3 bench/serve_latency.py [--edits 21] [--scale full|tenth]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402  (finds ../shared/bench from a worktree too)

CORPUS = corpus.make_corpus_script()
SIZES = {"full": (11000, 2000), "tenth": (1100, 200)}
FLOOR_MS = 50
FLOOR_RSS_MIB = 300


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def settled_rss(pid, seconds=3.0):
    """Resident memory after the derived files of the last build (made in
    the background, about a second at full size) had time to follow."""
    time.sleep(seconds)
    return resident_mib(pid)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=21)
    ap.add_argument("--scale", default="full")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "campus"], cwd=ROOT, check=True)
    campus = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "campus")
    scratch = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    server = None
    failed = False
    try:
        m, c = SIZES[args.scale]
        hugo_site = os.path.join(scratch, "hugo")
        site = os.path.join(scratch, "site")
        subprocess.run([sys.executable, CORPUS, "--format", "hugo", "-m", str(m), "-c", str(c), hugo_site], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "convert_corpus.py"), hugo_site, ROOT, site], check=True)
        # The unit selected by the most authorities.
        counts = {}
        for name in os.listdir(os.path.join(site, "content", "kommunen")):
            text = open(os.path.join(site, "content", "kommunen", name), encoding="utf-8").read()
            units = re.search(r"^einheiten: \[(.*)\]$", text, re.M).group(1).split(", ")
            for u in units:
                counts.setdefault(u, []).append(name[:-3])
        unit, selecting = max(counts.items(), key=lambda kv: len(kv[1]))
        unit_file = os.path.join(site, "content", "einheiten", unit + ".md")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([campus, "--site", site, "serve", "--address", f"127.0.0.1:{port}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 120
        while True:
            try:
                get(base + "/healthz")
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("campus serve did not start")
                time.sleep(0.1)
        print(f"corpus {args.scale}: unit {unit} shown on {len(selecting)} authority pages")
        rss_start = settled_rss(server.pid)
        watched = f"{base}/kommunen/{selecting[0]}/"
        original = open(unit_file, encoding="utf-8").read()
        title = re.search(r'^titel: "(.*)"$', original, re.M).group(1)
        latencies = []
        for k in range(args.edits):
            marker = f"Bearbeitet{k}x{int(time.time())}"
            text = original.replace(f'titel: "{title}"', f'titel: "{marker} {title}"', 1)
            start = time.perf_counter()
            with open(unit_file, "w", encoding="utf-8") as f:
                f.write(text)
            while marker not in get(watched):
                if time.perf_counter() - start > 30:
                    sys.exit("the edit never showed up")
                time.sleep(0.002)
            latencies.append((time.perf_counter() - start) * 1000)
            stale = [u for u in [f"/lerneinheiten/{unit}/", "/lerneinheiten/"] + [f"/kommunen/{a}/" for a in selecting]
                     if marker not in get(base + u)]
            if stale:
                sys.exit(f"dependent pages not updated: {stale[:5]}")
            time.sleep(0.3)
        print(f"edit-to-served latency over {len(latencies)} edits: median {statistics.median(latencies):.0f} ms, "
              f"min {min(latencies):.0f} ms, max {max(latencies):.0f} ms (all {len(selecting) + 2} dependent pages updated)")
        median = statistics.median(latencies)
        rss_edits = settled_rss(server.pid)
        print(f"floor (issue 20): median {median:.0f} ms at full size (at most {FLOOR_MS} ms)")
        print(f"floor (issue 20): resident memory {rss_start:.0f} MiB after start, {rss_edits:.0f} MiB "
              f"after {len(latencies)} edits (at most {FLOOR_RSS_MIB} MiB each at full size)")
        if args.scale == "full" and (median > FLOOR_MS or max(rss_start, rss_edits) > FLOOR_RSS_MIB):
            failed = True
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    if failed:
        sys.exit("floor not met: edit-to-served median or resident memory")


if __name__ == "__main__":
    main()
