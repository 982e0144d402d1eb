"""admin/user.hide_tokeninfo on GET /token/, enrollment.losttoken_PW_length / losttoken_PW_contents /
losttoken_valid on POST /token/lost/<serial>, enrollment.pinhandling with otp_pin_random on
POST /token/init.  Each test shows the default without the policy, the changed behaviour with
it (exact values) and bad policy values.

References: privacyIDEA 3.8 api/lib/prepolicy.py (hide_tokeninfo, init_random_pin),
lib/token.py (get_tokens_paginate hidden_tokeninfo, lost_token), lib/policydecorators.py
(config_lost_token), lib/pinhandling/base.py; ../shared/spec/policies_events.md §1.6, §1.8.
"""
import datetime
import string
import subprocess

import pytest
import requests

from token_helpers import token_row

KEY = "3132333435363738393031323334353637383930"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
LOST_SPECIAL = "!#$%&()*+,-./:;<=>?@[]^_"
HANDLER = "privacyidea.lib.pinhandling.base.PinHandler"
ADMIN_RIGHTS = ("enrollHOTP, enrollSPASS, enrollpin, policywrite, policydelete, policyread, delete, "
                "tokenlist, settokeninfo, losttoken, assign, unassign, enable, disable")


def ok(r):
    assert r.status == 200 and r.result["status"] is True, (r.status, r.error)
    return r.value


def bad_value(r, message):
    assert r.status == 400 and r.result["status"] is False, r
    assert r.error["code"] == 905, r
    assert r.error["message"] == "ERR905: " + message, r.error["message"]


def crypt_line(login, password, uid):
    h = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                       check=True).stdout.strip()
    return "%s:%s:%d:%d:%s User,,,:/home/%s:/bin/sh\n" % (login, h, uid, uid, login.title(), login)


@pytest.fixture
def tok(server, tmp_path_factory):
    """Admin JWT; realm1 (default) with alice/bob, realm2 with dave; no policy, no token."""
    t = server.login()
    for (name,) in server.db_query("SELECT name FROM policy"):
        server.cli("policy", "delete", name)
    for tk in server.get("/token/", params={"pagesize": 500}, token=t).value["tokens"]:
        ok(server.delete("/token/" + tk["serial"], token=t))
    if "realm1" not in (server.get("/realm/", token=t).value or {}):
        d = tmp_path_factory.mktemp("users")
        p1, p2 = d / "users1", d / "users2"
        p1.write_text(crypt_line("alice", "alice-pw", 1001) + crypt_line("bob", "bob-pw", 1002))
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


def user_login(server, name):
    return ok(server.post("/auth", data={"username": name, "password": name + "-pw"}))["token"]


def info_of(server, token, serial, **params):
    params["serial"] = serial
    toks = ok(server.get("/token/", params=params, token=token))["tokens"]
    assert len(toks) == 1
    return toks[0]["info"]


# ---- hide_tokeninfo ------------------------------------------------------------------------------

def enroll_info_tokens(server, tok):
    ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "HI1", "user": "alice",
                                        "realm": "realm1"}, token=tok))
    ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "HI2", "user": "dave",
                                        "realm": "realm2"}, token=tok))
    for serial in ("HI1", "HI2"):
        ok(server.post("/token/info/%s/color" % serial, data={"value": "blue"}, token=tok))
        ok(server.post("/token/info/%s/size" % serial, data={"value": "xl"}, token=tok))


def test_hide_tokeninfo_default(server, tok):
    enroll_info_tokens(server, tok)
    info = info_of(server, tok, "HI1")
    assert sorted(info) == ["color", "hashlib", "size", "tokenkind"]
    assert (info["color"], info["size"], info["hashlib"], info["tokenkind"]) == ("blue", "xl", "sha1", "software")
    # the request parameter alone hides nothing (privacyIDEA overwrites it with the policy's list)
    assert sorted(info_of(server, tok, "HI1", hidden_tokeninfo="color")) == sorted(info)
    # a user sees all keys of his token
    assert sorted(info_of(server, user_login(server, "alice"), "HI1")) == sorted(info)


