"""Admin and user rights on every endpoint (src/api/guard.c, the action column of
src/api/routes.c) and realm-restricted admins.

- docs/rights.md is `tessera routes` under a short header (they cannot diverge).
- The table walk: for every route with an action, an admin (or user) policy granting everything
  except that action gives 403 / PolicyError 303 with privacyIDEA's message; granting it lifts the
  403.  Routes without an action are listed here as intentionally unchecked, so a new route
  without an action fails this test until it is looked at.
- The realm matrix: an admin restricted to realm A (policy adminuser=admin, realm=realma,
  action=*) gets 403/303 on every endpoint for realm B's tokens and users, and nothing changes in
  the database; on realm A the same calls work; GET /token/, /user/, /realm/ and
  /token/challenges show realm A only.

References: ../shared/spec/policies_events.md §1.3-1.5 (check_base_action, "*, -x"),
../shared/spec/matrix.md (actions per endpoint), docs/compatibility.md ("Policies").
"""
import ast
import os
import sqlite3
import subprocess

import pytest

from harness import REPO, ProtocolError
from token_helpers import hotp

POLICY_MSG = "%s actions are defined, but the action %s is not allowed!"
ENROLL_MSG = {"admin": "Admin actions are defined, but you are not allowed to enroll this token type!",
              "user": "User actions are defined, you are not allowed to enroll this token type!"}
UPLOAD_MSG = "Admin actions are defined, but you are not allowed to upload token files."
KEY = "3132333435363738393031323334353637383930"
KEY_B = "4142434445464748494a4b4c4d4e4f5051525354"  # RB1's, for /token/getserial
SQL_MAP = ('{"userid": "id", "username": "login", "givenname": "given", "surname": "sur", '
           '"email": "mail", "phone": "tel", "mobile": "mob", "password": "pw"}')

# Routes whose row names no action, on purpose (privacyIDEA checks none there either, or they
# are unauthenticated).  A route missing here and in the action column fails test_table_walk.
UNCHECKED = {
    "POST /auth", "GET /auth/rights",
    "GET /healthz", "GET /healthz/livez", "GET /healthz/startupz", "GET /healthz/readyz",
    "GET /realm/", "GET /realm/superuser", "GET /defaultrealm",
    "GET /validate/check", "POST /validate/check", "GET /validate/samlcheck", "POST /validate/samlcheck",
    "GET /validate/radiuscheck", "POST /validate/radiuscheck", "GET /validate/polltransaction",
    "GET /validate/polltransaction/<transaction_id>",
    "GET /system/gpgkeys", "GET /system/hsm", "GET /system/", "GET /system/<key>",
    "GET /policy/check", "GET /policy/defs", "GET /policy/defs/<scope>",
    "GET /caconnector/<caconnector>/crl", "POST /ocsp/<caconnector>", "GET /ocsp/<caconnector>/<ocsp_request*>",
}

