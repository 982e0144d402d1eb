"""Enrollment policies on /token/init, /token/assign, /token/setpin, /token/setrandompin and
/token/enable (src/api/token_prepolicy.c, src/lib/pinpolicy.c): max_token_per_user /
max_token_per_realm and the per-type and active limits, otp_pin_minlength/maxlength/contents
(admin and user scope, <type>_ variants), otp_pin_random, otp_pin_set_random, enrollpin,
encrypt_pin, tokenlabel/tokenissuer, hotp_/totp_ hashlib, otplen, timestep.  Each test shows the
default without the policy and the changed behaviour with it, with exact values, and that a
refused request stores nothing.

References: ../shared/spec/policies_events.md §1.6, §1.8 (scopes admin, user, enrollment),
../shared/spec/api.md (POST /token/init, /token/assign, /token/setpin, /token/setrandompin,
/token/enable), privacyIDEA 3.8 api/lib/prepolicy.py (check_max_token_user, check_max_token_realm,
enroll_pin, init_random_pin, encrypt_pin, check_otp_pin, init_tokenlabel, init_token_defaults,
set_random_pin) and lib/policy.py check_pin, lib/utils.py check_pin_contents.
"""
import concurrent.futures
import datetime
import os
import string
import subprocess
import threading
import time

import pytest

from token_helpers import b32, hotp, one, table_counts, token_info, token_row, totp

KEY = "3132333435363738393031323334353637383930"
LETTERS = string.ascii_letters
PUNCT = string.punctuation


def ok(r):
    assert r.status == 200 and r.result["status"] is True, (r.status, r.error)
    return r.value


def refused(r, message):
    """PolicyError: HTTP 403, code 303, privacyIDEA's message."""
    assert r.status == 403, r
    assert r.result["status"] is False, r
    assert r.error["code"] == 303, r
    assert r.error["message"] == message, r.error["message"]


def crypt_line(login, password, uid):
    h = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                       check=True).stdout.strip()
    return "%s:%s:%d:%d:%s User,,,:/home/%s:/bin/sh\n" % (login, h, uid, uid, login.title(), login)


@pytest.fixture
def tok(server, tmp_path_factory):
    """Admin JWT; realm1 (default) with alice/bob/carol (passwords <name>-pw), realm2 with dave;
    no policy and no token left over."""
    t = server.login()
    # the CLI is not subject to the admin's rights a previous test's policies left
    for (name,) in server.db_query("SELECT name FROM policy"):
        server.cli("policy", "delete", name)
    for tk in server.get("/token/", params={"pagesize": 500}, token=t).value["tokens"]:
        ok(server.delete("/token/" + tk["serial"], token=t))
    if "realm1" not in (server.get("/realm/", token=t).value or {}):
        d = tmp_path_factory.mktemp("users")
        p1, p2 = d / "users1", d / "users2"
        p1.write_text(crypt_line("alice", "alice-pw", 1001) + crypt_line("bob", "bob-pw", 1002) +
                      crypt_line("carol", "carol-pw", 1003))
        p2.write_text(crypt_line("dave", "dave-pw", 1004))
        ok(server.post("/resolver/pw1", data={"type": "passwdresolver", "fileName": str(p1)}, token=t))
        ok(server.post("/resolver/pw2", data={"type": "passwdresolver", "fileName": str(p2)}, token=t))
        ok(server.post("/realm/realm1", data={"resolvers": "pw1"}, token=t))
        ok(server.post("/realm/realm2", data={"resolvers": "pw2"}, token=t))
        ok(server.post("/defaultrealm/realm1", token=t))
    return t


def policy(server, tok, name, scope, action, **extra):
    data = {"scope": scope, "action": action}
    data.update(extra)
    ok(server.post("/policy/" + name, data=data, token=tok))


ADMIN_RIGHTS = ("enrollHOTP, enrollTOTP, enrollSPASS, enrollpin, policywrite, policydelete, policyread, delete, "
                "tokenlist, setpin, setrandompin, assign, unassign, enable, disable")


