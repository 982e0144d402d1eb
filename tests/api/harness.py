"""harness.py — start, drive and check a real `tessera` server (and a throw-away PostgreSQL).

Used by the pytest fixtures in conftest.py and by bench/run; it imports nothing from pytest.
Every JSON answer that goes through Server.request() is checked against the envelope contract
(Content-Type, Cache-Control, one JSON object without duplicate keys) and its response signature
is verified with the server's audit public key; a violation raises ProtocolError/SignatureError.

Runs as root (CI) or as an ordinary user: as root, PostgreSQL is run as the `postgres` user.
Python: Debian's /usr/bin/python3 (pytest, requests, cryptography from Debian packages).
"""
import base64
import ctypes
import glob
import hashlib
import hmac
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

REPO = pathlib.Path(__file__).resolve().parents[2]
PG_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
SIG_PREFIX = "rsa_sha256_pss:"
# Sanitized binaries are several times slower; keep generous but finite limits.
CLI_TIMEOUT = 120
START_TIMEOUT = 60
STOP_TIMEOUT = 20
HTTP_TIMEOUT = 60


class HarnessError(AssertionError):
    """The server or a CLI command misbehaved (crash, bad exit status, sanitizer report)."""


class ProtocolError(AssertionError):
    """An HTTP answer broke the envelope contract (not JSON, wrong headers, ...)."""


class SignatureError(AssertionError):
    """A response signature is missing, malformed or does not verify."""


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test process dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def tessera_bin():
    return os.environ.get("TESSERA_BIN") or str(REPO / "build" / "tessera")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sanitizer_lines(text):
    return [ln for ln in text.splitlines() if any(m in ln for m in SANITIZER_MARKERS)]


def _tail(text, n=40):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


def py_literal(value):
    """Render a pi.cfg value the way an admin writes it in Python syntax."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return repr(str(value))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(payload, secret, alg="HS256", header=None):
    """A JWT with the given claims; alg HS256/HS384/HS512 (HMAC with secret) or "none"."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing_input = (b64url(json.dumps(hdr, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(payload, separators=(",", ":")).encode()))
    if alg == "none":
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return signing_input + "." + b64url(sig)


def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ProtocolError("duplicate key %r in JSON response" % k)
        obj[k] = v
    return obj