# One minimal valid request per checked route: (path, params).  Parameters naming users, realms
# and tokens point at realm A's objects (the walk's policies have no realm).
WALK = {
    "GET /resolver/": ("/resolver/", {}),
    "POST /resolver/test": ("/resolver/test", {"type": "passwdresolver", "fileName": "{pwa}"}),
    "GET /resolver/<resolver>": ("/resolver/pwa", {}),
    "POST /resolver/<resolver>": ("/resolver/walkres", {"type": "passwdresolver", "fileName": "{pwa}"}),
    "DELETE /resolver/<resolver>": ("/resolver/nosuchres", {}),
    "POST /realm/<realm>": ("/realm/walkrealm", {"resolvers": "walkres"}),
    "DELETE /realm/<realm>": ("/realm/nosuchrealm", {}),
    "POST /defaultrealm/<realm>": ("/defaultrealm/realma", {}),
    "DELETE /defaultrealm": ("/defaultrealm", {}),
    "GET /user/": ("/user/", {"realm": "realma"}),
    "POST /user/": ("/user/", {"user": "walknew", "resolver": "sqla", "password": "Walk-pw1"}),
    "PUT /user/": ("/user/", {"user": "sqlann", "resolver": "sqla", "email": "walk@example.com"}),
    "GET /user/attribute": ("/user/attribute", {"user": "alice", "realm": "realma"}),
    "POST /user/attribute": ("/user/attribute", {"user": "alice", "realm": "realma", "key": "walk",
                                                 "value": "1"}),
    "GET /user/editable_attributes/": ("/user/editable_attributes/", {"user": "alice", "realm": "realma"}),
    "DELETE /user/attribute/<attrkey>/<username>/<realm>": ("/user/attribute/walk/alice/realma", {}),
    "DELETE /user/<resolvername>/<username>": ("/user/sqla/nosuchuser", {}),
    "POST /token/init": ("/token/init", {"type": "hotp", "otpkey": KEY, "serial": "WALKINIT"}),
    "GET /token/challenges/": ("/token/challenges/", {}),
    "GET /token/challenges/<serial>": ("/token/challenges/WALK1", {}),
    "POST /token/assign": ("/token/assign", {"serial": "WALK2", "user": "amy", "realm": "realma"}),
    "POST /token/unassign": ("/token/unassign", {"serial": "WALK1"}),
    "POST /token/revoke": ("/token/revoke", {"serial": "WALK1"}),
    "POST /token/revoke/<serial>": ("/token/revoke/WALK1", {}),
    "POST /token/enable": ("/token/enable", {"serial": "WALK1"}),
    "POST /token/enable/<serial>": ("/token/enable/WALK1", {}),
    "POST /token/disable": ("/token/disable", {"serial": "WALK1"}),
    "POST /token/disable/<serial>": ("/token/disable/WALK1", {}),
    "POST /token/reset": ("/token/reset", {"serial": "WALK1"}),
    "POST /token/reset/<serial>": ("/token/reset/WALK1", {}),
    "POST /token/resync": ("/token/resync", {"serial": "WALK1", "otp1": "359152", "otp2": "969429"}),
    "POST /token/resync/<serial>": ("/token/resync/WALK1", {"otp1": "359152", "otp2": "969429"}),
    "POST /token/setpin": ("/token/setpin", {"serial": "WALK1", "otppin": "walk-1234"}),
    "POST /token/setpin/<serial>": ("/token/setpin/WALK1", {"otppin": "walk-1234"}),
    "POST /token/setrandompin": ("/token/setrandompin", {"serial": "WALK1"}),
    "POST /token/setrandompin/<serial>": ("/token/setrandompin/WALK1", {}),
    "POST /token/description": ("/token/description", {"serial": "WALK1", "description": "walk"}),
    "POST /token/description/<serial>": ("/token/description/WALK1", {"description": "walk"}),
    "POST /token/set": ("/token/set", {"serial": "WALK1", "count_window": "20"}),
    "POST /token/set/<serial>": ("/token/set/WALK1", {"count_window": "20"}),
    "POST /token/realm/<serial>": ("/token/realm/WALK1", {"realms": "realma"}),
    "POST /token/load/<filename>": ("/token/load/walk.csv", {"type": "oathcsv", "file": "WALKIMP, " + KEY}),
    "POST /token/copypin": ("/token/copypin", {"from": "WALK1", "to": "WALK2"}),
    "POST /token/copyuser": ("/token/copyuser", {"from": "WALK1", "to": "WALK2"}),
    "POST /token/lost/<serial>": ("/token/lost/WALK1", {}),
    "GET /token/getserial/<otp>": ("/token/getserial/123456", {}),
    "POST /token/info/<serial>/<key>": ("/token/info/WALK1/walkkey", {"value": "v"}),
    "DELETE /token/info/<serial>/<key>": ("/token/info/WALK1/walkkey", {}),
    "DELETE /token/<serial>": ("/token/WALK1", {}),
    "GET /validate/triggerchallenge": ("/validate/triggerchallenge", {"user": "alice", "realm": "realma"}),
    "POST /validate/triggerchallenge": ("/validate/triggerchallenge", {"user": "alice", "realm": "realma"}),
    "GET /system/documentation": ("/system/documentation", {}),
    "POST /system/hsm": ("/system/hsm", {"password": "walk"}),
    "GET /system/random": ("/system/random", {"len": "8"}),
    "GET /system/names/radius": ("/system/names/radius", {}),
    "GET /system/names/caconnector": ("/system/names/caconnector", {}),
    "POST /system/setConfig": ("/system/setConfig", {"walk_key": "1"}),
    "POST /system/setDefault": ("/system/setDefault", {"DefaultMaxFailCount": "10"}),
    "DELETE /system/<key>": ("/system/walk_key", {}),
    "GET /policy/": ("/policy/", {}),
    "GET /policy/export/<export>": ("/policy/export/walk.cfg", {}),
    "POST /policy/import/<filename>": ("/policy/import/walk.cfg", {"file": "[walkimp]\nscope = 'webui'\n"
                                                                           "action = 'login_mode=privacyIDEA'\n"}),
    "POST /policy/enable/<name>": ("/policy/enable/nosuchpol", {}),
    "POST /policy/disable/<name>": ("/policy/disable/nosuchpol", {}),
    "GET /policy/<name>": ("/policy/nosuchpol", {}),
    "POST /policy/<name>": ("/policy/walkpol", {"scope": "enrollment", "action": "tokenlabel=walk",
                                                "realm": ""}),
    "DELETE /policy/<name>": ("/policy/nosuchpol", {}),
    "GET /caconnector/": ("/caconnector/", {}),
    "GET /caconnector/specific/<catype>": ("/caconnector/specific/local", {}),
    "GET /caconnector/<caconnector>/requests": ("/caconnector/nosuchca/requests", {}),
    "POST /caconnector/<caconnector>/requests/<request_id>/approve":
        ("/caconnector/nosuchca/requests/1/approve", {}),
    "POST /caconnector/<caconnector>/requests/<request_id>/reject":
        ("/caconnector/nosuchca/requests/1/reject", {}),
    "GET /caconnector/<caconnector>": ("/caconnector/nosuchca", {}),
    "POST /caconnector/<caconnector>": ("/caconnector/walkca", {"type": "local"}),
    "DELETE /caconnector/<caconnector>": ("/caconnector/nosuchca", {}),
}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def routes_output(server):
    return server.cli("routes", config=False).stdout