def admin_all(server, tok):
    """An admin policy with the rights these tests use: an admin-scope value policy alone would
    restrict the admin (Tessera stores no "*")."""
    policy(server, tok, "adminall", "admin", ADMIN_RIGHTS)


def init(server, tok, **params):
    return server.post("/token/init", data=params, token=tok)


def user_login(server, name):
    return ok(server.post("/auth", data={"username": name, "password": name + "-pw"}))["token"]


def pin_hash(server, serial):
    return token_row(server, serial)["pin_hash"]


def validate(server, serial, passw):
    return ok(server.post("/validate/check", data={"serial": serial, "pass": passw}))


# ---- hotp_hashlib, hotp_otplen, totp_* (init_token_defaults) ----------------------------------

def test_hotp_hashlib_otplen_default(server, tok):
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="HD1"))
    assert token_info(server, "HD1")["hashlib"] == "sha1"
    assert token_row(server, "HD1")["otplen"] == "6"
    assert validate(server, "HD1", hotp(KEY, 0)) is True


def test_hotp_hashlib_otplen_forced(server, tok):
    admin_all(server, tok)
    policy(server, tok, "hl", "admin", "hotp_hashlib=sha256, hotp_otplen=8")
    # the client's values are overridden by the policy
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="HF1", hashlib="sha1", otplen="6"))
    assert token_info(server, "HF1")["hashlib"] == "sha256"
    assert token_row(server, "HF1")["otplen"] == "8"
    # RFC 4226 truncation over HMAC-SHA-256 (Python's hmac as the oracle), 8 digits
    assert hotp(KEY, 0, 8, "sha256") == "74875740"
    assert validate(server, "HF1", hotp(KEY, 0, 6, "sha1")) is False
    assert validate(server, "HF1", "74875740") is True


def test_hotp_defaults_match_the_admin(server, tok):
    """Admin-scope value policies match the logged-in admin (adminuser)."""
    admin_all(server, tok)
    policy(server, tok, "hl", "admin", "hotp_otplen=8", adminuser="someoneelse")
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="HA1"))
    assert token_row(server, "HA1")["otplen"] == "6"


def test_totp_defaults(server, tok):
    ok(init(server, tok, type="totp", otpkey=KEY, serial="TD1"))
    info = token_info(server, "TD1")
    assert (info["hashlib"], info["timeStep"], token_row(server, "TD1")["otplen"]) == ("sha1", "30", "6")
    admin_all(server, tok)
    policy(server, tok, "tl", "admin", "totp_hashlib=sha512, totp_otplen=8, totp_timestep=60")
    ok(init(server, tok, type="totp", otpkey=KEY, serial="TF1", timeStep="30"))
    info = token_info(server, "TF1")
    assert (info["hashlib"], info["timeStep"], token_row(server, "TF1")["otplen"]) == ("sha512", "60", "8")
    # the OATH Toolkit and Python's hmac agree on a fixed time; the server accepts the current value
    fixed = subprocess.run(["oathtool", "--totp=SHA512", "-s", "60", "-d", "8", "-N", "@1234567890", KEY],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert fixed == totp(KEY, t=1234567890, step=60, digits=8, algo="sha512")
    now = subprocess.run(["oathtool", "--totp=SHA512", "-s", "60", "-d", "8", KEY], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert validate(server, "TF1", now) is True


def test_user_scope_hashlib(server, tok):
    policy(server, tok, "u", "user", "enrollHOTP, hotp_hashlib=sha512")
    ut = user_login(server, "alice")
    ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "UH1"}, token=ut))
    assert token_info(server, "UH1")["hashlib"] == "sha512"
    # the admin is not affected by user policies
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="UH2"))
    assert token_info(server, "UH2")["hashlib"] == "sha1"


# ---- tokenlabel, tokenissuer (init_tokenlabel) --------------------------------------------------

def googleurl(r):
    return r.body["detail"]["googleurl"]["value"]


