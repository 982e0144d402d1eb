#!/bin/sh
# bench/certs.sh — certificate enrollment and revocation through the REST API, next to `openssl ca`
# invoked the way privacyIDEA's local CA invokes it (issue 6, section Performance).
#
# usage: bench/certs.sh [--enrollments 200] [--genkey 40] [--clients 1,8] [--fill 1000] [--revokes 10]
#                       [--full]            (= --fill 10000, the issue's revoke test)
#                       [--ca-key-size 2048] (RSA key of both CAs; privacyIDEA's create_ca default is 4096)
#                       [--checks]          (while the parallel enrollments run, one more client sends
#                                            /validate/check for a spass token one after another: its
#                                            latency shows whether enrollments hold the write lock)
#                       [--no-revoke]       (skip step 5, the CA fill and the revocations)
#                       [--postgres]        (the server on a private PostgreSQL cluster instead of SQLite;
#                                            on both, key generation and the CA call run before the
#                                            enrollment's write transaction, so enrollments and the CA
#                                            lock are contended the same way)
# Environment: TESSERA_BIN (default build/tessera).
#
# What it does, on a fresh server (harness.Server, SQLite, as the API tests start it):
#  1. a passwd resolver (alice/bob/carol/dave) in realm "realm1"; two local CAs made with
#     `tessera ca create NAME --dir D --key-type rsa --key-size 2048 --batch`: "bench" (served by
#     Tessera) and "base" (only its directory is used, by `openssl ca`, the baseline);
#  2. --enrollments RSA 2048 CSRs and as many EC P-256 CSRs, made with `openssl req` before any timing;
#  3. CSR signing: POST /token/init type=certificate ca=bench template=webserver request=<PEM>
#     user=<u> realm=realm1, driven by N parallel clients (Python threads, one requests.Session each,
#     an admin JWT) for every N of --clients; enrollments/s and client-side p50/p99 latency;
#     baseline: the same CSRs, one after another, each with
#       openssl ca -keyfile cakey.pem -cert cacert.pem -config openssl.cnf -extensions server
#                  -days 365 -in X.csr -out X.pem -batch          (cwd = the CA directory)
#     as privacyIDEA's LocalCAConnector.sign_request runs it (sequential: openssl ca has no lock on
#     index.txt/serial, privacyIDEA runs it per request);
#  4. server-side generation: the same /token/init with genkey=1 (keytype rsa, 2048, and keytype ec),
#     no request; baseline: `openssl req -newkey rsa:2048 -nodes` + the `openssl ca` call above
#     (an approximation: privacyIDEA makes the key and CSR in Python, then calls openssl ca);
#  5. revocation: the CA "bench" is filled up to --fill issued certificates THROUGH THE API (bulk
#     /token/init with CSRs from the pool, N parallel clients — every certificate has its token, as
#     in real use), its directory is then copied for the baseline (the cnf's dir= rewritten), and
#     --revokes tokens are revoked one by one with POST /token/revoke (which revokes at the CA and
#     writes a new CRL); baseline on the copy, per certificate:
#       openssl ca -keyfile .. -cert .. -config .. -revoke X.pem -crl_reason unspecified
#       openssl ca -keyfile .. -cert .. -config .. -gencrl -out crl.pem
#     Both are timed per revocation (revoke + CRL together), p50/p99 reported.
# Results go to bench/results/certs-<timestamp>.txt.
exec /usr/bin/python3 - "$@" <<'PYEOF'
import argparse, concurrent.futures, datetime, os, pathlib, platform, re, shutil, subprocess, sys, tempfile
import threading, time
REPO = pathlib.Path(os.environ.get("TESSERA_REPO") or subprocess.run(
    ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip() or ".")
sys.path.insert(0, str(REPO / "tests" / "api"))
from harness import PgCluster, Server, tessera_bin  # noqa: E402
import requests  # noqa: E402

USERS = ("alice:x:1001:1001:Alice,,,,alice@example.com:/home/alice:/bin/bash\n"
         "bob:x:1002:1002:Bob,,,,bob@example.com:/home/bob:/bin/bash\n"
         "carol:x:1003:1003:Carol,,,,carol@example.com:/home/carol:/bin/bash\n"
         "dave:x:1004:1004:Dave,,,,dave@example.com:/home/dave:/bin/bash\n")
NAMES = ["alice", "bob", "carol", "dave"]


def pct(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def sh(argv, cwd=None):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("failed: %s\n%s%s" % (" ".join(argv), r.stdout, r.stderr))
    return r


def make_csr(d, kind, i):
    key, csr = "%s/%s%04d.key" % (d, kind, i), "%s/%s%04d.csr" % (d, kind, i)
    new = ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    sh(["openssl", "req", "-new", *new, "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/O=bench/CN=%s%04d" % (kind, i)])
    return csr


class Client:
    def __init__(self, base, jwt):
        self.base, self.s = base, requests.Session()
        self.s.headers["Authorization"] = jwt

    def post(self, path, data):
        t0 = time.perf_counter()
        r = self.s.post(self.base + path, data=data, timeout=300)
        dt = time.perf_counter() - t0
        ok = r.status_code == 200 and r.json().get("result", {}).get("status") is True
        return ok, dt, r


CHECKS = {"on": False, "rows": []}


def checker(srv, stop, lats, errs):
    """/validate/check (spass token CHK1, PIN benchpin) one after another until stop is set."""
    c = Client(srv.base, "")
    del c.s.headers["Authorization"]
    while not stop.is_set():
        ok, dt, r = c.post("/validate/check", {"serial": "CHK1", "pass": "benchpin"})
        lats.append(dt)
        if not ok or r.json()["result"].get("value") is not True:
            errs.append("%d %s" % (r.status_code, r.text[:300]))


def drive(srv, jwt, bodies, clients, path="/token/init", label=None):
    """POST every body with `clients` parallel clients; returns (wall s, [latency s], errors, answers).
    With --checks and a label, /validate/check runs alongside (a row in CHECKS["rows"])."""
    lock, idx = threading.Lock(), [0]
    lats, errs, answers = [], [], [None] * len(bodies)
    stop, clats, cerrs, cth = threading.Event(), [], [], None
    if CHECKS["on"] and label:
        cth = threading.Thread(target=checker, args=(srv, stop, clats, cerrs))
        cth.start()

    def worker():
        c = Client(srv.base, jwt)
        while True:
            with lock:
                i = idx[0]
                idx[0] += 1
            if i >= len(bodies):
                return
            ok, dt, r = c.post(path, bodies[i])
            with lock:
                lats.append(dt)
                if ok:
                    answers[i] = r.json()
                else:
                    errs.append("%d %s" % (r.status_code, r.text[:300]))
    t0 = time.perf_counter()
    ths = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    wall = time.perf_counter() - t0
    if cth:
        stop.set()
        cth.join()
        CHECKS["rows"].append(row("  /validate/check during " + label, len(clats), wall, clats, cerrs))
    return wall, lats, errs, answers


def openssl_ca_args(d):
    return ["openssl", "ca", "-keyfile", d + "/cakey.pem", "-cert", d + "/cacert.pem", "-config", d + "/openssl.cnf"]


def openssl_sign_seq(d, csrs, outdir, genkey=False):
    lats = []
    t0 = time.perf_counter()
    for i, csr in enumerate(csrs):
        t1 = time.perf_counter()
        if genkey:
            csr = "%s/gk%04d.csr" % (outdir, i)
            sh(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s/gk%04d.key" % (outdir, i),
                "-out", csr, "-subj", "/CN=gk%04d" % i])
        sh(openssl_ca_args(d) + ["-extensions", "server", "-days", "365", "-in", csr,
                                 "-out", "%s/o%s%04d.pem" % (outdir, "g" if genkey else "", i), "-batch"], cwd=d)
        lats.append(time.perf_counter() - t1)
    return time.perf_counter() - t0, lats, [], None


def row(name, n, wall, lats, errs):
    return {"name": name, "n": n, "rate": n / wall if wall else None, "p50": pct(lats, 50), "p99": pct(lats, 99),
            "errors": len(errs), "err1": errs[0] if errs else ""}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--enrollments", type=int, default=200, help="CSR enrollments per key type and client count")
    ap.add_argument("--genkey", type=int, default=40, help="genkey=1 enrollments per key type and client count")
    ap.add_argument("--clients", default="1,8", help="comma list of parallel client counts")
    ap.add_argument("--fill", type=int, default=1000, help="issued certificates in the CA for the revoke test")
    ap.add_argument("--full", action="store_true", help="--fill 10000 (issue 6's figure)")
    ap.add_argument("--revokes", type=int, default=10, help="revocations timed (each: revoke + new CRL)")
    ap.add_argument("--fill-clients", type=int, default=8)
    ap.add_argument("--loglevel", type=int, default=20)
    ap.add_argument("--ca-key-size", type=int, default=2048, help="RSA key size of the CAs")
    ap.add_argument("--postgres", action="store_true", help="run the server on PostgreSQL")
    ap.add_argument("--checks", action="store_true", help="/validate/check latency during the enrollments")
    ap.add_argument("--no-revoke", action="store_true", help="skip the CA fill and the revocations")
    args = ap.parse_args()
    CHECKS["on"] = args.checks
    if args.full:
        args.fill = max(args.fill, 10000)
    clients = [int(x) for x in args.clients.split(",") if x.strip()]
    load0 = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    work = tempfile.mkdtemp(prefix="bench-certs-")
    pg = None
    if args.postgres:
        pg = PgCluster()
        pg.start()
    srv = Server(os.path.join(work, "srv"), cfg={"PI_LOGLEVEL": args.loglevel}, pg=pg)
    srv.setup()
    srv.start()
    rows, notes = [], []
    try:
        jwt = srv.login()
        up = pathlib.Path(work, "users")
        up.write_text(USERS)
        os.chmod(up, 0o644)
        assert srv.post("/resolver/pwfile", data={"type": "passwdresolver", "fileName": str(up)}, token=jwt).status == 200
        assert srv.post("/realm/realm1", data={"resolvers": "pwfile"}, token=jwt).status == 200
        ca_t, ca_b = os.path.join(work, "ca-tessera"), os.path.join(work, "ca-openssl")
        ks = str(args.ca_key_size)
        srv.cli("ca", "create", "bench", "--dir", ca_t, "--key-type", "rsa", "--key-size", ks, "--batch")
        srv.cli("ca", "create", "base", "--dir", ca_b, "--key-type", "rsa", "--key-size", ks, "--batch")
        csrdir = os.path.join(work, "csr")
        os.makedirs(csrdir)
        outdir = os.path.join(work, "out")
        os.makedirs(outdir)
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
            pool = {k: list(ex.map(lambda i, k=k: make_csr(csrdir, k, i), range(args.enrollments)))
                    for k in ("rsa", "ec")}
        pem = {k: [pathlib.Path(p).read_text() for p in v] for k, v in pool.items()}
        notes.append("CSR pool: %d RSA 2048 + %d EC P-256 made with openssl req in %.1fs (not timed below)"
                     % (args.enrollments, args.enrollments, time.perf_counter() - t0))
        assert srv.post("/token/init", data={"type": "spass", "serial": "CHK1", "pin": "benchpin"},
                        token=jwt).status == 200
        # warm-up
        drive(srv, jwt, [{"type": "certificate", "ca": "bench", "request": pem["ec"][0], "template": "webserver",
                          "user": "alice", "realm": "realm1"}], 1)
        # ---- CSR signing
        for kind, label in (("rsa", "RSA 2048 CSR"), ("ec", "EC P-256 CSR")):
            bodies = [{"type": "certificate", "ca": "bench", "request": p, "template": "webserver",
                       "user": NAMES[i % 4], "realm": "realm1"} for i, p in enumerate(pem[kind])]
            for n in clients:
                name = "tessera /token/init %s, %d client%s" % (label, n, "s" if n > 1 else "")
                wall, lats, errs, _ = drive(srv, jwt, bodies, n, label=name)
                rows.append(row(name, len(bodies), wall, lats, errs))
                rows += CHECKS["rows"]
                CHECKS["rows"] = []
            wall, lats, errs, _ = openssl_sign_seq(ca_b, pool[kind], outdir)
            rows.append(row("openssl ca %s, sequential" % label, len(bodies), wall, lats, errs))
        # ---- server-side generation
        if args.genkey:
            for kt in ("rsa", "ec"):
                bodies = [{"type": "certificate", "ca": "bench", "genkey": "1", "keytype": kt, "template": "webserver",
                           "user": NAMES[i % 4], "realm": "realm1"} for i in range(args.genkey)]
                if kt == "rsa":
                    bodies = [dict(b, keysize="2048") for b in bodies]
                for n in clients:
                    name = "tessera genkey=1 %s, %d client%s" % ("RSA 2048" if kt == "rsa" else "EC P-256",
                                                               n, "s" if n > 1 else "")
                    wall, lats, errs, _ = drive(srv, jwt, bodies, n, label=name)
                    rows.append(row(name, len(bodies), wall, lats, errs))
                    rows += CHECKS["rows"]
                    CHECKS["rows"] = []
            wall, lats, errs, _ = openssl_sign_seq(ca_b, [None] * args.genkey, outdir, genkey=True)
            rows.append(row("openssl req -newkey rsa:2048 + openssl ca, seq.", args.genkey, wall, lats, errs))
        # ---- fill the CA, then revoke
        version = srv.get("/healthz").body.get("version", "?")
        hwm = srv.vm_hwm_kb()
        if args.no_revoke:
            raise StopIteration
        issued = sum(1 for l in open(os.path.join(ca_t, "index.txt")) if l.strip())
        need = max(0, args.fill - issued)
        t0 = time.perf_counter()
        allpem = pem["ec"] + pem["rsa"]
        bodies = [{"type": "certificate", "ca": "bench", "request": allpem[i % len(allpem)], "template": "webserver",
                   "user": NAMES[i % 4], "realm": "realm1"} for i in range(need + args.revokes)]
        wall, lats, errs, answers = drive(srv, jwt, bodies, args.fill_clients)
        if errs:
            notes.append("fill errors: %d, first: %s" % (len(errs), errs[0]))
        issued = sum(1 for l in open(os.path.join(ca_t, "index.txt")) if l.strip())
        notes.append("fill: %d certificates issued through POST /token/init (%d parallel clients) in %.1fs "
                     "(%.0f/s); CA index.txt now has %d entries" % (len(bodies), args.fill_clients, wall,
                                                                  len(bodies) / wall, issued))
        rows.append(row("tessera /token/init fill, %d clients (index %d->%d)" % (args.fill_clients, issued - len(bodies), issued),
                        len(bodies), wall, lats, errs))
        # the revoke victims: the last --revokes tokens of the fill
        victims = [a for a in answers[-args.revokes:] if a]
        # the baseline copy of the filled CA (taken before any revocation)
        ca_c = os.path.join(work, "ca-openssl-filled")
        shutil.copytree(ca_t, ca_c)
        cnf = pathlib.Path(ca_c, "openssl.cnf")
        cnf.write_text(re.sub(r"(?m)^dir\s*=.*$", "dir\t\t= " + ca_c, cnf.read_text()))
        for f in ("index.txt.lock",):
            p = pathlib.Path(ca_c, f)
            if p.exists():
                p.unlink()
        crl_t = pathlib.Path(ca_t, "crl.pem")
        lats, errs = [], []
        t0 = time.perf_counter()
        for a in victims:
            ok, dt, r = Client(srv.base, jwt).post("/token/revoke", {"serial": a["detail"]["serial"]})
            lats.append(dt)
            if not ok:
                errs.append("%d %s" % (r.status_code, r.text[:300]))
        wall = time.perf_counter() - t0
        rows.append(row("tessera POST /token/revoke + CRL (%d certs)" % issued, len(victims), wall, lats, errs))
        crlinfo = sh(["openssl", "crl", "-in", str(crl_t), "-noout", "-text"]).stdout
        notes.append("tessera CRL after the revocations: %d revoked entries, %d bytes"
                     % (crlinfo.count("Serial Number:"), crl_t.stat().st_size))
        lats, errs = [], []
        t0 = time.perf_counter()
        for i, a in enumerate(victims):
            cert = os.path.join(outdir, "victim%03d.pem" % i)
            c = a["detail"]["certificate"]
            pathlib.Path(cert).write_text(c[c.index("-----BEGIN CERTIFICATE-----"):])
            t1 = time.perf_counter()
            sh(openssl_ca_args(ca_c) + ["-revoke", cert, "-crl_reason", "unspecified"], cwd=ca_c)
            sh(openssl_ca_args(ca_c) + ["-gencrl", "-out", "crl.pem"], cwd=ca_c)
            lats.append(time.perf_counter() - t1)
        wall = time.perf_counter() - t0
        rows.append(row("openssl ca -revoke + -gencrl (%d certs)" % issued, len(victims), wall, lats, errs))
        version = srv.get("/healthz").body.get("version", "?")
        hwm = srv.vm_hwm_kb()
    except StopIteration:
        pass
    finally:
        srv.stop()
        if pg is not None:
            pg.stop()
    load1 = os.getloadavg()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    out = ["Tessera certificate benchmark (issue 6) — %s UTC" % started.strftime("%Y-%m-%d %H:%M:%S"),
           "%s, commit %s, %s, %s, %d CPUs, openssl: %s" % (
               version, commit, tessera_bin(), platform.platform(), os.cpu_count() or 0,
               sh(["openssl", "version"]).stdout.strip()),
           "load average before %.2f %.2f %.2f, after %.2f %.2f %.2f; server peak RSS %s kB" % (load0 + load1 + (hwm,)),
           "CA: RSA %d key (tessera ca create --key-type rsa --key-size %d), %s, template webserver "
           "(= -extensions server)" % (args.ca_key_size, args.ca_key_size,
                                       "PostgreSQL" if args.postgres else "SQLite"), ""]
    hdr = "%-70s %6s %10s %9s %9s %6s" % ("case", "n", "per s", "p50 ms", "p99 ms", "errors")
    out += [hdr, "-" * len(hdr)]
    for r in rows:
        out.append("%-70s %6d %10s %9s %9s %6d" % (
            r["name"], r["n"], "%.1f" % r["rate"] if r["rate"] else "-",
            "%.1f" % (r["p50"] * 1e3) if r["p50"] is not None else "-",
            "%.1f" % (r["p99"] * 1e3) if r["p99"] is not None else "-", r["errors"]))
    out.append("")
    out += ["note: " + n for n in notes]
    for r in rows:
        if r["err1"]:
            out.append("first error of %s: %s" % (r["name"], r["err1"]))
    text = "\n".join(out) + "\n"
    print(text, end="")
    res = REPO / "bench" / "results"
    res.mkdir(exist_ok=True)
    path = res / ("certs-%s.txt" % started.strftime("%Y%m%d-%H%M%S"))
    path.write_text(text)
    print("written to", path)
    shutil.rmtree(work, ignore_errors=True)


main()
PYEOF
