"""HOTP/TOTP enrollment policies on POST /token/init: user.<type>_force_server_generate,
two-step enrollment (admin/user <type>_2step, enrollment <type>_2step_clientsize/_serversize/
_difficulty), enrollment <type>_force_app_pin and enrollment.verify_enrollment, and that
/validate/check refuses tokens whose enrollment is not finished (rollout_state clientwait /
verify).  Each test shows the default without the policy and the behaviour with it; keys are
derived independently here (hashlib.pbkdf2_hmac), OTP values come from the OATH Toolkit.

References: privacyIDEA 3.8 api/lib/prepolicy.py (twostep_enrollment_activation,
twostep_enrollment_parameters, verify_enrollment), api/lib/postpolicy.py
(check_verify_enrollment), lib/tokenclass.py (update, check_all), lib/tokens/hotptoken.py
(update, get_init_detail, _get_twostep_parameters, generate_symmetric_key,
prepare_verify_enrollment, verify_enrollment), manual 1.7 (Two Step Enrollment, verify_enrollment).
"""
import base64
import hashlib
import os
import re
import subprocess
import time

import pytest

from token_helpers import b32, hotp, oathtool, token_info, token_row, totp

KEY = "3132333435363738393031323334353637383930"
VERIFY_MESSAGE = "Please enter a valid OTP value of the new token."
ADMIN_RIGHTS = ("enrollHOTP, enrollTOTP, enrollpin, policywrite, policydelete, policyread, delete, "
                "tokenlist")


def ok(r):
    assert r.status == 200 and r.result["status"] is True, (r.status, r.error)
    return r.value


def err(r, status, code, message):
    assert r.status == status, r
    assert r.result["status"] is False, r
    assert r.error["code"] == code, r
    assert r.error["message"] == message, r.error["message"]


def crypt_line(login, password, uid):
    h = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                       check=True).stdout.strip()
    return "%s:%s:%d:%d:%s User,,,:/home/%s:/bin/sh\n" % (login, h, uid, uid, login.title(), login)


@pytest.fixture
def tok(server, tmp_path_factory):
    """Admin JWT; realm1 (default) with alice and bob (passwords <name>-pw); no policy and no
    token left over."""
    t = server.login()
    for (name,) in server.db_query("SELECT name FROM policy"):
        server.cli("policy", "delete", name)
    for tk in server.get("/token/", params={"pagesize": 500}, token=t).value["tokens"]:
        ok(server.delete("/token/" + tk["serial"], token=t))
    if "realm1" not in (server.get("/realm/", token=t).value or {}):
        d = tmp_path_factory.mktemp("users")
        p1 = d / "users1"
        p1.write_text(crypt_line("alice", "alice-pw", 1001) + crypt_line("bob", "bob-pw", 1002))
        ok(server.post("/resolver/pw1", data={"type": "passwdresolver", "fileName": str(p1)}, token=t))
        ok(server.post("/realm/realm1", data={"resolvers": "pw1"}, token=t))
        ok(server.post("/defaultrealm/realm1", token=t))
    return t


def policy(server, tok, name, scope, action, **extra):
    data = {"scope": scope, "action": action}
    data.update(extra)
    ok(server.post("/policy/" + name, data=data, token=tok))


def init(server, tok, **params):
    return server.post("/token/init", data=params, token=tok)


def user_login(server, name):
    return ok(server.post("/auth", data={"username": name, "password": name + "-pw"}))["token"]


def check(server, serial, passw):
    return server.post("/validate/check", data={"serial": serial, "pass": passw})


def seed(r):
    """The hex key of an init response's detail.otpkey ("seed://<hex>")."""
    v = r.body["detail"]["otpkey"]["value"]
    assert v.startswith("seed://"), v
    return v[len("seed://"):]


def state(server, serial):
    # the serial goes along: psql prints a lone empty value as no row at all
    rows = server.db_query("SELECT serial, rollout_state FROM token WHERE serial = '%s'" % serial)
    assert len(rows) == 1 and rows[0][0] == serial, rows
    return rows[0][1]