class Response:
    """One checked answer: status, headers, raw bytes and the parsed JSON body."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # case-insensitive mapping (requests) or dict of lower-case names
        self.raw = raw
        self.body = None

    def header(self, name):
        if isinstance(self.headers, dict):
            return self.headers.get(name.lower())
        return self.headers.get(name)

    @property
    def result(self):
        return self.body["result"]

    @property
    def value(self):
        return self.body["result"].get("value")

    @property
    def error(self):
        return self.body["result"].get("error") or {}

    def __repr__(self):
        return "<Response %s %s>" % (self.status, self.raw[:600])


# --------------------------------------------------------------------------------------------
# PostgreSQL: one private cluster per test session, one fresh database per server.
# --------------------------------------------------------------------------------------------
class PgCluster:
    def __init__(self):
        self.root = None
        self.port = None
        self.proc_user = "postgres" if os.geteuid() == 0 else None
        self._n = 0
        self.started = False

    def _as_pg(self, argv, **kw):
        if self.proc_user:
            argv = ["runuser", "-u", self.proc_user, "--"] + argv
        return subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT, **kw)

    def reap_stale(self):
        """Stop and delete clusters left behind by test runs that were killed."""
        for root in glob.glob("/tmp/tessera-pg-*"):
            try:
                owner = int(pathlib.Path(root, "owner.pid").read_text())
            except (OSError, ValueError):
                continue
            if _pid_alive(owner):
                continue
            if os.path.exists(os.path.join(root, "data", "postmaster.pid")):
                self._as_pg([str(PG_BIN / "pg_ctl"), "-D", os.path.join(root, "data"),
                             "-m", "immediate", "-w", "-t", "30", "stop"])
            shutil.rmtree(root, ignore_errors=True)

    def start(self):
        self.reap_stale()
        # Under /tmp so that the postgres user can reach it whatever $TMPDIR is.
        self.root = tempfile.mkdtemp(prefix="tessera-pg-", dir="/tmp")
        os.chmod(self.root, 0o700)
        pathlib.Path(self.root, "owner.pid").write_text(str(os.getpid()))
        if self.proc_user:
            shutil.chown(self.root, self.proc_user, self.proc_user)
        data = os.path.join(self.root, "data")
        r = self._as_pg([str(PG_BIN / "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                         "-E", "UTF8", "--locale=C", "--no-sync"])
        if r.returncode != 0:
            raise HarnessError("initdb failed:\n" + r.stdout + r.stderr)
        for attempt in range(3):
            self.port = free_port()
            opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
                    % (self.port, self.root))
            r = self._as_pg([str(PG_BIN / "pg_ctl"), "-D", data, "-o", opts,
                             "-l", os.path.join(self.root, "postgres.log"), "-w", "-t", "60",
                             "start"])
            if r.returncode == 0:
                self.started = True
                return self
        log = ""
        try:
            log = pathlib.Path(self.root, "postgres.log").read_text(errors="replace")
        except OSError:
            pass
        raise HarnessError("pg_ctl start failed:\n" + r.stdout + r.stderr + _tail(log))

    def stop(self):
        if self.root is None:
            return
        if self.started:
            self._as_pg([str(PG_BIN / "pg_ctl"), "-D", os.path.join(self.root, "data"),
                         "-m", "immediate", "-w", "-t", "30", "stop"])
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def psql(self, sql, db="postgres", check=True):
        """Run SQL; returns rows as tuples of str (None for NULL)."""
        # Unit/record separators and a NULL marker that never occur in our data.
        argv = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres", "-d", db,
                "-F", "\x1f", "-R", "\x1e", "-P", "null=\x01NULL\x01", "-c", sql]
        r = subprocess.run(argv, capture_output=True, timeout=CLI_TIMEOUT)
        if check and r.returncode != 0:
            raise HarnessError("psql failed (%s): %s" % (sql, r.stderr.decode(errors="replace")))
        out = r.stdout.decode("utf-8", errors="replace")
        if out.endswith("\n"):
            out = out[:-1]
        if not out:
            return []
        rows = []
        for rec in out.split("\x1e"):
            rows.append(tuple(None if f == "\x01NULL\x01" else f for f in rec.split("\x1f")))
        return rows

    def create_database(self):
        self._n += 1
        name = "tessera_%d_%s" % (self._n, secrets.token_hex(3))
        self.psql('CREATE DATABASE "%s"' % name)
        return name

    def uri(self, dbname):
        # trust auth ignores the password; it is there because admins write one.
        return "postgresql://postgres:postgres@127.0.0.1:%d/%s" % (self.port, dbname)


# --------------------------------------------------------------------------------------------
# The server under test.
# --------------------------------------------------------------------------------------------
class Server:
    live = set()  # started and not yet stopped; conftest checks them after every test

    def __init__(self, workdir, pg=None, cfg=None, extra_lines="", admin_password=None,
                 threads=None, binary=None, env=None):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pg = pg
        self.binary = binary or tessera_bin()
        self.threads = threads
        self.extra_env = dict(env or {})
        self.admin_user = "admin"
        self.admin_password = admin_password or ("Pw-" + secrets.token_hex(8) + "!")
        self.secret_key = secrets.token_hex(32)
        self.pepper = secrets.token_hex(32)
        self.cfg_path = self.dir / "pi.cfg"
        self.enckey = self.dir / "enckey"
        self.private_pem = self.dir / "private.pem"
        self.public_pem = self.dir / "public.pem"
        self.logfile = self.dir / "tessera.log"
        self.stderr_path = self.dir / "server.stderr"
        self.sqlite_path = self.dir / "tessera.sqlite"
        self.dbname = None
        self.cfg = {
            "SQLALCHEMY_DATABASE_URI": None,  # filled in setup()
            "SECRET_KEY": self.secret_key,
            "PI_PEPPER": self.pepper,
            "PI_ENCFILE": str(self.enckey),
            "PI_AUDIT_KEY_PRIVATE": str(self.private_pem),
            "PI_AUDIT_KEY_PUBLIC": str(self.public_pem),
            "PI_LOGFILE": str(self.logfile),
            "PI_LOGLEVEL": 20,
            "PI_NO_RESPONSE_SIGN": False,
        }
        self.cfg.update(cfg or {})
        self.extra_lines = extra_lines
        self.port = None
        self.proc = None
        self._stderr_file = None
        self._stderr_seen = 0
        self._reported = False
        self._pubkey = None
        self.exit_status = None

    # ---- configuration and one-time set-up ----------------------------------------------
    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def signing(self):
        return not bool(self.cfg.get("PI_NO_RESPONSE_SIGN"))

    def write_cfg(self):
        lines = ["# written by tests/api/harness.py"]
        for k, v in self.cfg.items():
            if v is not None:
                lines.append("%s = %s" % (k, py_literal(v)))
        if self.extra_lines:
            lines.append(self.extra_lines.rstrip("\n"))
        self.cfg_path.write_text("\n".join(lines) + "\n")

    def setup(self):
        """Database, keys and the admin: what an operator does before the first start."""
        if self.cfg.get("SQLALCHEMY_DATABASE_URI") is None:
            if self.pg is not None:
                self.dbname = self.pg.create_database()
                self.cfg["SQLALCHEMY_DATABASE_URI"] = self.pg.uri(self.dbname)
            else:
                self.cfg["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(self.sqlite_path)
        self.write_cfg()
        self.cli("createdb")
        self.cli("create_enckey")
        self.cli("create_audit_keys")
        self.cli("admin", "add", self.admin_user, "-p", self.admin_password)
        return self

    def env(self, extra=None):
        e = dict(os.environ)
        e.pop("PRIVACYIDEA_CONFIGFILE", None)
        e.update(self.extra_env)
        e.update(extra or {})
        return e

    def cli(self, *args, check=True, config=True, env=None, timeout=CLI_TIMEOUT, input=None):
        """Run `tessera [--config pi.cfg] args...`. Always fails on a signal or a sanitizer
        report; with check=True also on a non-zero exit. Returns CompletedProcess (text)."""
        argv = [self.binary] + (["--config", str(self.cfg_path)] if config else []) + list(args)
        return run_cli(argv, check=check, env=self.env(env), timeout=timeout, input=input)

    # ---- process lifecycle ----------------------------------------------------------------
    def start(self):
        last = ""
        for attempt in range(3):
            self.port = free_port()
            argv = [self.binary, "--config", str(self.cfg_path), "serve",
                    "--listen", "127.0.0.1:%d" % self.port]
            if self.threads is not None:
                argv += ["--threads", str(self.threads)]
            self._stderr_file = open(self.stderr_path, "ab")
            self._stderr_seen = self.stderr_path.stat().st_size
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=self._stderr_file, stderr=self._stderr_file,
                                         env=self.env(), cwd=str(self.dir),
                                         preexec_fn=_die_with_parent)
            Server.live.add(self)
            try:
                self._wait_ready()
                return self
            except HarnessError as e:
                last = str(e)
                if self.proc.poll() is None or "in use" not in self.stderr_text().lower():
                    raise
                # Lost a race for the port: try another one.
                Server.live.discard(self)
                self._stderr_file.close()
        raise HarnessError(last)

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_status = rc
                raise HarnessError("tessera serve exited with status %s before it was ready; "
                                   "stderr:\n%s" % (rc, _tail(self.stderr_text())))
            try:
                r = requests.get(self.base + "/healthz", timeout=2)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise HarnessError("tessera serve not ready after %ss; stderr:\n%s"
                           % (START_TIMEOUT, _tail(self.stderr_text())))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def stderr_text(self):
        try:
            return self.stderr_path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def problems(self):
        """Crash or new sanitizer output since the last call; '' when all is well."""
        if self._reported or self.proc is None:
            return ""
        out = []
        rc = self.proc.poll()
        if rc is not None:
            out.append("tessera serve (port %s) died with %s" % (self.port, _status_text(rc)))
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            data = b""
        new = data[self._stderr_seen:].decode("utf-8", errors="replace")
        self._stderr_seen = len(data)
        text = data.decode("utf-8", errors="replace")
        san = sanitizer_lines(new)
        if san:
            out.append("sanitizer report on server stderr:\n" + "\n".join(san))
        if out:
            self._reported = True
            return "\n".join(out) + "\n--- server stderr (tail) ---\n" + _tail(text)
        return ""

    def stop(self):
        """SIGTERM, expect exit status 0 and a clean stderr; SIGKILL if it hangs.
        Raises HarnessError describing every problem."""
        if self.proc is None:
            return
        Server.live.discard(self)
        problems = []
        rc = self.proc.poll()
        if rc is not None:
            problems.append("server had died earlier with %s" % _status_text(rc))
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
                problems.append("did not exit within %ss of SIGTERM (killed)" % STOP_TIMEOUT)
            if rc != 0 and not problems:
                problems.append("exit status after SIGTERM was %s, expected 0" % _status_text(rc))
        self.exit_status = rc
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None
        text = self.stderr_text()
        san = sanitizer_lines(text)
        if san:
            problems.append("sanitizer report on server stderr:\n" + "\n".join(san[:20]))
        already = self._reported
        self.proc = None
        if problems and not already:
            raise HarnessError("tessera serve (port %s): %s\n--- server stderr (tail) ---\n%s"
                               % (self.port, "; ".join(problems), _tail(text)))

    # ---- HTTP ---------------------------------------------------------------------------------
    @property
    def pubkey(self):
        if self._pubkey is None:
            self._pubkey = serialization.load_pem_public_key(self.public_pem.read_bytes())
        return self._pubkey

    def verify_signature(self, body):
        if not self.signing:
            if "signature" in body:
                raise SignatureError("PI_NO_RESPONSE_SIGN = True but the answer is signed: %r" % body)
            return
        sig = body.get("signature")
        if not isinstance(sig, str) or not sig.startswith(SIG_PREFIX):
            raise SignatureError("missing or malformed signature in %r" % body)
        try:
            raw_sig = bytes.fromhex(sig[len(SIG_PREFIX):])
        except ValueError:
            raise SignatureError("signature is not hex: %r" % sig)
        data = json.dumps({k: v for k, v in body.items() if k != "signature"},
                          sort_keys=True).encode()
        try:
            self.pubkey.verify(raw_sig, data,
                               padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                           salt_length=padding.PSS.MAX_LENGTH),
                               hashes.SHA256())
        except InvalidSignature:
            raise SignatureError("signature does not verify over %r" % data[:2000])

    def check(self, resp):
        """The envelope contract every answer must meet; fills resp.body."""
        ctype = (resp.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ProtocolError("Content-Type %r (expected application/json) on %r"
                                % (resp.header("Content-Type"), resp))
        cache = resp.header("Cache-Control") or ""
        if "no-cache" not in cache.lower():
            raise ProtocolError("Cache-Control %r (expected no-cache) on %r" % (cache, resp))
        try:
            body = json.loads(resp.raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        except (UnicodeDecodeError, ValueError) as e:
            if isinstance(e, ProtocolError):
                raise
            raise ProtocolError("body is not JSON (%s): %r" % (e, resp.raw[:600]))
        if not isinstance(body, dict) or not isinstance(body.get("result"), dict):
            raise ProtocolError("body is not a privacyIDEA envelope: %r" % resp.raw[:600])
        resp.body = body
        self.verify_signature(body)
        return resp

    def request(self, method, path, params=None, data=None, json_body=None, headers=None,
                token=None, timeout=HTTP_TIMEOUT):
        """One HTTP request; the answer is checked (see check()). `token` goes into
        the Authorization header raw, as privacyIDEA clients send it."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = token
        kw = {}
        if json_body is not None:
            kw["json"] = json_body
        r = requests.request(method, self.base + path, params=params, data=data, headers=hdrs,
                             timeout=timeout, allow_redirects=False, **kw)
        return self.check(Response(r.status_code, r.headers, r.content))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def raw_request(self, head, body=b"", chunks=None, timeout=HTTP_TIMEOUT):
        """Send a hand-made request: `head` is the request line and headers ending in
        CRLF CRLF, then `body` (or the byte strings in `chunks`), ignoring a server that stops
        reading; read the answer until it is complete or the server closes.
        Returns a checked Response."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            try:
                s.sendall(head)
                for piece in ([body] if chunks is None else chunks):
                    if piece:
                        s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer 413 and stop reading: that is allowed
            buf = b""
            while not _answer_complete(buf):
                try:
                    got = s.recv(65536)
                except ConnectionResetError:
                    if b"\r\n\r\n" in buf:
                        break
                    raise ProtocolError("connection reset before an answer could be read "
                                        "(server should finish reading or linger before close)")
                if not got:
                    break
                buf += got
        finally:
            s.close()
        if b"\r\n\r\n" not in buf:
            raise ProtocolError("no HTTP answer (got %r)" % buf[:300])
        hd, _, rest = buf.partition(b"\r\n\r\n")
        lines = hd.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for ln in lines[1:]:
            name, _, val = ln.partition(":")
            headers[name.strip().lower()] = val.strip()
        if "content-length" in headers:
            rest = rest[:int(headers["content-length"])]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            rest = _dechunk(rest)
        return self.check(Response(status, headers, rest))

    def login(self, username=None, password=None):
        """POST /auth as a local admin; returns the JWT."""
        r = self.post("/auth", data={"username": username or self.admin_user,
                                     "password": password or self.admin_password})
        if r.status != 200:
            raise AssertionError("login failed: %r" % r)
        return r.value["token"]

    # ---- database, log ------------------------------------------------------------------------
    def db_query(self, sql):
        """Run SQL against the server's database; rows as tuples of str (None for NULL)."""
        if self.pg is not None and self.dbname:
            return self.pg.psql(sql, db=self.dbname)
        con = sqlite3.connect(str(self.sqlite_path), timeout=30)
        try:
            cur = con.execute(sql)
            rows = cur.fetchall() if cur.description else []
            con.commit()
        finally:
            con.close()
        return [tuple(None if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes)
                                              else str(v)) for v in row) for row in rows]

    def table_exists(self, name):
        if self.pg is not None and self.dbname:
            rows = self.db_query("SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_name = '%s'" % name)
        else:
            rows = self.db_query("SELECT count(*) FROM sqlite_master WHERE type='table' "
                                 "AND name = '%s'" % name)
        return rows[0][0] != "0"

    def log_text(self):
        try:
            return self.logfile.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def vm_hwm_kb(self):
        """Peak resident set size of the running server (VmHWM), in kB."""
        for ln in pathlib.Path("/proc/%d/status" % self.proc.pid).read_text().splitlines():
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
        return None