def route_table(server):
    """[(method, pattern, role, action, note)] parsed from `tessera routes`."""
    rows = []
    for line in routes_output(server).splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, line
        method, path, role, action, _event, note = cells
        rows.append((method, path.strip("`"), role, None if action == "—" else action, note))
    return rows


def crypt_line(login, password, uid):
    h = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                       check=True).stdout.strip()
    return "%s:%s:%d:%d:%s,,,,%s@example.com:/home/%s:/bin/sh\n" % (login, h, uid, uid, login, login, login)


def sql_userdb(path, login):
    con = sqlite3.connect(str(path))
    con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, login TEXT UNIQUE, "
                "given TEXT, sur TEXT, mail TEXT, tel TEXT, mob TEXT, pw TEXT)")
    con.execute("INSERT INTO users (login, given, mail) VALUES (?, ?, ?)", (login, login, login + "@example.com"))
    con.commit()
    con.close()
    return str(path)


def sql_rows(path):
    con = sqlite3.connect(str(path))
    try:
        return con.execute("SELECT id, login, given, mail FROM users ORDER BY id").fetchall()
    finally:
        con.close()


def ok(r):
    assert r.status == 200 and r.result["status"] is True, r
    return r.value


def denied(r, message):
    assert r.status == 403, r
    assert r.result["status"] is False, r
    assert r.error["code"] == 303, r
    assert r.error["message"] == message, r


_BOOL_ACTIONS = {}


def bool_actions(server, scope):
    """The boolean actions of a scope (/policy/defs, asked once per server while no policy
    restricts the admin)."""
    k = (id(server), server.pid, scope)
    if k not in _BOOL_ACTIONS:
        defs = ok(server.get("/policy/defs/" + scope, token=server.login()))
        _BOOL_ACTIONS[k] = sorted(a for a, d in defs.items() if d["type"] == "bool")
    return _BOOL_ACTIONS[k]


# The value actions endpoints check as rights, with the value granting everything.
VALUE_RIGHTS = {"set_custom_user_attributes": "set_custom_user_attributes=:*: *",
                "delete_custom_user_attributes": "delete_custom_user_attributes=*"}


def expand(server, scope, action):
    """Tessera validates policy actions, so "*" and "-x" cannot be stored (docs/compatibility.md):
    "*" → every boolean action of the scope (and VALUE_RIGHTS), "*, -x" → all of them but x."""
    every = bool_actions(server, scope) + sorted(VALUE_RIGHTS)
    if action == "*":
        return [VALUE_RIGHTS.get(a, a) for a in every]
    if action.startswith("*, -"):
        x = action[4:]
        assert x in every, x
        return [VALUE_RIGHTS.get(a, a) for a in every if a != x]
    return [action]


def policy(server, name, scope, action, **fields):
    """Create policies with the CLI (it is not subject to the admin's rights); a long action
    list is split over several policies (boolean actions add up)."""
    acts = expand(server, scope, action)
    chunks, cur = [], []
    for a in acts:
        if len(", ".join(cur + [a])) > 1500:
            chunks.append(cur)
            cur = []
        cur.append(a)
    chunks.append(cur)
    for i, chunk in enumerate(chunks):
        pname = name if i == 0 else "%s-%d" % (name, i)
        text = ", ".join(chunk)
        path = server.dir / ("pol-%s.py" % pname)
        d = {"name": pname, "scope": scope, "action": text}
        d.update(fields)
        path.write_text(repr(d))
        server.cli("policy", "create", pname, scope, text, str(path))


def clear_policies(server):
    for (name,) in server.db_query("SELECT name FROM policy"):
        server.cli("policy", "delete", name)


class Plain:
    """A 200 answer that is not a JSON envelope (documentation, export): never a denial."""
    status = 200


def call(server, method, path, params, tok):
    try:
        if method in ("GET", "DELETE"):
            return server.request(method, path, params=params, token=tok)
        return server.request(method, path, data=params, token=tok)
    except ProtocolError as e:
        if "Response 200" not in str(e):
            raise
        return Plain()