def test_tokenlabel_default(server, tok):
    r = init(server, tok, type="hotp", otpkey=KEY, serial="TL0", user="alice", realm="realm1")
    ok(r)
    assert googleurl(r) == ("otpauth://hotp/TL0?secret=" + b32(KEY) + "&counter=1&digits=6"
                            "&creator=privacyidea&issuer=privacyIDEA&serial=TL0")


def test_tokenlabel_and_issuer(server, tok):
    policy(server, tok, "lab", "enrollment", "tokenlabel={user}@{realm}, tokenissuer=Corp {realm}",
           realm="realm1")
    r = init(server, tok, type="hotp", otpkey=KEY, serial="TL1", user="alice", realm="realm1")
    ok(r)
    assert googleurl(r) == ("otpauth://hotp/alice%40realm1?secret=" + b32(KEY) + "&counter=1&digits=6"
                            "&creator=privacyidea&issuer=Corp%20realm1&serial=TL1")
    # the oathtoken URL knows only the old tags <s>, <u>, <r> (privacyIDEA's create_oathtoken_url)
    assert r.body["detail"]["oathurl"]["value"] == ("oathtoken:///addToken?name=%7Buser%7D%40%7Brealm%7D"
                                                    "&lockdown=true&key=" + KEY)
    # a user of another realm is not matched: the default label (the serial)
    r = init(server, tok, type="hotp", otpkey=KEY, serial="TL2", user="dave", realm="realm2")
    ok(r)
    assert googleurl(r).startswith("otpauth://hotp/TL2?secret="), googleurl(r)


# ---- max_token_per_user / realm, per type, active (check_max_token_user/realm) ----------------

def test_max_token_per_user(server, tok):
    # default: no limit
    for i in range(3):
        ok(init(server, tok, type="spass", serial="MU%d" % i, user="bob"))
    policy(server, tok, "max", "enrollment", "max_token_per_user=2")
    before = table_counts(server)
    refused(init(server, tok, type="spass", serial="MU9", user="bob"),
            "The number of tokens for this user is limited!")
    # the refusing policy is named in the request's audit row (as privacyIDEA)
    assert server.db_query("SELECT policies FROM pidea_audit ORDER BY id DESC LIMIT 1")[0][0] == "max"
    assert table_counts(server) == before
    # re-enrolling a token the user has is allowed
    ok(init(server, tok, type="spass", serial="MU1", user="bob", description="again"))
    assert token_row(server, "MU1")["description"] == "again"
    # assign counts too; another user is not limited below 2
    ok(init(server, tok, type="spass", serial="MUX"))
    refused(server.post("/token/assign", data={"serial": "MUX", "user": "bob"}, token=tok),
            "The number of tokens for this user is limited!")
    assert one(server, "SELECT count(*) FROM tokenowner o JOIN token t ON t.id = o.token_id "
                       "WHERE t.serial = 'MUX'") == "0"
    ok(server.post("/token/assign", data={"serial": "MUX", "user": "carol"}, token=tok))
    # the highest matching limit wins (priorities ignored)
    policy(server, tok, "max2", "enrollment", "max_token_per_user=4", priority=5)
    ok(init(server, tok, type="spass", serial="MU9", user="bob"))


def test_type_max_token_per_user(server, tok):
    policy(server, tok, "maxh", "enrollment", "hotp_max_token_per_user=1")
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="TM1", user="bob"))
    refused(init(server, tok, type="hotp", otpkey=KEY, serial="TM2", user="bob"),
            "The number of tokens of type hotp for this user is limited!")
    assert token_row(server, "TM2") is None
    ok(init(server, tok, type="totp", otpkey=KEY, serial="TM3", user="bob"))
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="TM4", user="carol"))