def _answer_complete(buf):
    """True once buf holds a whole HTTP answer (by Content-Length or the last chunk)."""
    if b"\r\n\r\n" not in buf:
        return False
    hd, _, rest = buf.partition(b"\r\n\r\n")
    for ln in hd.split(b"\r\n")[1:]:
        name, _, val = ln.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            return len(rest) >= int(val.strip())
        if name == b"transfer-encoding" and b"chunked" in val.lower():
            return rest.endswith(b"0\r\n\r\n")
    return False


def _dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


def _status_text(rc):
    if rc is None:
        return "no status"
    if rc < 0:
        try:
            return "signal %s (%d)" % (signal.Signals(-rc).name, -rc)
        except ValueError:
            return "signal %d" % -rc
    return "exit status %d" % rc


def run_cli(argv, check=True, env=None, timeout=CLI_TIMEOUT, input=None):
    """Run a tessera command. A signal, a timeout or a sanitizer report is always a failure."""
    try:
        r = subprocess.run(argv, capture_output=True, env=env, timeout=timeout, input=input)
    except subprocess.TimeoutExpired as e:
        raise HarnessError("%s: no exit within %ss (stderr: %r)" % (" ".join(argv), timeout,
                                                                    e.stderr))
    r.stdout = r.stdout.decode("utf-8", errors="replace")
    r.stderr = r.stderr.decode("utf-8", errors="replace")
    what = " ".join(argv)
    if r.returncode < 0:
        raise HarnessError("%s: killed by %s\nstderr:\n%s" % (what, _status_text(r.returncode),
                                                              _tail(r.stderr)))
    san = sanitizer_lines(r.stderr)
    if san:
        raise HarnessError("%s: sanitizer report:\n%s" % (what, _tail(r.stderr, 60)))
    if check and r.returncode != 0:
        raise HarnessError("%s: exit status %d\nstdout:\n%s\nstderr:\n%s"
                           % (what, r.returncode, _tail(r.stdout), _tail(r.stderr)))
    return r