def test_hide_tokeninfo_admin(server, tok):
    enroll_info_tokens(server, tok)
    # values of all matching policies are merged; blank-separated keys; unknown keys are ignored
    policy(server, tok, "adm", "admin", ADMIN_RIGHTS + ", hide_tokeninfo=color nosuchkey")
    policy(server, tok, "adm2", "admin", "hide_tokeninfo=hashlib")
    assert sorted(info_of(server, tok, "HI1")) == ["size", "tokenkind"]
    assert sorted(info_of(server, tok, "HI2")) == ["size", "tokenkind"]
    # a policy of another admin does not hide anything from this one
    policy(server, tok, "other", "admin", "hide_tokeninfo=size tokenkind", adminuser="someoneelse")
    assert sorted(info_of(server, tok, "HI1")) == ["size", "tokenkind"]
    # a policy for realm2: applies to a listing without user, not to a listing of realm1's user
    policy(server, tok, "r2", "admin", "hide_tokeninfo=size", realm="realm2")
    assert sorted(info_of(server, tok, "HI1")) == ["tokenkind"]
    assert sorted(info_of(server, tok, "HI1", user="alice", realm="realm1")) == \
        ["size", "tokenkind"]
    assert sorted(info_of(server, tok, "HI2", user="dave", realm="realm2")) == ["tokenkind"]
    # the data is unchanged, only the answer; admin policies do not bind users
    assert sorted(info_of(server, user_login(server, "alice"), "HI1")) == \
        ["color", "hashlib", "size", "tokenkind"]
    rows = server.db_query("SELECT i.\"Key\" FROM tokeninfo i JOIN token t ON t.id = i.token_id "
                           "WHERE t.serial = 'HI1' ORDER BY i.\"Key\"")
    assert [r[0] for r in rows] == ["color", "hashlib", "size", "tokenkind"]
    # inactive policies do not count
    ok(server.post("/policy/disable/adm2", token=tok))
    assert sorted(info_of(server, tok, "HI1", user="alice", realm="realm1")) == \
        ["hashlib", "size", "tokenkind"]


def test_hide_tokeninfo_user(server, tok):
    enroll_info_tokens(server, tok)
    policy(server, tok, "u", "user", "hide_tokeninfo=color hashlib", realm="realm1")
    policy(server, tok, "u2", "user", "hide_tokeninfo=tokenkind", user="bob")
    ut = user_login(server, "alice")
    assert sorted(info_of(server, ut, "HI1")) == ["size", "tokenkind"]
    # user policies do not bind the admin
    assert sorted(info_of(server, tok, "HI1")) == ["color", "hashlib", "size", "tokenkind"]
    # the CSV export hides the same keys (privacyIDEA builds it from the same list)
    r = requests.get(server.base + "/token/", params={"outform": "csv"}, headers={"Authorization": ut},
                     timeout=60)
    assert r.status_code == 200
    assert "HI1" in r.text and "blue" not in r.text and "sha1" not in r.text and '"size":"xl"' in r.text


def test_hide_tokeninfo_policy_value(server, tok):
    # a str action: the bare key is refused
    r = server.post("/policy/bad", data={"scope": "admin", "action": "hide_tokeninfo"}, token=tok)
    bad_value(r, "The action 'hide_tokeninfo' in the scope 'admin' needs a value (hide_tokeninfo=...).")
    assert server.db_query("SELECT name FROM policy") == []


# ---- losttoken_PW_length, losttoken_PW_contents, losttoken_valid ---------------------------------

def lost(server, tok, serial, user="bob", realm="realm1"):
    ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": serial, "user": user,
                                        "realm": realm, "pin": "pin"}, token=tok))
    before = datetime.datetime.now(datetime.timezone.utc)
    v = ok(server.post("/token/lost/" + serial, token=tok))
    after = datetime.datetime.now(datetime.timezone.utc)
    return v, before, after