def db_state(server, world):
    """What the realm matrix must leave untouched."""
    tokens = server.db_query("SELECT serial, active, revoked, description, count_window, pin_hash, "
                             "failcount, otplen FROM token ORDER BY serial")
    owners = server.db_query("SELECT t.serial, o.user_id, o.resolver, o.realm_id FROM tokenowner o "
                             "JOIN token t ON t.id = o.token_id ORDER BY t.serial")
    realms = server.db_query("SELECT t.serial, r.name FROM tokenrealm tr JOIN token t ON t.id = tr.token_id "
                             "JOIN realm r ON r.id = tr.realm_id ORDER BY t.serial, r.name")
    info = server.db_query("SELECT t.serial, i.\"Key\", i.\"Value\" FROM tokeninfo i JOIN token t "
                           "ON t.id = i.token_id ORDER BY t.serial, i.\"Key\"")
    attrs = server.db_query("SELECT user_id, resolver, realm_id, \"Key\", \"Value\" FROM customuserattribute "
                            "ORDER BY user_id, \"Key\"")
    return (tokens, owners, realms, info, attrs, sql_rows(world["sqla"]), sql_rows(world["sqlb"]))


# ------------------------------------------------------------------------------------------------
# fixtures: realm A (passwd pwa + SQL sqla) and realm B (passwd pwb + SQL sqlb)
# ------------------------------------------------------------------------------------------------
_WORLDS = {}


@pytest.fixture
def world(server):
    """Created once per server process (the server fixture may replace a dead server)."""
    k = (id(server), server.pid)
    if k not in _WORLDS:
        _WORLDS[k] = _make_world(server)
    return _WORLDS[k]


def _make_world(server):
    d = server.dir / "rights"
    d.mkdir(exist_ok=True)
    pwa = d / "pwa"
    pwa.write_text(crypt_line("alice", "alice-pw", 2001) + crypt_line("amy", "amy-pw", 2002))
    pwb = d / "pwb"
    pwb.write_text(crypt_line("bob", "bob-pw", 3001) + crypt_line("bert", "bert-pw", 3002))
    os.chmod(pwa, 0o644)
    os.chmod(pwb, 0o644)
    w = {"pwa": str(pwa), "pwb": str(pwb), "sqla": sql_userdb(d / "sqla.db", "sqlann"),
         "sqlb": sql_userdb(d / "sqlb.db", "sqlbob")}
    tok = server.login()
    clear_policies(server)
    for name in ("pwa", "pwb"):
        ok(server.post("/resolver/" + name, data={"type": "passwdresolver", "fileName": w[name]}, token=tok))
    for name in ("sqla", "sqlb"):
        ok(server.post("/resolver/" + name, json_body={
            "type": "sqlresolver", "Driver": "sqlite", "Database": w[name], "Table": "users", "Map": SQL_MAP,
            "Editable": "1", "Password_Hash_Type": "SSHA256"}, token=tok))
    ok(server.post("/realm/realma", data={"resolvers": "pwa, sqla"}, token=tok))
    ok(server.post("/realm/realmb", data={"resolvers": "pwb, sqlb"}, token=tok))
    return w


@pytest.fixture
def fresh(server, world):
    """No policy; realm A the default; the tokens RA1 (alice@A), RA2 (sqlann@A), RB1 (bob@B),
    RB2 (in realm B, no owner), WALK1 (alice@A), WALK2 (no owner, no realm); no challenges."""
    clear_policies(server)
    tok = server.login()
    ok(server.post("/defaultrealm/realma", token=tok))
    for name in ("walkrealm",):
        server.delete("/realm/" + name, token=tok)
    for name in ("walkres",):
        server.delete("/resolver/" + name, token=tok)
    for (serial,) in server.db_query("SELECT serial FROM token"):
        ok(server.delete("/token/" + serial, token=tok))
    server.db_query("DELETE FROM challenge")
    for name, login in (("sqla", "sqlann"), ("sqlb", "sqlbob")):  # users the walk added
        con = sqlite3.connect(world[name])
        con.execute("DELETE FROM users WHERE login <> ?", (login,))
        con.execute("UPDATE users SET mail = ?, given = ? WHERE login = ?", (login + "@example.com", login, login))
        con.commit()
        con.close()
    server.db_query("DELETE FROM customuserattribute")
    for serial, user, realm in (("RA1", "alice", "realma"), ("RA2", "sqlann", "realma"),
                                ("RB1", "bob", "realmb"), ("WALK1", "alice", "realma")):
        ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY_B if serial == "RB1" else KEY,
                                            "serial": serial, "user": user, "realm": realm, "pin": "pin"},
                       token=tok))
    for serial in ("RB2", "WALK2"):
        ok(server.post("/token/init", data={"type": "hotp", "otpkey": KEY, "serial": serial}, token=tok))
    ok(server.post("/token/realm/RB2", data={"realms": "realmb"}, token=tok))
    for (login, realm) in (("alice", "realma"), ("bob", "realmb")):
        ok(server.post("/user/attribute", data={"user": login, "realm": realm, "key": "k", "value": "v"},
                       token=tok))
    # one challenge per token
    for i, serial in enumerate(("RA1", "RB1", "RB2")):
        server.db_query("INSERT INTO challenge (transaction_id, serial, data, challenge, \"session\", "
                        "\"timestamp\", expiration) VALUES ('tx%d', '%s', '', '', '', "
                        "'2026-01-01 00:00:00.000000', '2099-01-01 00:00:00.000000')" % (i, serial))
    yield tok
    clear_policies(server)


