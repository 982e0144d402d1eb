"""The /token endpoints: enrollment of hotp, totp, spass, pw, registration, paper and tan tokens
(details as privacyIDEA 3.12.3 answers, example 13), the list with its filters and paging, every
management operation, the import of OATH CSV / Yubikey CSV / PSKC files, users acting on their own
tokens only, and the rules: the key and the PIN never leave the server after enrollment, they are
stored encrypted / hashed, and a refused request writes nothing.  References:
../shared/spec/api.md §3.3, core.md §4, observed.md, examples/privacyidea-3.12.3/13."""
import base64
import json
import os
import re
import secrets
import time
import urllib.parse

import pytest
import requests

from harness import REPO, make_jwt
from token_helpers import (RFC4226_KEY, admin, b32, count_tokens, ensure_realm, err, hotp, init, ok,
                           one, table_counts, token_info, token_row)

IMPORT = REPO / "tests" / "data" / "import"
SHARED = REPO.parent / "shared" if (REPO.parent / "shared").is_dir() else __import__("pathlib").Path("/work/shared")
EXAMPLE13 = SHARED / "examples" / "privacyidea-3.12.3" / "13-token-init-hotp-alice-rfc4226.txt"
TOKEN_KEYS = {"id", "description", "serial", "tokentype", "info", "resolver", "user_id", "otplen", "maxfail",
              "active", "revoked", "locked", "failcount", "count", "count_window", "sync_window", "rollout_state",
              "realms", "tokengroup", "username", "user_realm"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("tokens")


@pytest.fixture
def tok(server, workdir):
    t = admin(server)
    ensure_realm(server, t, workdir)
    return t


def serial_of(r):
    return r.body["detail"]["serial"]


def user_token(server, login, realm="realm1"):
    """A user JWT as /auth issues it (signed with the server's SECRET_KEY)."""
    return make_jwt({"username": login, "realm": realm, "nonce": secrets.token_hex(20), "role": "user",
                     "authtype": "password", "exp": int(time.time()) + 3600, "rights": []}, server.secret_key)


def tokens(server, tok, **params):
    return ok(server.get("/token/", params=params, token=tok))


def cleanup_user(server, tok, user):
    server.post("/token/unassign", data={"user": user, "realm": "realm1"}, token=tok)


# ---- enrollment -------------------------------------------------------------------------------

def test_init_hotp_matches_example_13(server, tok):
    server.delete("/token/HOTP-EX13", token=tok)
    cleanup_user(server, tok, "alice")
    r = init(server, tok, type="hotp", otpkey=RFC4226_KEY, user="alice", realm="realm1", serial="HOTP-EX13")
    assert ok(r) is True
    gold = json.loads(re.search(r"### RAW RESPONSE BODY\n(.*?)\n###", EXAMPLE13.read_text(), re.S).group(1))
    d = r.body["detail"]
    assert set(d) == set(gold["detail"])
    assert d["rollout_state"] == "" and d["serial"] == "HOTP-EX13"
    assert d["otpkey"]["description"] == "OTP seed"
    assert d["otpkey"]["value"] == "seed://" + RFC4226_KEY
    assert d["otpkey"]["value_b32"] == gold["detail"]["otpkey"]["value_b32"] == b32(RFC4226_KEY)
    assert d["googleurl"]["description"] == "URL for google Authenticator"
    assert d["googleurl"]["value"] == gold["detail"]["googleurl"]["value"].replace("HOTP-ALICE", "HOTP-EX13")
    assert d["oathurl"]["value"] == gold["detail"]["oathurl"]["value"].replace("HOTP-ALICE", "HOTP-EX13")
    for k in ("googleurl", "oathurl", "otpkey"):
        assert d[k]["img"].startswith("data:image/png;base64,")
        png = base64.b64decode(d[k]["img"].split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # stored encrypted: the seed appears nowhere in the row
    row = token_row(server, "HOTP-EX13")
    assert RFC4226_KEY not in row["key_enc"] and len(row["key_iv"]) == 32
    assert token_info(server, "HOTP-EX13") == {"hashlib": "sha1", "tokenkind": "software"}
    # audit of the enrollment
    rows = server.db_query("SELECT success, serial, token_type, \"user\", realm FROM pidea_audit "
                           "WHERE \"action\" = 'POST /token/init' ORDER BY id DESC LIMIT 1")
    assert rows == [("1", "HOTP-EX13", "hotp", "alice", "realm1")]
    cleanup_user(server, tok, "alice")


def test_init_genkey_and_generated_serials(server, tok):
    r = init(server, tok, genkey="1")
    s = serial_of(r)
    assert re.fullmatch(r"OATH[0-9]{4}[0-9A-F]{4}", s), s
    d = r.body["detail"]
    assert re.fullmatch(r"seed://[0-9a-f]{40}", d["otpkey"]["value"])
    assert "googleurl" not in d and "value_b32" not in d["otpkey"]  # no user, no app URL
    key = d["otpkey"]["value"][7:]
    assert ok(server.post("/validate/check", data={"serial": s, "pass": hotp(key, 0)})) is True
    r = init(server, tok, type="totp", genkey="1", hashlib="sha256")
    assert re.fullmatch(r"TOTP[0-9]{4}[0-9A-F]{4}", serial_of(r))
    assert len(r.body["detail"]["otpkey"]["value"]) == 7 + 64  # 32 bytes for sha256
    info = token_info(server, serial_of(r))
    assert info["timeStep"] == "30" and info["timeWindow"] == "180" and info["timeShift"] == "0.0"
    for ttype, prefix in (("spass", "PISP"), ("paper", "PPR"), ("tan", "PITN"), ("registration", "REG")):
        assert serial_of(init(server, tok, type=ttype, genkey="1" if ttype != "registration" else "0")).startswith(prefix)
    r = init(server, tok, type="pw", genkey="1")
    assert serial_of(r).startswith("PW")
    pw = r.body["detail"]["password"]
    assert len(pw) == 12 and pw.isalnum()
    assert token_row(server, serial_of(r))["otplen"] == "12"
    r = init(server, tok, genkey="1", prefix="MYPFX")
    assert serial_of(r).startswith("MYPFX")


def test_init_serial_length_setting(server, tok):
    ok(server.post("/system/setConfig", data={"SerialLength": "12"}, token=tok))
    try:
        s = serial_of(init(server, tok, genkey="1"))
        assert re.fullmatch(r"OATH[0-9]{4}[0-9A-F]{8}", s), s
    finally:
        ok(server.post("/system/setConfig", data={"SerialLength": "8"}, token=tok))


def test_init_totp_parameters_and_url(server, tok):
    cleanup_user(server, tok, "bob")
    key = secrets.token_hex(32)
    r = init(server, tok, type="totp", otpkey=key, hashlib="sha256", otplen="8", timeStep="60", user="bob",
             realm="realm1", serial="TOTP-URL1")
    d = r.body["detail"]
    assert d["googleurl"]["value"] == ("otpauth://totp/TOTP-URL1?secret=%s&algorithm=sha256&period=60&digits=8"
                                       "&creator=privacyidea&issuer=privacyIDEA&serial=TOTP-URL1" % b32(key))
    assert d["oathurl"]["value"] == ("oathtoken:///addToken?name=TOTP-URL1&lockdown=true&key=%s&timeBased=true"
                                     % key)
    info = token_info(server, "TOTP-URL1")
    assert info["timeStep"] == "60" and info["hashlib"] == "sha256"
    cleanup_user(server, tok, "bob")


@pytest.mark.parametrize("params,status,code,message", [
    ({"type": "hotp", "otpkey": "xyz"}, 400, 905, None),
    ({"type": "hotp", "otpkey": "abc"}, 400, 905, None),
    ({"type": "hotp"}, 400, 905, "ERR905: Missing parameter: 'otpkey'"),
    ({"type": "nosuchtype", "genkey": "1"}, 400, 1610, "ERR1610: init token failed: unknown token type 'nosuchtype'"),
    ({"type": "hotp", "genkey": "1", "otplen": "7"}, 400, 905, "ERR905: The OTP length must be 6 or 8."),
    ({"type": "totp", "genkey": "1", "otplen": "x"}, 400, 905, "ERR905: Parameter 'otplen' must be an integer."),
    ({"type": "hotp", "genkey": "1", "otpkey": RFC4226_KEY}, 400, 344,
     "ERR344: [ParameterError] You may either specify genkey or otpkey, but not both!"),
    ({"type": "hotp", "genkey": "1", "hashlib": "md4"}, 400, 905, None),
    ({"type": "hotp", "genkey": "1", "serial": "bad serial!"}, 400, 905, None),
    ({"type": "hotp", "genkey": "1", "serial": "X" * 41}, 400, 905, None),
    ({"type": "hotp", "genkey": "1", "keysize": "100000"}, 400, 905, None),
    ({"type": "hotp", "genkey": "1", "description": "d" * 81}, 400, 905, None),
    ({"type": "hotp", "genkey": "1", "validity_period_end": "tomorrow"}, 400, 905, None),
    ({"type": "totp", "genkey": "1", "timeStep": "0"}, 400, 905, None),
    ({"type": "hotp", "genkey": "1", "user": "nobody", "realm": "realm1"}, 400, 904,
     "ERR904: The user can not be found in any resolver in this realm!"),
    ({"type": "tan", "tans": "x" * 100}, 400, 905, None),
    ({"type": "paper", "papertoken_count": "0"}, 400, 905, None),
])
def test_init_bad_input_writes_nothing(server, tok, params, status, code, message):
    before = table_counts(server)
    err(init(server, tok, **params), status, code, message)
    assert table_counts(server) == before


def test_init_json_body_bad_types(server, tok):
    before = table_counts(server)
    r = server.post("/token/init", json_body={"type": "hotp", "otpkey": {"a": 1}}, token=tok)
    err(r, 400, 905)
    assert table_counts(server) == before
    r = server.post("/token/init", json_body={"type": "hotp", "genkey": True, "otplen": 8}, token=tok)
    assert ok(r) is True and token_row(server, serial_of(r))["otplen"] == "8"


def test_reinit_same_serial_and_type_mismatch(server, tok):
    key1, key2 = secrets.token_hex(20), secrets.token_hex(20)
    ok(init(server, tok, type="hotp", otpkey=key1, serial="ROLL1"))
    assert ok(server.post("/validate/check", data={"serial": "ROLL1", "pass": hotp(key1, 0)})) is True
    ok(init(server, tok, type="hotp", otpkey=key2, serial="ROLL1", description="rolled"))
    row = token_row(server, "ROLL1")
    assert row["count"] == "0" and row["description"] == "rolled"
    assert ok(server.post("/validate/check", data={"serial": "ROLL1", "pass": hotp(key2, 0)})) is True
    before = table_counts(server)
    err(init(server, tok, type="totp", otpkey=key1, serial="ROLL1"), 400, 301,
        "ERR301: initToken failed: token 'ROLL1' already exist with type 'hotp'. Can not initialize token "
        "with new type 'totp'")
    assert table_counts(server) == before


def test_init_pin_and_encryptpin(server, tok):
    ok(init(server, tok, type="spass", serial="PINH1", pin="hashed-pin"))
    # privacyIDEA's encrypt_pin pre-policy: the parameter counts only with
    # an enrollment policy encrypt_pin (test_enroll_policies.py)
    ok(server.post("/policy/encpin", data={"scope": "enrollment", "action": "encrypt_pin"}, token=tok))
    ok(init(server, tok, type="spass", serial="PINE1", pin="enc-pin", encryptpin="true"))
    ok(server.delete("/policy/encpin", token=tok))
    h = token_row(server, "PINH1")["pin_hash"]
    e = token_row(server, "PINE1")["pin_hash"]
    assert h.startswith("tpin1$") and "hashed-pin" not in h
    assert e.startswith("@@") and "enc-pin" not in e
    assert ok(server.post("/validate/check", data={"serial": "PINE1", "pass": "enc-pin"})) is True
    assert ok(server.post("/validate/check", data={"serial": "PINH1", "pass": "hashed-pin"})) is True


def test_key_and_pin_never_returned(server, tok):
    key = secrets.token_hex(20)
    ok(init(server, tok, type="hotp", otpkey=key, serial="SECRET1", pin="VeryPrivatePin"))
    ok(init(server, tok, type="pw", otpkey="VeryPrivatePassword", serial="SECRET2"))
    for r in (server.get("/token/", params={"serial": "SECRET*"}, token=tok),
              server.get("/token/", params={"serial": "SECRET2"}, token=tok),
              server.get("/token/challenges/", token=tok)):
        text = r.raw.decode()
        for secret in (key, key.upper(), b32(key), "VeryPrivatePin", "VeryPrivatePassword"):
            assert secret not in text
    csv = requests.get(server.base + "/token/", params={"serial": "SECRET*", "outform": "csv"},
                       headers={"Authorization": tok})
    assert csv.status_code == 200 and "SECRET1" in csv.text and key not in csv.text
    # in the database: encrypted seed, hashed PIN
    assert key not in json.dumps(server.db_query("SELECT * FROM token WHERE serial LIKE 'SECRET%'"))
    assert "VeryPrivate" not in json.dumps(server.db_query("SELECT * FROM token WHERE serial LIKE 'SECRET%'"))


# ---- the list --------------------------------------------------------------------------------

def test_list_shape_and_paging(server, tok):
    for i in range(23):
        ok(init(server, tok, type="hotp", genkey="1", serial="PAGE%02d" % i, description="page %d" % i))
    v = tokens(server, tok, serial="PAGE*", pagesize="10")
    assert (v["count"], v["current"], v["prev"], v["next"]) == (23, 1, None, 2)
    assert [t["serial"] for t in v["tokens"]] == ["PAGE%02d" % i for i in range(10)]
    t = v["tokens"][0]
    assert set(t) == TOKEN_KEYS
    assert (t["tokentype"], t["otplen"], t["maxfail"], t["active"], t["revoked"], t["locked"], t["failcount"],
            t["count"], t["count_window"], t["sync_window"], t["rollout_state"], t["realms"], t["tokengroup"],
            t["username"], t["user_realm"], t["resolver"], t["user_id"]) == (
        "hotp", 6, 10, True, False, False, 0, 0, 10, 1000, "", [], [], "", "", "", "")
    assert t["info"] == {"hashlib": "sha1", "tokenkind": "software"}
    v = tokens(server, tok, serial="PAGE*", pagesize="10", page="3")
    assert (v["count"], v["current"], v["prev"], v["next"]) == (23, 3, 2, None)
    assert len(v["tokens"]) == 3
    v = tokens(server, tok, serial="PAGE*", pagesize="5", sortby="description", sortdir="desc")
    assert v["tokens"][0]["description"] == "page 9"
    v = tokens(server, tok, serial="PAGE*", page="99")
    assert v["tokens"] == [] and v["next"] is None and v["prev"] == 98
    err(server.get("/token/", params={"sortby": "nosuchcolumn"}, token=tok), 400, 905)
    err(server.get("/token/", params={"page": "x"}, token=tok), 400, 905)
    assert tokens(server, tok, serial="PAGE05")["count"] == 1
    assert tokens(server, tok, description="PAGE 7")["count"] == 1  # case-insensitive


def test_list_filters(server, tok):
    cleanup_user(server, tok, "carol")
    ok(init(server, tok, type="totp", genkey="1", serial="FLT-T1", user="carol", realm="realm1"))
    ok(init(server, tok, type="hotp", genkey="1", serial="FLT-H1"))
    ok(server.post("/token/disable/FLT-H1", token=tok))
    ok(server.post("/token/info/FLT-H1/color", data={"value": "blue"}, token=tok))
    ok(init(server, tok, type="spass", genkey="1", serial="FLT-R1", realm="realm1"))  # a token realm, no user
    assert tokens(server, tok, serial="FLT-R1")["tokens"][0]["realms"] == ["realm1"]
    server.delete("/token/FLT-R1", token=tok)
    flt = lambda **p: sorted(t["serial"] for t in tokens(server, tok, serial="FLT-*", **p)["tokens"])  # noqa
    assert flt(type="totp") == ["FLT-T1"]
    assert flt(type="TOTP") == ["FLT-T1"]
    assert flt(assigned="True") == ["FLT-T1"] and flt(assigned="false") == ["FLT-H1"]
    assert flt(active="False") == ["FLT-H1"] and flt(active="true") == ["FLT-T1"]
    assert flt(infokey="color", infovalue="blue") == ["FLT-H1"]
    assert flt(tokenrealm="realm1") == ["FLT-T1"] and flt(tokenrealm="nosuchrealm") == []
    assert flt(user="carol", realm="realm1") == ["FLT-T1"]
    assert flt(user="carol") == ["FLT-T1"]  # the default realm
    assert flt(userid="1003", resolver="pwfile") == ["FLT-T1"]
    assert flt(rollout_state="") == ["FLT-H1", "FLT-T1"]
    t = tokens(server, tok, serial="FLT-T1")["tokens"][0]
    assert (t["username"], t["user_realm"], t["resolver"], t["user_id"], t["realms"], t["user_editable"]) == (
        "carol", "realm1", "pwfile", "1003", ["realm1"], False)
    err(server.get("/token/", params={"user": "nobody", "realm": "realm1"}, token=tok), 400, 904)
    cleanup_user(server, tok, "carol")


# ---- management -----------------------------------------------------------------------------------

def test_assign_unassign(server, tok):
    cleanup_user(server, tok, "alice")
    ok(init(server, tok, type="hotp", genkey="1", serial="ASG1", pin="oldpin"))
    assert ok(server.post("/token/assign", data={"serial": "ASG1", "user": "alice", "realm": "realm1",
                                                 "pin": "newpin"}, token=tok)) is True
    t = tokens(server, tok, serial="ASG1")["tokens"][0]
    assert (t["username"], t["user_realm"], t["realms"]) == ("alice", "realm1", ["realm1"])
    before = table_counts(server)
    err(server.post("/token/assign", data={"serial": "ASG1", "user": "bob", "realm": "realm1"}, token=tok),
        400, 1103, "ERR1103: Token already assigned to user User(login='alice', realm='realm1', resolver='pwfile')")
    assert table_counts(server) == before
    err(server.post("/token/assign", data={"serial": "ASG1"}, token=tok), 400, 905,
        "ERR905: Missing parameter: 'user'")
    err(server.post("/token/assign", data={"serial": "NOSUCH", "user": "bob", "realm": "realm1"}, token=tok),
        404, 601, "The requested token could not be found.")
    assert ok(server.post("/token/unassign", data={"serial": "ASG1"}, token=tok)) == 1
    t = tokens(server, tok, serial="ASG1")["tokens"][0]
    assert (t["username"], t["user_id"], t["resolver"]) == ("", "", "")
    err(server.post("/token/unassign", data={}, token=tok), 400, 905,
        "ERR905: You either need to provide user or serial")
    # by user: all tokens of the user
    for s in ("ASG2", "ASG3"):
        ok(init(server, tok, type="hotp", genkey="1", serial=s, user="alice", realm="realm1"))
    assert ok(server.post("/token/unassign", data={"user": "alice", "realm": "realm1"}, token=tok)) == 2


def test_enable_disable_revoke_reset_delete_counts(server, tok):
    ok(init(server, tok, type="hotp", genkey="1", serial="STATE1"))
    assert ok(server.post("/token/enable/STATE1", token=tok)) == 0  # already active
    assert ok(server.post("/token/disable", data={"serial": "STATE1"}, token=tok)) == 1
    assert ok(server.post("/token/disable/STATE1", token=tok)) == 0
    assert token_row(server, "STATE1")["active"] == "0"
    assert ok(server.post("/token/enable/STATE1", token=tok)) == 1
    server.db_query("UPDATE token SET failcount = 5 WHERE serial = 'STATE1'")
    assert ok(server.post("/token/reset/STATE1", token=tok)) == 1
    assert token_row(server, "STATE1")["failcount"] == "0"
    assert ok(server.post("/token/revoke/STATE1", token=tok)) == 1
    row = token_row(server, "STATE1")
    assert (row["revoked"], row["locked"], row["active"]) == ("1", "1", "0")
    before = table_counts(server)
    err(server.post("/token/setpin/STATE1", data={"otppin": "x"}, token=tok), 400, 1007)
    err(server.post("/token/set/STATE1", data={"description": "x"}, token=tok), 400, 1007)
    assert table_counts(server) == before
    assert ok(server.delete("/token/STATE1", token=tok)) == 1
    assert token_row(server, "STATE1") is None
    assert int(one(server, "SELECT count(*) FROM tokeninfo ti WHERE NOT EXISTS "
                           "(SELECT 1 FROM token t WHERE t.id = ti.token_id)")) == 0
    err(server.delete("/token/STATE1", token=tok), 404, 601, "The requested token could not be found.")
    for ep in ("enable", "disable", "revoke", "reset"):
        err(server.post("/token/%s/NOSUCH" % ep, token=tok), 404, 601)
        err(server.post("/token/%s" % ep, token=tok), 400, 905, "ERR905: You either need to provide user or serial")


def test_setpin_description_set(server, tok):
    key = secrets.token_hex(20)
    ok(init(server, tok, type="hotp", otpkey=key, serial="SET1"))
    assert ok(server.post("/token/setpin/SET1", data={"otppin": "1234"}, token=tok)) == 1
    assert ok(server.post("/validate/check", data={"serial": "SET1", "pass": "1234" + hotp(key, 0)})) is True
    assert ok(server.post("/token/setpin", data={"serial": "SET1", "userpin": "u", "sopin": "s"}, token=tok)) == 2
    rows = server.db_query("SELECT user_pin, so_pin FROM token WHERE serial = 'SET1'")
    assert rows[0][0] and rows[0][1] and "u" != rows[0][0]
    err(server.post("/token/setpin", data={"otppin": "1"}, token=tok), 400, 905, "ERR905: Missing parameter: 'serial'")
    assert ok(server.post("/token/description/SET1", data={"description": "my phone"}, token=tok)) == 1
    assert token_row(server, "SET1")["description"] == "my phone"
    r = server.post("/token/set/SET1", data={"count_window": "20", "sync_window": "500", "max_failcount": "5",
                                             "hashlib": "sha256", "description": "d2",
                                             "count_auth_max": "100"}, token=tok)
    assert ok(r) == 6
    t = tokens(server, tok, serial="SET1")["tokens"][0]
    assert (t["count_window"], t["sync_window"], t["maxfail"], t["description"]) == (20, 500, 5, "d2")
    assert t["info"]["hashlib"] == "sha256" and t["info"]["count_auth_max"] == "100"
    before = table_counts(server)
    err(server.post("/token/set/SET1", data={"count_window": "abc", "description": "no"}, token=tok), 400, 905)
    err(server.post("/token/set/SET1", data={"hashlib": "md5x"}, token=tok), 400, 905)
    assert token_row(server, "SET1")["description"] == "d2" and table_counts(server) == before
    err(server.post("/token/setrandompin/SET1", token=tok), 400, 301,
        "ERR301: We have an empty PIN. Please check your policy 'otp_pin_set_random'.")
    rows = server.db_query("SELECT action_detail FROM pidea_audit WHERE \"action\" = 'POST /token/set/<serial>' "
                           "AND success = 1 ORDER BY id DESC LIMIT 1")
    assert "count_window='20'" in rows[0][0]


def test_info_realm_copy(server, tok):
    ok(init(server, tok, type="hotp", genkey="1", serial="INFO1", pin="copied-pin"))
    ok(init(server, tok, type="hotp", genkey="1", serial="INFO2", user="dave", realm="realm1"))
    assert ok(server.post("/token/info/INFO1/mykey", data={"value": "v1"}, token=tok)) is True
    assert token_info(server, "INFO1")["mykey"] == "v1"
    assert ok(server.delete("/token/info/INFO1/mykey", token=tok)) is True
    assert "mykey" not in token_info(server, "INFO1")
    err(server.post("/token/info/INFO1/k", token=tok), 400, 905, "ERR905: Missing parameter: 'value'")
    err(server.post("/token/info/NOSUCH/k", data={"value": "1"}, token=tok), 404, 601)
    assert ok(server.post("/token/realm/INFO1", data={"realms": "realm1, nosuchrealm"}, token=tok)) is True
    assert tokens(server, tok, serial="INFO1")["tokens"][0]["realms"] == ["realm1"]
    assert ok(server.post("/token/realm/INFO1", json_body={"realms": []}, token=tok)) is True
    assert tokens(server, tok, serial="INFO1")["tokens"][0]["realms"] == []
    err(server.post("/token/realm/INFO1", token=tok), 400, 905, "ERR905: Missing parameter: 'realms'")
    assert ok(server.post("/token/copypin", data={"from": "INFO1", "to": "INFO2"}, token=tok)) is True
    assert token_row(server, "INFO1")["pin_hash"] == token_row(server, "INFO2")["pin_hash"]
    assert ok(server.post("/token/copyuser", data={"from": "INFO2", "to": "INFO1"}, token=tok)) is True
    t = tokens(server, tok, serial="INFO1")["tokens"][0]
    assert (t["username"], t["realms"]) == ("dave", ["realm1"])
    err(server.post("/token/copypin", data={"from": "NOSUCH", "to": "INFO2"}, token=tok), 400, 1016,
        "ERR1016: No unique token to copy from found")
    err(server.post("/token/copyuser", data={"from": "INFO1", "to": "NOSUCH"}, token=tok), 400, 1017,
        "ERR1017: No unique token to copy to found")
    err(server.post("/token/copyuser", data={"from": "INFO1"}, token=tok), 400, 905, "ERR905: Missing parameter: 'to'")
    cleanup_user(server, tok, "dave")


def test_lost_token(server, tok):
    cleanup_user(server, tok, "bob")
    key = secrets.token_hex(20)
    ok(init(server, tok, type="hotp", otpkey=key, serial="LOST1", user="bob", realm="realm1", pin="bobpin"))
    v = ok(server.post("/token/lost/LOST1", token=tok))
    assert set(v) == {"serial", "init", "user", "pin", "valid_to", "password", "end_date", "disable"}
    assert (v["serial"], v["init"], v["user"], v["pin"], v["valid_to"], v["disable"]) == (
        "lostLOST1", True, True, True, "xxxx", 1)
    assert len(v["password"]) == 16 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+0000", v["end_date"])
    assert token_row(server, "LOST1")["active"] == "0"
    t = tokens(server, tok, serial="lostLOST1")["tokens"][0]
    assert (t["tokentype"], t["username"], t["description"]) == ("pw", "bob", "temporary replacement for LOST1")
    assert t["info"]["validity_period_end"] == v["end_date"]
    r = server.post("/validate/check", data={"user": "bob", "realm": "realm1", "pass": "bobpin" + v["password"]})
    assert r.value is True and r.body["detail"]["serial"] == "lostLOST1"
    ok(init(server, tok, type="hotp", genkey="1", serial="LOST2"))
    err(server.post("/token/lost/LOST2", token=tok), 400, 2012,
        "ERR2012: You can only define a lost token for an assigned token.")
    err(server.post("/token/lost/NOSUCH", token=tok), 404, 601)
    cleanup_user(server, tok, "bob")


def test_getserial(server, tok):
    key = secrets.token_hex(20)
    ok(init(server, tok, type="hotp", otpkey=key, serial="GETSER1"))
    v = ok(server.get("/token/getserial/" + hotp(key, 3), params={"serial": "GETSER"}, token=tok))
    assert v == {"serial": "GETSER1", "count": 1}
    # finding it advanced the counter past the value
    assert token_row(server, "GETSER1")["count"] == "4"
    v = ok(server.get("/token/getserial/000000", params={"serial": "GETSER", "count": "1"}, token=tok))
    assert v == {"serial": None, "count": 1}


# ---- users act on their own tokens ------------------------------------------------------------

def test_user_role_own_tokens_only(server, tok):
    cleanup_user(server, tok, "alice")
    cleanup_user(server, tok, "bob")
    ok(init(server, tok, type="hotp", genkey="1", serial="UA1", user="alice", realm="realm1"))
    ok(init(server, tok, type="hotp", genkey="1", serial="UB1", user="bob", realm="realm1"))
    alice = user_token(server, "alice")
    v = ok(server.get("/token/", token=alice))
    assert [t["serial"] for t in v["tokens"]] == ["UA1"]
    # asking for bob's tokens still shows alice's own (parameters are rewritten)
    v = ok(server.get("/token/", params={"user": "bob", "realm": "realm1"}, token=alice))
    assert [t["serial"] for t in v["tokens"]] == ["UA1"]
    err(server.post("/token/disable/UB1", token=alice), 404, 601)
    err(server.delete("/token/UB1", token=alice), 404, 601)
    err(server.post("/token/resync/UB1", data={"otp1": "1", "otp2": "2"}, token=alice), 404, 601)
    assert ok(server.post("/token/disable/UA1", token=alice)) == 1
    assert ok(server.post("/token/setpin/UA1", data={"otppin": "1"}, token=alice)) == 1
    # enrollment as a user: the token is the user's
    r = init(server, alice, type="hotp", genkey="1", user="bob")
    assert tokens(server, tok, serial=serial_of(r))["tokens"][0]["username"] == "alice"
    err(init(server, alice, type="hotp", genkey="1", serial="UB1"), 404, 601)
    # admin-only endpoints
    for method, path in (("post", "/token/set/UA1"), ("post", "/token/realm/UA1"), ("post", "/token/copypin"),
                         ("get", "/token/challenges/"), ("get", "/token/getserial/123456"),
                         ("post", "/token/info/UA1/k"), ("post", "/token/load/x.csv")):
        err(getattr(server, method)(path, token=alice), 401, 4306)
    err(server.post("/token/assign", data={"serial": "UB1"}, token=alice), 400, 1103,
        "ERR1103: Token already assigned to another user.")
    assert ok(server.delete("/token/UA1", token=alice)) == 1
    cleanup_user(server, tok, "alice")
    cleanup_user(server, tok, "bob")


def test_no_jwt(server):
    err(server.get("/token/"), 401, 4033, "Authentication failure. Missing Authorization header.")
    err(server.post("/token/init", data={"genkey": "1"}), 401, 4033)


# ---- import ---------------------------------------------------------------------------------

def load(server, tok, name, content, **fields):
    files = {"file": (name, content)}
    r = requests.post(server.base + "/token/load/" + name, files=files, data=fields,
                      headers={"Authorization": tok})
    return server.check(__import__("harness").Response(r.status_code, r.headers, r.content))


def test_load_oath_csv(server, tok):
    for s in ("tok1", "tok2", "tok3", "tok4", "tok5", "tok6", "tok7", "tan1", "pw1", "crlf1", "paper1", "ocra1"):
        server.delete("/token/" + s, token=tok)
    r = load(server, tok, "oath.csv", (IMPORT / "oath.csv").read_bytes(), type="oathcsv", tokenrealms="realm1")
    v = ok(r)
    imported = {t["serial"]: t for t in tokens(server, tok, serial="*", pagesize="1000")["tokens"]}
    assert v["n_imported"] + v["n_not_imported"] >= 11
    assert "ocra1" not in imported  # no ocra type in this build: not imported
    t1 = imported["tok1"]
    assert (t1["tokentype"], t1["count"], t1["otplen"], t1["realms"], t1["description"]) == (
        "hotp", 100, 6, ["realm1"], "imported")
    assert t1["info"]["tokenkind"] == "hardware"
    assert imported["tok2"]["tokentype"] == "totp" and imported["tok2"]["info"]["hashlib"] == "sha256"
    assert imported["tok3"]["otplen"] == 8 and imported["tok3"]["count"] == 5
    assert imported["tok4"]["info"]["timeStep"] == "60"
    assert imported["tok5"]["info"]["hashlib"] == "sha512"
    assert imported["tan1"]["info"]["tan.count"] == 3
    assert ok(server.post("/validate/check", data={"serial": "tan1", "pass": "222222"})) is True
    assert ok(server.post("/validate/check", data={"serial": "tok1", "pass": hotp(RFC4226_KEY, 100)})) is True
    rows = server.db_query("SELECT info, serial FROM pidea_audit WHERE \"action\" = 'POST /token/load/<filename>' "
                           "ORDER BY id DESC LIMIT 1")
    assert rows[0][0].startswith("oathcsv, oath.csv (imported: ") and "tok1" in rows[0][1]


def test_load_yubikey_csv(server, tok):
    r = load(server, tok, "yubikey.csv", (IMPORT / "yubikey.csv").read_bytes(), type="yubikeycsv")
    v = ok(r)
    assert v["n_imported"] >= 1
    hotps = [t for t in tokens(server, tok, serial="UBOM*", pagesize="100")["tokens"]]
    assert hotps and all(t["tokentype"] == "hotp" and t["otplen"] == 6 for t in hotps)


def test_load_pskc_plain_psk_password(server, tok):
    v = ok(load(server, tok, "f2.xml", (IMPORT / "rfc6030-figure2.xml").read_bytes(), type="pskc"))
    assert v == {"n_imported": 1, "n_not_imported": 0}
    v = ok(load(server, tok, "f6.xml", (IMPORT / "rfc6030-figure6.xml").read_bytes(), type="pskc",
                psk="12345678901234567890123456789012"))
    assert v["n_imported"] == 1
    v = ok(load(server, tok, "f7.xml", (IMPORT / "rfc6030-figure7.xml").read_bytes(), type="pskc",
                password="qwerty"))
    assert v["n_imported"] == 1
    v = ok(load(server, tok, "pi.xml", (IMPORT / "pskc-pi-export.xml").read_bytes(), type="pskc",
                psk="a1b2c3d4e5f60718293a4b5c6d7e8f90"))
    assert v["n_imported"] >= 2
    # a bad MAC: privacyIDEA's default check_fail_hard imports nothing and lists them
    before = table_counts(server)
    v = ok(load(server, tok, "bad.xml", (IMPORT / "pskc-bad-mac.xml").read_bytes(), type="pskc",
                psk="a1b2c3d4e5f60718293a4b5c6d7e8f90"))
    assert v["n_imported"] == 0 and v["n_not_imported"] >= 1


@pytest.mark.parametrize("name,fields,status,code", [
    ("pskc-malformed.xml", {"type": "pskc"}, 400, 304),
    ("pskc-xxe.xml", {"type": "pskc"}, 400, 304),
    ("pskc-entity-bomb.xml", {"type": "pskc"}, 400, 304),
    ("pskc-no-container.xml", {"type": "pskc"}, 400, 304),
    ("rfc6030-figure6.xml", {"type": "pskc", "psk": "00000000000000000000000000000000"}, 400, 304),
    ("rfc6030-figure6.xml", {"type": "pskc", "psk": "short"}, 400, 301),
    ("oath-badotplen.csv", {"type": "nosuchformat"}, 400, 301),
    ("oath-badtype.csv", {"type": "oathcsv"}, 400, 304),
])
def test_load_bad_files_write_nothing(server, tok, name, fields, status, code):
    before = table_counts(server)
    err(load(server, tok, name, (IMPORT / name).read_bytes(), **fields), status, code)
    assert table_counts(server) == before


def test_load_oversize_and_missing(server, tok):
    before = table_counts(server)
    big = b"<KeyContainer>" + b" " * (2 * 1024 * 1024) + b"</KeyContainer>"
    r = load(server, tok, "big.xml", big, type="pskc")
    assert r.status == 413 and r.result["status"] is False
    r = requests.post(server.base + "/token/load/x.csv", data={"type": "oathcsv"}, headers={"Authorization": tok})
    assert r.status_code == 400 and r.json()["result"]["error"]["message"] == "ERR905: Missing parameter: 'file'"
    err(load(server, tok, "empty.csv", b"", type="oathcsv"), 400, 905)
    assert table_counts(server) == before


def test_multipart_fields_and_query(server, tok):
    """Form fields of a multipart body are parameters; the query string wins."""
    content = b"mp1, 3132333435363738393031323334353637383930\n"
    r = requests.post(server.base + "/token/load/mp.csv?type=oathcsv", files={"file": ("mp.csv", content)},
                      data={"type": "pskc"}, headers={"Authorization": tok})
    assert r.status_code == 200 and r.json()["result"]["value"]["n_imported"] == 1
    r = requests.post(server.base + "/token/load/mp.csv", data=b"--x\r\nbroken",
                      headers={"Authorization": tok, "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400 and r.json()["result"]["error"]["code"] == 905


def test_type_prefixed_parameters_become_tokeninfo(server, tok):
    """Parameters named <type>.<key> are stored as tokeninfo; with <type>.<key>.type=password the value
    is stored encrypted and the list shows it encrypted, never in clear."""
    r = init(server, tok, type="hotp", genkey="1", serial="TINFO1", **{"hotp.color": "green",
                                                                      "hotp.secret": "CleartextSecret",
                                                                      "hotp.secret.type": "password",
                                                                      "other.key": "ignored"})
    ok(r)
    info = token_info(server, "TINFO1")
    assert info["hotp.color"] == "green" and "other.key" not in info and "hotp.secret.type" not in info
    assert "CleartextSecret" not in info["hotp.secret"] and re.fullmatch(r"[0-9a-f]{32}:[0-9a-f]+", info["hotp.secret"])
    t = tokens(server, tok, serial="TINFO1")["tokens"][0]
    assert t["info"]["hotp.secret.type"] == "password" and t["info"]["hotp.secret"] == info["hotp.secret"]