def test_max_active_token_per_user(server, tok):
    policy(server, tok, "maxa", "enrollment", "max_active_token_per_user=1")
    ok(init(server, tok, type="spass", serial="MA1", user="bob"))
    refused(init(server, tok, type="spass", serial="MA2", user="bob"),
            "The number of active tokens for this user is limited!")
    assert ok(server.post("/token/disable/MA1", token=tok)) == 1
    ok(init(server, tok, type="spass", serial="MA2", user="bob"))
    # enabling the first again exceeds the limit: refused, still disabled
    refused(server.post("/token/enable/MA1", token=tok),
            "The number of active tokens for this user is limited!")
    assert token_row(server, "MA1")["active"] in ("0", "f", "False", "false")
    # enabling an active token (regenerate rule) and tokens of other users is fine
    assert ok(server.post("/token/enable", data={"serial": "MA2"}, token=tok)) == 0
    policy(server, tok, "maxt", "enrollment", "spass_max_active_token_per_user=1")
    ok(server.post("/policy/maxa", data={"scope": "enrollment", "action": "max_active_token_per_user=5"},
                   token=tok))
    refused(server.post("/token/enable/MA1", token=tok),
            "The number of active tokens of type spass for this user is limited!")
    ok(server.delete("/policy/maxt", token=tok))
    assert ok(server.post("/token/enable/MA1", token=tok)) == 1


def test_max_token_per_realm(server, tok):
    policy(server, tok, "maxr", "enrollment", "max_token_per_realm=2", realm="realm1")
    ok(init(server, tok, type="spass", serial="MR1", user="alice"))
    ok(init(server, tok, type="spass", serial="MR2", user="bob"))
    before = table_counts(server)
    refused(init(server, tok, type="spass", serial="MR3", user="carol"),
            "The number of tokens in this realm is limited!")
    refused(init(server, tok, type="spass", serial="MR3", realm="realm1"),
            "The number of tokens in this realm is limited!")
    assert server.db_query("SELECT policies FROM pidea_audit ORDER BY id DESC LIMIT 1")[0][0] == "maxr"
    assert table_counts(server) == before
    # another realm: no limit; a token without user or realm: no check
    ok(init(server, tok, type="spass", serial="MR4", user="dave", realm="realm2"))
    ok(init(server, tok, type="spass", serial="MR5"))
    refused(server.post("/token/assign", data={"serial": "MR5", "user": "carol"}, token=tok),
            "The number of tokens in this realm is limited!")


# ---- the limits hold under concurrency: counted again in the write transaction under a lock on
# the user / realm (token_ctx.limit_check, src/api/token_prepolicy.c tpp_limit_check) -------------

PG = os.environ.get("TESSERA_DB", "sqlite") == "postgres"


def parallel(servers, n, request):
    """n simultaneous requests; request(i, server, token) runs the i-th, spread over servers."""
    barrier = threading.Barrier(n)

    def run(i):
        srv, t = servers[i % len(servers)]
        barrier.wait()
        return request(i, srv, t)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        return list(ex.map(run, range(n)))


def exactly(rs, n, message):
    """n successes, every other answer the PolicyError."""
    good = [r for r in rs if r.status == 200]
    assert len(good) == n, [(r.status, r.error) for r in rs]
    for r in rs:
        if r.status != 200:
            refused(r, message)


def race_servers(server, tok, two, second_server_same_db):
    if not two:
        return [(server, tok)]
    if not PG:
        pytest.skip("two processes share a database on PostgreSQL")
    other = second_server_same_db(server, threads=8)
    return [(server, tok), (other, other.login())]


def owned(server, prefix, login):
    return one(server, "SELECT count(*) FROM token t JOIN tokenowner o ON o.token_id = t.id "
                       "WHERE t.serial LIKE '%s%%' AND o.user_id = '%d'" % (prefix, UIDS[login]))


UIDS = {"alice": 1001, "bob": 1002, "carol": 1003, "dave": 1004}