# ------------------------------------------------------------------------------------------------
# docs/rights.md
# ------------------------------------------------------------------------------------------------
def test_rights_md_is_tessera_routes(server):
    out = routes_output(server)
    doc = (REPO / "docs" / "rights.md").read_text(encoding="utf-8")
    assert doc.endswith(out), "docs/rights.md differs from `tessera routes`: regenerate it"
    header = doc[:len(doc) - len(out)]
    assert header.startswith("# ") and "|" not in header
    lines = out.splitlines()
    assert lines[0] == "| Method | Path | Role | Action checked | Event | Checked in the handler |"
    assert "| POST | `/token/realm/<serial>` | admin | tokenrealms | token_realm | tokenrealms for every new " \
           "realm too |" in lines
    assert server.cli("routes", "extra", config=False, check=False).returncode == 1


def test_every_route_is_checked_or_listed(server):
    keys = set()
    for method, path, role, action, note in route_table(server):
        key = "%s %s" % (method, path)
        keys.add(key)
        if action is None:
            assert key in UNCHECKED, "route %s checks no action: give it one or list it in UNCHECKED" % key
        else:
            assert key not in UNCHECKED, key
            if not action.startswith("filter:"):
                assert key in WALK, "route %s has no request in WALK" % key
        if role == "none":
            assert action is None, key
    assert UNCHECKED <= keys and set(WALK) <= keys  # nothing stale


# ------------------------------------------------------------------------------------------------
# a) the table walk
# ------------------------------------------------------------------------------------------------
def expected_denial(role, action):
    if action.startswith("enroll") and action[6:7].isupper():
        return ENROLL_MSG[role]
    if role == "admin" and action == "importtokens":
        return UPLOAD_MSG
    return POLICY_MSG % (role.capitalize(), action)


def walk_rows(server, role):
    for method, path, rrole, action, _note in route_table(server):
        if action is None or action.startswith("filter:") or rrole == "none":
            continue
        if role == "user" and (rrole != "admin, user" or action.startswith("admin:")):
            continue
        yield method, path, action.replace("admin:", "").replace("<TYPE>", "HOTP")


def test_table_walk_admin(server, world, fresh):
    checked = 0
    for method, pattern, action in walk_rows(server, "admin"):
        key = "%s %s" % (method, pattern)
        path, params = WALK[key]
        params = {k: v.format(**world) for k, v in params.items()}
        clear_policies(server)
        policy(server, "walk", "admin", "*, -" + action)
        tok = server.login()
        r = call(server, method, path, params, tok)
        assert r.status == 403, (key, r)
        assert r.error["code"] == 303 and r.error["message"] == expected_denial("admin", action), (key, r)
        clear_policies(server)
        policy(server, "walk", "admin", "*")
        r = call(server, method, path, params, tok)
        assert r.status != 403, (key, r)
        checked += 1
        # the objects this request may have changed, for the next one
        if method != "GET":
            clear_policies(server)
            _restore(server, server.login())
    assert checked >= 70


def _restore(server, tok):
    ok(server.post("/defaultrealm/realma", token=tok))
    for serial, user in (("WALK1", "alice"), ("WALK2", None)):
        server.delete("/token/" + serial, token=tok)
        data = {"type": "hotp", "otpkey": KEY, "serial": serial}
        if user:
            data.update(user=user, realm="realma")
        ok(server.post("/token/init", data=data, token=tok))


