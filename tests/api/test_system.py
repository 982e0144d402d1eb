"""The /system blueprint: system settings (GET, setConfig, setDefault, DELETE), password settings
encrypted at rest and censored, value checks (nothing stored on error), random, hsm, documentation,
the name lists, roles, and a change made through one server seen by another on the same database.

Runs on SQLite and PostgreSQL (TESSERA_DB). Values are privacyIDEA 3.8's (api/system.py,
lib/config.py); Tessera's deliberate differences are in docs/compatibility.md.
"""
import base64
import re
import secrets
import time

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness import make_jwt

DEFAULT_TRUE = {"PrependPin": "True", "splitAtSign": "True", "IncFailCountOnFalsePin": "True",
                "ReturnSamlAttributes": "True"}
USAGE_77 = ("ERR77: Usage: parameters are: DefaultMaxFailCount, DefaultSyncWindow, DefaultCountWindow, "
            "DefaultOtpLen, DefaultResetFailCount")
ROLE_ADMIN_MSG = ("Authentication failure. You do not have the necessary role (['admin']) to access "
                  "this resource!")


@pytest.fixture
def admin(server):
    return server.login()


def user_token(server, username="alice", realm="realm1"):
    claims = {"username": username, "realm": realm, "nonce": secrets.token_hex(20), "role": "user",
              "authtype": "password", "exp": int(time.time()) + 3600, "rights": []}
    return make_jwt(claims, server.secret_key)


def config_rows(server):
    """The config table as {Key: (Value, Type, Description)}."""
    rows = server.db_query('SELECT "Key", "Value", "Type", "Description" FROM config')
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def settings(server):
    """config_rows without the reload marker."""
    rows = config_rows(server)
    rows.pop("__timestamp__", None)
    return rows


def timestamp(server):
    return config_rows(server).get("__timestamp__", (None,))[0]


def set_config(server, token, body, status=200):
    r = server.post("/system/setConfig", json_body=body, token=token)
    assert r.status == status, r
    return r


def delete_keys(server, token, *keys):
    for k in keys:
        server.delete("/system/" + k, token=token)


def decrypt_config_value(server, stored):
    """privacyIDEA's decryptPassword with the config slot (bytes 32..63 of the key file)."""
    key = server.enckey.read_bytes()[32:64]
    iv_hex, ct_hex = stored.split(":")
    d = Cipher(algorithms.AES(key), modes.CBC(bytes.fromhex(iv_hex))).decryptor()
    padded = d.update(bytes.fromhex(ct_hex)) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return (u.update(padded) + u.finalize()).decode()


def assert_error(r, status, code, message=None):
    assert r.status == status, r
    assert r.result["status"] is False
    assert r.error["code"] == code, r
    if message is not None:
        assert r.error["message"] == message, r


# ---- reading --------------------------------------------------------------------------------

def test_fresh_system_shows_the_default_true_keys(make_server):
    s = make_server()
    token = s.login()
    r = s.get("/system/", token=token)
    assert r.status == 200 and r.result["status"] is True
    assert r.value == DEFAULT_TRUE
    assert s.get("/system", token=token).value == DEFAULT_TRUE
    # a single key: the default-true ones, else null (privacyIDEA's get_from_config)
    assert s.get("/system/splitAtSign", token=token).value == "True"
    assert s.get("/system/DefaultMaxFailCount", token=token).value is None
    assert s.get("/system/__timestamp__", token=token).value is None
    # users see the same four (they have no public settings yet)
    assert s.get("/system/", token=user_token(s)).value == DEFAULT_TRUE


def test_without_jwt(server):
    r = server.get("/system/")
    assert_error(r, 401, 4033, "Authentication failure. Missing Authorization header.")


# ---- setConfig / get / delete ----------------------------------------------------------------

