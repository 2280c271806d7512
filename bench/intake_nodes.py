#!/usr/bin/env python3
"""Form intake on SQLite and on PostgreSQL with one and two nodes, side by side.

Builds the release binary, copies the sample site with `bench/intake.toml`
(raised per-IP and per-recipient limits) appended plus
`vertraue_x_forwarded_for = true` (as behind the load balancer), starts a
throw-away PostgreSQL cluster (`initdb` into a folder on disk, fsync and
synchronous_commit on as in production, loopback port; run as the
`postgres` user when we are root) and then, one after the other, with
`campus run --backend-only` on free loopback ports:

1. SQLite, one node (the default: WAL, synchronous = FULL, group commit);
2. PostgreSQL, one node;
3. PostgreSQL, two nodes on the same database: the load is split between
   them (one wrk per node, half the connections each), as a load balancer
   would.

Each setup gets the same two loads of valid contact posts (urlencoded, real
signed form tokens older than the minimum fill time, the site's Origin, an
empty honeypot, a unique name, and a client address out of 1,000 in
X-Forwarded-For, so the per-address limit counts as with many visitors):

- "paced": --paced-connections connections in all, each waiting between
  posts, about --paced-rate posts/s offered; held to p99 < 50 ms;
- "saturated": --connections connections in all posting back to back; the
  durable posts per second of PostgreSQL with two nodes must be at least
  those of SQLite with one node.

After every run the contact rows are counted in the database: every
acknowledged post (303) must be there. Each run also prints how many mails
the nodes' workers delivered per second meanwhile (they share the cores). Each run is repeated --repeat times;
floors are checked on medians. Exits 1 if a check or a floor fails.

usage: python3 bench/intake_nodes.py [--duration 10] [--repeat 3]
       [--paced-rate 2500] [--paced-connections 64] [--connections 32] [--keep]
       [--campus PATH]
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import intake  # noqa: E402  (the shared helpers: wrk, Lua script, machine, load)

ROOT = intake.ROOT
PG_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"]
# The sample site's [site] adresse: the Origin a browser on the site sends.
ORIGIN = "http://127.0.0.1:8080"

# The contact post of intake.py, with a client address per post.
LUA = intake.LUA.replace(
    'local name = "Bench T" .. tid .. " N" .. counter',
    'local name = "Bench T" .. tid .. " N" .. counter\n'
    '  local client = "10.77." .. (counter %% 4) .. "." .. (counter %% 250 + 1)',
).replace(
    '["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = origin }, body)',
    '["Content-Type"] = "application/x-www-form-urlencoded", ["Origin"] = origin,\n'
    '    ["X-Forwarded-For"] = client }, body)',
)
assert "X-Forwarded-For" in LUA


# The statements that took PostgreSQL's time in a setup (--pg-stats).
STATS_QUERY = """
SELECT rpad(to_char(total_exec_time, 'FM999990.0'), 9) || ' ms | ' || lpad(calls::text, 7) || ' calls | '
       || to_char(total_exec_time / calls, 'FM0.000') || ' ms | ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT 12