@pytest.mark.parametrize("two", [False, True], ids=["one_process", "two_processes"])
def test_max_token_per_user_concurrent_init(server, tok, two, second_server_same_db):
    servers = race_servers(server, tok, two, second_server_same_db)
    policy(server, tok, "max", "enrollment", "max_token_per_user=2")
    rs = parallel(servers, 20, lambda i, srv, t: init(srv, t, type="spass", serial="CI%02d" % i, user="bob"))
    exactly(rs, 2, "The number of tokens for this user is limited!")
    assert one(server, "SELECT count(*) FROM token WHERE serial LIKE 'CI%'") == "2"
    assert owned(server, "CI", "bob") == "2"
    # the type limit and generated serials, too
    policy(server, tok, "maxh", "enrollment", "hotp_max_token_per_user=1")
    rs = parallel(servers, 12, lambda i, srv, t: init(srv, t, type="hotp", genkey="1", user="carol"))
    exactly(rs, 1, "The number of tokens of type hotp for this user is limited!")
    assert owned(server, "OATH", "carol") == "1"


@pytest.mark.parametrize("two", [False, True], ids=["one_process", "two_processes"])
def test_max_token_per_user_concurrent_assign(server, tok, two, second_server_same_db):
    servers = race_servers(server, tok, two, second_server_same_db)
    for i in range(20):
        ok(init(server, tok, type="spass", serial="CA%02d" % i))
    policy(server, tok, "max", "enrollment", "max_token_per_user=2")
    rs = parallel(servers, 20, lambda i, srv, t: srv.post("/token/assign",
                                                          data={"serial": "CA%02d" % i, "user": "bob"}, token=t))
    exactly(rs, 2, "The number of tokens for this user is limited!")
    assert owned(server, "CA", "bob") == "2"
    assert one(server, "SELECT count(*) FROM tokenowner") == "2"


@pytest.mark.parametrize("two", [False, True], ids=["one_process", "two_processes"])
def test_max_active_token_per_user_concurrent_enable(server, tok, two, second_server_same_db):
    servers = race_servers(server, tok, two, second_server_same_db)
    for i in range(12):
        ok(init(server, tok, type="spass", serial="CE%02d" % i, user="bob"))
        assert ok(server.post("/token/disable/CE%02d" % i, token=tok)) == 1
    policy(server, tok, "maxa", "enrollment", "max_active_token_per_user=1")
    rs = parallel(servers, 12, lambda i, srv, t: srv.post("/token/enable/CE%02d" % i, token=t))
    exactly(rs, 1, "The number of active tokens for this user is limited!")
    active = [token_row(server, "CE%02d" % i)["active"] not in ("0", "f", "False", "false") for i in range(12)]
    assert active.count(True) == 1, active


@pytest.mark.parametrize("two", [False, True], ids=["one_process", "two_processes"])
def test_max_token_per_realm_concurrent_init(server, tok, two, second_server_same_db):
    servers = race_servers(server, tok, two, second_server_same_db)
    policy(server, tok, "maxr", "enrollment", "max_token_per_realm=3", realm="realm1")
    users = ("alice", "bob", "carol")
    rs = parallel(servers, 18, lambda i, srv, t: init(srv, t, type="spass", serial="CR%02d" % i,
                                                      user=users[i % 3]))
    exactly(rs, 3, "The number of tokens in this realm is limited!")
    assert one(server, "SELECT count(*) FROM token WHERE serial LIKE 'CR%'") == "3"
    assert one(server, "SELECT count(*) FROM tokenrealm") == "3"


# ---- otp_pin_minlength / maxlength / contents (check_otp_pin) ---------------------------------

def test_pin_policies_default(server, tok):
    ok(init(server, tok, type="spass", serial="PD1", pin="1"))
    assert ok(server.post("/token/setpin", data={"serial": "PD1", "otppin": "x"}, token=tok)) == 1