def test_table_walk_user(server, world, fresh):
    checked = 0
    never = []
    for method, pattern, action in walk_rows(server, "user"):
        key = "%s %s" % (method, pattern)
        path, params = WALK[key]
        params = {k: v.format(**world) for k, v in params.items() if k not in ("user", "realm")}
        clear_policies(server)
        tok = ok(server.post("/auth", data={"username": "alice", "password": "alice-pw"}))["token"]
        if action not in bool_actions(server, "user") + sorted(VALUE_RIGHTS):
            # checked in scope user but not a user action (privacyIDEA 3.8: losttoken): once user
            # policies exist, no policy can grant it
            policy(server, "walk", "user", "*")
            r = call(server, method, path, params, tok)
            assert r.status == 403 and r.error["message"] == expected_denial("user", action), (key, r)
            never.append(action)
            continue
        policy(server, "walk", "user", "*, -" + action)
        r = call(server, method, path, params, tok)
        assert r.status == 403, (key, r)
        assert r.error["code"] == 303 and r.error["message"] == expected_denial("user", action), (key, r)
        clear_policies(server)
        policy(server, "walk", "user", "*")
        r = call(server, method, path, params, tok)
        assert r.status != 403, (key, r)
        checked += 1
        if method != "GET":
            clear_policies(server)
            _restore(server, server.login())
    assert checked >= 20
    assert never == ["losttoken"]


def test_no_policy_no_restriction_and_list_filter(server, world, fresh):
    tok = fresh
    serials = [t["serial"] for t in ok(server.get("/token/", token=tok))["tokens"]]
    assert serials == ["RA1", "RA2", "RB1", "RB2", "WALK1", "WALK2"]
    # admin policies without tokenlist: the list is empty, not a 403 (privacyIDEA's tokenlist)
    policy(server, "notokenlist", "admin", "*, -tokenlist")
    v = ok(server.get("/token/", token=tok))
    assert v["tokens"] == [] and v["count"] == 0


# ------------------------------------------------------------------------------------------------
# b) the realm matrix
# ------------------------------------------------------------------------------------------------
# (method, path, params) acting on realm B's tokens or users; each must be 403/303.
REALM_B = [
    ("POST", "/token/enable", {"serial": "RB1"}, "enable"),
    ("POST", "/token/disable/RB1", {}, "disable"),
    ("POST", "/token/revoke", {"serial": "RB2"}, "revoke"),
    ("POST", "/token/reset", {"serial": "RB1"}, "reset"),
    ("POST", "/token/resync", {"serial": "RB1", "otp1": "359152", "otp2": "969429"}, "resync"),
    ("POST", "/token/setpin", {"serial": "RB1", "otppin": "x-1234"}, "setpin"),
    ("POST", "/token/setrandompin", {"serial": "RB2"}, "setrandompin"),
    ("POST", "/token/description/RB1", {"description": "x"}, "setdescription"),
    ("POST", "/token/set", {"serial": "RB2", "count_window": "30"}, "set"),
    ("POST", "/token/realm/RB2", {"realms": "realma"}, "tokenrealms"),       # the token's realm B
    ("POST", "/token/realm/RA1", {"realms": "realma, realmb"}, "tokenrealms"),  # a new realm B
    ("POST", "/token/assign", {"serial": "RB2", "user": "amy", "realm": "realma"}, "assign"),
    ("POST", "/token/assign", {"serial": "WALK2", "user": "bert", "realm": "realmb"}, "assign"),
    ("POST", "/token/unassign", {"serial": "RB1"}, "unassign"),
    ("POST", "/token/unassign", {"user": "bob", "realm": "realmb"}, "unassign"),
    ("POST", "/token/disable", {"user": "bob", "realm": "realmb"}, "disable"),
    ("POST", "/token/lost/RB1", {}, "losttoken"),
    ("POST", "/token/info/RB1/k", {"value": "v"}, "settokeninfo"),
    ("DELETE", "/token/info/RB1/k", {}, "settokeninfo"),
    ("DELETE", "/token/RB1", {}, "delete"),
    ("DELETE", "/token/RB2", {}, "delete"),
    ("POST", "/token/copypin", {"from": "RB1", "to": "RA1"}, "copytokenpin"),
    ("POST", "/token/copypin", {"from": "RA1", "to": "RB1"}, "copytokenpin"),
    ("POST", "/token/copyuser", {"from": "RB1", "to": "WALK2"}, "copytokenuser"),
    ("POST", "/token/init", {"type": "hotp", "otpkey": KEY, "serial": "NEWB", "user": "bob", "realm": "realmb"},
     "enrollHOTP"),
    ("POST", "/token/init", {"type": "hotp", "otpkey": KEY, "serial": "RB2"}, "enrollHOTP"),  # overwrite
    ("POST", "/token/init", {"type": "hotp", "otpkey": KEY, "serial": "NEWB", "realm": "realmb"}, "enrollHOTP"),
    ("POST", "/token/load/b.csv", {"type": "oathcsv", "file": "IMPB, " + KEY, "tokenrealms": "realmb"},
     "importtokens"),
    ("GET", "/token/challenges/RB1", {}, "getchallenges"),
    ("GET", "/validate/triggerchallenge", {"user": "bob", "realm": "realmb"}, "triggerchallenge"),
    ("POST", "/validate/triggerchallenge", {"serial": "RB1"}, "triggerchallenge"),
    ("GET", "/user/", {"realm": "realmb"}, "userlist"),
    ("POST", "/user/", {"user": "newb", "resolver": "sqlb", "password": "Newb-pw1"}, "adduser"),
    ("POST", "/user/", {"user": "newb", "resolver": "sqlb", "realm": "realma", "password": "Newb-pw1"},
     "adduser"),
    ("PUT", "/user/", {"user": "sqlbob", "resolver": "sqlb", "email": "x@example.com"}, "updateuser"),
    ("PUT", "/user/", {"user": "sqlbob", "resolver": "sqlb", "realm": "realma", "email": "x@example.com"},
     "updateuser"),
    ("DELETE", "/user/sqlb/sqlbob", {}, "deleteuser"),
    ("GET", "/user/attribute", {"user": "bob", "realm": "realmb"}, "userlist"),
    ("POST", "/user/attribute", {"user": "bob", "realm": "realmb", "key": "k", "value": "w"},
     "set_custom_user_attributes"),
    ("DELETE", "/user/attribute/k/bob/realmb", {}, "delete_custom_user_attributes"),
    ("GET", "/user/editable_attributes/", {"user": "bob", "realm": "realmb"}, "userlist"),
]

