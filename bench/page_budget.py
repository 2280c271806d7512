#!/usr/bin/env python3
"""Page budgets: what a visitor loads per page type, compressed.

For every page of a built site (`public/`) it adds up what the first visit
of that page transfers: the HTML, the style sheets and scripts it links
(`<link rel="stylesheet">`, `<script src>`) and the pictures it shows
(`<img src>`; for `srcset` the largest candidate, what a wide screen
loads), each compressed as a server sends it (gzip level 9 for text;
pictures as they are, already compressed). Pages are grouped by type; the
largest page of each type is checked against its budget (bench/README.md).
Exits 1 when a page type is over budget.

usage: python3 bench/page_budget.py                  # builds the sample site and the full corpus
       python3 bench/page_budget.py --public DIR     # checks a built folder only
       python3 bench/page_budget.py --skip-corpus    # sample site only
"""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The shared corpus beside the repository (or beside the folder of its worktrees).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402  (finds ../shared/bench from a worktree too)

CORPUS = corpus.make_corpus_script()

# Budget per page type in KB (1,000 bytes), compressed: HTML + CSS + JS +
# pictures of one first visit. See bench/README.md for why these figures.
BUDGETS_KB = {
    "Startseite": 40,
    "Lerneinheit": 40,
    "Katalog (alle Lerneinheiten)": 120,
    "Katalog (vorgefiltert)": 80,
    "Kurs": 40,
    "Kursliste": 40,
    "Thema": 40,
    "Kommune": 40,
    "Kommunenliste": 175,
    "Dozierende": 40,
    "FAQ": 50,
    "Suche / Selbstcheck": 40,
    "Inhaltsseite": 40,
    "Formularseite": 40,
}


def page_type(rel):
    parts = rel.split("/")
    if rel == "index.html":
        return "Startseite"
    head = parts[0]
    if head == "lerneinheiten":
        if len(parts) == 2:
            return "Katalog (alle Lerneinheiten)"
        return "Katalog (vorgefiltert)" if len(parts) > 3 else "Lerneinheit"
    if head == "kurse":
        return "Kurs" if len(parts) == 3 else "Kursliste"
    if head == "themen":
        return "Thema"
    if head == "kommunen":
        return "Kommune" if len(parts) == 3 else "Kommunenliste"
    if head in ("dozierende", "anbieter", "qualitaet"):
        return "Dozierende"
    if head == "faq":
        return "FAQ"
    if head in ("suche", "selbstcheck"):
        return "Suche / Selbstcheck"
    if head in ("formular", "kontakt", "registrierung", "newsletter"):
        return "Formularseite"
    return "Inhaltsseite"


ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def referenced(html):
    """Style sheets, scripts and pictures a page loads (site paths)."""
    files = []
    for tag in re.finditer(r"<(link|script|img|source)\b([^>]*)>", html):
        name, attrs = tag.group(1), dict(ATTR.findall(tag.group(2)))
        if name == "link" and attrs.get("rel") == "stylesheet":
            files.append(attrs.get("href"))
        elif name == "script":
            files.append(attrs.get("src"))
        elif name in ("img", "source"):
            srcset = attrs.get("srcset")
            if srcset:
                candidates = []
                for c in srcset.split(","):
                    bits = c.split()
                    width = int(bits[1].rstrip("w")) if len(bits) > 1 and bits[1].endswith("w") else 0
                    candidates.append((width, bits[0]))
                files.append(max(candidates)[1])
            elif name == "img":
                files.append(attrs.get("src"))
    return [f for f in files if f and f.startswith("/") and not f.startswith("//")]


def transferred(public, path, cache):
    """Bytes a server sends for one file (gzip for text)."""
    if path in cache:
        return cache[path]
    full = os.path.join(public, path.split("?")[0].lstrip("/"))
    try:
        with open(full, "rb") as f:
            data = f.read()
    except OSError:
        cache[path] = 0
        return 0
    if full.endswith((".html", ".css", ".js", ".svg", ".json")):
        size = len(gzip.compress(data, 9, mtime=0))
    else:
        size = len(data)
    cache[path] = size
    return size


