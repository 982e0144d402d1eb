#!/bin/sh
# bench/tokens.sh — throughput of /validate/check and GET /token/ on a database full of tokens.
#
# usage: bench/tokens.sh [--db sqlite|postgres] [--duration 10s] [--tokens 100000] [--list-tokens 1000000]
#                        [--connections 32] [--wrk-threads 2] [--threads default]
# Environment: TESSERA_BIN (default build/tessera).
#
# What it does, on a fresh server (harness.Server, as the API tests start it):
#  1. a passwd resolver with 4000 users (u0001..u4000) in realm "bench", an spass token for "spassuser" and
#     one HOTP template token, enrolled through the API;
#  2. --tokens tokens created fast by cloning the template's rows with one INSERT … SELECT per table
#     (SQLite: a recursive CTE, PostgreSQL: generate_series): every bulk token carries the template's
#     encrypted seed, hashlib and tokenkind; u0001..u4000 own bulk tokens 1..4000, bulk tokens
#     4001..8000 are used by serial.  This is direct SQL on purpose — it exercises nothing the benchmark measures
#     and creates 100,000 tokens in seconds instead of 100,000 /token/init calls;
#  3. wrk (-t2 -c32) against GET /healthz and POST /validate/check for the spass user (always the same
#     request), an HOTP user and an HOTP serial.  HOTP values are never accepted twice, so every HOTP
#     request carries a fresh value: the bodies are precomputed per wrk thread, round-robin over 2000
#     users (serials) per thread with each one's counter going up, so requests for one token are 2000
#     requests apart (a value overtaken by the next one of its token would rightly be refused as
#     "previous otp used again").  The share of accepted requests is read back from the audit;
#  4. the table grows to --list-tokens tokens and wrk measures GET /token/?page=N (first, middle, last).
# Every figure is also given as a ratio to GET /healthz measured right before it (the machine may be
# shared: pairing keeps the ratio meaningful when its load changes).  Results go to
# bench/results/tokens-<db>-<timestamp>.txt.
exec /usr/bin/python3 - "$@" <<'PYEOF'
import argparse, datetime, hashlib, hmac, os, pathlib, platform, struct, subprocess, sys, tempfile, time
REPO = pathlib.Path(os.environ.get("TESSERA_REPO") or subprocess.run(
    ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip() or ".")
sys.path.insert(0, str(REPO / "tests" / "api"))
sys.path.insert(0, str(REPO / "bench"))
from harness import PgCluster, Server, tessera_bin  # noqa: E402

KEY = "3132333435363738393031323334353637383930"
N_USERS = 4000


def hotp(counter):
    mac = hmac.new(bytes.fromhex(KEY), struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000).zfill(6)


def parse_wrk(out):
    import re
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
    res = {"rps": None, "requests": 0, "lat": {}, "non2xx": 0, "errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    for pct, num, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        res["lat"][pct] = float(num) * unit[u]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def wrk(args, url, script=None):
    argv = ["wrk", "-t%d" % args.wrk_threads, "-c%d" % args.connections, "-d" + args.duration,
            "--timeout", "30s", "--latency"]
    if script:
        argv += ["-s", script]
    r = subprocess.run(argv + [url], capture_output=True, text=True)
    if r.returncode:
        sys.exit("wrk failed: " + r.stdout + r.stderr)
    return parse_wrk(r.stdout), r.stdout


LUA_BODIES = """
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  bodies = {}
  for line in io.lines("%(dir)s/bodies_" .. id .. ".txt") do table.insert(bodies, line) end
  n = 0
end
function request()
  n = n + 1
  if n > #bodies then n = 1 end
  return wrk.format("POST", "/validate/check",
                    {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[n])
end
"""
LUA_FIXED = """
wrk.method = "%(method)s"
wrk.body = "%(body)s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
%(extra)s
"""


def write_bodies(work, kind, wthreads, per_thread, first_index):
    """HOTP request bodies per wrk thread: round-robin over `per_thread` tokens, counters rising."""
    rounds = 12
    for t in range(wthreads):
        with open(os.path.join(work, "bodies_%d.txt" % t), "w") as f:
            for c in range(rounds):
                otp = hotp(c)
                for i in range(per_thread):
                    n = first_index + t * per_thread + i
                    if kind == "user":
                        f.write("user=u%04d&realm=bench&pass=%s\n" % (n, otp))
                    else:
                        f.write("serial=BULK%07d&pass=%s\n" % (n, otp))


def bulk_sql(srv, pg, start, end):
    """Clone the template token rows for BULK<start>..BULK<end-1>."""
    cols = ("description, tokentype, user_pin, user_pin_iv, so_pin, so_pin_iv, pin_seed, otplen, pin_hash, "
            "key_enc, key_iv, maxfail, active, revoked, locked, failcount, \"count\", count_window, "
            "sync_window, rollout_state")
    if pg:
        gen = "generate_series(%d, %d) AS g(x)" % (start, end - 1)
        ser = "'BULK' || lpad(g.x::text, 7, '0')"
    else:
        gen = ("(WITH RECURSIVE c(x) AS (SELECT %d UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT x FROM c) g"
               % (start, end - 1))
        ser = "'BULK' || substr('0000000' || g.x, -7, 7)"
    stmts = [
        "INSERT INTO token (serial, %s) SELECT %s, %s FROM %s, token t WHERE t.serial = 'BENCH-TPL'"
        % (cols, ser, ", ".join("t." + c.strip() for c in cols.split(",")), gen),
        "INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") "
        "SELECT b.id, i.\"Key\", i.\"Value\", i.\"Type\", i.\"Description\" FROM token b, tokeninfo i, token t "
        "WHERE t.serial = 'BENCH-TPL' AND i.token_id = t.id AND b.serial BETWEEN 'BULK%07d' AND 'BULK%07d'"
        % (start, end - 1),
    ]
    for s in stmts:
        srv.db_query(s)


def analyze(srv, pg):
    """What autovacuum / a DBA would do after such a load (planner statistics, visibility map)."""
    srv.db_query("VACUUM ANALYZE" if pg else "ANALYZE")


def assign_sql(srv, pg):
    realm = srv.db_query("SELECT id FROM realm WHERE name = 'bench'")[0][0]
    srv.db_query("INSERT INTO tokenowner (token_id, resolver, user_id, realm_id) SELECT t.id, 'benchres', "
                 "CAST(10000 + CAST(substr(t.serial, 5) AS INTEGER) AS TEXT), %s FROM token t "
                 "WHERE t.serial BETWEEN 'BULK0000001' AND 'BULK%07d'" % (realm, N_USERS))
    srv.db_query("INSERT INTO tokenrealm (token_id, realm_id) SELECT t.id, %s FROM token t "
                 "WHERE t.serial BETWEEN 'BULK0000001' AND 'BULK%07d'" % (realm, N_USERS))


def audit_success(srv, since_id):
    rows = srv.db_query("SELECT count(*), sum(success) FROM pidea_audit WHERE id > %d AND \"action\" = "
                        "'POST /validate/check'" % since_id)
    n, s = rows[0]
    return int(n), int(s or 0)


def max_audit(srv):
    return int(srv.db_query("SELECT COALESCE(max(id), 0) FROM pidea_audit")[0][0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--tokens", type=int, default=100000)
    ap.add_argument("--list-tokens", type=int, default=1000000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--threads", default="default")
    ap.add_argument("--loglevel", type=int, default=20)
    args = ap.parse_args()
    pg = PgCluster().start() if args.db == "postgres" else None
    work = tempfile.mkdtemp(prefix="tessera-bench-tokens-")
    lines = []

    def out(s=""):
        print(s, flush=True)
        lines.append(s)

    srv = Server(work, pg=pg, threads=None if args.threads == "default" else int(args.threads),
                 cfg={"PI_LOGLEVEL": args.loglevel})
    srv.setup()
    srv.start()
    try:
        tok = srv.login()
        H = {"token": tok}
        users = os.path.join(work, "users")
        with open(users, "w") as f:
            f.write("spassuser:x:9999:9999:Spass User,,,,:/home/s:/bin/sh\n")
            for i in range(1, N_USERS + 1):
                f.write("u%04d:x:%d:%d:User %d,,,,:/home/u:/bin/sh\n" % (i, 10000 + i, 10000 + i, i))
        os.chmod(users, 0o644)
        assert srv.post("/resolver/benchres", data={"type": "passwdresolver", "fileName": users}, **H).status == 200
        assert srv.post("/realm/bench", data={"resolvers": "benchres"}, **H).status == 200
        assert srv.post("/token/init", data={"type": "spass", "pin": "spasspin", "user": "spassuser",
                                              "realm": "bench", "serial": "BENCH-SPASS"}, **H).status == 200
        assert srv.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "BENCH-TPL"},
                        **H).status == 200
        t0 = time.time()
        bulk_sql(srv, pg, 1, args.tokens + 1)
        assign_sql(srv, pg)
        analyze(srv, pg)
        t_bulk = time.time() - t0
        ntok = int(srv.db_query("SELECT count(*) FROM token")[0][0])
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        out("tessera token benchmark %s" % datetime.datetime.now().isoformat(timespec="seconds"))
        out("binary: %s (commit %s); database: %s; machine: %s, %d CPUs; load %s" % (
            tessera_bin(), commit, args.db, platform.node(), os.cpu_count() or 0,
            " ".join(open("/proc/loadavg").read().split()[:3])))
        out("wrk -t%d -c%d -d%s; server --threads %s; %d tokens (bulk SQL insert of %d in %.1f s)" % (
            args.wrk_threads, args.connections, args.duration, args.threads, ntok, args.tokens, t_bulk))
        out("")
        out("%-34s %10s %8s %8s %8s %10s %10s %s" % ("endpoint", "req/s", "p50 ms", "p99 ms", "non2xx",
                                                     "healthz/s", "ratio", "accepted"))

        def measure(name, url, script=None, accepted=None):
            """The endpoint right after GET /healthz, so both see the same machine load."""
            hz, _ = wrk(args, srv.base + "/healthz")
            a0 = max_audit(srv)
            r, _ = wrk(args, url, script)
            acc = ""
            if accepted:
                n, s = audit_success(srv, a0)
                acc = "%d/%d" % (s, n)
            out("%-34s %10.1f %8.2f %8.2f %8d %10.1f %10.3f %s" % (
                name, r["rps"], r["lat"].get("50", 0), r["lat"].get("99", 0), r["non2xx"] + r["errors"],
                hz["rps"], r["rps"] / hz["rps"], acc))
            if accepted:
                for info, cnt in srv.db_query("SELECT info, count(*) FROM pidea_audit WHERE id > %d AND success = 0 "
                                              "AND \"action\" = 'POST /validate/check' GROUP BY info" % a0):
                    out("    rejected: %s x %s" % (cnt, info))

        lua = os.path.join(work, "spass.lua")
        open(lua, "w").write(LUA_FIXED % {"method": "POST", "body": "user=spassuser&realm=bench&pass=spasspin",
                                          "extra": ""})
        measure("POST /validate/check spass user", srv.base + "/validate/check", lua, accepted=True)
        per = N_USERS // args.wrk_threads
        for kind, first in (("user", 1), ("serial", N_USERS + 1)):
            write_bodies(work, kind, args.wrk_threads, per, first)
            lua = os.path.join(work, "hotp_%s.lua" % kind)
            open(lua, "w").write(LUA_BODIES % {"dir": work})
            measure("POST /validate/check hotp %s" % kind, srv.base + "/validate/check", lua, accepted=True)
        # the list with a million tokens
        t0 = time.time()
        have = int(srv.db_query("SELECT count(*) FROM token WHERE serial LIKE 'BULK%'")[0][0])
        if args.list_tokens > have:
            bulk_sql(srv, pg, have + 1, args.list_tokens + 1)
            analyze(srv, pg)
        ntok = int(srv.db_query("SELECT count(*) FROM token")[0][0])
        out("")
        out("%d tokens (bulk insert %.1f s)" % (ntok, time.time() - t0))
        last = (ntok + 14) // 15
        lua = os.path.join(work, "list.lua")
        open(lua, "w").write('wrk.headers["Authorization"] = "%s"\n' % tok)
        for page in (1, last // 2, last):
            measure("GET /token/?page=%d" % page, srv.base + "/token/?page=%d" % page, lua)
    finally:
        srv.stop()
        if pg:
            pg.stop()
    res = REPO / "bench" / "results"
    res.mkdir(exist_ok=True)
    p = res / ("tokens-%s-%s.txt" % (args.db, datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")))
    p.write_text("\n".join(lines) + "\n")
    print("results written to %s" % p)


main()
PYEOF