"""


def is_root():
    return os.geteuid() == 0


def as_owner(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if is_root() else cmd


class Cluster:
    """A throw-away PostgreSQL server with production durability settings."""

    def __init__(self, scratch, stats=False):
        bins = [d for d in PG_DIRS if os.path.isfile(os.path.join(d, "initdb"))]
        if not bins:
            sys.exit("PostgreSQL fehlt: apt-get install postgresql")
        self.bin = bins[0]
        self.dir = os.path.join(scratch, "pg")
        os.makedirs(self.dir)
        if is_root():
            shutil.chown(self.dir, "postgres")
        data = self.data = os.path.join(self.dir, "data")
        subprocess.run(as_owner([os.path.join(self.bin, "initdb"), "-D", data, "-A", "trust",
                                 "-U", "campus", "-E", "UTF8"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.port = intake.free_port()
        self.server = subprocess.Popen(
            as_owner([os.path.join(self.bin, "postgres"), "-D", data, "-k", self.dir,
                      "-c", "listen_addresses=127.0.0.1", "-p", str(self.port),
                      "-c", "max_connections=100"]
                     + (["-c", "shared_preload_libraries=pg_stat_statements",
                         "-c", "track_functions=all"] if stats else [])),
            stdout=open(os.path.join(self.dir, "log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not self.psql("postgres", "SELECT 1", quiet=True):
            if time.time() > deadline or self.server.poll() is not None:
                sys.exit("PostgreSQL startet nicht (see %s/log)" % self.dir)
            time.sleep(0.2)
        self.databases = 0

    def psql(self, db, sql, quiet=False):
        out = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                              "-U", "campus", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                             capture_output=True, text=True)
        if out.returncode != 0:
            if quiet:
                return None
            sys.exit(f"psql: {out.stderr}")
        return out.stdout.strip()

    def fresh_database(self):
        self.databases += 1
        name = f"bench{self.databases}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name, f"postgres://campus@127.0.0.1:{self.port}/{name}"

    def stop(self):
        # Through pg_ctl: a signal to runuser did not always reach the
        # server, which then outlived the benchmark (seen 2026-12-03).
        subprocess.run(as_owner([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "stop",
                                 "-m", "fast", "-w", "-t", "30"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()


def start_node(campus, site, scratch, label, env):
    port = intake.free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(scratch, f"{label}-{port}.log"), "w")
    proc = subprocess.Popen([campus, "--site", site, "run", "--backend-only", "--address",
                             f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **env})
    deadline = time.time() + 120
    while True:
        try:
            intake.get(base + "/healthz")
            return proc, base
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                sys.exit(f"campus run ({label}) did not start (see {log.name})")
            time.sleep(0.1)


def stop_node(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk_all(bases, scripts, connections, duration):
    """One wrk per node at the same time; their results."""
    results = [None] * len(bases)

    def one(i):
        results[i] = intake.wrk(bases[i] + "/forms/kontakt", scripts[i], connections // len(bases),
                                duration)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--paced-rate", type=int, default=2500)
    ap.add_argument("--paced-connections", type=int, default=64)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=500)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--pg-stats", action="store_true",
                    help="load pg_stat_statements and print where PostgreSQL's time went per setup")
    ap.add_argument("--setups", default="sqlite,pg1,pg2",
                    help="which of sqlite, pg1, pg2 run (the floor needs all three)")
    ap.add_argument("--campus", help="this binary instead of building target/release/campus "
                                     "(e.g. a debug build, to try the script; figures need release)")
    args = ap.parse_args()
    intake.ensure_wrk()
    if args.campus:
        campus = os.path.abspath(args.campus)
    else:
        subprocess.run(["cargo", "build", "--release", "-q", "--bin", "campus"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        campus = os.path.join(target, "release", "campus")
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="bench-nodes-", dir=os.path.join(ROOT, "target"))
    os.chmod(scratch, 0o755)
    site = os.path.join(scratch, "site")
    os.makedirs(site)
    for part in intake.SITE_PARTS:
        shutil.copytree(os.path.join(ROOT, part), os.path.join(site, part))
    config = open(os.path.join(ROOT, "campus.toml"), encoding="utf-8").read()
    extra = open(os.path.join(ROOT, "bench", "intake.toml"), encoding="utf-8").read()
    # As behind the load balancer: the client address comes from it.
    assert "\n[backend]\n" in extra
    config += "\n" + extra.replace("\n[backend]\n", "\n[backend]\nvertraue_x_forwarded_for = true\n", 1)
    with open(os.path.join(site, "campus.toml"), "w", encoding="utf-8") as f:
        f.write(config)
    # Both nodes sign with one key from the configuration (docs/betrieb.md).
    env = {"CAMPUS_SIGNING_KEY": "bench-gemeinsamer-schluessel-aller-knoten"}
    cluster = Cluster(scratch, stats=args.pg_stats)
    failures = []
    table = []
    print(f"machine: {intake.machine()}")
    print(f"PostgreSQL: {cluster.bin}, data on disk in {cluster.dir}, fsync and synchronous_commit on")
    print(f"before: {intake.load()}", flush=True)
    try:
        setups = {"sqlite": ("SQLite, 1 node", None, 1), "pg1": ("PostgreSQL, 1 node", "pg", 1),
                  "pg2": ("PostgreSQL, 2 nodes", "pg", 2)}
        for label, engine, count in [setups[s] for s in args.setups.split(",")]:
            if engine is None:
                db_file = os.path.join(scratch, "campus.db")
                node_env = {**env, "CAMPUS_DATABASE": db_file}
                rows = lambda: sqlite_rows(db_file)  # noqa: E731
                delivered = lambda: sqlite_rows(db_file, SENT)  # noqa: E731
            else:
                name, url = cluster.fresh_database()
                if args.pg_stats:
                    cluster.psql(name, "CREATE EXTENSION pg_stat_statements")
                node_env = {**env, "CAMPUS_DATABASE": url}
                rows = lambda name=name: int(cluster.psql(  # noqa: E731
                    name, "SELECT count(*) FROM submissions WHERE form = 'kontakt'"))
                delivered = lambda name=name: int(cluster.psql(name, SENT))  # noqa: E731
            nodes = [start_node(campus, site, scratch, f"{label[:2]}{i}", node_env)
                     for i in range(count)]
            bases = [b for _, b in nodes]
            try:
                tokens = [json.loads(intake.get(bases[0] + "/forms/token"))["ts"]
                          for _ in range(args.tokens)]
                time.sleep(2.5)  # older than min_ausfuellzeit_sekunden = 2

                def scripts(pace_ms):
                    out = []
                    for i in range(len(bases)):
                        path = os.path.join(scratch, f"{engine}-{count}-{i}-{pace_ms}.lua")
                        with open(path, "w", encoding="utf-8") as f:
                            f.write(LUA % {"tokens": ", ".join(f'"{t}"' for t in tokens),
                                           "mode": "form", "origin": ORIGIN, "pace_ms": pace_ms,
                                           "rate": 0})
                        out.append(path)
                    return out

                pace_ms = args.paced_connections * 1000 // args.paced_rate
                for kind, conns, pace in [("paced", args.paced_connections, pace_ms),
                                          ("saturated", args.connections, 0)]:
                    rates, p99s = [], []
                    for i in range(args.repeat):
                        before, delivered_before = rows(), delivered()
                        results = wrk_all(bases, scripts(pace), conns, args.duration)
                        delivered_during = delivered() - delivered_before
                        after = settled(rows)
                        acked = sum(r["s303"] + r["s200"] for r in results)
                        sent = sum(r["sent"] for r in results)
                        answered = sum(r["s303"] + r["s200"] + r["s503"] + r["other"] for r in results)
                        other = sum(r["other"] + r["s503"] for r in results)
                        seconds = max(r["duration_us"] for r in results) / 1e6
                        rate = acked / seconds
                        p99 = max(r["p99_us"] for r in results) / 1000
                        added = after - before
                        ok = acked <= added <= acked + max(sent - answered, 0)
                        print(f"{label} {kind} #{i + 1}: {rate:.0f} durable/s, p99 {p99:.1f} ms "
                              f"(slowest node), {delivered_during / seconds:.0f} mails sent/s, "
                              f"acknowledged {acked}, rows added {added} "
                              f"-> {'OK' if ok else 'MISMATCH'}, not 303: {other} | {intake.load()}",
                              flush=True)
                        if not ok:
                            failures.append(f"{label} {kind}: rows added {added} vs acknowledged {acked}")
                        if other:
                            failures.append(f"{label} {kind}: {other} answers other than 303")
                        rates.append(rate)
                        p99s.append(p99)
                    table.append((label, kind, conns, median(rates), median(p99s)))
                if engine and args.pg_stats:
                    print(cluster.psql(name, STATS_QUERY), flush=True)
                    cluster.psql(name, "SELECT pg_stat_statements_reset()")
            finally:
                for proc, _ in nodes:
                    stop_node(proc)
    finally:
        cluster.stop()
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            subprocess.run(["rm", "-rf", scratch])

    print(f"\nmedians of {args.repeat} runs of {args.duration} s each:")
    print("| setup | load | connections | durable posts/s | p99 ms |")
    print("|---|---|---:|---:|---:|")
    for label, kind, conns, rate, p99 in table:
        print(f"| {label} | {kind} | {conns} | {rate:.0f} | {p99:.1f} |")
    get = {(label, kind): (rate, p99) for label, kind, _, rate, p99 in table}
    if len(get) < 6:
        print("\nfloor not checked: it needs all three setups")
        sys.exit(1 if failures else 0)
    sqlite_rate = get[("SQLite, 1 node", "saturated")][0]
    pg2_rate = get[("PostgreSQL, 2 nodes", "saturated")][0]
    pg2_p99 = get[("PostgreSQL, 2 nodes", "paced")][1]
    print(f"\nfloor: PostgreSQL with 2 nodes {pg2_rate:.0f} durable posts/s saturated "
          f"(at least SQLite with 1 node: {sqlite_rate:.0f}) "
          f"{'met' if pg2_rate >= sqlite_rate else 'MISSED'}; "
          f"p99 at the paced load {pg2_p99:.1f} ms (under 50) {'met' if pg2_p99 < 50 else 'MISSED'}")
    if pg2_rate < sqlite_rate:
        failures.append(f"PostgreSQL with 2 nodes {pg2_rate:.0f}/s < SQLite with 1 node {sqlite_rate:.0f}/s")
    if pg2_p99 >= 50:
        failures.append(f"PostgreSQL with 2 nodes: p99 {pg2_p99:.1f} ms at the paced load")
    if failures:
        print("\nFAILED:\n- " + "\n- ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


def sqlite_rows(db, sql="SELECT count(*) FROM submissions WHERE form = 'kontakt'"):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


# Mails the nodes' workers delivered (`.eml` files): they share the cores
# with the intake, so a faster worker leaves less for the posts.
SENT = "SELECT count(*) FROM outbox WHERE state = 'sent'"


def settled(rows):
    last = rows()
    while True:
        time.sleep(0.5)
        now = rows()
        if now == last:
            return now
        last = now


if __name__ == "__main__":
    main()
