"""Policies of POST /auth and GET /auth/rights (src/api/auth.c, src/lib/login.c): webui
login_mode (userstore | privacyIDEA: PIN+OTP through the token check | disable: PolicyError),
the Web UI settings privacyIDEA's get_webui_settings returns, the rights (ui_get_rights, in the
answer and in the JWT) and main menus (ui_get_main_menus) from the policy engine, and the
enrollable token types (ui_get_enroll_tokentypes).  Defaults without policies and the changed
values with them, exact values.

References: ../shared/spec/policies_events.md §1.8 "Scope webui" and "WebUI settings returned by
POST /auth", privacyIDEA 3.8 api/lib/postpolicy.py get_webui_settings, lib/policydecorators.py
login_mode, lib/policy.py ui_get_rights / ui_get_main_menus / ui_get_enroll_tokentypes.
"""
import base64
import json
import subprocess

import pytest

from token_helpers import hotp

KEY = "3132333435363738393031323334353637383930"
TEMPLATE_URL = "https://raw.githubusercontent.com/privacyidea/policy-templates/master/templates/"
ALL_MENUS = ["audit", "config", "machines", "users", "components", "tokens"]


def ok(r):
    assert r.status == 200 and r.result["status"] is True, (r.status, r.error)
    return r.value


def crypt_line(login, password, uid):
    h = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                       check=True).stdout.strip()
    return "%s:%s:%d:%d:%s User,,,:/home/%s:/bin/sh\n" % (login, h, uid, uid, login.title(), login)


@pytest.fixture
def tok(server, tmp_path_factory):
    """Admin JWT; realm1 (default) with alice/bob, realm2 with dave (passwords <name>-pw); no
    policy and no token left over."""
    for (name,) in server.db_query("SELECT name FROM policy"):
        server.cli("policy", "delete", name)
    t = server.login()
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
    """Created with the CLI (not subject to the admin's rights)."""
    d = {"name": name, "scope": scope, "action": action}
    d.update(extra)
    path = server.dir / ("pol-%s.py" % name)
    path.write_text(repr(d))
    server.cli("policy", "create", name, scope, action, str(path))


def auth(server, username, password, **extra):
    data = {"username": username, "password": password}
    data.update(extra)
    return server.post("/auth", data=data)


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def defs(server, tok, scope):
    return ok(server.get("/policy/defs/" + scope, token=tok))


# ---- login_mode -------------------------------------------------------------------------------

def test_login_mode_userstore_default(server, tok):
    v = ok(auth(server, "alice", "alice-pw"))
    assert (v["role"], v["username"], v["realm"]) == ("user", "alice", "realm1")
    r = auth(server, "alice", "wrong")
    assert r.status == 401 and r.error["message"] == "Authentication failure. Wrong credentials"
    policy(server, tok, "lm", "webui", "login_mode=userstore")
    ok(auth(server, "alice", "alice-pw"))


def test_login_mode_privacyidea(server, tok):
    ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": "LM1", "user": "alice",
                                        "pin": "1234"}, token=tok))
    policy(server, tok, "lm", "webui", "login_mode=privacyIDEA")
    # the user-store password no longer works
    r = auth(server, "alice", "alice-pw")
    assert r.status == 401 and r.error["message"] == "Authentication failure. Wrong credentials"
    # PIN + OTP through the token check; the counter moves on (no replay)
    v = ok(auth(server, "alice", "1234" + hotp(KEY, 1)))
    assert (v["role"], v["username"], v["realm"]) == ("user", "alice", "realm1")
    assert jwt_claims(v["token"])["authtype"] == "password"
    assert auth(server, "alice", "1234" + hotp(KEY, 1)).status == 401
    assert server.db_query("SELECT \"count\" FROM token WHERE serial = 'LM1'") == [("2",)]
    # a user without tokens cannot log in; local admins are not affected
    assert auth(server, "bob", "bob-pw").status == 401
    ok(auth(server, server.admin_user, server.admin_password))


def test_login_mode_disable(server, tok):
    policy(server, tok, "lm", "webui", "login_mode=disable", realm="realm1")
    r = auth(server, "alice", "alice-pw")
    assert r.status == 403 and r.error == {"code": 303, "message": "The login for this user is disabled."}
    # refused before the password is looked at
    r = auth(server, "alice", "wrong")
    assert r.status == 403 and r.error["code"] == 303
    # another realm's users and local admins log in
    ok(auth(server, "dave@realm2", "dave-pw"))
    ok(auth(server, server.admin_user, server.admin_password))


# ---- webui settings ----------------------------------------------------------------------------

WEBUI_DEFAULTS = {
    "logout_time": 120, "audit_page_size": 10, "token_page_size": 15, "user_page_size": 15,
    "policy_template_url": TEMPLATE_URL, "default_tokentype": "hotp", "user_details": False,
    "token_wizard": False, "token_wizard_2nd": False, "admin_dashboard": False, "dialog_no_token": False,
    "search_on_enter": False, "timeout_action": "lockscreen", "token_rollover": {}, "hide_welcome": False,
    "hide_buttons": False, "show_seed": False, "show_node": "", "qr_image_android": None, "qr_image_ios": None,
    "qr_image_custom": None, "logout_redirect_url": "", "require_description": [],
}


def webui(v):
    return {k: v[k] for k in WEBUI_DEFAULTS}


def test_webui_defaults(server, tok):
    assert webui(ok(auth(server, "alice", "alice-pw"))) == WEBUI_DEFAULTS
    assert webui(ok(auth(server, server.admin_user, server.admin_password))) == WEBUI_DEFAULTS