def test_set_get_delete(server, admin):
    before = timestamp(server)
    r = set_config(server, admin, {"AutoResync": True, "totp.hashlib": "sha256", "t.mykey": "v1",
                                   "t.mykey.desc": "my description"})
    assert r.value == {"AutoResync": "insert", "totp.hashlib": "insert", "t.mykey": "insert"}
    rows = settings(server)
    assert rows["AutoResync"] == ("True", "", "")
    assert rows["totp.hashlib"] == ("sha256", "public", "")   # the token class's type
    assert rows["t.mykey"] == ("v1", "", "my description")
    assert timestamp(server) != before

    v = server.get("/system/", token=admin).value
    assert v["AutoResync"] == "True" and v["totp.hashlib"] == "sha256" and v["t.mykey"] == "v1"
    assert server.get("/system/t.mykey", token=admin).value == "v1"

    # update: type and description are kept when not given
    r = set_config(server, admin, {"t.mykey": "v2", "totp.hashlib": "sha1"})
    assert r.value == {"t.mykey": "update", "totp.hashlib": "update"}
    rows = settings(server)
    assert rows["t.mykey"] == ("v2", "", "my description")
    assert rows["totp.hashlib"] == ("sha1", "public", "")
    r = set_config(server, admin, {"t.mykey": "v3", "t.mykey.type": "public", "t.mykey.desc": "new"})
    assert settings(server)["t.mykey"] == ("v3", "public", "new")

    # form-encoded parameters work the same
    r = server.post("/system/setConfig", data={"t.form": "a b"}, token=admin)
    assert r.status == 200 and r.value == {"t.form": "insert"}
    assert server.get("/system/t.form", token=admin).value == "a b"

    # delete: true, then 0 (privacyIDEA's delete_privacyidea_config)
    ts = timestamp(server)
    r = server.delete("/system/t.mykey", token=admin)
    assert r.status == 200 and r.value is True
    assert "t.mykey" not in settings(server)
    assert timestamp(server) != ts
    ts = timestamp(server)
    r = server.delete("/system/t.mykey", token=admin)
    assert r.status == 200 and r.value == 0
    assert timestamp(server) == ts
    assert server.get("/system/t.mykey", token=admin).value is None
    assert server.delete("/system/__timestamp__", token=admin).value == 0
    assert timestamp(server) == ts
    delete_keys(server, admin, "AutoResync", "totp.hashlib", "t.form")
    assert set(settings(server)) == set()


def test_set_config_literal_keys_and_companions(server, admin):
    # 3.8 stores every parameter literally: key=..&value=.. makes settings "key" and "value";
    # "x.type"/"x.desc" (and "type"/"desc" alone) are companions, not settings
    r = set_config(server, admin, {"key": "splitAtSign", "value": "x", "type": "int", "desc": "d",
                                   "orphan.type": "public"})
    assert r.value == {"key": "insert", "value": "insert"}
    rows = settings(server)
    assert rows["key"] == ("splitAtSign", "", "") and rows["value"] == ("x", "", "")
    assert "type" not in rows and "desc" not in rows and "orphan" not in rows
    delete_keys(server, admin, "key", "value")
    # nothing at all: nothing to do
    ts = timestamp(server)
    assert set_config(server, admin, {}).value == {}
    assert timestamp(server) == ts


def test_public_settings_for_users(server, admin):
    set_config(server, admin, {"t.pub": "p", "t.pub.type": "public", "t.priv": "q", "hotp.hashlib": "sha256"})
    user = user_token(server)
    v = server.get("/system/", token=user).value
    assert v == dict(DEFAULT_TRUE, **{"t.pub": "p", "hotp.hashlib": "sha256"})
    assert server.get("/system/t.pub", token=user).value == "p"
    assert server.get("/system/t.priv", token=user).value is None
    assert server.get("/system/t.priv", token=admin).value == "q"
    # a stored default-true key is shown as stored, to admins and (if public) users
    set_config(server, admin, {"splitAtSign": "False"})
    assert server.get("/system/splitAtSign", token=admin).value == "False"
    assert server.get("/system/splitAtSign", token=user).value == "True"
    delete_keys(server, admin, "t.pub", "t.priv", "hotp.hashlib", "splitAtSign")


# ---- password settings ----------------------------------------------------------------------

def test_password_setting_encrypted_and_censored(server, admin):
    r = set_config(server, admin, {"t.secret": "s3cr3t-ÄÖ", "t.secret.type": "password"})
    assert r.value == {"t.secret": "insert"}
    value, typ, _ = settings(server)["t.secret"]
    assert typ == "password"
    assert re.fullmatch(r"[0-9a-f]{32}:[0-9a-f]{32}", value), value
    assert "s3cr3t" not in value
    assert decrypt_config_value(server, value) == "s3cr3t-ÄÖ"
    assert server.get("/system/", token=admin).value["t.secret"] == "__CENSORED__"
    assert server.get("/system/t.secret", token=admin).value == "__CENSORED__"

    # writing back what GET shows keeps the secret
    r = set_config(server, admin, {"t.secret": "__CENSORED__", "t.secret.type": "password"})
    assert r.value == {"t.secret": "update"}
    assert settings(server)["t.secret"][0] == value
    # a new value without a type stays a password and is encrypted
    set_config(server, admin, {"t.secret": "other"})
    value2, typ2, _ = settings(server)["t.secret"]
    assert typ2 == "password" and value2 != value and decrypt_config_value(server, value2) == "other"

    # no secret in the audit log
    rows = server.db_query("SELECT info FROM pidea_audit WHERE action = 'POST /system/setConfig'")
    infos = [r[0] or "" for r in rows]
    assert any("t.secret=__CENSORED__" in i for i in infos)
    assert not any("s3cr3t" in i or "other" in i for i in infos)
    assert "s3cr3t" not in server.log_text()
    delete_keys(server, admin, "t.secret")