def end_date_ok(v, days, before, after):
    end = datetime.datetime.strptime(v["end_date"], "%Y-%m-%dT%H:%M%z")
    lo = (before + datetime.timedelta(days=days)).replace(second=0, microsecond=0)
    hi = after + datetime.timedelta(days=days)
    return lo <= end <= hi


def test_losttoken_defaults(server, tok):
    v, before, after = lost(server, tok, "LD1")
    assert sorted(v) == ["disable", "end_date", "init", "password", "pin", "serial", "user", "valid_to"]
    assert (v["serial"], v["init"], v["user"], v["pin"], v["valid_to"], v["disable"]) == \
        ("lostLD1", True, True, True, "xxxx", 1)
    assert len(v["password"]) == 16 and set(v["password"]) <= set(BASE58)
    assert end_date_ok(v, 10, before, after)
    assert ok(server.post("/validate/check", data={"serial": "lostLD1", "pass": "pin" + v["password"]})) is True


def test_losttoken_policies(server, tok):
    policy(server, tok, "lost", "enrollment",
           "losttoken_PW_length=7, losttoken_PW_contents=n, losttoken_valid=3")
    v, before, after = lost(server, tok, "LP1")
    assert len(v["password"]) == 7 and set(v["password"]) <= set(string.digits)
    assert end_date_ok(v, 3, before, after)
    assert not end_date_ok(v, 10, before, after)
    info = ok(server.get("/token/", params={"serial": "lostLP1"}, token=tok))["tokens"][0]["info"]
    assert info["validity_period_end"] == v["end_date"]
    assert ok(server.post("/validate/check", data={"serial": "lostLP1", "pass": "pin" + v["password"]})) is True
    # the lost-token alphabet: C upper, c lower, s specials (any of them, none required)
    policy(server, tok, "lost", "enrollment", "losttoken_PW_length=31, losttoken_PW_contents=C")
    v, before, after = lost(server, tok, "LP2")
    assert len(v["password"]) == 31 and set(v["password"]) <= set(string.ascii_uppercase)
    assert end_date_ok(v, 10, before, after)
    policy(server, tok, "lost", "enrollment", "losttoken_PW_length=30, losttoken_PW_contents=cs")
    v, _, _ = lost(server, tok, "LP3")
    assert len(v["password"]) == 30 and set(v["password"]) <= set(string.ascii_lowercase + LOST_SPECIAL)
    # the policy matches the lost token's owner: a realm2 policy leaves bob (realm1) alone
    policy(server, tok, "lost", "enrollment", "losttoken_PW_length=5, losttoken_valid=60", realm="realm2")
    v, before, after = lost(server, tok, "LP4")
    assert len(v["password"]) == 16 and end_date_ok(v, 10, before, after)
    v, before, after = lost(server, tok, "LP5", user="dave", realm="realm2")
    assert len(v["password"]) == 5 and set(v["password"]) <= set(BASE58)
    assert end_date_ok(v, 60, before, after)


def test_losttoken_contents_without_class(server, tok):
    policy(server, tok, "lost", "enrollment", "losttoken_PW_contents=xyz")
    ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "LX1", "user": "bob",
                                        "realm": "realm1"}, token=tok))
    r = server.post("/token/lost/LX1", token=tok)
    assert r.status == 403 and r.error["code"] == 303
    assert r.error["message"] == \
        "The policy losttoken_PW_contents 'xyz' names no character class (C, c, n, s, 8)."
    # nothing changed
    assert token_row(server, "lostLX1") is None
    assert token_row(server, "LX1")["active"] == "1"


@pytest.mark.parametrize("action,message", [
    ("losttoken_PW_length=0",
     "The value of the action 'losttoken_PW_length' in the scope 'enrollment' must be between 1 and 31."),
    ("losttoken_PW_length=32",
     "The value of the action 'losttoken_PW_length' in the scope 'enrollment' must be between 1 and 31."),
    ("losttoken_PW_length=ten",
     "The action 'losttoken_PW_length' in the scope 'enrollment' needs an integer value, not 'ten'."),
    ("losttoken_valid=61",
     "The value of the action 'losttoken_valid' in the scope 'enrollment' must be between 1 and 60."),
    ("losttoken_valid", "The action 'losttoken_valid' in the scope 'enrollment' needs a value (losttoken_valid=...)."),
])
def test_losttoken_bad_policy_values(server, tok, action, message):
    bad_value(server.post("/policy/bad", data={"scope": "enrollment", "action": action}, token=tok), message)
    assert server.db_query("SELECT name FROM policy") == []


