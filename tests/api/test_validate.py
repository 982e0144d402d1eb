"""The /validate endpoints: check (user, serial, PIN+OTP, challenges), samlcheck, radiuscheck,
triggerchallenge, polltransaction; the authentication rules of privacyIDEA's check_token_list
(counter windows, replay, failcounter, validity, auth counters, revoked/disabled tokens), test
vectors (RFC 4226 appendix D, RFC 6238 appendix B, oathtool as an oracle) and "an OTP is never
accepted twice" under 100 concurrent requests on SQLite, PostgreSQL and two processes sharing one
PostgreSQL database.  References: ../shared/spec/api.md §3.2, core.md §4.4, observed.md,
examples/privacyidea-3.12.3/17, 19, 31, 37."""
import concurrent.futures
import os
import secrets
import threading
import time

import pytest
import requests

from token_helpers import (RFC4226_KEY, RFC4226_OTPS, RFC6238, RFC6238_KEYS, admin, check,
                           ensure_realm, err, hotp, init, oathtool, ok, one, table_counts, token_info,
                           token_row, totp)

PG = os.environ.get("TESSERA_DB", "sqlite") == "postgres"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("validate")


@pytest.fixture
def tok(server, workdir):
    t = admin(server)
    ensure_realm(server, t, workdir)
    return t


def new_serial(prefix="T"):
    return "%s%s" % (prefix, secrets.token_hex(5).upper())


def hotp_token(server, tok, key=RFC4226_KEY, user=None, pin=None, **kw):
    serial = kw.pop("serial", None) or new_serial("H")
    params = {"type": "hotp", "otpkey": key, "serial": serial}
    if user:
        params.update(user=user, realm="realm1")
    if pin is not None:
        params["pin"] = pin
    params.update(kw)
    ok(init(server, tok, **params))
    return serial


def unassign_all(server, tok, user):
    server.post("/token/unassign", data={"user": user, "realm": "realm1"}, token=tok)


def assert_check(r, value, message, serial=None, ttype=None, otplen=None):
    assert r.status == 200, r
    assert r.body["id"] == 2
    assert r.result["status"] is True
    assert r.result["value"] is value, r
    assert r.result["authentication"] == ("ACCEPT" if value else "REJECT"), r
    d = r.body["detail"]
    assert d["message"] == message, r
    if serial is not None:
        assert d["serial"] == serial and d["type"] == ttype and d["otplen"] == otplen, r
    else:
        assert "serial" not in d, r


# ---- test vectors --------------------------------------------------------------------------

def test_rfc4226_appendix_d_by_serial_and_replay(server, tok):
    serial = hotp_token(server, tok)
    for i, otp in enumerate(RFC4226_OTPS):
        assert_check(check(server, serial=serial, **{"pass": otp}), True, "matching 1 tokens", serial, "hotp", 6)
        assert token_row(server, serial)["count"] == str(i + 1)
    # every value once only
    for otp in (RFC4226_OTPS[0], RFC4226_OTPS[9]):
        assert_check(check(server, serial=serial, **{"pass": otp}), False,
                     "wrong otp value. previous otp used again", serial, "hotp", 6)