# The same kind of calls on realm A: they work.
REALM_A = [
    ("POST", "/token/enable", {"serial": "RA1"}),
    ("POST", "/token/disable/RA1", {}),
    ("POST", "/token/setpin", {"serial": "RA1", "otppin": "x-1234"}),
    ("POST", "/token/description/RA1", {"description": "x"}),
    ("POST", "/token/set", {"serial": "RA1", "count_window": "30"}),
    ("POST", "/token/realm/RA1", {"realms": "realma"}),
    ("POST", "/token/info/RA1/k", {"value": "v"}),
    ("POST", "/token/copypin", {"from": "RA1", "to": "WALK1"}),
    ("POST", "/token/assign", {"serial": "WALK2", "user": "amy", "realm": "realma"}),
    ("POST", "/token/disable", {"user": "alice", "realm": "realma"}),
    ("POST", "/token/init", {"type": "hotp", "otpkey": KEY, "serial": "NEWA", "user": "amy", "realm": "realma"}),
    ("POST", "/token/load/a.csv", {"type": "oathcsv", "file": "IMPA, " + KEY, "tokenrealms": "realma"}),
    ("GET", "/token/challenges/RA1", {}),
    ("GET", "/user/", {"realm": "realma"}),
    ("POST", "/user/", {"user": "newa", "resolver": "sqla", "password": "Newa-pw1"}),
    ("PUT", "/user/", {"user": "sqlann", "resolver": "sqla", "email": "x@example.com"}),
    ("GET", "/user/attribute", {"user": "alice", "realm": "realma"}),
    ("POST", "/user/attribute", {"user": "alice", "realm": "realma", "key": "k2", "value": "w"}),
    ("DELETE", "/user/attribute/k2/alice/realma", {}),
    ("GET", "/user/editable_attributes/", {"user": "alice", "realm": "realma"}),
    ("DELETE", "/token/RA2", {}),
    ("DELETE", "/user/sqla/newa", {}),
]


@pytest.fixture
def realm_a_admin(server, fresh):
    policy(server, "realmadmin", "admin", "*", realm="realma", adminuser="admin")
    return server.login()


def test_realm_matrix_b_is_forbidden(server, world, realm_a_admin):
    before = db_state(server, world)
    for method, path, params, action in REALM_B:
        r = call(server, method, path, params, realm_a_admin)
        denied(r, expected_denial("admin", action))
        assert db_state(server, world) == before, (method, path, params)


def test_realm_matrix_a_works(server, world, realm_a_admin):
    for method, path, params in REALM_A:
        r = call(server, method, path, params, realm_a_admin)
        assert r.status == 200 and r.result["status"] is True, (method, path, params, r)
    assert server.db_query("SELECT serial FROM token WHERE serial IN ('NEWA', 'IMPA', 'RA2') "
                           "ORDER BY serial") == [("IMPA",), ("NEWA",)]
    assert [row[1] for row in sql_rows(world["sqla"])] == ["sqlann"]