# ---- pinhandling ---------------------------------------------------------------------------------

def test_pinhandling(server, tok):
    policy(server, tok, "adminall", "admin", ADMIN_RIGHTS)
    policy(server, tok, "cont", "admin", "otp_pin_contents=[7]")
    policy(server, tok, "rnd", "enrollment", "otp_pin_random=9")
    # otp_pin_random without pinhandling: no handler runs
    ok(server.post("/token/init", data={"type": "spass", "serial": "PH0", "user": "alice", "realm": "realm1"},
                   token=tok))
    assert ok(server.post("/validate/check", data={"serial": "PH0", "pass": "777777777"})) is True
    assert "PinHandler" not in server.log_text()
    # with it: the base handler writes log lines naming the token and the user, never the PIN
    policy(server, tok, "ph", "enrollment", "pinhandling=" + HANDLER)
    ok(server.post("/token/init", data={"type": "spass", "serial": "PH1", "user": "alice", "realm": "realm1"},
                   token=tok))
    assert ok(server.post("/validate/check", data={"serial": "PH1", "pass": "777777777"})) is True
    log = server.log_text()
    lines = [ln.split("] ", 1)[1] for ln in log.splitlines() if "PinHandler" in ln]
    assert lines == ["PinHandler: handling the random PIN of the spass token PH1 of user alice@realm1",
                     "PinHandler: the token was enrolled by %s@" % server.admin_user]
    assert all("[INFO]" in ln for ln in log.splitlines() if "PinHandler" in ln)
    assert "777777777" not in log
    # several policies with the same handler: called once (privacyIDEA's action_values are the keys
    # of a dict); an enrollment without serial names "N/A", as privacyIDEA's handler gets the
    # request's serial
    policy(server, tok, "ph2", "enrollment", "pinhandling=" + HANDLER)
    ok(server.post("/token/init", data={"type": "hotp", "genkey": "1"}, token=tok))
    lines = [ln.split("] ", 1)[1] for ln in server.log_text().splitlines() if "PinHandler" in ln]
    assert lines[2:] == ["PinHandler: handling the random PIN of the hotp token N/A of user @",
                         "PinHandler: the token was enrolled by %s@" % server.admin_user]
    # pinhandling alone (no random PIN): no handler call
    ok(server.delete("/policy/rnd", token=tok))
    ok(server.post("/token/init", data={"type": "spass", "serial": "PH2", "pin": "777"}, token=tok))
    assert len([ln for ln in server.log_text().splitlines() if "PinHandler" in ln]) == 4


def test_pinhandling_policy_values(server, tok):
    bad_value(server.post("/policy/bad", data={"scope": "enrollment", "action": "pinhandling=foo.bar.Handler"},
                          token=tok),
              "The value 'foo.bar.Handler' is not allowed for the action 'pinhandling' in the scope 'enrollment'.")
    bad_value(server.post("/policy/bad", data={"scope": "enrollment",
                                               "action": "pinhandling=%s my.Other" % HANDLER}, token=tok),
              "The value 'my.Other' is not allowed for the action 'pinhandling' in the scope 'enrollment'.")
    assert server.db_query("SELECT name FROM policy") == []
    ok(server.post("/policy/good", data={"scope": "enrollment", "action": "pinhandling=" + HANDLER}, token=tok))
    d = ok(server.get("/policy/defs/enrollment", token=tok))["pinhandling"]
    assert d["type"] == "str" and d["value"] == [HANDLER]


# ---- pw.length / pw.contents, registration.length / registration.contents -----------------------