def test_pin_length_and_contents_admin(server, tok):
    admin_all(server, tok)
    policy(server, tok, "pins", "admin", "otp_pin_minlength=4, otp_pin_maxlength=6, otp_pin_contents=cn")
    before = table_counts(server)
    refused(init(server, tok, type="spass", serial="P1", pin="ab1"), "The minimum OTP PIN length is 4")
    refused(init(server, tok, type="spass", serial="P1", pin="abcd1234"), "The maximum OTP PIN length is 6")
    refused(init(server, tok, type="spass", serial="P1", pin="abcd"),
            "Missing character in PIN: 0123456789")
    refused(init(server, tok, type="spass", serial="P1", pin="1234"), "Missing character in PIN: " + LETTERS)
    # no PIN at all is a PIN of length 0 (privacyIDEA checks "" too)
    refused(init(server, tok, type="spass", serial="P1"), "The minimum OTP PIN length is 4")
    assert table_counts(server) == before
    ok(init(server, tok, type="spass", serial="P1", pin="ab12"))
    assert validate(server, "P1", "ab12") is True
    # setpin: checked before anything is written
    h = pin_hash(server, "P1")
    refused(server.post("/token/setpin", data={"serial": "P1", "otppin": "a1"}, token=tok),
            "The minimum OTP PIN length is 4")
    assert pin_hash(server, "P1") == h
    assert ok(server.post("/token/setpin/P1", data={"otppin": "xy99"}, token=tok)) == 1
    assert validate(server, "P1", "xy99") is True
    # assign
    ok(init(server, tok, type="spass", serial="P2", pin="ab12"))
    refused(server.post("/token/assign", data={"serial": "P2", "user": "alice", "pin": "abc"}, token=tok),
            "The minimum OTP PIN length is 4")
    assert one(server, "SELECT count(*) FROM tokenowner o JOIN token t ON t.id = o.token_id "
                       "WHERE t.serial = 'P2'") == "0"
    ok(server.post("/token/assign", data={"serial": "P2", "user": "alice", "pin": "q1w2"}, token=tok))
    assert validate(server, "P2", "q1w2") is True


def test_pin_type_specific_wins(server, tok):
    admin_all(server, tok)
    policy(server, tok, "pins", "admin", "otp_pin_minlength=4, spass_otp_pin_minlength=8")
    refused(init(server, tok, type="spass", serial="PT1", pin="1234567"), "The minimum OTP PIN length is 8")
    ok(init(server, tok, type="spass", serial="PT1", pin="12345678"))
    # setpin takes the type of the existing token
    refused(server.post("/token/setpin", data={"serial": "PT1", "otppin": "12345"}, token=tok),
            "The minimum OTP PIN length is 8")
    refused(init(server, tok, type="hotp", otpkey=KEY, serial="PT2", pin="123"),
            "The minimum OTP PIN length is 4")
    ok(init(server, tok, type="hotp", otpkey=KEY, serial="PT2", pin="1234"))


@pytest.mark.parametrize("contents,pin,message", [
    ("+cn", "!!!!", "Missing character in PIN: " + LETTERS + string.digits),
    ("+cn", "!!a!", None),
    ("-n", "ab1", "Not allowed character in PIN!"),
    ("-n", "ab!", None),
    ("[1234]", "1235", "Not allowed character in PIN!"),
    ("[1234]", "4321", None),
    ("s", "abc", "Missing character in PIN: " + PUNCT),
    ("cns", "a1", "Missing character in PIN: " + PUNCT),
    ("ns", "abc", "Missing character in PIN: 0123456789,Missing character in PIN: " + PUNCT),
    ("-c", "a1", "Not allowed character in PIN!"),
    ("x", "abc", "Unknown character specifier in PIN policy."),
])
def test_pin_contents_syntax(server, tok, contents, pin, message):
    admin_all(server, tok)
    policy(server, tok, "pins", "admin", "otp_pin_contents=" + contents)
    r = init(server, tok, type="spass", serial="PC1", pin=pin)
    if message is None:
        ok(r)
    else:
        refused(r, message)
        assert token_row(server, "PC1") is None