def test_realm_matrix_lists(server, world, realm_a_admin):
    tok = realm_a_admin
    v = ok(server.get("/token/", token=tok))
    assert [t["serial"] for t in v["tokens"]] == ["RA1", "RA2", "WALK1"] and v["count"] == 3
    # a filter for realm B's user finds nothing
    assert ok(server.get("/token/", params={"user": "bob", "realm": "realmb"}, token=tok))["tokens"] == []
    assert ok(server.get("/token/", params={"serial": "RB*"}, token=tok))["tokens"] == []
    # users: without realm, realm A's (realmadmin); realm B is forbidden
    users = ok(server.get("/user/", token=tok))
    assert sorted(u["username"] for u in users) == ["alice", "amy", "sqlann"]
    denied(server.get("/user/", params={"realm": "realmb"}, token=tok), POLICY_MSG % ("Admin", "userlist"))
    assert sorted(ok(server.get("/realm/", token=tok))) == ["realma"]
    ch = ok(server.get("/token/challenges/", token=tok))
    assert [c["serial"] for c in ch["challenges"]] == ["RA1"] and ch["count"] == 1
    # getserial searches realm A's tokens only
    otp_b = hotp(KEY_B, 0)
    assert ok(server.get("/token/getserial/" + otp_b, token=tok)) == {"serial": None, "count": 3}


def test_realm_lists_unrestricted(server, world, fresh):
    tok = fresh
    otp_b = hotp(KEY_B, 0)
    assert ok(server.get("/token/getserial/" + otp_b, token=tok)) == {"serial": "RB1", "count": 6}
    assert sorted(ok(server.get("/realm/", token=tok))) == ["realma", "realmb"]
    ch = ok(server.get("/token/challenges/", token=tok))
    assert sorted(c["serial"] for c in ch["challenges"]) == ["RA1", "RB1", "RB2"]
    # a policy for another admin: the reduction of /realm/ follows the policies matching this admin
    policy(server, "other", "admin", "*", realm="realmb", adminuser="someoneelse")
    policy(server, "mine", "admin", "tokenlist", realm="realma", adminuser="admin")
    assert sorted(ok(server.get("/realm/", token=tok))) == ["realma"]
    v = ok(server.get("/token/", token=tok))
    assert [t["serial"] for t in v["tokens"]] == ["RA1", "RA2", "WALK1"]


def test_two_realm_token_and_realmless_token(server, world, fresh):
    tok = fresh
    ok(server.post("/token/realm/RB2", data={"realms": "realma, realmb"}, token=tok))
    policy(server, "realmadmin", "admin", "*", realm="realma", adminuser="admin")
    # a token in realms A and B: allowed, the admin may act in one of them
    ok(server.post("/token/description/RB2", data={"description": "both"}, token=tok))
    # a token in no realm: only the action matters
    ok(server.post("/token/description/WALK2", data={"description": "none"}, token=tok))
    clear_policies(server)
    policy(server, "realmadmin", "admin", "enable", realm="realma", adminuser="admin")
    denied(server.post("/token/description/WALK2", data={"description": "x"}, token=tok),
           POLICY_MSG % ("Admin", "setdescription"))


def test_user_only_touches_own_tokens(server, world, fresh):
    tok = ok(server.post("/auth", data={"username": "alice", "password": "alice-pw"}))["token"]
    v = ok(server.get("/token/", token=tok))
    assert [t["serial"] for t in v["tokens"]] == ["RA1", "WALK1"]
    before = db_state(server, world)
    for method, path, params in (("POST", "/token/disable", {"serial": "RB1"}),
                                 ("POST", "/token/setpin", {"serial": "RB1", "otppin": "x-1"}),
                                 ("POST", "/token/description/RB2", {"description": "x"}),
                                 ("POST", "/token/revoke/RB1", {}),
                                 ("DELETE", "/token/RB1", {}),
                                 ("POST", "/token/lost/RB1", {}),
                                 ("POST", "/token/enable/RB1", {}),
                                 ("POST", "/token/reset/RB1", {}),
                                 ("POST", "/token/resync/RB1", {"otp1": "359152", "otp2": "969429"}),
                                 ("POST", "/token/setrandompin/RB1", {}),
                                 ("POST", "/token/unassign", {"serial": "RB1"}),
                                 ("POST", "/token/init", {"type": "hotp", "otpkey": KEY, "serial": "RB1"})):
        r = call(server, method, path, params, tok)
        assert r.status != 200 or r.value in (0, False), (method, path, r)
        assert db_state(server, world) == before, (method, path)
    # user parameters are the caller's, whatever the request says
    assert ok(server.post("/token/disable", data={"user": "bob", "realm": "realmb"}, token=tok)) == 2
    assert server.db_query("SELECT serial, active FROM token ORDER BY serial") == [
        ("RA1", "0"), ("RA2", "1"), ("RB1", "1"), ("RB2", "1"), ("WALK1", "0"), ("WALK2", "1")]
    # /user/ and /user/attribute show the caller whatever the parameters say
    users = ok(server.get("/user/", params={"realm": "realmb", "user": "bob"}, token=tok))
    assert [u["username"] for u in users] == ["alice"]
    assert ok(server.get("/user/attribute", params={"user": "bob", "realm": "realmb"}, token=tok)) == {"k": "v"}