def test_webui_values(server, tok):
    policy(server, tok, "w1", "webui",
           "logout_time=300, token_page_size=20, user_page_size=25, audit_page_size=30, timeout_action=logout, "
           "default_tokentype=totp, hide_welcome_info, hide_buttons, show_seed, user_details, search_on_enter, "
           "token_rollover=hotp totp, logout_redirect=https://sso.example.com/out, tokenwizard, "
           "tokenwizard_2nd_token, dialog_no_token, admin_dashboard", realm="realm1")
    # policy_template_url is matched by action only: the realm of the policy does not matter
    policy(server, tok, "w2", "webui", "policy_template_url=https://templates.example.com/", realm="realm2")
    v = ok(auth(server, "alice", "alice-pw"))
    expect = dict(WEBUI_DEFAULTS, logout_time=300, token_page_size=20, user_page_size=25, audit_page_size=30,
                  timeout_action="logout", default_tokentype="totp", hide_welcome=True, hide_buttons=True,
                  show_seed=True, user_details=True, search_on_enter=True,
                  token_rollover={"hotp": ["w1"], "totp": ["w1"]},
                  logout_redirect_url="https://sso.example.com/out", policy_template_url="https://templates.example.com/",
                  token_wizard=True, token_wizard_2nd=True, dialog_no_token=True)
    assert webui(v) == expect
    # the wizard and the dialog only while the user has no token; the dashboard only for admins
    ok(server.post("/token/init", data={"type": "spass", "serial": "WU1", "user": "alice"}, token=tok))
    v = ok(auth(server, "alice", "alice-pw"))
    assert (v["token_wizard"], v["dialog_no_token"], v["token_wizard_2nd"], v["admin_dashboard"]) == \
        (False, False, True, False)
    # the local admin is matched with the default realm (realm1)
    v = ok(auth(server, server.admin_user, server.admin_password))
    assert webui(v) == dict(expect, token_wizard=False, token_wizard_2nd=False, dialog_no_token=False,
                            admin_dashboard=True)
    # a user of realm2 gets the defaults (but the action-only template URL)
    v = ok(auth(server, "dave@realm2", "dave-pw"))
    assert webui(v) == dict(WEBUI_DEFAULTS, policy_template_url="https://templates.example.com/")


def test_webui_user_match(server, tok):
    policy(server, tok, "w1", "webui", "logout_time=500", user="alice")
    policy(server, tok, "w2", "webui", "show_android_privacyidea_authenticator", user="bob")
    assert ok(auth(server, "alice", "alice-pw"))["logout_time"] == 500
    v = ok(auth(server, "bob", "bob-pw"))
    assert v["logout_time"] == 120
    assert v["qr_image_android"].startswith("data:image/png;base64,")
    assert ok(auth(server, "alice", "alice-pw"))["qr_image_android"] is None


# ---- rights and menus --------------------------------------------------------------------------

def test_rights_default(server, tok):
    v = ok(auth(server, server.admin_user, server.admin_password))
    assert sorted(v["rights"]) == sorted(defs(server, tok, "admin"))
    assert v["menus"] == ALL_MENUS
    assert jwt_claims(v["token"])["rights"] == v["rights"]
    v = ok(auth(server, "alice", "alice-pw"))
    assert sorted(v["rights"]) == sorted(defs(server, tok, "user"))
    assert v["menus"] == ["audit", "users", "tokens"]


def test_rights_restricted_admin(server, tok):
    policy(server, tok, "adm", "admin", "enrollHOTP, tokenlist, auditlog, hotp_otplen=8")
    policy(server, tok, "other", "admin", "resolverwrite, policywrite", adminuser="someoneelse")
    v = ok(auth(server, server.admin_user, server.admin_password))
    assert sorted(v["rights"]) == ["auditlog", "enrollHOTP", "hotp_otplen", "hotp_otplen=8", "tokenlist"]
    assert v["menus"] == ["audit", "tokens"]
    assert sorted(jwt_claims(v["token"])["rights"]) == sorted(v["rights"])
    # user rights are not affected by admin policies
    assert sorted(ok(auth(server, "alice", "alice-pw"))["rights"]) == sorted(defs(server, server.login(), "user"))


def test_rights_user_policies(server, tok):
    policy(server, tok, "u1", "user", "enrollTOTP, userlist", realm="realm1")
    policy(server, tok, "u2", "user", "auditlog", user="bob")
    v = ok(auth(server, "alice", "alice-pw"))
    assert sorted(v["rights"]) == ["enrollTOTP", "userlist"]
    assert v["menus"] == ["users", "tokens"]
    v = ok(auth(server, "bob", "bob-pw"))
    assert sorted(v["rights"]) == ["auditlog", "enrollTOTP", "userlist"]
    assert v["menus"] == ["audit", "users", "tokens"]
    v = ok(auth(server, "dave@realm2", "dave-pw"))
    assert v["rights"] == [] and v["menus"] == []


# ---- GET /auth/rights --------------------------------------------------------------------------

def test_auth_rights_types(server, tok):
    everything = ok(server.get("/auth/rights", token=tok))
    assert {"hotp", "totp", "spass"} <= set(everything)
    ut = ok(auth(server, "alice", "alice-pw"))["token"]
    user_default = ok(server.get("/auth/rights", token=ut))
    assert "hotp" in user_default
    policy(server, tok, "adm", "admin", "enrollHOTP, enrollSPASS, tokenlist")
    t = server.login()
    assert ok(server.get("/auth/rights", token=t)) == {k: everything[k] for k in ("hotp", "spass")}
    policy(server, tok, "u1", "user", "enrollTOTP", realm="realm1")
    assert ok(server.get("/auth/rights", token=ut)) == {"totp": user_default["totp"]}
    dt = ok(auth(server, "dave@realm2", "dave-pw"))["token"]
    assert ok(server.get("/auth/rights", token=dt)) == {}