# ---- value checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"DefaultMaxFailCount": "ten"},
    {"DefaultMaxFailCount": "10.5"},
    {"DefaultMaxFailCount": " 10"},
    {"DefaultMaxFailCount": "-1"},
    {"DefaultMaxFailCount": "99999999999"},
    {"DefaultCountWindow": ""},
    {"DefaultSyncWindow": "1e3"},
    {"DefaultChallengeValidityTime": "two minutes"},
    {"HotpChallengeValidityTime": "x"},
    {"UserCacheExpiration": "abc"},
    {"failcounter_clear_timeout": "5m"},
    {"SerialLength": "0"},
    {"SerialLength": "64"},
    {"AutoResyncTimeout": "x"},
    {"DefaultOtpLen": "7"},
    {"DefaultOtpLen": 10},
    {"splitAtSign": "yes"},
    {"PrependPin": "on"},
    {"IncFailCountOnFalsePin": 2},
    {"totp.hashlib": "md5"},
    {"totp.timeStep": "0"},
    {"t.int": "abc", "t.int.type": "int"},
    {"t.obj": {"a": 1}},
    {"t.list": [1, 2]},
    {"__timestamp__": "1"},
    {"": "empty key"},
    {"k" * 256: "long key"},
    {"t.long": "v" * 2001},
])
def test_bad_values_refused_nothing_stored(server, admin, body):
    before = config_rows(server)
    # a good setting in the same request must not be stored either (all or nothing)
    full = dict(body, **{"t.good": "1"})
    r = server.post("/system/setConfig", json_body=full, token=admin)
    assert_error(r, 400, 905)
    assert r.error["message"].startswith("ERR905: ")
    assert config_rows(server) == before


def test_bad_description_and_type(server, admin):
    before = config_rows(server)
    r = server.post("/system/setConfig", json_body={"t.x": "1", "t.x.desc": "d" * 2001}, token=admin)
    assert_error(r, 400, 905)
    r = server.post("/system/setConfig", json_body={"t.x": "1", "t.x.type": "t" * 101}, token=admin)
    assert_error(r, 400, 905)
    assert config_rows(server) == before


def test_good_values_accepted(server, admin):
    body = {"DefaultMaxFailCount": "0", "DefaultCountWindow": 25, "DefaultSyncWindow": "010",
            "DefaultChallengeValidityTime": "300", "HotpChallengeValidityTime": "60",
            "UserCacheExpiration": "3600", "failcounter_clear_timeout": "5", "SerialLength": "12",
            "DefaultOtpLen": 8, "splitAtSign": "False", "PrependPin": "true", "AutoResync": "1",
            "IncFailCountOnFalsePin": "TRUE", "PassOnUserNoToken": False, "no_auth_counter": "0",
            "totp.hashlib": "sha512", "totp.timeStep": "60", "t.neg": "-5", "t.neg.type": "int",
            "t.any": "whatever text"}
    r = set_config(server, admin, body)
    assert set(r.value) == set(body) - {"t.neg.type"}
    assert set(r.value.values()) == {"insert"}
    v = server.get("/system/", token=admin).value
    assert v["DefaultCountWindow"] == "25" and v["DefaultOtpLen"] == "8"
    assert v["PassOnUserNoToken"] == "False" and v["DefaultSyncWindow"] == "010"
    delete_keys(server, admin, *r.value)


# ---- setDefault -----------------------------------------------------------------------------

def test_set_default(server, admin):
    r = server.post("/system/setDefault", json_body={"defaultmaxfailcount": "5", "DEFAULTOTPLEN": 8,
                                                     "DefaultResetFailCount": True, "other": "x"},
                    token=admin)
    assert r.status == 200
    assert r.value == {"DefaultMaxFailCount": "insert", "DefaultOtpLen": "insert",
                       "DefaultResetFailCount": "insert"}
    rows = settings(server)
    assert rows["DefaultMaxFailCount"] == ("5", "", "")
    assert rows["DefaultOtpLen"] == ("8", "", "")
    assert rows["DefaultResetFailCount"] == ("True", "", "")
    assert "other" not in rows and "defaultmaxfailcount" not in rows
    r = server.post("/system/setDefault", data={"DefaultSyncWindow": "500", "defaultcountwindow": "20",
                                                "DefaultMaxFailCount": "6"}, token=admin)
    assert r.value == {"DefaultSyncWindow": "insert", "DefaultCountWindow": "insert",
                       "DefaultMaxFailCount": "update"}
    assert server.get("/system/DefaultMaxFailCount", token=admin).value == "6"
    delete_keys(server, admin, "DefaultMaxFailCount", "DefaultOtpLen", "DefaultResetFailCount",
                "DefaultSyncWindow", "DefaultCountWindow")