def measure(public):
    """Largest page per type: (type -> (total bytes, page, html, css+js, pictures, count))."""
    worst = {}
    counts = {}
    cache = {}
    for base, _, files in os.walk(public):
        for f in files:
            if not f.endswith(".html"):
                continue
            full = os.path.join(base, f)
            rel = os.path.relpath(full, public).replace(os.sep, "/")
            if rel == "404.html":
                continue
            with open(full, encoding="utf-8") as fh:
                html = fh.read()
            size_html = len(gzip.compress(html.encode(), 9, mtime=0))
            code = pictures = 0
            for ref in dict.fromkeys(referenced(html)):
                n = transferred(public, ref, cache)
                if ref.endswith((".css", ".js")):
                    code += n
                else:
                    pictures += n
            kind = page_type(rel)
            counts[kind] = counts.get(kind, 0) + 1
            total = size_html + code + pictures
            if kind not in worst or total > worst[kind][0]:
                worst[kind] = (total, rel, size_html, code, pictures)
    return {k: v + (counts[k],) for k, v in worst.items()}


def report(name, public):
    print(f"\n{name} ({public})")
    print(f"{'page type':30} {'pages':>6} {'HTML':>8} {'CSS+JS':>8} {'pictures':>9} {'total KB':>9} {'budget':>7}  largest page")
    failed = []
    for kind, (total, rel, html, code, pictures, count) in sorted(measure(public).items()):
        budget = BUDGETS_KB.get(kind)
        over = budget is not None and total > budget * 1000
        if over:
            failed.append(f"{name}: {kind} {total / 1000:.1f} KB > {budget} KB ({rel})")
        print(f"{kind:30} {count:>6} {html / 1000:>8.1f} {code / 1000:>8.1f} {pictures / 1000:>9.1f} {total / 1000:>9.1f} {budget:>7} {'OVER ' if over else ''} {rel}")
    return failed


def build(campus, site, out):
    subprocess.run([campus, "--site", site, "build", "--out", out], check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--public", help="check this built folder only")
    ap.add_argument("--skip-corpus", action="store_true", help="sample site only")
    ap.add_argument("--binary", help="campus binary (default: the release build)")
    args = ap.parse_args()
    print("floors: the largest page of each type within its budget (KB compressed):")
    print("  " + ", ".join(f"{k} {v}" for k, v in BUDGETS_KB.items()))
    if args.public:
        failed = report("built folder", args.public)
    else:
        campus = args.binary
        if campus is None:
            subprocess.run(["cargo", "build", "--release", "-q", "--bin", "campus"], cwd=ROOT, check=True)
            target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
            campus = os.path.join(target, "release", "campus")
        scratch = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        try:
            sample = os.path.join(scratch, "sample")
            os.makedirs(sample)
            for sub in ("content", "data", "static", "themes"):
                shutil.copytree(os.path.join(ROOT, sub), os.path.join(sample, sub))
            shutil.copy(os.path.join(ROOT, "campus.toml"), sample)
            build(campus, sample, os.path.join(scratch, "sample-public"))
            failed = report("sample site", os.path.join(scratch, "sample-public"))
            if not args.skip_corpus:
                hugo_site = os.path.join(scratch, "hugo-full")
                corpus = os.path.join(scratch, "campus-full")
                subprocess.run([sys.executable, CORPUS, "--format", "hugo", "-m", "11000", "-c", "2000", hugo_site], check=True, stdout=subprocess.DEVNULL)
                subprocess.run([sys.executable, os.path.join(ROOT, "bench", "convert_corpus.py"), hugo_site, ROOT, corpus], check=True, stdout=subprocess.DEVNULL)
                build(campus, corpus, os.path.join(scratch, "full-public"))
                failed += report("Germany scale", os.path.join(scratch, "full-public"))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if failed:
        print("\nOVER BUDGET:\n  " + "\n  ".join(failed))
        return 1
    print("\nall page types within budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
