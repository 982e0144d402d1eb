"""token_helpers.py — what tests/api/test_tokens.py and test_validate.py share: an independent
HOTP/TOTP implementation (RFC 4226/6238, hashlib), the users and realm the token tests need, and
small request wrappers. Imports nothing from pytest."""
import base64
import hashlib
import hmac
import os
import struct
import subprocess
import time

RFC4226_KEY = "3132333435363738393031323334353637383930"  # "12345678901234567890"
RFC4226_OTPS = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
# RFC 6238 appendix B: the seeds per hash and the 8-digit values at the given times.
RFC6238_KEYS = {
    "sha1": b"12345678901234567890".hex(),
    "sha256": b"12345678901234567890123456789012".hex(),
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234".hex(),
}
RFC6238 = [
    (59, {"sha1": "94287082", "sha256": "46119246", "sha512": "90693936"}),
    (1111111109, {"sha1": "07081804", "sha256": "68084774", "sha512": "25091201"}),
    (1111111111, {"sha1": "14050471", "sha256": "67062674", "sha512": "99943326"}),
    (1234567890, {"sha1": "89005924", "sha256": "91819424", "sha512": "93441116"}),
    (2000000000, {"sha1": "69279037", "sha256": "90698825", "sha512": "38618901"}),
    (20000000000, {"sha1": "65353130", "sha256": "77737706", "sha512": "47863826"}),
]

USERS = """\
alice:x:1001:1001:Alice Anderson,,,,alice@example.com:/home/alice:/bin/bash
bob:x:1002:1002:Bob Brown,,,,bob@example.com:/home/bob:/bin/bash
carol:x:1003:1003:Carol Clark,,,,carol@example.com:/home/carol:/bin/bash
dave:x:1004:1004:Dave Doe,,,,dave@example.com:/home/dave:/bin/bash
"""


def hotp(key_hex, counter, digits=6, algo="sha1"):
    mac = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), getattr(hashlib, algo)).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(code).zfill(digits)


def totp(key_hex, t=None, step=30, digits=6, algo="sha1"):
    t = time.time() if t is None else t
    return hotp(key_hex, int(t // step), digits, algo)


def oathtool(key_hex, counter=None, digits=6, algo="sha1", totp_time=None):
    """The OATH Toolkit as an independent oracle (its HOTP is SHA-1 only)."""
    if totp_time is None:
        assert algo == "sha1"
        argv = ["oathtool", "--hotp", "-d", str(digits), "-c", str(counter), key_hex]
    else:
        argv = ["oathtool", "--totp=" + algo.upper(), "-d", str(digits), "-N",
                "@%d" % int(totp_time), key_hex]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def b32(key_hex):
    return base64.b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")


_JWT = {}


def admin(server):
    """A cached admin JWT per running server process."""
    k = (id(server), server.pid)
    if k not in _JWT:
        _JWT[k] = server.login()
    return _JWT[k]


def ensure_realm(server, tok, workdir):
    """The passwd resolver "pwfile" with alice/bob/carol/dave and the realm "realm1" (the
    default realm), created once per server."""
    r = server.get("/realm/", token=tok)
    if r.status == 200 and "realm1" in (r.value or {}):
        return
    path = os.path.join(str(workdir), "users")
    with open(path, "w") as f:
        f.write(USERS)
    os.chmod(path, 0o644)
    r = server.post("/resolver/pwfile", data={"type": "passwdresolver", "fileName": path}, token=tok)
    assert r.status == 200, r
    r = server.post("/realm/realm1", data={"resolvers": "pwfile"}, token=tok)
    assert r.status == 200, r


def init(server, tok, **params):
    return server.post("/token/init", data=params, token=tok)


def ok(r):
    assert r.status == 200 and r.result["status"] is True, r
    return r.value


def err(r, status, code, message=None):
    assert r.status == status, r
    assert r.result["status"] is False, r
    assert r.error["code"] == code, r
    if message is not None:
        assert r.error["message"] == message, r
    return r.error["message"]


def check(server, **params):
    return server.post("/validate/check", data=params)


def one(server, sql):
    rows = server.db_query(sql)
    return rows[0][0] if rows else None


def token_row(server, serial):
    rows = server.db_query("SELECT id, \"count\", failcount, active, revoked, locked, maxfail, otplen, "
                           "pin_hash, key_enc, key_iv, description FROM token WHERE serial = '%s'" % serial)
    if not rows:
        return None
    keys = ("id", "count", "failcount", "active", "revoked", "locked", "maxfail", "otplen", "pin_hash",
            "key_enc", "key_iv", "description")
    return dict(zip(keys, rows[0]))


def token_info(server, serial):
    rows = server.db_query("SELECT ti.\"Key\", ti.\"Value\" FROM tokeninfo ti JOIN token t ON t.id = ti.token_id "
                           "WHERE t.serial = '%s'" % serial)
    return dict(rows)


def count_tokens(server):
    return int(one(server, "SELECT count(*) FROM token"))


def table_counts(server):
    """Rows of every token table: compared before and after a refused request."""
    return {t: int(one(server, "SELECT count(*) FROM %s" % t))
            for t in ("token", "tokeninfo", "tokenowner", "tokenrealm", "challenge")}