def active(server, serial):
    return token_row(server, serial)["active"] in ("1", "t", "true", "True")


def base32check(data):
    return base64.b32encode(hashlib.sha1(data).digest()[:4] + data).decode().rstrip("=")


def twostep_key(server_hex, client, rounds, length):
    """privacyIDEA's generate_symmetric_key: PBKDF2-HMAC-SHA1, password = the server part as
    lower-case hex, salt = the client part."""
    return hashlib.pbkdf2_hmac("sha1", server_hex.lower().encode(), client, rounds, length).hex()


# ---- user.<type>_force_server_generate -------------------------------------------------------

def test_force_server_generate_default(server, tok):
    policy(server, tok, "u", "user", "enrollHOTP, enrollTOTP")
    ut = user_login(server, "alice")
    r = init(server, ut, type="hotp", otpkey=KEY, serial="FS0")
    ok(r)
    assert seed(r) == KEY
    assert ok(check(server, "FS0", oathtool(KEY, 0))) is True


def test_force_server_generate(server, tok):
    policy(server, tok, "u", "user", "enrollHOTP, enrollTOTP, hotp_force_server_generate, "
                                     "totp_force_server_generate")
    ut = user_login(server, "alice")
    r = init(server, ut, type="hotp", otpkey=KEY, serial="FS1")
    ok(r)
    key = seed(r)
    assert re.fullmatch("[0-9a-f]{40}", key) and key != KEY, key
    assert token_info(server, "FS1")["hashlib"] == "sha1"
    assert ok(check(server, "FS1", oathtool(KEY, 0))) is False
    assert ok(check(server, "FS1", oathtool(key, 1))) is True
    # otpkeyformat goes with the dropped otpkey; the key size follows the hashlib
    r = init(server, ut, type="totp", otpkey="not-base32check", otpkeyformat="base32check", serial="FS2",
             hashlib="sha256")
    ok(r)
    key = seed(r)
    assert re.fullmatch("[0-9a-f]{64}", key), key
    now = subprocess.run(["oathtool", "--totp=SHA256", "-d", "6", key], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert ok(check(server, "FS2", now)) is True
    # the action exists in the user scope only: the admin's otpkey is used
    r = init(server, tok, type="hotp", otpkey=KEY, serial="FS3", user="alice", realm="realm1")
    ok(r)
    assert seed(r) == KEY
    # another user's policy does not apply
    policy(server, tok, "u", "user", "enrollHOTP, hotp_force_server_generate", user="bob")
    policy(server, tok, "u2", "user", "enrollHOTP")
    r = init(server, ut, type="hotp", otpkey=KEY, serial="FS4")
    ok(r)
    assert seed(r) == KEY


# ---- two-step enrollment ---------------------------------------------------------------------

def test_twostep_not_allowed(server, tok):
    """Without a <type>_2step policy privacyIDEA removes 2stepinit: an ordinary enrollment; a
    later otpkey for the serial is a plain re-initialisation with that key."""
    r = init(server, tok, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="TN1")
    ok(r)
    d = r.body["detail"]
    assert d["rollout_state"] == ""
    assert "2step_salt" not in d and "2step_output" not in d and "2step_difficulty" not in d
    assert (state(server, "TN1"), active(server, "TN1")) == ("", True)
    assert "2step_clientsize" not in token_info(server, "TN1")
    client = os.urandom(8)
    r = init(server, tok, type="hotp", serial="TN1", otpkey=client.hex())
    ok(r)
    assert seed(r) == client.hex()
    assert ok(check(server, "TN1", oathtool(client.hex(), 0))) is True


def test_twostep_hotp_admin_allow(server, tok):
    policy(server, tok, "adm", "admin", ADMIN_RIGHTS + ", hotp_2step=allow")
    policy(server, tok, "sizes", "enrollment",
           "hotp_2step_clientsize=12, hotp_2step_serversize=16, hotp_2step_difficulty=12345")
    # without 2stepinit: an ordinary enrollment, even with the policy
    r = init(server, tok, type="hotp", genkey="1", serial="TS0")
    ok(r)
    assert r.body["detail"]["rollout_state"] == "" and len(seed(r)) == 40

    r = init(server, tok, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="TS1", pin="pin",
             user="alice", realm="realm1")
    ok(r)
    d = r.body["detail"]
    server_hex = seed(r)
    assert re.fullmatch("[0-9a-f]{32}", server_hex), server_hex
    assert (d["rollout_state"], d["2step_salt"], d["2step_output"], d["2step_difficulty"]) == \
        ("clientwait", 12, 20, 12345)
    assert d["googleurl"]["value"] == ("otpauth://hotp/TS1?secret=" + b32(server_hex) +
                                       "&counter=1&digits=6&creator=privacyidea&issuer=privacyIDEA"
                                       "&serial=TS1&2step_salt=12&2step_output=20&2step_difficulty=12345")
    assert d["oathurl"]["value"] == ("oathtoken:///addToken?name=TS1&lockdown=true&key=" + server_hex +
                                     "&2step_salt=12&2step_output=20&2step_difficulty=12345")
    assert (state(server, "TS1"), active(server, "TS1")) == ("clientwait", False)
    info = token_info(server, "TS1")
    assert (info["2step_clientsize"], info["2step_difficulty"], info["hashlib"]) == ("12", "12345", "sha1")
    # the server part alone does not authenticate: the enrollment is not finished
    r = check(server, "TS1", "pin" + oathtool(server_hex, 0))
    assert ok(r) is False
    assert r.body["detail"]["message"] == "matching 1 tokens, Token is not yet enrolled"

    # 2stepinit in the second step is refused
    err(init(server, tok, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="TS1"), 400, 905,
        "ERR905: 2stepinit is only to be used in the first initialization step.")
    # a client part of the wrong size is refused; nothing changes
    err(init(server, tok, type="hotp", serial="TS1", otpkey=base32check(os.urandom(11)),
             otpkeyformat="base32check"), 400, 905,
        "ERR905: Client Secret Size is expected to be 12, but is 11")
    assert (state(server, "TS1"), active(server, "TS1")) == ("clientwait", False)

    client = os.urandom(12)
    r = init(server, tok, type="hotp", serial="TS1", otpkey=base32check(client), otpkeyformat="base32check")
    ok(r)
    key = twostep_key(server_hex, client, 12345, 20)
    assert seed(r) == key
    assert r.body["detail"]["rollout_state"] == ""
    assert (state(server, "TS1"), active(server, "TS1")) == ("", True)
    assert token_row(server, "TS1")["count"] == "0"
    assert ok(check(server, "TS1", "pin" + oathtool(server_hex, 1))) is False
    assert ok(check(server, "TS1", "pin" + oathtool(key, 0))) is True


def test_twostep_totp_user_force(server, tok):
    policy(server, tok, "u", "user", "enrollTOTP, totp_2step=force")
    ut = user_login(server, "alice")
    # force: 2stepinit is added, the enrollment defaults are 8 / 10000 / the hashlib's size
    r = init(server, ut, type="totp", genkey="1", serial="TT1", hashlib="sha256")
    ok(r)
    d = r.body["detail"]
    server_hex = seed(r)
    assert re.fullmatch("[0-9a-f]{64}", server_hex), server_hex
    assert (d["rollout_state"], d["2step_salt"], d["2step_output"], d["2step_difficulty"]) == \
        ("clientwait", 8, 32, 10000)
    assert d["googleurl"]["value"].endswith("&2step_salt=8&2step_output=32&2step_difficulty=10000")
    assert (state(server, "TT1"), active(server, "TT1")) == ("clientwait", False)
    # the second step: the token exists, force does not add 2stepinit again; hex client part
    client = os.urandom(8)
    r = init(server, ut, type="totp", serial="TT1", otpkey=client.hex())
    ok(r)
    key = twostep_key(server_hex, client, 10000, 32)
    assert seed(r) == key
    assert (state(server, "TT1"), active(server, "TT1")) == ("", True)
    now = subprocess.run(["oathtool", "--totp=SHA256", "-d", "6", key], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert now == totp(key, algo="sha256") or now == totp(key, t=time.time() - 1, algo="sha256")
    assert ok(check(server, "TT1", now)) is True


def test_twostep_policy_matches_the_caller(server, tok):
    """An admin-scope <type>_2step policy is the admin's; the user's is the user's."""
    policy(server, tok, "adm", "admin", ADMIN_RIGHTS)
    policy(server, tok, "u", "user", "enrollHOTP, hotp_2step=allow")
    r = init(server, tok, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="TC1", user="alice",
             realm="realm1")
    ok(r)
    assert r.body["detail"]["rollout_state"] == ""
    ut = user_login(server, "alice")
    r = init(server, ut, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="TC2")
    ok(r)
    assert r.body["detail"]["rollout_state"] == "clientwait"


def test_twostep_with_force_server_generate(server, tok):
    """The client part of the second step is not replaced by force_server_generate."""
    policy(server, tok, "u", "user", "enrollHOTP, hotp_2step=allow, hotp_force_server_generate")
    ut = user_login(server, "alice")
    r = init(server, ut, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="TF1")
    ok(r)
    server_hex = seed(r)
    client = os.urandom(8)
    r = init(server, ut, type="hotp", serial="TF1", otpkey=client.hex())
    ok(r)
    key = twostep_key(server_hex, client, 10000, 20)
    assert seed(r) == key
    assert ok(check(server, "TF1", oathtool(key, 0))) is True


def test_force_app_pin(server, tok):
    r = init(server, tok, type="hotp", otpkey=KEY, serial="AP0", user="alice", realm="realm1")
    ok(r)
    assert "pin=" not in r.body["detail"]["googleurl"]["value"]
    policy(server, tok, "e", "enrollment", "hotp_force_app_pin, appimageurl=https://img.example/a.png")
    r = init(server, tok, type="hotp", otpkey=KEY, serial="AP1", user="alice", realm="realm1")
    ok(r)
    assert r.body["detail"]["googleurl"]["value"] == (
        "otpauth://hotp/AP1?secret=" + b32(KEY) + "&counter=1&digits=6&creator=privacyidea"
        "&issuer=privacyIDEA&serial=AP1&image=https%3A//img.example/a.png&pin=True")
    assert r.body["detail"]["oathurl"]["value"] == (
        "oathtoken:///addToken?name=AP1&lockdown=true&key=" + KEY + "&image=https%3A//img.example/a.png"
        "&pin=True")
    # totp_force_app_pin is another action
    r = init(server, tok, type="totp", otpkey=KEY, serial="AP2", user="alice", realm="realm1")
    ok(r)
    assert "pin=True" not in r.body["detail"]["googleurl"]["value"]


# ---- enrollment.verify_enrollment ------------------------------------------------------------

def test_verify_enrollment_default(server, tok):
    r = init(server, tok, type="hotp", otpkey=KEY, serial="VD1")
    ok(r)
    assert r.body["detail"]["rollout_state"] == "" and "verify" not in r.body["detail"]
    assert state(server, "VD1") == ""


def test_verify_enrollment_hotp(server, tok):
    policy(server, tok, "ver", "enrollment", "verify_enrollment=hotp totp")
    r = init(server, tok, type="hotp", otpkey=KEY, serial="VH1", pin="pin")
    ok(r)
    d = r.body["detail"]
    assert d["verify"] == {"message": VERIFY_MESSAGE}
    assert d["rollout_state"] == "verify"
    assert state(server, "VH1") == "verify"
    # not usable before it is verified
    r = check(server, "VH1", "pin" + oathtool(KEY, 0))
    assert ok(r) is False
    assert r.body["detail"]["message"] == "matching 1 tokens, Token is not yet enrolled"
    # a wrong value: ParameterError, the token stays in "verify"
    wrong = next(v for v in ("000000", "111111", "222222") if v not in [hotp(KEY, c) for c in range(12)])
    err(init(server, tok, type="hotp", serial="VH1", verify=wrong), 400, 905,
        "ERR905: Verification of the new token failed.")
    assert state(server, "VH1") == "verify"
    # the right value (RFC 4226 counter 1 = 287082)
    assert oathtool(KEY, 1) == "287082"
    r = init(server, tok, type="hotp", serial="VH1", verify="287082")
    ok(r)
    d = r.body["detail"]
    assert d["rollout_state"] == "enrolled" and "verify" not in d and "otpkey" not in d
    assert state(server, "VH1") == "enrolled"
    assert token_row(server, "VH1")["count"] == "2"
    assert ok(check(server, "VH1", "pin" + oathtool(KEY, 2))) is True
    # a verify value for an enrolled token changes nothing
    ok(init(server, tok, type="hotp", serial="VH1", verify="000000"))
    assert state(server, "VH1") == "enrolled"


def test_verify_enrollment_totp_and_types(server, tok):
    policy(server, tok, "ver", "enrollment", "verify_enrollment=TOTP")
    # hotp is not listed
    r = init(server, tok, type="hotp", otpkey=KEY, serial="VT0")
    ok(r)
    assert r.body["detail"]["rollout_state"] == "" and state(server, "VT0") == ""
    r = init(server, tok, type="totp", otpkey=KEY, serial="VT1")
    ok(r)
    assert r.body["detail"]["verify"] == {"message": VERIFY_MESSAGE}
    assert state(server, "VT1") == "verify"
    now = oathtool(KEY, totp_time=time.time())
    r = init(server, tok, type="totp", serial="VT1", verify=now)
    ok(r)
    assert r.body["detail"]["rollout_state"] == "enrolled"
    assert state(server, "VT1") == "enrolled"
    # the verified value counts as used
    assert ok(check(server, "VT1", now)) is False


def test_verify_enrollment_not_with_twostep(server, tok):
    """A two-step enrollment is not put into "verify" (its client part comes first); the finished
    second step then is."""
    policy(server, tok, "adm", "admin", ADMIN_RIGHTS + ", hotp_2step=allow")
    policy(server, tok, "ver", "enrollment", "verify_enrollment=hotp")
    r = init(server, tok, type="hotp", genkey="1", **{"2stepinit": "1"}, serial="VS1")
    ok(r)
    assert r.body["detail"]["rollout_state"] == "clientwait" and "verify" not in r.body["detail"]
    server_hex = seed(r)
    client = os.urandom(8)
    r = init(server, tok, type="hotp", serial="VS1", otpkey=client.hex())
    ok(r)
    key = twostep_key(server_hex, client, 10000, 20)
    assert seed(r) == key
    assert r.body["detail"]["rollout_state"] == "verify"
    assert state(server, "VS1") == "verify"
    ok(init(server, tok, type="hotp", serial="VS1", verify=oathtool(key, 0)))
    assert state(server, "VS1") == "enrolled"
    assert ok(check(server, "VS1", oathtool(key, 1))) is True


def test_verify_enrollment_user_realm(server, tok):
    """The policy matches the token's user (Match.user)."""
    policy(server, tok, "ver", "enrollment", "verify_enrollment=hotp", user="bob")
    r = init(server, tok, type="hotp", otpkey=KEY, serial="VU1", user="alice", realm="realm1")
    ok(r)
    assert r.body["detail"]["rollout_state"] == ""
    r = init(server, tok, type="hotp", otpkey=KEY, serial="VU2", user="bob", realm="realm1")
    ok(r)
    assert r.body["detail"]["rollout_state"] == "verify"