@pytest.mark.parametrize("algo", ["sha1", "sha256", "sha512"])
def test_rfc6238_appendix_b(server, tok, algo):
    """The server clock cannot be set, so each vector's time is reached through the token's
    timeShift (server time = now + timeShift), set through /token/info before each check."""
    serial = new_serial("TOTP")
    ok(init(server, tok, type="totp", otpkey=RFC6238_KEYS[algo], hashlib=algo, otplen="8", serial=serial,
            timeStep="30"))
    for t, values in RFC6238:
        ok(server.post("/token/info/%s/timeShift" % serial, data={"value": "%d" % (t - int(time.time()))},
                       token=tok))
        r = check(server, serial=serial, **{"pass": values[algo]})
        assert_check(r, True, "matching 1 tokens", serial, "totp", 8)
        assert token_row(server, serial)["count"] == str(t // 30)
        # the same value again is a replay
        ok(server.post("/token/info/%s/timeShift" % serial, data={"value": "%d" % (t - int(time.time()))},
                       token=tok))
        assert_check(check(server, serial=serial, **{"pass": values[algo]}), False, "wrong otp value", serial,
                     "totp", 8)


@pytest.mark.parametrize("digits", [6, 8])
def test_hotp_random_keys_against_oathtool(server, tok, digits):
    for _ in range(3):
        key = secrets.token_hex(20)
        serial = hotp_token(server, tok, key=key, otplen=str(digits))
        for c in (0, 1, 5):
            otp = oathtool(key, counter=c, digits=digits)
            assert otp == hotp(key, c, digits)
            assert check(server, serial=serial, **{"pass": otp}).value is True


@pytest.mark.parametrize("algo,keylen", [("sha1", 20), ("sha256", 32), ("sha512", 64)])
def test_totp_random_keys_against_oathtool(server, tok, algo, keylen):
    key = secrets.token_hex(keylen)
    serial = new_serial("TOTP")
    ok(init(server, tok, type="totp", otpkey=key, hashlib=algo, otplen="8", serial=serial))
    now = time.time()
    otp = oathtool(key, digits=8, algo=algo, totp_time=now)
    assert otp == totp(key, now, digits=8, algo=algo)
    assert_check(check(server, serial=serial, **{"pass": otp}), True, "matching 1 tokens", serial, "totp", 8)
    # the previous time step is now too old (replay protection by the stored counter)
    prev = totp(key, now - 30, digits=8, algo=algo)
    assert check(server, serial=serial, **{"pass": prev}).value is False


@pytest.mark.parametrize("algo", ["sha256", "sha512"])
def test_hotp_sha2(server, tok, algo):
    key = secrets.token_hex(32 if algo == "sha256" else 64)
    serial = hotp_token(server, tok, key=key, hashlib=algo, otplen="8")
    assert token_info(server, serial)["hashlib"] == algo
    assert check(server, serial=serial, **{"pass": hotp(key, 0, 8, algo)}).value is True
    assert check(server, serial=serial, **{"pass": hotp(key, 0, 8, "sha1")}).value is False


# ---- windows, resync ----------------------------------------------------------------------------

def test_counter_window(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    # count_window 10: counters 0..9 are looked at, 10 is not
    assert check(server, serial=serial, **{"pass": hotp(key, 10)}).value is False
    assert check(server, serial=serial, **{"pass": hotp(key, 9)}).value is True
    assert token_row(server, serial)["count"] == "10"
    # jumping ahead skipped 0..8: they are previous values now
    assert_check(check(server, serial=serial, **{"pass": hotp(key, 3)}), False,
                 "wrong otp value. previous otp used again", serial, "hotp", 6)
    ok(server.post("/token/set", data={"serial": serial, "count_window": "50"}, token=tok))
    assert check(server, serial=serial, **{"pass": hotp(key, 55)}).value is True


def test_resync_needs_two_consecutive_values(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    r = server.post("/token/resync", data={"serial": serial, "otp1": hotp(key, 50), "otp2": hotp(key, 52)},
                    token=tok)
    assert ok(r) is False
    assert token_row(server, serial)["count"] == "0"
    r = server.post("/token/resync/" + serial, data={"otp1": hotp(key, 50), "otp2": hotp(key, 51)}, token=tok)
    assert ok(r) is True
    assert token_row(server, serial)["count"] == "52"
    assert check(server, serial=serial, **{"pass": hotp(key, 51)}).value is False
    assert check(server, serial=serial, **{"pass": hotp(key, 52)}).value is True
    err(server.post("/token/resync", data={"serial": serial, "otp1": "1"}, token=tok), 400, 905,
        "ERR905: Missing parameter: 'otp2'")


def test_totp_resync(server, tok):
    key = secrets.token_hex(20)
    serial = new_serial("TOTP")
    ok(init(server, tok, type="totp", otpkey=key, serial=serial))
    # the token's clock runs 20 minutes ahead: outside the 180 s window
    t = time.time() + 1200
    assert check(server, serial=serial, **{"pass": totp(key, t)}).value is False
    r = server.post("/token/resync", data={"serial": serial, "otp1": totp(key, t), "otp2": totp(key, t + 30)},
                    token=tok)
    assert ok(r) is True
    shift = float(token_info(server, serial)["timeShift"])
    assert 1100 < shift < 1300
    assert check(server, serial=serial, **{"pass": totp(key, t + 60)}).value is True


# ---- PIN handling -------------------------------------------------------------------------------

def test_pin_and_otp(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key, pin="s3cr3t")
    assert_check(check(server, serial=serial, **{"pass": "wrong" + hotp(key, 0)}), False, "wrong otp pin")
    assert_check(check(server, serial=serial, **{"pass": "s3cr3t000000"}), False, "wrong otp value", serial,
                 "hotp", 6)
    assert_check(check(server, serial=serial, **{"pass": "s3cr3t" + hotp(key, 0)}), True, "matching 1 tokens",
                 serial, "hotp", 6)
    # the stored PIN is a keyed hash, not the PIN
    assert "s3cr3t" not in token_row(server, serial)["pin_hash"]
    assert token_row(server, serial)["pin_hash"].startswith("tpin1$")


def test_prepend_pin_false(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key, pin="pin")
    ok(server.post("/system/setConfig", data={"PrependPin": "False"}, token=tok))
    try:
        assert check(server, serial=serial, **{"pass": "pin" + hotp(key, 0)}).value is False
        assert check(server, serial=serial, **{"pass": hotp(key, 0) + "pin"}).value is True
    finally:
        ok(server.post("/system/setConfig", data={"PrependPin": "True"}, token=tok))


def test_user_pin_selects_the_token(server, tok):
    unassign_all(server, tok, "carol")
    k1, k2 = secrets.token_hex(20), secrets.token_hex(20)
    s1 = hotp_token(server, tok, key=k1, user="carol", pin="one")
    s2 = hotp_token(server, tok, key=k2, user="carol", pin="two")
    assert_check(check(server, user="carol", realm="realm1", **{"pass": "two" + hotp(k2, 0)}), True,
                 "matching 1 tokens", s2, "hotp", 6)
    assert_check(check(server, user="carol", realm="realm1", **{"pass": "one" + hotp(k2, 1)}), False,
                 "wrong otp value", s1, "hotp", 6)
    # a PIN of no token: all tokens' failcounters go up (IncFailCountOnFalsePin, default True)
    before = [int(token_row(server, s)["failcount"]) for s in (s1, s2)]
    assert_check(check(server, user="carol", realm="realm1", **{"pass": "three123456"}), False, "wrong otp pin")
    after = [int(token_row(server, s)["failcount"]) for s in (s1, s2)]
    assert after == [before[0] + 1, before[1] + 1]
    unassign_all(server, tok, "carol")


# ---- failcounter, lock, state -------------------------------------------------------------------

def test_failcounter_maxfail_and_reset(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    ok(server.post("/token/set", data={"serial": serial, "max_failcount": "3"}, token=tok))
    for i in range(5):
        check(server, serial=serial, **{"pass": "000000" if hotp(key, 0) != "000000" else "111111"})
    row = token_row(server, serial)
    assert row["failcount"] == "3" and row["maxfail"] == "3"  # never beyond maxfail
    assert "failcounter_exceeded" in token_info(server, serial)
    # the right value is consumed but does not authenticate
    assert_check(check(server, serial=serial, **{"pass": hotp(key, 0)}), False,
                 "matching 1 tokens, Failcounter exceeded", serial, "hotp", 6)
    assert ok(server.post("/token/reset", data={"serial": serial}, token=tok)) == 1
    assert token_row(server, serial)["failcount"] == "0"
    assert "failcounter_exceeded" not in token_info(server, serial)
    assert check(server, serial=serial, **{"pass": hotp(key, 1)}).value is True


def test_failcounter_clear_timeout(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    ok(server.post("/token/set", data={"serial": serial, "max_failcount": "2"}, token=tok))
    for _ in range(2):
        check(server, serial=serial, **{"pass": "x"})
    ok(server.post("/system/setConfig", data={"failcounter_clear_timeout": "5"}, token=tok))
    try:
        assert check(server, serial=serial, **{"pass": hotp(key, 0)}).value is False
        # pretend the failcounter was exceeded ten minutes ago
        ok(server.post("/token/info/%s/failcounter_exceeded" % serial,
                       data={"value": time.strftime("%Y-%m-%dT%H:%M+0000", time.gmtime(time.time() - 600))},
                       token=tok))
        assert check(server, serial=serial, **{"pass": hotp(key, 1)}).value is True
        assert token_row(server, serial)["failcount"] == "0"
    finally:
        ok(server.post("/system/setConfig", data={"failcounter_clear_timeout": "0"}, token=tok))


def test_disabled_and_revoked_never_authenticate(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    assert ok(server.post("/token/disable/" + serial, token=tok)) == 1
    assert_check(check(server, serial=serial, **{"pass": hotp(key, 0)}), False,
                 "matching 1 tokens, Token is disabled", serial, "hotp", 6)
    assert ok(server.post("/token/enable/" + serial, token=tok)) == 1
    assert check(server, serial=serial, **{"pass": hotp(key, 1)}).value is True
    assert ok(server.post("/token/revoke/" + serial, token=tok)) == 1
    for c in (2, 3):
        err(check(server, serial=serial, **{"pass": hotp(key, c)}), 400, 1007,
            "ERR1007: This action is not possible, since the token is locked")
    assert token_row(server, serial)["count"] == "2"
    # a revoked token can neither be enabled again
    err(server.post("/token/enable/" + serial, token=tok), 400, 1007)


def test_validity_period(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key, validity_period_end="2001-01-01T10:00+0000")
    assert_check(check(server, serial=serial, **{"pass": hotp(key, 0)}), False,
                 "matching 1 tokens, Outside validity period", serial, "hotp", 6)
    ok(server.post("/token/set", data={"serial": serial, "validity_period_end": "2999-01-01T10:00+0200",
                                       "validity_period_start": "2000-01-01T10:00+0000"}, token=tok))
    assert token_info(server, serial)["validity_period_end"] == "2999-01-01T08:00+0000"
    assert check(server, serial=serial, **{"pass": hotp(key, 1)}).value is True
    ok(server.post("/token/set", data={"serial": serial, "validity_period_start": "2998-01-01T10:00+0000"},
                   token=tok))
    assert_check(check(server, serial=serial, **{"pass": hotp(key, 2)}), False,
                 "matching 1 tokens, Outside validity period", serial, "hotp", 6)


def test_auth_counters(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    assert ok(server.post("/token/set", data={"serial": serial, "count_auth_success_max": "2"}, token=tok)) == 1
    assert check(server, serial=serial, **{"pass": hotp(key, 0)}).value is True
    assert check(server, serial=serial, **{"pass": "123"}).value is False
    assert check(server, serial=serial, **{"pass": hotp(key, 1)}).value is True
    info = token_info(server, serial)
    assert info["count_auth_success"] == "2" and info["count_auth"] == "3"
    assert_check(check(server, serial=serial, **{"pass": hotp(key, 2)}), False,
                 "matching 1 tokens, Authentication counter exceeded", serial, "hotp", 6)
    assert "last_auth" in info


# ---- users, messages, errors --------------------------------------------------------------------

def test_examples_17_19_31_37(server, tok):
    """The answers of ../shared/examples 17, 19, 31 and 37, field by field."""
    unassign_all(server, tok, "alice")
    unassign_all(server, tok, "bob")
    server.delete("/token/HOTP-ALICE", token=tok)
    server.delete("/token/SPASS-BOB", token=tok)
    ok(init(server, tok, type="hotp", otpkey=RFC4226_KEY, user="alice", realm="realm1", serial="HOTP-ALICE"))
    ok(init(server, tok, type="spass", pin="bobpin123", user="bob", realm="realm1", serial="SPASS-BOB"))
    r = server.get("/validate/check", params={"user": "alice", "realm": "realm1", "pass": "755224"})
    assert_check(r, True, "matching 1 tokens", "HOTP-ALICE", "hotp", 6)
    assert set(r.body["detail"]) == {"message", "otplen", "serial", "threadid", "type"}
    r = server.get("/validate/check", params={"user": "alice", "realm": "realm1", "pass": "000000"})
    assert_check(r, False, "wrong otp value", "HOTP-ALICE", "hotp", 6)
    r = server.get("/validate/check", params={"user": "bob", "realm": "realm1", "pass": "bobpin123"})
    assert_check(r, True, "matching 1 tokens", "SPASS-BOB", "spass", 6)
    r = server.get("/validate/check", params={"user": "bob", "realm": "realm1"})
    assert_check(r, False, "wrong otp pin")
    assert set(r.body["detail"]) == {"message", "threadid"}
    # audit rows as privacyIDEA writes them
    rows = server.db_query("SELECT success, authentication, serial, token_type, \"user\", realm, resolver, info "
                           "FROM pidea_audit WHERE \"action\" = 'GET /validate/check' ORDER BY id DESC LIMIT 4")
    assert rows[0] == ("0", "REJECT", "", "", "bob", "realm1", "pwfile", "wrong otp pin")
    assert rows[2] == ("0", "REJECT", "HOTP-ALICE", "hotp", "alice", "realm1", "pwfile", "wrong otp value")
    assert rows[1] == ("1", "ACCEPT", "SPASS-BOB", "spass", "bob", "realm1", "pwfile", "matching 1 tokens")
    assert rows[3] == ("1", "ACCEPT", "HOTP-ALICE", "hotp", "alice", "realm1", "pwfile", "matching 1 tokens")


def test_user_errors(server, tok):
    r = check(server, user="nobody", realm="realm1", **{"pass": "x"})
    err(r, 400, 904, "ERR904: The user can not be found in any resolver in this realm!")
    assert r.body["detail"] is None
    err(check(server, **{"pass": "x"}), 400, 905, "ERR905: You need to specify a serial or a user.")
    err(check(server, serial="A*", **{"pass": "x"}), 400, 905, "ERR905: Invalid serial number.")
    err(check(server, serial="NOSUCHTOKEN", **{"pass": "x"}), 404, 601, "The requested token could not be found.")
    unassign_all(server, tok, "dave")
    assert_check(check(server, user="dave", realm="realm1", **{"pass": "123456"}), False,
                 "The user has no tokens assigned")
    # default realm: no realm parameter
    assert_check(check(server, user="dave", **{"pass": "123456"}), False, "The user has no tokens assigned")
    serial = hotp_token(server, tok)
    err(check(server, user="dave", realm="realm1", serial=serial, **{"pass": "755224"}), 400, 905,
        "ERR905: Given serial does not belong to given user!")


def test_otponly(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key, pin="pin")
    r = check(server, serial=serial, otponly="1", **{"pass": hotp(key, 0)})
    assert r.value is True and r.result["authentication"] == "ACCEPT"
    r = check(server, serial=serial, otponly="1", **{"pass": hotp(key, 0)})
    assert r.value is False and r.body["detail"]["message"] == "OTP verification failed."


# ---- the other token types at /validate/check -------------------------------------------------

def test_spass_pw_registration_paper_tan(server, tok):
    s = new_serial("SP")
    ok(init(server, tok, type="spass", serial=s, pin="only-pin"))
    assert_check(check(server, serial=s, **{"pass": "only-pin"}), True, "matching 1 tokens", s, "spass", 6)
    assert_check(check(server, serial=s, **{"pass": "only-pin1"}), False, "wrong otp pin")

    s = new_serial("PW")
    ok(init(server, tok, type="pw", serial=s, otpkey="Correct-Horse", pin="p"))
    assert check(server, serial=s, **{"pass": "pCorrect-Horse"}).value is True
    assert check(server, serial=s, **{"pass": "pCorrect-Horse"}).value is True  # static
    assert check(server, serial=s, **{"pass": "pCorrect-Horsf"}).value is False

    r = init(server, tok, type="registration", serial="REG" + secrets.token_hex(4))
    code = r.body["detail"]["registrationcode"]
    rs = r.body["detail"]["serial"]
    assert len(code) == 24 and code.isalnum()
    assert_check(check(server, serial=rs, **{"pass": code}), True, "matching 1 tokens", rs, "registration", 24)
    assert token_row(server, rs) is None  # deleted after its one use
    err(check(server, serial=rs, **{"pass": code}), 404, 601)

    r = init(server, tok, type="paper", papertoken_count="5")
    ps = r.body["detail"]["serial"]
    otps = r.body["detail"]["otps"]
    assert ps.startswith("PPR") and sorted(otps) == ["0", "1", "2", "3", "4"]
    assert check(server, serial=ps, **{"pass": otps["1"]}).value is True
    assert check(server, serial=ps, **{"pass": otps["0"]}).value is False  # in order
    assert check(server, serial=ps, **{"pass": otps["2"]}).value is True

    r = init(server, tok, type="tan", tans="111111 222222 333333")
    ts = r.body["detail"]["serial"]
    assert ts.startswith("PITN")
    assert check(server, serial=ts, **{"pass": "333333"}).value is True   # any order
    assert check(server, serial=ts, **{"pass": "111111"}).value is True
    assert check(server, serial=ts, **{"pass": "333333"}).value is False  # once only
    info = token_info(server, ts)
    assert sorted(k for k in info if k.startswith("tan.tan")) == ["tan.tan1"]
    salt, h = info["tan.tan1"].split(":")
    import hashlib
    assert h == hashlib.sha256(b"222222" + salt.encode()).hexdigest()


# ---- samlcheck, radiuscheck ------------------------------------------------------------------------

def test_samlcheck(server, tok):
    unassign_all(server, tok, "carol")
    key = secrets.token_hex(20)
    hotp_token(server, tok, key=key, user="carol")
    r = server.post("/validate/samlcheck", data={"user": "carol", "realm": "realm1", "pass": hotp(key, 0)})
    assert r.status == 200 and r.body["id"] == 2
    v = r.value
    assert v["auth"] is True
    a = v["attributes"]
    assert a["username"] == "carol" and a["realm"] == "realm1" and a["resolver"] == "pwfile"
    assert a["email"] == "carol@example.com" and a["givenname"] == "Carol" and a["surname"] == "Clark"
    r = server.post("/validate/samlcheck", data={"user": "carol", "realm": "realm1", "pass": "nope"})
    assert r.value == {"auth": False, "attributes": {}}
    unassign_all(server, tok, "carol")


def test_radiuscheck(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    r = requests.post(server.base + "/validate/radiuscheck", data={"serial": serial, "pass": hotp(key, 0)})
    assert r.status_code == 204 and r.content == b""
    r = requests.post(server.base + "/validate/radiuscheck", data={"serial": serial, "pass": hotp(key, 0)})
    assert r.status_code == 400 and r.content == b""
    # errors are JSON as for /validate/check
    err(server.post("/validate/radiuscheck", data={"pass": "1"}), 400, 905)


# ---- challenges ------------------------------------------------------------------------------------

def test_triggerchallenge_and_answer(server, tok):
    unassign_all(server, tok, "dave")
    k1, k2 = secrets.token_hex(20), secrets.token_hex(20)
    s1 = hotp_token(server, tok, key=k1, user="dave")
    s2 = hotp_token(server, tok, key=k2, user="dave")
    spass = new_serial("SP")
    ok(init(server, tok, type="spass", serial=spass, pin="x", user="dave", realm="realm1"))
    r = server.post("/validate/triggerchallenge", data={"user": "dave", "realm": "realm1"},
                    headers={"PI-Authorization": tok})
    assert r.status == 200 and r.body["id"] == 2 and r.value == 2
    assert r.result["authentication"] == "ACCEPT"  # privacyIDEA: value 2 is truthy
    d = r.body["detail"]
    txid = d["transaction_id"]
    assert len(txid) == 20 and txid.isdigit()
    assert d["message"] == "please enter otp: , please enter otp: "
    assert d["messages"] == ["please enter otp: ", "please enter otp: "]
    assert d["transaction_ids"] == [txid, txid]
    assert d["preferred_client_mode"] == "interactive" and d["client_mode"] == "interactive"
    assert [(c["serial"], c["type"], c["client_mode"], c["message"], c["transaction_id"], c["attributes"])
            for c in d["multi_challenge"]] == [
        (s1, "hotp", "interactive", "please enter otp: ", txid, None),
        (s2, "hotp", "interactive", "please enter otp: ", txid, None)]
    chal = ok(server.get("/token/challenges/", token=tok))
    assert chal["count"] >= 2
    assert {c["serial"] for c in chal["challenges"] if c["transaction_id"] == txid} == {s1, s2}
    one_c = ok(server.get("/token/challenges/" + s1, token=tok))
    assert [c["serial"] for c in one_c["challenges"]] == [s1]
    c = one_c["challenges"][0]
    assert c["otp_valid"] is False and c["received_count"] == 0 and c["expiration"].endswith(" GMT")
    assert ok(server.get("/validate/polltransaction", params={"transaction_id": txid})) is False
    # a wrong response
    r = check(server, user="dave", realm="realm1", transaction_id=txid, **{"pass": "000000"})
    assert r.value is False and r.body["detail"]["message"] == "Response did not match for 2 tokens."
    # the right one, OTP only (no PIN) for the second token
    r = check(server, user="dave", realm="realm1", transaction_id=txid, **{"pass": hotp(k2, 0)})
    assert r.value is True and r.body["detail"]["message"] == "Found matching challenge"
    assert r.body["detail"]["serial"] == s2
    # the transaction is used up
    r = check(server, user="dave", realm="realm1", transaction_id=txid, **{"pass": hotp(k1, 0)})
    assert r.value is False and r.body["detail"]["message"] == "wrong otp pin"
    assert int(one(server, "SELECT count(*) FROM challenge WHERE transaction_id = '%s'" % txid)) == 0
    # by serial; a user may not trigger
    r = server.post("/validate/triggerchallenge", data={"serial": s1}, headers={"PI-Authorization": tok})
    assert r.value == 1 and r.body["detail"]["serial"] == s1
    r = server.post("/validate/triggerchallenge", data={"serial": spass}, headers={"PI-Authorization": tok})
    assert r.value == 0 and r.result["authentication"] == "REJECT"
    assert r.body["detail"]["multi_challenge"] == [] and r.body["detail"]["messages"] == []
    err(server.post("/validate/triggerchallenge", data={"serial": s1}), 401, 4033)
    unassign_all(server, tok, "dave")


def test_polltransaction_errors(server):
    err(server.get("/validate/polltransaction"), 400, 905, "ERR905: Missing parameter: 'transaction_id'")
    assert ok(server.get("/validate/polltransaction/12345678901234567890")) is False


# ---- concurrency: an OTP is accepted once ------------------------------------------------------

def hammer(bases, params, n=100):
    """n simultaneous POST /validate/check spread over the servers in bases; the values."""
    barrier = threading.Barrier(n)
    results = []

    def one_request(i):
        s = requests.Session()
        barrier.wait()
        r = s.post(bases[i % len(bases)] + "/validate/check", data=params, timeout=120)
        return r.status_code, r.json()["result"].get("value")

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        for f in [ex.submit(one_request, i) for i in range(n)]:
            results.append(f.result())
    return results


def assert_once(results):
    assert all(status == 200 for status, _ in results), results
    assert sum(1 for _, v in results if v is True) == 1, results


def test_hotp_concurrent_exactly_one_success(server, tok):
    for _ in range(3):
        key = secrets.token_hex(20)
        serial = hotp_token(server, tok, key=key)
        assert_once(hammer([server.base], {"serial": serial, "pass": hotp(key, 0)}))
        assert token_row(server, serial)["count"] == "1"


def test_hotp_concurrent_by_user(server, tok):
    unassign_all(server, tok, "bob")
    key = secrets.token_hex(20)
    hotp_token(server, tok, key=key, user="bob", pin="b")
    assert_once(hammer([server.base], {"user": "bob", "realm": "realm1", "pass": "b" + hotp(key, 0)}))
    unassign_all(server, tok, "bob")


def test_totp_concurrent_exactly_one_success(server, tok):
    for _ in range(2):
        key = secrets.token_hex(20)
        serial = new_serial("TOTP")
        ok(init(server, tok, type="totp", otpkey=key, serial=serial))
        assert_once(hammer([server.base], {"serial": serial, "pass": totp(key)}))


def test_tan_concurrent_exactly_one_success(server, tok):
    r = init(server, tok, type="tan", tans="424242")
    serial = r.body["detail"]["serial"]
    assert_once(hammer([server.base], {"serial": serial, "pass": "424242"}, n=50))


@pytest.mark.skipif(not PG, reason="two processes share a database on PostgreSQL")
def test_two_processes_one_database_exactly_one_success(server, tok, second_server_same_db):
    other = second_server_same_db(server)
    for kind in ("hotp", "totp"):
        key = secrets.token_hex(20)
        serial = new_serial(kind.upper())
        ok(init(server, tok, type=kind, otpkey=key, serial=serial))
        value = hotp(key, 0) if kind == "hotp" else totp(key)
        assert_once(hammer([server.base, other.base], {"serial": serial, "pass": value}))


def test_failcounter_concurrent_increments_are_atomic(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    ok(server.post("/token/set", data={"serial": serial, "max_failcount": "1000"}, token=tok))
    results = hammer([server.base], {"serial": serial, "pass": "wrong"}, n=60)
    assert all(v is False for _, v in results)
    assert token_row(server, serial)["failcount"] == "60"


def test_auto_resync(server, tok):
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    # off (the default): a value beyond the count window is just wrong
    assert check(server, serial=serial, **{"pass": hotp(key, 100)}).value is False
    ok(server.post("/system/setConfig", data={"AutoResync": "True"}, token=tok))
    try:
        assert check(server, serial=serial, **{"pass": hotp(key, 200)}).value is False
        assert token_info(server, serial)["otp1c"] == "200"
        # not the next one: forgotten again
        assert check(server, serial=serial, **{"pass": hotp(key, 202)}).value is False
        assert "otp1c" not in token_info(server, serial)
        assert check(server, serial=serial, **{"pass": hotp(key, 300)}).value is False
        assert_check(check(server, serial=serial, **{"pass": hotp(key, 301)}), True, "matching 1 tokens", serial,
                     "hotp", 6)
        assert token_row(server, serial)["count"] == "302"
        assert "otp1c" not in token_info(server, serial) and "dueDate" not in token_info(server, serial)
    finally:
        ok(server.post("/system/setConfig", data={"AutoResync": "False"}, token=tok))


def test_legacy_pin_hash_is_restored_keyed(server, tok):
    """A PIN hash as privacyIDEA's old Token.set_pin wrote it (hex sha256(pin || seed)) verifies and
    is re-stored in Tessera's keyed form after the first success."""
    import hashlib
    key = secrets.token_hex(20)
    serial = hotp_token(server, tok, key=key)
    seed = secrets.token_hex(16)
    legacy = hashlib.sha256(b"oldpin" + bytes.fromhex(seed)).hexdigest()
    server.db_query("UPDATE token SET pin_hash = '%s', pin_seed = '%s' WHERE serial = '%s'" % (legacy, seed, serial))
    assert check(server, serial=serial, **{"pass": "badpin" + hotp(key, 0)}).value is False
    assert token_row(server, serial)["pin_hash"] == legacy
    assert check(server, serial=serial, **{"pass": "oldpin" + hotp(key, 0)}).value is True
    assert token_row(server, serial)["pin_hash"].startswith("tpin1$")
    assert check(server, serial=serial, **{"pass": "oldpin" + hotp(key, 1)}).value is True