def test_set_default_errors(server, admin):
    before = config_rows(server)
    r = server.post("/system/setDefault", json_body={"splitAtSign": "True"}, token=admin)
    assert_error(r, 400, 77, USAGE_77)
    r = server.post("/system/setDefault", token=admin)
    assert_error(r, 400, 77, USAGE_77)
    r = server.post("/system/setDefault", json_body={"DefaultOtpLen": "7", "DefaultMaxFailCount": "3"},
                    token=admin)
    assert_error(r, 400, 905, "ERR905: The value of DefaultOtpLen must be 6 or 8.")
    r = server.post("/system/setDefault", json_body={"DefaultMaxFailCount": "3", "DefaultSyncWindow": "x"},
                    token=admin)
    assert_error(r, 400, 905, "ERR905: The value of DefaultSyncWindow must be an integer from 0 to 2147483647.")
    r = server.post("/system/setDefault", json_body={"DefaultResetFailCount": "maybe"}, token=admin)
    assert_error(r, 400, 905)
    r = server.post("/system/setDefault", json_body={"DefaultMaxFailCount": None}, token=admin)
    assert_error(r, 400, 905, "ERR905: Missing parameter: 'defaultmaxfailcount'")
    assert config_rows(server) == before


# ---- roles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("POST", "/system/setConfig"), ("POST", "/system/setDefault"), ("DELETE", "/system/splitAtSign"),
    ("GET", "/system/random"), ("GET", "/system/hsm"), ("POST", "/system/hsm"),
    ("GET", "/system/documentation"),
])
def test_user_cannot_use_admin_endpoints(server, admin, method, path):
    set_config(server, admin, {"t.keep": "1"})
    before = config_rows(server)
    r = server.request(method, path, json_body={"t.keep": "2", "DefaultMaxFailCount": "1",
                                                "password": "x"} if method == "POST" else None,
                       token=user_token(server))
    assert_error(r, 401, 4306, ROLE_ADMIN_MSG)
    assert config_rows(server) == before
    delete_keys(server, admin, "t.keep")


def test_user_endpoints(server):
    user = user_token(server)
    assert server.get("/system/gpgkeys", token=user).value == {}
    assert server.get("/system/names/radius", token=user).value == []
    assert server.get("/system/names/caconnector", token=user).value == []


def test_wrong_method(server, admin):
    r = server.request("DELETE", "/system/", token=admin)
    assert r.status == 405 and r.error["code"] == 405
    r = server.request("PUT", "/system/setConfig", token=admin)
    assert r.status == 405


# ---- random ---------------------------------------------------------------------------------

def test_random(server, admin):
    r = server.get("/system/random", token=admin)
    assert r.status == 200 and re.fullmatch(r"[0-9a-f]{40}", r.value), r   # 20 bytes, hex
    assert server.get("/system/random", token=admin).value != r.value
    assert re.fullmatch(r"[0-9a-f]{32}", server.get("/system/random", params={"len": 16}, token=admin).value)
    v = server.get("/system/random", params={"len": 30, "encode": "b64"}, token=admin).value
    assert len(base64.b64decode(v, validate=True)) == 30 and len(v) == 40
    v = server.get("/system/random", params={"len": "32", "encode": "hex"}, token=admin).value
    assert re.fullmatch(r"[0-9a-f]{64}", v)
    assert server.get("/system/random", params={"len": 0}, token=admin).value == ""
    assert len(server.get("/system/random", params={"len": ""}, token=admin).value) == 40
    assert len(server.get("/system/random", params={"len": 4096}, token=admin).value) == 8192
    for bad in ({"len": "abc"}, {"len": "-1"}, {"len": "4097"}, {"len": "1.5"}, {"encode": "base32"}):
        r = server.get("/system/random", params=bad, token=admin)
        assert_error(r, 400, 905)
    # the random value never goes into the audit log
    rows = server.db_query("SELECT info FROM pidea_audit WHERE action = 'GET /system/random'")
    assert rows and all(re.fullmatch(r"len=\d+, encode=(hex|b64)", i[0] or "") for i in rows if i[0])