def test_pw_and_registration_defaults(server, tok):
    """Without policies: a pw password of 12 letters/digits, a registration code of 24; a length
    or contents the client sends is replaced by the defaults (privacyIDEA's init_token_length_contents)."""
    assert ok(server.post("/token/init", data={"type": "pw", "genkey": "1", "serial": "PWD1", "pw.length": "5",
                                               "pw.contents": "[x]"}, token=tok)) is True
    r = server.post("/token/init", data={"type": "pw", "genkey": "1", "serial": "PWD2"}, token=tok)
    ok(r)
    p1 = server.get("/token/", params={"serial": "PWD1"}, token=tok).value["tokens"][0]
    assert p1["otplen"] == 12
    code = ok_detail(server.post("/token/init", data={"type": "registration", "serial": "REGD1",
                                                      "registration.length": "3"}, token=tok))["registrationcode"]
    assert len(code) == 24 and set(code) <= set(string.ascii_letters + string.digits), code
    pwd = ok_detail(r)["password"]
    assert len(pwd) == 12 and set(pwd) <= set(string.ascii_letters + string.digits), pwd
    # both classes are required by "cn": one letter and one digit at least
    assert any(c.isdigit() for c in pwd) and any(c.isalpha() for c in pwd), pwd


def ok_detail(r):
    ok(r)
    return r.body["detail"]


def test_pw_and_registration_policies(server, tok):
    policy(server, tok, "pwlen", "enrollment", "pw.length=20, pw.contents=[AB]")
    policy(server, tok, "reglen", "enrollment", "registration.length=7, registration.contents=-cs")
    r = server.post("/token/init", data={"type": "pw", "genkey": "1", "serial": "PWP1", "user": "alice",
                                         "realm": "realm1"}, token=tok)
    pwd = ok_detail(r)["password"]
    assert len(pwd) == 20 and set(pwd) <= {"A", "B"}, pwd
    assert server.get("/token/", params={"serial": "PWP1"}, token=tok).value["tokens"][0]["otplen"] == 20
    code = ok_detail(server.post("/token/init", data={"type": "registration", "serial": "REGP1", "user": "bob",
                                                      "realm": "realm1"}, token=tok))["registrationcode"]
    # "-cs": letters and specials denied, so digits only (the PIN contents syntax)
    assert len(code) == 7 and code.isdigit(), code
    # the code authenticates bob once (the token deletes itself)
    r = server.post("/validate/check", data={"user": "bob", "realm": "realm1", "pass": code})
    assert r.value is True, r.body
    assert server.db_query("SELECT serial FROM token WHERE serial = 'REGP1'") == []
    # the policy applies to its realm only: dave (realm2) gets the policy of realm2 = the defaults
    ok(server.post("/policy/reglen", data={"scope": "enrollment", "realm": "realm1",
                                           "action": "registration.length=7, registration.contents=-cs"},
                   token=tok))
    code = ok_detail(server.post("/token/init", data={"type": "registration", "serial": "REGP2", "user": "dave",
                                                      "realm": "realm2"}, token=tok))["registrationcode"]
    assert len(code) == 24, code


def test_pw_contents_bad_specifier_is_a_policy_error(server, tok):
    """A contents value that is no PIN-policy specifier cannot be generated: 403/303, nothing stored."""
    policy(server, tok, "pwbad", "enrollment", "pw.contents=xyz")
    r = server.post("/token/init", data={"type": "pw", "genkey": "1", "serial": "PWB1"}, token=tok)
    assert r.status == 403 and r.error["code"] == 303, r
    assert r.error["message"] == "Unknown character specifier in PIN policy.", r.error
    assert server.db_query("SELECT serial FROM token WHERE serial = 'PWB1'") == []


@pytest.mark.parametrize("action, message", [
    ("pw.length=0", "The value of the action 'pw.length' in the scope 'enrollment' must be between 1 and 31."),
    ("registration.length=32",
     "The value of the action 'registration.length' in the scope 'enrollment' must be between 1 and 31."),
])
def test_pw_length_bad_policy_values(server, tok, action, message):
    bad_value(server.post("/policy/bad", data={"scope": "enrollment", "action": action}, token=tok), message)
    assert server.db_query("SELECT name FROM policy") == []
