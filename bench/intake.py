#!/usr/bin/env python3
"""Form intake benchmark: durable contact submissions against `campus serve`.

Builds the release binary, copies the sample site (campus.toml, content,
data, static, themes) into a scratch folder on disk (not tmpfs: the WAL sync
must be real), appends `bench/intake.toml` (raised per-IP and per-recipient
limits, nothing else switched off) and starts `campus serve` on a free
loopback port. Then, with Debian's `wrk` (installed with apt-get if missing):

1. `/healthz` for comparison;
2. valid contact posts, urlencoded (answer 303) and JSON (answer 200), each
   with a real signed `ts` token from GET /forms/token that has waited the
   minimum fill time, the site's Origin, an empty honeypot and a unique name:
   - "paced": --paced-connections connections, each waiting
     connections/--paced-rate between posts (plus the answer time), so about
     2,500 posts/s are offered: a little over the floor's load, held to the
     floor (at least 2,000 durable posts/s achieved, p99 < 50 ms);
   - "saturated": --connections connections posting back to back (the most
     the closed loop gets through; reported, not held to the p99 floor);
3. held loads (issue 20): urlencoded posts on a fixed schedule of each of
   --held-rates posts/s (open loop: post k is due at k / rate, whatever the
   answer times; --held-connections bound the posts in flight) for
   --held-duration seconds (default 30), once each; reports the
   rate achieved and p99 of each and the highest rate held with p99 at most
   50 ms; floor: a run that held at least 5,000 durable posts/s with p99 at
   most 50 ms;
4. an overload run with more connections than the intake queue holds, which
   must produce 503 answers with Retry-After.

After each post run it counts the contact rows in the database and checks
that every acknowledged post (303/200) is there: rows added = acknowledged +
posts committed whose answer wrk no longer read because the run ended (at
most the requests still in flight then). Prints throughput and p50/p99
latency and the server's CPU time per answer; exits 1 if a check fails or
the paced runs miss the floor.

Each kind runs --repeat times (default 3) against the same server and
database; the floors are checked on the median throughput and the median
p99 (the machine may be shared), and every single run is printed too.

usage: python3 bench/intake.py [--duration 10] [--repeat 3] [--modes form,json]
       [--paced-rate 3500] [--paced-connections 64] [--connections 32]
       [--held-rates 3000,4000,5000,6000,7000] [--held-duration 30] [--held-connections 128]
       [--overload-connections 1200] [--overload-mode form|json] [--keep]
Loopback only; every run is bounded by --duration.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SITE_PARTS = ["content", "data", "static", "themes"]

LUA = r"""
local tokens = { %(tokens)s }
local mode = "%(mode)s"
local origin = "%(origin)s"
local pace_ms = %(pace_ms)d
local rate = %(rate)d
if rate > 0 then
  -- Held run: request k of this thread is due at start + k / rate (an
  -- open-loop schedule, kept while a connection is free to send), so the
  -- offered rate does not sink when answers get slower.
  local ffi = require("ffi")
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } campus_timespec;
             int clock_gettime(int, campus_timespec *); ]]
  local ts = ffi.new("campus_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval, due = 1000 / rate, nil
  function delay()
    local now = now_ms()
    due = (due or now) + interval
    return math.max(0, math.floor(due - now))
  end
elseif pace_ms > 0 then
  -- Paced run: each connection waits this long before its next request.
  function delay() return pace_ms end
end
local threads = {}
local counter = 0
s200, s303, s503, sother, sent, retry_after = 0, 0, 0, 0, 0, 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local static_form = "&organisation=Stadt+Beispiel&email=kontakt%%40beispiel.example"
  .. "&telefon=%%2B49+621+000000&termin1=2099-02-10T10%%3A00&termin2=2099-02-11T10%%3A00"
  .. "&termin3=2099-02-12T14%%3A30&nachricht=Wir+m%%C3%%B6chten+Mitglied+werden.&einwilligung=ja&website="
local static_json = '"organisation":"Stadt Beispiel","email":"kontakt@beispiel.example",'
  .. '"telefon":"+49 621 000000","termin1":"2099-02-10T10:00","termin2":"2099-02-11T10:00",'
  .. '"termin3":"2099-02-12T14:30","nachricht":"Wir möchten Mitglied werden.","einwilligung":true,"website":""'

function request()
  counter = counter + 1
  sent = sent + 1
  local ts = tokens[(counter %% #tokens) + 1]
  local name = "Bench T" .. tid .. " N" .. counter
  if mode == "json" then
    local body = '{"name":"' .. name .. '",' .. static_json .. ',"ts":"' .. ts .. '"}'
    return wrk.format("POST", "/forms/kontakt", {
      ["Content-Type"] = "application/json", ["Accept"] = "application/json",
      ["Origin"] = origin }, body)
  end
  local body = "name=" .. string.gsub(name, " ", "+") .. static_form .. "&ts=" .. ts
  return wrk.format("POST", "/forms/kontakt", {
    ["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = origin }, body)
end

function response(status, headers, body)
  if status == 303 then s303 = s303 + 1
  elseif status == 200 then s200 = s200 + 1
  elseif status == 503 then
    s503 = s503 + 1
    if headers["Retry-After"] or headers["retry-after"] then retry_after = retry_after + 1 end
  else sother = sother + 1 end
end

function done(summary, latency, requests)
  local t = { s200 = 0, s303 = 0, s503 = 0, sother = 0, sent = 0, retry_after = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  io.write(string.format(
    'RESULT {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,'
    .. '"s200":%%d,"s303":%%d,"s503":%%d,"other":%%d,"sent":%%d,"retry_after":%%d,'
    .. '"timeouts":%%d,"read_errors":%%d,"connect_errors":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, t.s200, t.s303, t.s503, t.sother, t.sent,
    t.retry_after, summary.errors.timeout, summary.errors.read, summary.errors.connect))
end
"""

HEALTH_LUA = r"""
function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"non_2xx":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.errors.status, summary.errors.timeout))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("wrk fehlt: apt-get install wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   stdout=subprocess.DEVNULL)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024 // 1024
    return f"{os.cpu_count()} CPUs ({model}), {mem} GiB, Linux {platform.release()}"


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def wrk(url, script, connections, duration, threads=1):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s",
           "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    m = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if not m:
        sys.exit(f"wrk ohne Ergebnis:\n{out.stdout}\n{out.stderr}")
    return json.loads(m.group(1))


def rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM submissions WHERE form = 'kontakt'").fetchone()[0]
    finally:
        con.close()


def settled_rows(db):
    """The row count once the server has committed what was still queued."""
    last = rows(db)
    while True:
        time.sleep(0.5)
        now = rows(db)
        if now == last:
            return now
        last = now


def cpu_seconds(pid):
    """User + system CPU time of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ms(us):
    return us / 1000.0


def median_of(label, runs):
    """(label, connections, answers/s, p50 ms, p99 ms, 503s): medians of `runs`."""
    def med(values):
        values = sorted(values)
        return values[len(values) // 2]
    return (label, runs[0][1], med([r[2] for r in runs]), med([ms(r[3]["p50_us"]) for r in runs]),
            med([ms(r[3]["p99_us"]) for r in runs]), sum(r[3].get("s503", 0) for r in runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3, help="runs per kind; floors use the median")
    ap.add_argument("--paced-rate", type=int, default=3500,
                    help="posts/s the pacing aims at (each connection waits connections/rate between "
                         "posts; the achieved rate is lower by the answer time and is what counts)")
    ap.add_argument("--paced-connections", type=int, default=64)
    ap.add_argument("--overload-connections", type=int, default=1200)
    ap.add_argument("--held-rates", default="3000,4000,5000,6000,7000",
                    help="posts/s offered in the held runs, comma-separated; empty: no held runs")
    ap.add_argument("--held-duration", type=int, default=30)
    ap.add_argument("--held-connections", type=int, default=128)
    ap.add_argument("--modes", default="form,json", help="post runs in this order")
    ap.add_argument("--overload-mode", choices=["form", "json"], default="form")
    ap.add_argument("--tokens", type=int, default=500)
    ap.add_argument("--keep", action="store_true", help="keep the scratch site")
    args = ap.parse_args()
    ensure_wrk()
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "campus"], cwd=ROOT, check=True)
    campus = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "campus")
    # On disk (target/ is on the same file system as the repo), never tmpfs.
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="bench-intake-", dir=os.path.join(ROOT, "target"))
    site = os.path.join(scratch, "site")
    os.makedirs(site)
    for part in SITE_PARTS:
        shutil.copytree(os.path.join(ROOT, part), os.path.join(site, part))
    with open(os.path.join(ROOT, "campus.toml"), encoding="utf-8") as f:
        config = f.read()
    with open(os.path.join(ROOT, "bench", "intake.toml"), encoding="utf-8") as f:
        config += "\n" + f.read()
    with open(os.path.join(site, "campus.toml"), "w", encoding="utf-8") as f:
        f.write(config)
    db = os.path.join(site, "var", "campus.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(scratch, "serve.log"), "w")
    server = subprocess.Popen([campus, "--site", site, "serve", "--address", f"127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        deadline = time.time() + 120
        while True:
            try:
                get(base + "/healthz")
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("campus serve did not start (see serve.log)")
                time.sleep(0.1)
        print(f"machine: {machine()}")
        print(f"server: {campus} serve on {base}, database {db} (synchronous=FULL)")
        print(f"before: {load()}", flush=True)

        tokens = [json.loads(get(base + "/forms/token"))["ts"] for _ in range(args.tokens)]
        time.sleep(2.5)  # min_ausfuellzeit_sekunden = 2: the tokens must be older
        origin = base

        def script(mode, pace_ms=0, rate=0):
            path = os.path.join(scratch, f"{mode}-{pace_ms}-{rate}.lua")
            with open(path, "w", encoding="utf-8") as f:
                f.write(LUA % {"tokens": ", ".join(f'"{t}"' for t in tokens),
                               "mode": mode, "origin": origin, "pace_ms": pace_ms, "rate": rate})
            return path

        health_path = os.path.join(scratch, "health.lua")
        with open(health_path, "w") as f:
            f.write(HEALTH_LUA)

        results = []
        medians = []
        for i in range(args.repeat):
            h = wrk(base + "/healthz", health_path, args.connections, args.duration)
            rate = h["requests"] / (h["duration_us"] / 1e6)
            results.append((f"GET /healthz #{i + 1}", args.connections, rate, h, None))
            print(f"healthz #{i + 1}: {rate:.0f}/s p50 {ms(h['p50_us']):.2f} ms "
                  f"p99 {ms(h['p99_us']):.2f} ms (non-2xx {h['non_2xx']}) | {load()}", flush=True)
        medians.append(median_of("GET /healthz", results[-args.repeat:]))

        def post_run(label, mode, connections, expect_503, pace_ms=0, duration=None, rate=0):
            before = rows(db)
            cpu = cpu_seconds(server.pid)
            r = wrk(base + "/forms/kontakt", script(mode, pace_ms, rate), connections,
                    duration or args.duration)
            cpu = cpu_seconds(server.pid) - cpu
            after = settled_rows(db)
            acked = r["s303"] + r["s200"]
            added = after - before
            unanswered = r["sent"] - (acked + r["s503"] + r["other"])
            rate = acked / (r["duration_us"] / 1e6)
            ok = acked <= added <= acked + max(unanswered, 0)
            print(f"{label}: {rate:.0f} durable/s p50 {ms(r['p50_us']):.2f} ms "
                  f"p99 {ms(r['p99_us']):.2f} ms max {ms(r['max_us']):.1f} ms | acknowledged {acked}, "
                  f"503 {r['s503']} (with Retry-After {r['retry_after']}), other {r['other']}, "
                  f"timeouts {r['timeouts']} | rows added {added}, unanswered at stop {unanswered} "
                  f"-> {'OK' if ok else 'MISMATCH'} | server CPU {cpu * 1e6 / max(r['requests'], 1):.0f} µs "
                  f"per answer | {load()}", flush=True)
            if not ok:
                failures.append(f"{label}: rows added {added} vs acknowledged {acked} "
                                f"(+ at most {unanswered} unanswered)")
            if r["other"]:
                failures.append(f"{label}: {r['other']} answers other than 200/303/503")
            if expect_503 and (r["s503"] == 0 or r["retry_after"] != r["s503"]):
                failures.append(f"{label}: expected 503 answers, each with Retry-After")
            results.append((label, connections, rate, r, (acked, added, unanswered)))
            return rate, r

        kinds = {"form": "POST /forms/kontakt urlencoded", "json": "POST /forms/kontakt JSON"}
        pace_ms = args.paced_connections * 1000 // args.paced_rate
        for mode in args.modes.split(","):
            # Paced: about --paced-rate posts/s offered (the floor's load);
            # then unpaced: as fast as the closed loop of connections goes.
            for paced in (True, False):
                if paced:
                    label = f"{kinds[mode]} paced"
                    conns, pace = args.paced_connections, pace_ms
                else:
                    label = f"{kinds[mode]} saturated"
                    conns, pace = args.connections, 0
                for i in range(args.repeat):
                    post_run(f"{label} #{i + 1}", mode, conns, False, pace)
                row = median_of(label, results[-args.repeat:])
                medians.append(row)
                _, _, rate, _, p99, refused = row
                if refused or (paced and (rate < 2000 or p99 >= 50)):
                    failures.append(f"{label}: floor missed (median {rate:.0f}/s, "
                                    f"p99 {p99:.1f} ms, 503: {refused})")
        # Held loads (issue 20): each rate once, for longer, on a fixed
        # schedule (see the Lua script); the achieved rate is what counts.
        held = []
        for offered in [int(x) for x in args.held_rates.split(",") if x.strip()]:
            rate, r = post_run(f"held {offered}/s offered, {args.held_duration} s", "form",
                               args.held_connections, False, 0, args.held_duration, offered)
            held.append((offered, rate, ms(r["p99_us"]), r["s503"]))
        if held:
            within = [h for h in held if h[2] <= 50 and h[3] == 0]
            best = max((h[1] for h in within), default=0)
            print(f"held: highest rate with p99 <= 50 ms and no 503: {best:.0f} durable/s", flush=True)
            if best < 5000:
                failures.append(f"held load: floor missed (highest rate held with p99 <= 50 ms: "
                                f"{best:.0f}/s, floor 5,000/s for {args.held_duration} s)")
        post_run(f"overload ({'JSON' if args.overload_mode == 'json' else 'urlencoded'})",
                 args.overload_mode, args.overload_connections, True)

        print(f"\nmedians of {args.repeat} runs of {args.duration} s each:")
        print("| run | connections | answers/s | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|---:|")
        for label, conns, rate, p50, p99, _ in medians:
            print(f"| {label} | {conns} | {rate:.0f} | {p50:.2f} | {p99:.2f} |")
        if held:
            print(f"\nheld loads ({args.held_duration} s each, {args.held_connections} connections):")
            print("| offered/s | achieved durable/s | p99 ms | 503 |")
            print("|---:|---:|---:|---:|")
            for offered, rate, p99, refused in held:
                print(f"| {offered} | {rate:.0f} | {p99:.2f} | {refused} |")
        print("\nall runs:")
        print("| run | connections | answers/s | p50 ms | p99 ms | acknowledged | 503 | rows added |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, c, rate, r, check in results:
            acked = r.get("s303", 0) + r.get("s200", 0) if check else r["requests"]
            print(f"| {label} | {c} | {rate:.0f} | {ms(r['p50_us']):.2f} | {ms(r['p99_us']):.2f} | "
                  f"{acked if check else '–'} | {r.get('s503', '–')} | {check[1] if check else '–'} |")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print("\nFAILED:\n- " + "\n- ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
