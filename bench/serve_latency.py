#!/usr/bin/env python3
"""Edit-to-served latency of `campus serve` on the Germany-scale corpus.

Starts the release binary on the converted reference corpus, then edits the
title of a unit that many authorities selected, several times. Each time it
measures from the file write until an authority page showing that unit serves
the new title, then checks that every dependent page (unit page, catalog, all
selecting authorities) was updated too. Prints the median, min and max;
exits 1 if the median at full size is above 50 ms (floor of issue 20).

usage: python3 bench/serve_latency.py [--edits 9] [--scale full|tenth]
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
CORPUS = os.path.join(ROOT, "..", "shared", "bench", "make_corpus.py")
SIZES = {"full": (11000, 2000), "tenth": (1100, 200)}
FLOOR_MS = 50


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=9)
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
        print(f"floor (issue 20): median {median:.0f} ms at full size (at most {FLOOR_MS} ms)")
        if args.scale == "full" and median > FLOOR_MS:
            failed = True
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    if failed:
        sys.exit("floor not met: edit-to-served median")


if __name__ == "__main__":
    main()