def test_pin_policies_user_scope(server, tok):
    policy(server, tok, "u", "user", "enrollSPASS, setpin, enrollpin, otp_pin_minlength=5")
    ut = user_login(server, "alice")
    refused(server.post("/token/init", data={"type": "spass", "serial": "PU1", "pin": "1234"}, token=ut),
            "The minimum OTP PIN length is 5")
    ok(server.post("/token/init", data={"type": "spass", "serial": "PU1", "pin": "12345"}, token=ut))
    refused(server.post("/token/setpin", data={"serial": "PU1", "otppin": "abc"}, token=ut),
            "The minimum OTP PIN length is 5")
    # user policies do not bind the admin
    ok(server.post("/token/setpin", data={"serial": "PU1", "otppin": "abc"}, token=tok))


# ---- enrollpin (enroll_pin) ---------------------------------------------------------------------

def test_enrollpin(server, tok):
    # no admin policy: the admin sets the PIN
    ok(init(server, tok, type="spass", serial="EP1", pin="pin1"))
    assert validate(server, "EP1", "pin1") is True
    # admin policies without enrollpin: the PIN is dropped, the token is enrolled without
    policy(server, tok, "adm", "admin", "enrollSPASS, policywrite, policydelete, delete, tokenlist")
    ok(init(server, tok, type="spass", serial="EP2", pin="pin2"))
    assert pin_hash(server, "EP2") == ""
    assert validate(server, "EP2", "") is True
    ok(server.post("/policy/adm", data={"scope": "admin",
                                        "action": "enrollSPASS, policywrite, policydelete, delete, tokenlist, "
                                                              "enrollpin"},
                   token=tok))
    ok(init(server, tok, type="spass", serial="EP3", pin="pin3"))
    assert validate(server, "EP3", "pin3") is True
    # user scope
    policy(server, tok, "u", "user", "enrollSPASS")
    ut = user_login(server, "bob")
    ok(server.post("/token/init", data={"type": "spass", "serial": "EP4", "pin": "pin4"}, token=ut))
    assert pin_hash(server, "EP4") == ""


# ---- otp_pin_random (init_random_pin), otp_pin_set_random (set_random_pin) ---------------------

def test_otp_pin_random(server, tok):
    ok(init(server, tok, type="spass", serial="RP0"))
    assert pin_hash(server, "RP0") == ""
    policy(server, tok, "rnd", "enrollment", "otp_pin_random=6")
    admin_all(server, tok)
    policy(server, tok, "cont", "admin", "otp_pin_contents=[7]")
    # a given PIN is replaced by the random one
    ok(init(server, tok, type="spass", serial="RP1", pin="mine"))
    assert validate(server, "RP1", "mine") is False
    assert validate(server, "RP1", "777777") is True
    # without a contents policy: 6 letters and digits (not guessable here)
    ok(server.delete("/policy/cont", token=tok))
    ok(init(server, tok, type="spass", serial="RP2"))
    assert pin_hash(server, "RP2") != ""
    assert validate(server, "RP2", "") is False


def test_setrandompin(server, tok):
    ok(init(server, tok, type="spass", serial="SR1", pin="old"))
    r = server.post("/token/setrandompin/SR1", token=tok)
    assert r.status == 400 and r.error["code"] == 301
    assert r.error["message"] == "ERR301: We have an empty PIN. Please check your policy 'otp_pin_set_random'."
    assert validate(server, "SR1", "old") is True
    admin_all(server, tok)
    policy(server, tok, "rnd", "admin", "otp_pin_set_random=5, otp_pin_contents=[9]")
    r = server.post("/token/setrandompin", data={"serial": "SR1"}, token=tok)
    assert ok(r) == 1
    assert r.body["detail"]["pin"] == "99999"
    assert validate(server, "SR1", "99999") is True
    policy(server, tok, "rnd", "admin", "otp_pin_set_random=12, otp_pin_contents=n")
    r = server.post("/token/setrandompin/SR1", token=tok)
    pin = r.body["detail"]["pin"]
    assert ok(r) == 1 and len(pin) == 12 and any(c.isdigit() for c in pin)
    assert all(c in LETTERS + string.digits + PUNCT for c in pin)
    assert validate(server, "SR1", pin) is True