# ---- hsm, gpgkeys, documentation, names -------------------------------------------------------

def test_hsm(server, admin):
    r = server.get("/system/hsm", token=admin)
    assert r.status == 200 and r.value == {"is_ready": True}
    r = server.post("/system/hsm", token=admin)
    assert_error(r, 400, 905, "ERR905: Missing parameter: 'password'")
    r = server.post("/system/hsm", data={"password": "x"}, token=admin)
    assert_error(r, 400, 707, "ERR707: HSM already set up.")


def test_gpgkeys(server, admin):
    r = server.get("/system/gpgkeys", token=admin)
    assert r.status == 200 and r.value == {}


def test_documentation(server, admin):
    set_config(server, admin, {"t.doc": "documented", "t.docpw": "hidden-pw", "t.docpw.type": "password"})
    r = requests.get(server.base + "/system/documentation", headers={"Authorization": admin}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert text.startswith("privacyIDEA configuration documentation\n=======")
    assert "t.doc: **documented**" in text
    assert "t.docpw: **__CENSORED__**" in text and "hidden-pw" not in text
    assert "PrependPin: **True**" in text
    assert "* **admin** <" in text
    assert "PI_PEPPER: **redacted**" in text and server.pepper not in text
    assert server.secret_key not in text
    assert "PI_ENCFILE: **%s**" % server.enckey in text
    delete_keys(server, admin, "t.doc", "t.docpw")


def test_names(server, admin):
    server.db_query("INSERT INTO radiusserver (identifier, server, secret) VALUES ('rad2', 'h', 's'), "
                    "('rad1', 'h', 's')")
    server.db_query("INSERT INTO caconnector (name, catype) VALUES ('localca', 'local')")
    try:
        for token in (admin, user_token(server)):
            assert server.get("/system/names/radius", token=token).value == ["rad1", "rad2"]
            assert server.get("/system/names/caconnector", token=token).value == [
                {"connectorname": "localca", "type": "local", "data": {}, "templates": {}}]
    finally:
        server.db_query("DELETE FROM radiusserver")
        server.db_query("DELETE FROM caconnector")


# ---- audit ----------------------------------------------------------------------------------

def test_audit_rows(server, admin):
    set_config(server, admin, {"t.aud": "v"})
    server.delete("/system/t.aud", token=admin)
    server.delete("/system/t.aud", token=admin)
    rows = server.db_query("SELECT action, success, info, administrator FROM pidea_audit "
                           "WHERE action LIKE '%/system/%' ORDER BY id DESC")
    assert rows[0] == ("DELETE /system/<key>", "0", "t.aud", "admin")
    assert rows[1] == ("DELETE /system/<key>", "1", "t.aud", "admin")
    assert rows[2] == ("POST /system/setConfig", "1", "t.aud=v, ", "admin")


# ---- two processes, one database --------------------------------------------------------------

def test_change_seen_by_second_server_without_restart(server, admin, second_server_same_db):
    other = second_server_same_db(server)
    assert other.port != server.port
    token_b = other.login()
    # B has built its snapshot already; A changes a setting; B sees it on the next request
    assert other.get("/system/DefaultMaxFailCount", token=token_b).value is None
    set_config(server, admin, {"DefaultMaxFailCount": "7"})
    assert other.get("/system/DefaultMaxFailCount", token=token_b).value == "7"
    assert other.get("/system/", token=token_b).value["DefaultMaxFailCount"] == "7"
    # and back: B writes, A sees
    r = other.post("/system/setConfig", json_body={"DefaultMaxFailCount": "8", "t.fromb": "b"}, token=token_b)
    assert r.value == {"DefaultMaxFailCount": "update", "t.fromb": "insert"}
    assert server.get("/system/DefaultMaxFailCount", token=admin).value == "8"
    assert server.get("/system/t.fromb", token=admin).value == "b"
    # a delete on A disappears on B
    assert server.delete("/system/t.fromb", token=admin).value is True
    assert other.get("/system/t.fromb", token=token_b).value is None
    # a password setting written by B is readable (decryptable) by A's key: same key file
    other.post("/system/setConfig", json_body={"t.pw": "pw-b", "t.pw.type": "password"}, token=token_b)
    assert decrypt_config_value(server, settings(server)["t.pw"][0]) == "pw-b"
    assert server.get("/system/t.pw", token=admin).value == "__CENSORED__"
    delete_keys(server, admin, "DefaultMaxFailCount", "t.pw")
    assert other.get("/system/DefaultMaxFailCount", token=token_b).value is None
