#!/bin/sh
# bench/policies_e2e.sh — what policies cost POST /validate/check (HOTP), end to end (issue 5).
#
# usage: bench/policies_e2e.sh [--db sqlite|postgres] [--duration 8s] [--repeat 2] [--warmup 3s]
#                              [--sets 0,50,1000] [--users 4000] [--connections 32] [--wrk-threads 2]
#                              [--threads default] [--no-build]
#                              [--perf DIR]   (system-wide perf record per set, for profiling)
#                              [--callgrind N] (no wrk: the server under callgrind, N checks per run,
#                                              instructions per request; steady on a busy machine)
# Environment: TESSERA_BIN (default: built here, RelWithDebInfo, in $TESSERA_BENCH_BUILD,
#              default /tmp/tessera-bench-build); TESSERA_REPO (default: this checkout).
# Also reachable as `bench/policies.sh e2e [options]`.  The whole run takes about a minute with the defaults.
#
# In ONE run, on one fresh server (harness.Server, as the API tests start it):
#  1. a passwd resolver with --users users (u0001 ...) in realm "bench", and an HOTP token per user
#     (one template enrolled through the API, cloned by SQL as bench/tokens.sh does);
#  2. three policy sets, each loaded with `tessera policy p_import --cleanup` (the whole set replaced
#     in one transaction; the server sees the new configuration timestamp at its next request):
#       0     no policy;
#       50    16 policies that MATCH the benchmark's request (authentication/authorization scope, realm
#             "bench": otppin=tokenpin, challenge_response=hotp, tokentype=hotp, last_auth=3650d,
#             authorized=grant_access, serial=^BULK.*$, add_user_in_response, ...; some with user
#             regexes, client networks, an always-true time range, userinfo and HTTP header conditions)
#             and 34 that do not (other realms, users, clients, days, failing conditions, and the
#             admin, user, enrollment, webui and register scopes);
#       1000  the 50 plus 950 more of the same kinds (47 of them matching), so every question of a
#             check sees many candidates (policies naming its action);
#     (serial, tokeninfo and no_detail_on_* are asked without user/realm (Match.action_only), so the
#     non-matching ones among them differ by client, time or node only; and userinfo conditions stay off
#     those actions: without a user they are a PolicyError, in privacyIDEA as in Tessera)
#  3. wrk (-t2 -c32) POST /validate/check user=uNNNN&realm=bench&pass=<HOTP> for each set, the cases
#     interleaved --repeat times (0, 50, 1000, 0, 50, 1000) so that the noise of a shared machine shows.
#     Every request carries a fresh OTP: per wrk thread the bodies go round-robin over users/threads
#     users, each user's counter rising, starting where the previous run left the tokens (read back
#     from the database).  The accepted share comes from the audit, and so do the policies the audit
#     rows name (column "policies"): proof that the set was applied;
#  4. a correctness check outside the timed runs: with the 1000 set plus a matching
#     `authorization: authorized=deny_access` policy (priority 1), a correct OTP must be refused;
#     without it, the next one accepted.
# Prints req/s, the ratio to the 0-policy run of the same round, p50/p99 latency, and the server's CPU
# time per request (all threads, from /proc/<pid>/stat) with its ratio: on a shared machine the CPU
# figure is the steadier one.  The goal (issue 5) is a ratio >= 0.80 for 1000 policies.  A warm-up run
# (--warmup, not reported) comes first.  Results go to bench/results/policies-e2e-<db>-<time>.txt.
TESSERA_REPO=${TESSERA_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
export TESSERA_REPO
exec /usr/bin/python3 - "$@" <<'PYEOF'
import argparse, datetime, hashlib, hmac, os, pathlib, platform, re, struct, subprocess, sys, tempfile, time

REPO = pathlib.Path(os.environ.get("TESSERA_REPO") or subprocess.run(
    ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip() or ".")
sys.path.insert(0, str(REPO / "tests" / "api"))
from harness import PgCluster, Server  # noqa: E402

KEY = "3132333435363738393031323334353637383930"
HEADER = ("X-Bench", "policies")  # sent with every check; a matching policy has a condition on it


def hotp(counter):
    mac = hmac.new(bytes.fromhex(KEY), struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000).zfill(6)


def parse_wrk(out):
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
    res = {"rps": 0.0, "requests": 0, "lat": {}, "non2xx": 0, "errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    for pct, num, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        res["lat"][pct] = float(num) * unit[u]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


LUA = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
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
                    {["Content-Type"] = "application/x-www-form-urlencoded", ["%(hname)s"] = "%(hval)s"},
                    bodies[n])
end
"""


# ---- the policy sets ----------------------------------------------------------------------------

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def other_day():
    """A weekday two days from today (a time range on it never matches during the run)."""
    return DAYS[(datetime.datetime.now().weekday() + 2) % 7]


def matching(i):
    """Policy i of the kinds that match the benchmark request (user uNNNN, realm bench, 127.0.0.1)."""
    k = i % 16
    p = {"realm": "bench", "priority": 10 + i % 3}
    if k == 0:
        p.update(scope="authentication", action="otppin=tokenpin")
    elif k == 1:
        p.update(scope="authorization", action="tokentype=hotp")
    elif k == 2:
        p.update(scope="authorization", action="last_auth=3650d")
    elif k == 3:
        p.update(scope="authentication", action="challenge_response=hotp")
    elif k == 4:
        p.update(scope="authorization", action="authorized=grant_access", user="u.*")
    elif k == 5:
        p.update(scope="authorization", action="add_user_in_response", client="127.0.0.0/8, 10.0.0.0/8")
    elif k == 6:
        p.update(scope="authentication", action="otppin=tokenpin",
                 conditions=[("userinfo", "username", "matches", "u[0-9]+", True)])
    elif k == 7:
        p.update(scope="authorization", action="tokentype=hotp",
                 conditions=[("HTTP Request header", HEADER[0], "equals", HEADER[1], True)])
    elif k == 8:
        p.update(scope="authorization", action="serial=^BULK.*$")
    elif k == 9:
        p.update(scope="authorization", action="add_resolver_in_response", time="Mon-Sun: 00:00-23:59")
    elif k == 10:
        p.update(scope="authentication", action="challenge_response=hotp", user="*, -nobody")
    elif k == 11:
        p.update(scope="authorization", action="no_detail_on_fail", resolver="benchres")
    elif k == 12:
        p.update(scope="authentication", action="increase_failcounter_on_challenge")
    elif k == 13:
        p.update(scope="authorization", action="last_auth=3650d", realm="bench, other1")
    elif k == 14:
        p.update(scope="authorization", action="authorized=grant_access",
                 conditions=[("userinfo", "username", "!equals", "nobody", True)])
    else:
        p.update(scope="authentication", action="otppin=tokenpin", user="u[0-9]{4}")
    return p


def nonmatching(i):
    """Policy i of the kinds that never match the benchmark request."""
    k = i % 17
    auth = ["otppin=userstore", "passthru=userstore", "challenge_response=hotp totp", "auth_cache=4h/5m",
            "passOnNoToken", "otppin=none"]
    authz = ["authorized=deny_access", "tokentype=totp", "last_auth=1d", "auth_max_fail=5/10m",
             "add_resolver_in_response"]
    # serial, tokeninfo and no_detail_on_* are asked without user, realm or resolver (Match.action_only):
    # only a client, time or node restriction keeps such a policy from the benchmark's requests
    anyauthz = authz + ["serial=^OATH.*$", "tokeninfo=hashlib/sha256/", "no_detail_on_success"]
    a_auth, a_authz, a_any = auth[i % len(auth)], authz[i % len(authz)], anyauthz[i % len(anyauthz)]
    if k == 0:
        return {"scope": "authentication", "action": a_auth, "realm": "other%d" % i}
    if k == 1:
        return {"scope": "authorization", "action": a_authz, "realm": "other%d, realm%d" % (i, i + 1)}
    if k == 2:
        return {"scope": "authentication", "action": a_auth, "realm": "bench", "user": "nobody%d" % i}
    if k == 3:
        return {"scope": "authorization", "action": a_authz, "realm": "bench", "user": "x%d.*, y%d" % (i, i)}
    if k == 4:
        return {"scope": "authorization", "action": a_any, "realm": "bench",
                "client": "10.%d.0.0/16, 192.168.%d.0/24" % (i % 250, i % 250)}
    if k == 5:
        return {"scope": "authentication" if i % 2 else "authorization", "action": a_auth if i % 2 else a_any,
                "realm": "bench", "time": "%s: 00:00-23:59" % other_day()}
    if k == 6:
        # not serial/tokeninfo/no_detail_*: those are asked without a user (Match.action_only), where a
        # userinfo condition is a PolicyError, in privacyIDEA as in Tessera
        act = ["authorized=deny_access", "last_auth=1d", "auth_max_fail=5/10m", "tokentype=totp"][i % 4]
        return {"scope": "authorization", "action": act, "realm": "bench",
                "conditions": [("userinfo", "username", "equals", "nobody%d" % i, True)]}
    if k == 7:
        return {"scope": "authentication", "action": a_auth, "user": "admin%d, root, -u0001" % i}
    if k == 8:
        return {"scope": "authorization", "action": a_authz, "resolver": "otherres%d" % i}
    if k == 9:
        return {"scope": "admin", "action": "enable, disable, tokenlist", "adminuser": "helpdesk%d" % i,
                "realm": "other%d" % i}
    if k == 10:
        return {"scope": "admin", "action": "enrollHOTP, assign", "adminrealm": "super%d" % i}
    if k == 11:
        return {"scope": "enrollment", "action": "max_token_per_user=%d" % (2 + i % 5), "realm": "bench"}
    if k == 12:
        return {"scope": "enrollment", "action": "max_token_per_realm=%d" % (100 + i), "realm": "other%d" % i}
    if k == 13:
        return {"scope": "webui", "action": "login_mode=privacyIDEA", "realm": "bench"}
    if k == 14:
        return {"scope": "user", "action": "enable, disable, resync", "realm": "bench"}
    if k == 15:
        return {"scope": "register", "action": "realm=bench"}
    return {"scope": "authorization", "action": a_any, "realm": "bench", "pinode": "othernode%d" % i}


def policy_set(n):
    """n policies: 1 in 3 matching for the first 50, then about 1 in 20."""
    out = []
    mi = ni = 0
    for i in range(n):
        match = i % 3 == 0 if i < 48 else i % 20 == 0
        if match:
            p = matching(mi)
            mi += 1
        else:
            p = nonmatching(ni)
            ni += 1
        p["name"] = "%s%04d" % ("match" if match else "other", i)
        out.append(p)
    return out, mi


def write_set(path, pols):
    with open(path, "w") as f:
        f.write("{'policy': [\n")
        for p in pols:
            f.write("  %r,\n" % p)
        f.write("]}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--duration", default="8s")
    ap.add_argument("--warmup", default="3s", help="an unreported first run on the first set")
    ap.add_argument("--repeat", type=int, default=2, help="rounds of (0, 50, 1000), interleaved")
    ap.add_argument("--sets", default="0,50,1000")
    ap.add_argument("--users", type=int, default=4000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--threads", default="default")
    ap.add_argument("--loglevel", type=int, default=20)
    ap.add_argument("--perf", metavar="DIR", help="perf record the server in each set's first run "
                    "(system-wide: DIR/perf-<n>-pid<server>.data; `perf report -i F --pid <server> --no-children`)")
    ap.add_argument("--callgrind", type=int, metavar="N", default=0,
                    help="instead of wrk: the server under valgrind --tool=callgrind, N sequential checks per "
                    "run, instructions per request (load-independent)")
    ap.add_argument("--no-build", action="store_true", help="use TESSERA_BIN / the build dir as it is")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sets.split(",")]

    if not os.environ.get("TESSERA_BIN"):
        build = os.environ.get("TESSERA_BENCH_BUILD", "/tmp/tessera-bench-build")
        if not args.no_build:
            subprocess.run(["cmake", "-S", str(REPO), "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["cmake", "--build", build, "-j2", "--target", "tessera"], check=True,
                           stdout=subprocess.DEVNULL)
        os.environ["TESSERA_BIN"] = os.path.join(build, "tessera")
    binary = os.environ["TESSERA_BIN"]

    t_start = time.time()
    pg = PgCluster().start() if args.db == "postgres" else None
    work = tempfile.mkdtemp(prefix="tessera-bench-pol-")
    lines = []

    def out(s=""):
        print(s, flush=True)
        lines.append(s)

    if args.callgrind:  # `serve` under callgrind, every other command as it is
        wrap = os.path.join(work, "tessera-callgrind")
        with open(wrap, "w") as f:
            f.write('#!/bin/sh\nfor a in "$@"; do [ "$a" = serve ] && exec valgrind --tool=callgrind -q '
                    '--callgrind-out-file=%s/callgrind.%%p.out "%s" "$@"; done\nexec "%s" "$@"\n'
                    % (work, binary, binary))
        os.chmod(wrap, 0o755)
        os.environ["TESSERA_BIN"] = wrap
    srv = Server(work, pg=pg, threads=None if args.threads == "default" else int(args.threads),
                 cfg={"PI_LOGLEVEL": args.loglevel})
    srv.setup()
    srv.start()
    try:
        H = {"token": srv.login()}
        HDR = {HEADER[0]: HEADER[1]}
        users = os.path.join(work, "users")
        with open(users, "w") as f:
            for i in range(1, args.users + 1):
                f.write("u%04d:x:%d:%d:User %d,,,,:/home/u:/bin/sh\n" % (i, 10000 + i, 10000 + i, i))
        os.chmod(users, 0o644)
        assert srv.post("/resolver/benchres", data={"type": "passwdresolver", "fileName": users}, **H).status == 200
        assert srv.post("/realm/bench", data={"resolvers": "benchres"}, **H).status == 200
        assert srv.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "BENCH-TPL"},
                        **H).status == 200
        clone_tokens(srv, pg, args.users)

        sets = {}
        for n in sorted(set(sizes) | {1000}):
            pols, nmatch = policy_set(n)
            path = os.path.join(work, "set%d.py" % n)
            write_set(path, pols)
            sets[n] = (path, nmatch)

        def load_set(n):
            t0 = time.time()
            srv.cli("policy", "p_import", "-c", "-f", sets[n][0])
            have = int(srv.db_query("SELECT count(*) FROM policy")[0][0])
            if have != n:
                sys.exit("policy set %d: %d policies stored" % (n, have))
            return time.time() - t0

        t_load = load_set(max(sets))  # every set is a prefix of the largest: validates them all
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        out("tessera policy benchmark (POST /validate/check, HOTP) %s" %
            datetime.datetime.now().isoformat(timespec="seconds"))
        out("binary: %s (commit %s%s); database: %s; machine: %s, %d CPUs" % (
            binary, commit or "?", ", src modified" if dirty else "", args.db, platform.node(),
            os.cpu_count() or 0))
        out("%s; server --threads %s; %d users with one HOTP token each in realm bench" % (
            "valgrind --tool=callgrind, %d sequential checks per run" % args.callgrind if args.callgrind else
            "wrk -t%d -c%d -d%s" % (args.wrk_threads, args.connections, args.duration), args.threads, args.users))
        out("policy sets: %s; loading %d policies (tessera policy p_import -c): %.1f s" % (
            ", ".join("%d (%d matching the request)" % (n, sets[n][1]) for n in sizes), max(sets), t_load))
        out("")
        if not args.callgrind:
            out("%-5s %8s %9s %7s %8s %8s %8s %7s %7s %11s %6s  %s" % (
                "round", "policies", "req/s", "ratio", "p50 ms", "p99 ms", "cpu ms", "ratio", "errors", "accepted",
                "load", "policies named by the audit (first row)"))

        per_thread = args.users // args.wrk_threads
        lua = os.path.join(work, "check.lua")
        open(lua, "w").write(LUA % {"dir": work, "hname": HEADER[0], "hval": HEADER[1]})

        def run_case(n, duration):
            load_set(n)
            counters = counters_of(srv)
            # the first request after the change builds the new snapshot (compiles the set)
            r = srv.post("/validate/check", data={"user": "u0001", "realm": "bench", "pass": hotp(counters[1])},
                         headers=HDR)
            counters[1] += 1
            if r.status != 200 or (r.body.get("result") or {}).get("value") is not True:
                out("      first check with %d policies: %s %s" % (n, r.status, r.body.get("result")))
            write_bodies(work, args, per_thread, counters, duration)
            a0 = max_audit(srv)
            load = open("/proc/loadavg").read().split()[0]
            prof = None
            if args.perf and duration == args.duration and n not in profiled:
                profiled.add(n)
                os.makedirs(args.perf, exist_ok=True)
                prof = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-a",
                                         "-o", os.path.join(args.perf, "perf-%d-pid%d.data" % (n, srv.pid))],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpu0 = cpu_seconds(srv.pid)
            res = wrk(args, srv.base + "/validate/check", lua, duration)
            res["cpu"] = cpu_seconds(srv.pid) - cpu0
            if prof:
                prof.send_signal(2)
                prof.wait()
            time.sleep(1)  # requests wrk left in flight finish (they move counters and write audit rows)
            res["load"] = load
            res["total"], res["ok"] = audit_success(srv, a0)
            pol = srv.db_query("SELECT policies FROM pidea_audit WHERE id > %d AND \"action\" = "
                               "'POST /validate/check' ORDER BY id LIMIT 1" % a0)
            res["policies"] = (pol[0][0] or "") if pol else ""
            res["rejected"] = srv.db_query(
                "SELECT info, count(*) FROM pidea_audit WHERE id > %d AND success = 0 AND \"action\" = "
                "'POST /validate/check' GROUP BY info" % a0)
            return res

        if args.callgrind:
            callgrind_runs(srv, args, sizes, load_set, out, HDR, work)
            out("whole benchmark: %.0f s" % (time.time() - t_start))
            raise CallgrindDone()
        profiled = set()
        run_case(sizes[0], args.warmup)  # warm-up (threads, caches, database pages); not reported
        results = {}
        for rnd in range(1, args.repeat + 1):
            for n in sizes:
                res = run_case(n, args.duration)
                base0 = results.get((rnd, sizes[0]))
                ratio = res["rps"] / base0["rps"] if base0 and base0["rps"] else 1.0
                results[(rnd, n)] = res
                res["cpu_req"] = 1000.0 * res["cpu"] / max(1, res["requests"])
                cpu0 = base0["cpu_req"] if base0 else res["cpu_req"]
                out("%-5d %8d %9.1f %7.3f %8.2f %8.2f %8.3f %7.3f %7d %11s %6s  %s" % (
                    rnd, n, res["rps"], ratio, res["lat"].get("50", 0), res["lat"].get("99", 0),
                    res["cpu_req"], cpu0 / res["cpu_req"] if res["cpu_req"] else 0,
                    res["non2xx"] + res["errors"], "%d/%d" % (res["ok"], res["total"]), res["load"],
                    summarize(res["policies"])))
                for info, cnt in res["rejected"]:
                    out("      rejected: %s x %s" % (cnt, info))
        out("(ratio: req/s over the 0-policy run of the same round; cpu ms: server CPU time (all threads) per "
            "request, and its ratio 0-policy/this, the throughput a CPU-bound server would keep)")
        out("")
        for n in sizes[1:]:
            rs = [results[(r, n)]["rps"] / results[(r, sizes[0])]["rps"] for r in range(1, args.repeat + 1)
                  if results[(r, sizes[0])]["rps"]]
            cs = [results[(r, sizes[0])]["cpu_req"] / results[(r, n)]["cpu_req"] for r in range(1, args.repeat + 1)
                  if results[(r, n)]["cpu_req"]]
            if rs:
                mean = sum(rs) / len(rs)
                cmean = sum(cs) / len(cs) if cs else 0
                out("%d policies: mean throughput ratio %.3f (cost %.1f %%), CPU ratio %.3f (cost %.1f %%)%s" % (
                    n, mean, 100 * (1 - mean), cmean, 100 * (1 - cmean), "" if n != 1000 else
                    ("; goal < 20 %: " + ("met" if mean >= 0.8 else "NOT met"))))
        out("")
        out(deny_check(srv, args, sets, load_set, HDR))
        out("whole benchmark: %.0f s" % (time.time() - t_start))
    except CallgrindDone:
        pass
    finally:
        srv.stop()
        if pg:
            pg.stop()
        subprocess.run(["rm", "-rf", work])
    res = REPO / "bench" / "results"
    res.mkdir(exist_ok=True)
    p = res / ("policies-e2e-%s%s-%s.txt" % (args.db, "-callgrind" if args.callgrind else "",
                                            datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")))
    p.write_text("\n".join(lines) + "\n")
    print("results written to %s" % p)


class CallgrindDone(Exception):
    pass


def callgrind_runs(srv, args, sizes, load_set, out, hdr, work):
    """N sequential checks per run between `callgrind_control -z` and `-d`: instructions per request."""
    out("%-5s %8s %14s %7s %11s" % ("round", "policies", "k instr/req", "ratio", "accepted"))
    base = {}
    users = args.users // 2 or 1
    for rnd in range(1, args.repeat + 1):
        for n in sizes:
            load_set(n)
            counters = counters_of(srv)
            for w in range(3):  # the new snapshot, caches
                u = users + 1 + w
                srv.post("/validate/check", data={"user": "u%04d" % u, "realm": "bench", "pass": hotp(counters[u])},
                         headers=hdr)
            subprocess.run(["callgrind_control", "-z", str(srv.pid)], check=True, capture_output=True)
            ok = 0
            for k in range(args.callgrind):
                u = 1 + k % users
                r = srv.post("/validate/check", data={"user": "u%04d" % u, "realm": "bench",
                                                      "pass": hotp(counters[u])}, headers=hdr)
                counters[u] += 1
                ok += (r.body.get("result") or {}).get("value") is True
            before = set(os.listdir(work))
            subprocess.run(["callgrind_control", "-d", str(srv.pid)], check=True, capture_output=True)
            dump = None
            for _ in range(100):
                new = [f for f in set(os.listdir(work)) - before if f.startswith("callgrind.")]
                if new:
                    dump = os.path.join(work, new[0])
                    break
                time.sleep(0.1)
            txt = open(dump).read() if dump else ""
            m = re.search(r"^(?:summary|totals):\s+(\d+)", txt, re.M)
            ir = int(m.group(1)) / 1000.0 / args.callgrind if m else 0.0
            base.setdefault(rnd, ir)
            out("%-5d %8d %14.0f %7.3f %11s" % (rnd, n, ir, base[rnd] / ir if ir else 0,
                                                "%d/%d" % (ok, args.callgrind)))
    out("(instructions of the whole server process, every thread, while the checks ran, divided by their number; "
        "ratio: 0-policy/this)")


def summarize(pol):
    names = [x for x in pol.split(",") if x]
    if not names:
        return "(none)"
    m = sum(1 for x in names if x.startswith("match"))
    o = len(names) - m
    s = "%d matching-kind%s" % (m, ", %d OTHER (should not match!): %s" % (
        o, ",".join(x for x in names if not x.startswith("match"))) if o else "")
    return s + ": " + ",".join(names[:6]) + (",..." if len(names) > 6 else "")


def deny_check(srv, args, sets, load_set, hdr):
    """A matching authorized=deny_access policy on top of the 1000 set refuses a correct OTP."""
    load_set(1000)
    deny = os.path.join(os.path.dirname(sets[1000][0]), "deny.py")
    with open(deny, "w") as f:
        f.write("{'policy': [%r]}\n" % {"name": "bench_deny", "scope": "authorization",
                                        "action": "authorized=deny_access", "realm": "bench", "priority": 1})
    user = "u%04d" % args.users
    c = int(srv.db_query("SELECT t.\"count\" FROM token t JOIN tokenowner o ON o.token_id = t.id WHERE "
                         "o.user_id = '%d'" % (10000 + args.users))[0][0])
    srv.cli("policy", "p_import", "-f", deny)
    r1 = srv.post("/validate/check", data={"user": user, "realm": "bench", "pass": hotp(c)}, headers=hdr)
    srv.cli("policy", "delete", "bench_deny")
    r2 = srv.post("/validate/check", data={"user": user, "realm": "bench", "pass": hotp(c + 1)}, headers=hdr)
    v1 = (r1.body.get("result") or {}).get("value")
    v2 = (r2.body.get("result") or {}).get("value")
    good = v1 is not True and v2 is True  # refused: value false, or a 401/403 error without a value
    return ("policy check: 1000 set + matching authorized=deny_access -> HTTP %s, value %s (%s); without it "
            "-> value %s (%s): %s" % (r1.status, v1, (r1.body.get("detail") or {}).get("message") or
                           (r1.body.get("result") or {}).get("error", {}).get("message", ""),
                           v2, (r2.body.get("detail") or {}).get("message", ""),
                           "policies ENFORCED" if good else "NOT ENFORCED (or OTP problem)"))


def wrk(args, url, script, duration):
    argv = ["wrk", "-t%d" % args.wrk_threads, "-c%d" % args.connections, "-d" + duration,
            "--timeout", "30s", "--latency", "-s", script, url]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode:
        sys.exit("wrk failed: " + r.stdout + r.stderr)
    return parse_wrk(r.stdout)


def write_bodies(work, args, per_thread, counters, duration):
    """Per wrk thread: round-robin over its users, each user's counter rising from where its token is
    (enough bodies for 5000 req/s; wrk starts over when it runs out, which shows as rejections)."""
    secs = float(re.sub(r"[a-z]+$", "", duration)) * (60 if duration.endswith("m") else 1)
    rounds = max(4, int(5000 * secs / args.users) + 2)
    cache = {}

    def otp(c):
        if c not in cache:
            cache[c] = hotp(c)
        return cache[c]

    for t in range(args.wrk_threads):
        with open(os.path.join(work, "bodies_%d.txt" % t), "w") as f:
            for c in range(rounds):
                for i in range(per_thread):
                    u = 1 + t * per_thread + i
                    f.write("user=u%04d&realm=bench&pass=%s\n" % (u, otp(counters[u] + c)))


def clone_tokens(srv, pg, n_users):
    """BULK0000001..: copies of the template token, BULKn owned by user un (as bench/tokens.sh)."""
    cols = ("description, tokentype, user_pin, user_pin_iv, so_pin, so_pin_iv, pin_seed, otplen, pin_hash, "
            "key_enc, key_iv, maxfail, active, revoked, locked, failcount, \"count\", count_window, "
            "sync_window, rollout_state")
    if pg:
        gen = "generate_series(1, %d) AS g(x)" % n_users
        ser = "'BULK' || lpad(g.x::text, 7, '0')"
    else:
        gen = ("(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT x FROM c) g"
               % n_users)
        ser = "'BULK' || substr('0000000' || g.x, -7, 7)"
    last = "BULK%07d" % n_users
    srv.db_query("INSERT INTO token (serial, %s) SELECT %s, %s FROM %s, token t WHERE t.serial = 'BENCH-TPL'"
                 % (cols, ser, ", ".join("t." + c.strip() for c in cols.split(",")), gen))
    srv.db_query("INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") "
                 "SELECT b.id, i.\"Key\", i.\"Value\", i.\"Type\", i.\"Description\" FROM token b, tokeninfo i, "
                 "token t WHERE t.serial = 'BENCH-TPL' AND i.token_id = t.id AND b.serial BETWEEN 'BULK0000001' "
                 "AND '%s'" % last)
    realm = srv.db_query("SELECT id FROM realm WHERE name = 'bench'")[0][0]
    srv.db_query("INSERT INTO tokenowner (token_id, resolver, user_id, realm_id) SELECT t.id, 'benchres', "
                 "CAST(10000 + CAST(substr(t.serial, 5) AS INTEGER) AS TEXT), %s FROM token t "
                 "WHERE t.serial BETWEEN 'BULK0000001' AND '%s'" % (realm, last))
    srv.db_query("INSERT INTO tokenrealm (token_id, realm_id) SELECT t.id, %s FROM token t "
                 "WHERE t.serial BETWEEN 'BULK0000001' AND '%s'" % (realm, last))
    srv.db_query("VACUUM ANALYZE" if pg else "ANALYZE")


def cpu_seconds(pid):
    """User + system CPU time of the server process (every thread) so far."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def counters_of(srv):
    """{user number: the first unused HOTP counter of its token}."""
    return {int(serial[4:]): int(count) for serial, count in srv.db_query(
        "SELECT serial, \"count\" FROM token WHERE serial LIKE 'BULK%'")}


def max_audit(srv):
    return int(srv.db_query("SELECT COALESCE(max(id), 0) FROM pidea_audit")[0][0])


def audit_success(srv, since_id):
    n, s = srv.db_query("SELECT count(*), sum(success) FROM pidea_audit WHERE id > %d AND \"action\" = "
                        "'POST /validate/check'" % since_id)[0]
    return int(n), int(s or 0)


main()
PYEOF