# ---- encrypt_pin --------------------------------------------------------------------------------

def test_encrypt_pin(server, tok):
    # default: the parameter alone does not encrypt (privacyIDEA removes it)
    ok(init(server, tok, type="spass", serial="EN1", pin="p1", encryptpin="true"))
    assert pin_hash(server, "EN1").startswith("tpin1$")
    policy(server, tok, "enc", "enrollment", "encrypt_pin")
    ok(init(server, tok, type="spass", serial="EN2", pin="p2"))
    assert pin_hash(server, "EN2").startswith("@@") and "p2" not in pin_hash(server, "EN2")
    assert validate(server, "EN2", "p2") is True
    assert ok(server.post("/token/setpin", data={"serial": "EN1", "otppin": "p3"}, token=tok)) == 1
    assert pin_hash(server, "EN1").startswith("@@")
    assert validate(server, "EN1", "p3") is True
    # matched by the token owner's realm
    ok(server.post("/policy/enc", data={"scope": "enrollment", "action": "encrypt_pin", "realm": "realm2"},
                   token=tok))
    ok(init(server, tok, type="spass", serial="EN3", pin="p4", user="alice"))
    assert pin_hash(server, "EN3").startswith("tpin1$")
    ok(init(server, tok, type="spass", serial="EN4", pin="p5", user="dave", realm="realm2"))
    assert pin_hash(server, "EN4").startswith("@@")


# ---- change_pin_on_first_use, change_pin_every (save_pin_change) ------------------------------

def next_pin_change(server, serial):
    v = token_info(server, serial).get("next_pin_change")
    if v is None:
        return None
    return datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M%z").timestamp()


def test_change_pin_on_first_use(server, tok):
    ok(init(server, tok, type="spass", serial="CP0", pin="p0", user="alice"))
    assert next_pin_change(server, "CP0") is None
    policy(server, tok, "cp", "enrollment", "change_pin_on_first_use", realm="realm1")
    ok(init(server, tok, type="spass", serial="CP1", pin="p1", user="alice"))
    assert abs(next_pin_change(server, "CP1") - time.time()) < 120
    # matched by the token's realm: realm2 is not concerned
    ok(init(server, tok, type="spass", serial="CP2", pin="p2", user="dave", realm="realm2"))
    assert next_pin_change(server, "CP2") is None
    # the admin setting a PIN sets it again
    ok(server.post("/token/setpin", data={"serial": "CP0", "otppin": "p9"}, token=tok))
    assert abs(next_pin_change(server, "CP0") - time.time()) < 120


def test_change_pin_every(server, tok):
    policy(server, tok, "cp", "enrollment", "change_pin_on_first_use", realm="realm1")
    ok(init(server, tok, type="spass", serial="CE1", pin="p1", user="alice"))
    assert next_pin_change(server, "CE1") is not None
    policy(server, tok, "u", "user", "setpin, enrollSPASS, enrollpin")
    ut = user_login(server, "alice")
    # the user's own PIN removes the mark (no change_pin_every)
    ok(server.post("/token/setpin", data={"serial": "CE1", "otppin": "mine"}, token=ut))
    assert next_pin_change(server, "CE1") is None
    policy(server, tok, "ce", "enrollment", "change_pin_every=30d", realm="realm1")
    ok(server.post("/token/setpin", data={"serial": "CE1", "otppin": "mine2"}, token=ut))
    assert abs(next_pin_change(server, "CE1") - (time.time() + 30 * 86400)) < 120


def test_pin_as_json_number(server, tok):
    admin_all(server, tok)
    policy(server, tok, "pins", "admin", "otp_pin_minlength=4")
    refused(server.post("/token/init", json_body={"type": "spass", "serial": "PJ1", "pin": 123}, token=tok),
            "The minimum OTP PIN length is 4")
    ok(server.post("/token/init", json_body={"type": "spass", "serial": "PJ1", "pin": 1234}, token=tok))
    assert validate(server, "PJ1", "1234") is True
