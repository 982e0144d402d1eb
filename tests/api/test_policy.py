"""The /policy blueprint and `tessera policy`: create/update/read/delete, enable/disable,
/policy/check, /policy/defs, export/import, the CLI, bad input (nothing stored, a clear 400),
and changes seen by the running server without a restart.

References: ../shared/spec/api.md §3.7, ../shared/spec/policies_events.md §1–2,
../shared/spec/observed.md (400/905 for unknown scope/action, priority < 1, malformed time and
non-integer values; 400/302 "Invalid client definition!"), docs/compatibility.md ("Policies").
Enforcement of the admin rights on these endpoints comes with the enforcement step.
"""
import json
import re
import time

import pytest
import requests

SCOPE_SIZES = {"admin": 118, "user": 59, "authentication": 38, "authorization": 17,
               "enrollment": 106, "webui": 30, "register": 5}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def clear_policies(server):
    """Delete every policy with the CLI: an admin policy left by a test may have taken the
    admin's policy rights (the guard: once an admin policy exists, only what policies allow)."""
    for (name,) in server.db_query("SELECT name FROM policy"):
        server.cli("policy", "delete", name)


@pytest.fixture
def tok(server):
    """An admin JWT, with no policy left over from an earlier test."""
    clear_policies(server)
    yield server.login()
    clear_policies(server)


RIGHTS = "zz-rights"


@pytest.fixture
def rights(server, tok):
    """For tests that create admin policies: the admin policy RIGHTS (made by the CLI) keeps the
    test admin's policy rights; listed() and policy_rows() leave it out."""
    server.cli("policy", "create", RIGHTS, "admin", "policyread, policywrite, policydelete")
    return tok


def listed(server, tok, **params):
    """GET /policy/ without the RIGHTS policy."""
    return [p for p in server.get("/policy/", params=params, token=tok).value if p["name"] != RIGHTS]


def policy_rows(server):
    return server.db_query("SELECT name, scope, \"action\", realm, client, \"time\", priority, active, "
                           "check_all_resolvers, adminrealm, adminuser, resolver, \"user\", pinode "
                           "FROM policy WHERE name <> '%s' ORDER BY name" % RIGHTS)


def condition_rows(server, name):
    return server.db_query("SELECT c.section, c.\"Key\", c.comparator, c.\"Value\", c.active "
                           "FROM policycondition c JOIN policy p ON p.id = c.policy_id "
                           "WHERE p.name = '%s' ORDER BY c.id" % name)


def timestamp(server):
    rows = server.db_query("SELECT \"Value\" FROM config WHERE \"Key\" = '__timestamp__'")
    return rows[0][0] if rows else None


def get_one(server, tok, name):
    v = server.get("/policy/" + name, token=tok).value
    assert len(v) == 1, v
    return v[0]


def expect_error(r, status, code, message=None):
    assert r.status == status, r
    assert r.body["result"]["status"] is False
    assert r.error["code"] == code, r
    if message is not None:
        assert r.error["message"] == message, r.error["message"]


# ------------------------------------------------------------------------------------------------
# create, read, update, delete
# ------------------------------------------------------------------------------------------------
def test_create_read_delete(server, rights):
    tok = rights
    ts0 = timestamp(server)
    r = server.post("/policy/pol1", data={"scope": "admin", "action": "enable, disable",
                                          "realm": "realm1", "user": "alice, -bob"}, token=tok)
    assert r.status == 200
    pid = r.value["setPolicy pol1"]
    assert isinstance(pid, int) and pid > 0
    assert timestamp(server) != ts0  # every write bumps the configuration timestamp
    assert get_one(server, tok, "pol1") == {
        "name": "pol1", "active": True, "scope": "admin", "action": {"enable": True, "disable": True},
        "realm": ["realm1"], "adminrealm": [], "adminuser": [], "resolver": [], "pinode": [],
        "user": ["alice", "-bob"], "client": [], "time": "", "priority": 1,
        "check_all_resolvers": False, "conditions": []}
    assert listed(server, tok) == [get_one(server, tok, "pol1")]
    assert server.get("/policy/nosuch", token=tok).value == []
    r = server.delete("/policy/pol1", token=tok)
    assert r.status == 200 and r.value == pid
    assert policy_rows(server) == []
    expect_error(server.delete("/policy/pol1", token=tok), 404, 601, "The requested Policy could not be found.")


def test_create_from_json_with_native_types(server, tok):
    r = server.post("/policy/pol-json 1.x", json_body={
        "scope": "authentication", "action": {"otppin": "userstore", "passOnNoToken": True,
                                              "passOnNoUser": False},
        "realm": ["r1", "r2"], "client": ["10.0.0.0/8", "!10.0.0.1"], "resolver": "reso1",
        "time": "Mon-Fri: 09:00-18:00", "priority": 7, "active": False, "check_all_resolvers": True,
        "pinode": ["node1"], "conditions": [["userinfo", "groups", "contains", "admins", True],
                                           ["HTTP Request header", "User-Agent", "matches", "pam.*", False]]},
        token=tok)
    assert r.status == 200
    p = get_one(server, tok, "pol-json 1.x")
    # JSON false creates an inactive policy (privacyIDEA 3.8 made it active); False actions are dropped
    assert p["active"] is False
    assert p["action"] == {"otppin": "userstore", "passOnNoToken": True}
    assert p["realm"] == ["r1", "r2"] and p["client"] == ["10.0.0.0/8", "!10.0.0.1"]
    assert p["priority"] == 7 and p["check_all_resolvers"] is True and p["pinode"] == ["node1"]
    assert p["conditions"] == [["userinfo", "groups", "contains", "admins", True],
                               ["HTTP Request header", "User-Agent", "matches", "pam.*", False]]
    assert condition_rows(server, "pol-json 1.x") == [
        ("userinfo", "groups", "contains", "admins", "1"),
        ("HTTP Request header", "User-Agent", "matches", "pam.*", "0")]
    row = policy_rows(server)[0]
    assert row[2] == "otppin=userstore, passOnNoToken" and row[3] == "r1, r2" and row[7] == "0"


def test_update_keeps_what_is_not_given(server, tok):
    server.post("/policy/upd", json_body={
        "scope": "authentication", "action": "otppin=none", "realm": "r1", "priority": 4,
        "client": "1.2.3.4", "time": "Sat: 1-2", "check_all_resolvers": True,
        "conditions": [["userinfo", "a", "equals", "b", True]]}, token=tok)
    server.post("/policy/disable/upd", token=tok)
    r = server.post("/policy/upd", data={"scope": "authentication", "action": "otppin=userstore"}, token=tok)
    assert r.status == 200
    p = get_one(server, tok, "upd")
    assert p["action"] == {"otppin": "userstore"}
    assert p["realm"] == ["r1"] and p["priority"] == 4 and p["client"] == ["1.2.3.4"]
    assert p["time"] == "Sat: 1-2"
    assert p["conditions"] == [["userinfo", "a", "equals", "b", True]]  # kept when not given
    # as privacyIDEA's set_policy: active defaults to true, check_all_resolvers to false
    assert p["active"] is True and p["check_all_resolvers"] is False
    server.post("/policy/upd", json_body={"scope": "authentication", "action": "otppin=none",
                                          "conditions": [], "active": "false"}, token=tok)
    p = get_one(server, tok, "upd")
    assert p["conditions"] == [] and p["active"] is False
    assert condition_rows(server, "upd") == []


def test_enable_disable(server, rights):
    tok = rights
    server.post("/policy/ed", json_body={"scope": "admin", "action": "enable",
                                         "check_all_resolvers": True}, token=tok)
    pid = get_one(server, tok, "ed")
    r = server.post("/policy/disable/ed", token=tok)
    assert r.status == 200 and isinstance(r.value, int)
    p = get_one(server, tok, "ed")
    # disabling must not reset check_all_resolvers (privacyIDEA 3.8 did)
    assert p["active"] is False and p["check_all_resolvers"] is True
    assert listed(server, tok, active="false") == [p]
    assert listed(server, tok, active="true") == []
    server.post("/policy/enable/ed", token=tok)
    p = get_one(server, tok, "ed")
    assert p["active"] is True and p["check_all_resolvers"] is True
    assert pid["name"] == "ed"
    expect_error(server.post("/policy/enable/nosuch", token=tok), 404, 601,
                 "The policy with name 'nosuch' does not exist")
    expect_error(server.post("/policy/disable/nosuch", token=tok), 404, 601)


def test_list_filters(server, rights):
    tok = rights
    server.post("/policy/a", data={"scope": "admin", "action": "enable", "realm": "r1", "priority": "2"},
                token=tok)
    server.post("/policy/b", data={"scope": "admin", "action": "disable"}, token=tok)
    server.post("/policy/c", data={"scope": "webui", "action": "login_mode=privacyIDEA"}, token=tok)
    names = lambda **q: [p["name"] for p in listed(server, tok, **q)]
    assert names() == ["b", "c", "a"]  # by priority
    assert names(scope="admin") == ["b", "a"]
    assert names(realm="r1") == ["b", "c", "a"]  # policies without realm hold for every realm
    assert names(realm="r2") == ["b", "c"]
    assert names(SCOPE="webui") == ["c"]  # parameter names are case-insensitive


# ------------------------------------------------------------------------------------------------
# bad input: a clear 400, nothing stored
# ------------------------------------------------------------------------------------------------
BAD = [
    ({"scope": "nosuch", "action": "enable"}, 905, "Unknown scope 'nosuch'"),
    ({"scope": "audit", "action": "x"}, 905, "Unknown scope 'audit'"),
    ({"scope": "admin", "action": "enable, nosuch"}, 905,
     "The action 'nosuch' is not a valid action in the scope 'admin'."),
    ({"scope": "register", "action": "enable"}, 905, "not a valid action in the scope 'register'"),
    ({"scope": "admin", "action": "enable", "client": "10.0.0.0/33"}, 302, "Invalid client definition!"),
    ({"scope": "admin", "action": "enable", "client": "1.2.3.4, -nonsense"}, 302, "Invalid client definition!"),
    ({"scope": "admin", "action": "enable", "client": "::1/129"}, 302, "Invalid client definition!"),
    ({"scope": "admin", "action": "enable", "time": "Mon-Fri 9-18"}, 905, "Invalid time format"),
    ({"scope": "admin", "action": "enable", "time": "Mon: 9-25"}, 905, "Invalid time format"),
    ({"scope": "admin", "action": "enable", "time": "Someday: 9-10"}, 905, "Invalid time format"),
    ({"scope": "admin", "action": "enable", "priority": "0"}, 905, "Priority must be at least 1"),
    ({"scope": "admin", "action": "enable", "priority": "-3"}, 905, "Priority must be at least 1"),
    ({"scope": "admin", "action": "enable", "priority": "high"}, 905, "The priority must be an integer."),
    ({"scope": "admin", "action": "otp_pin_maxlength=eight"}, 905, "needs an integer value"),
    ({"scope": "enrollment", "action": "max_token_per_user=2.5"}, 905, "needs an integer value"),
    ({"scope": "admin", "action": "otp_pin_maxlength=99"}, 905, "must be between 0 and 31"),
    ({"scope": "admin", "action": "hotp_otplen=7"}, 905, "The value '7' is not allowed"),
    ({"scope": "admin", "action": "otp_pin_maxlength"}, 905, "needs a value"),
    ({"scope": "admin", "action": "enable=maybe"}, 905, "is a boolean action and takes no value"),
    ({"scope": "authentication", "action": "otppin=ldap"}, 905, "The value 'ldap' is not allowed"),
    ({"scope": "webui", "action": "login_mode=sometimes"}, 905, "not allowed"),
    ({"scope": "webui", "action": "default_tokentype=nosuch"}, 905, "not allowed"),
    ({"scope": "admin"}, 905, "Missing parameter: 'action'"),
    ({"action": "enable"}, 905, "Missing parameter: 'scope'"),
    ({"scope": "admin", "action": "enable", "realm": "x" * 300}, 905, "longer than 256"),
]


@pytest.mark.parametrize("params,code,message", BAD)
def test_bad_input_form(server, tok, params, code, message):
    ts0 = timestamp(server)
    r = server.post("/policy/bad", data=params, token=tok)
    expect_error(r, 400, code)
    assert message in r.error["message"], r.error["message"]
    assert r.error["message"].startswith("ERR%d: " % code)
    assert policy_rows(server) == [] and timestamp(server) == ts0


BAD_JSON = [
    ({"scope": "admin", "action": {"otp_pin_maxlength": "x"}}, "needs an integer value"),
    ({"scope": "admin", "action": {"enable": True, "set": "a,b"}}, "must not contain a comma"),
    ({"scope": "admin", "action": 5}, "must be a string, a list or a dictionary"),
    ({"scope": "admin", "action": "enable", "realm": ["ok", 5]}, "must be a string or a list of strings"),
    ({"scope": "admin", "action": "enable", "priority": 1.5}, "The priority must be an integer."),
    ({"scope": "admin", "action": "enable", "priority": 2 ** 40}, "at most"),
    ({"scope": "admin", "action": "enable", "time": ["Mon: 1-2"]}, "must be a string"),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "equals", "b"]]},
     "Conditions must be 5-tuples of four strings and one boolean."),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "equals", 5, True]]},
     "Conditions must be 5-tuples"),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "equals", "b", "yes"]]},
     "Conditions must be 5-tuples"),
    ({"scope": "admin", "action": "enable", "conditions": {"a": 1}}, "must be a list of conditions"),
    ({"scope": "admin", "action": "enable", "conditions": [["nowhere", "a", "equals", "b", True]]},
     "Unknown condition section 'nowhere'"),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "like", "b", True]]},
     "Unknown condition comparator 'like'"),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "matches", "(", True]]},
     "not a valid regular expression"),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "<", "ten", True]]},
     "must be an integer"),
    ({"scope": "admin", "action": "enable", "conditions": [["userinfo", "a", "in", "\"x", True]]},
     "not a valid comma-separated list"),
]


@pytest.mark.parametrize("body,message", BAD_JSON)
def test_bad_input_json(server, tok, body, message):
    r = server.post("/policy/bad", json_body=body, token=tok)
    expect_error(r, 400, 905)
    assert message in r.error["message"], r.error["message"]
    assert policy_rows(server) == []


@pytest.mark.parametrize("name,message", [
    ("check", "'check' is an invalid policy name."),
    ("Check", "'Check' is an invalid policy name."),
    ("pi-update-policy-123", "'pi-update-policy-123' is an invalid policy name."),
    ("bad;name", "The name of the policy may only contain the characters a-zA-Z0-9_. -"),
    ("ümlaut", "The name of the policy may only contain the characters a-zA-Z0-9_. -"),
    ("x" * 65, "The name of the policy may have at most 64 characters."),
])
def test_bad_names(server, tok, name, message):
    r = server.post("/policy/" + requests.utils.quote(name), data={"scope": "admin", "action": "enable"},
                    token=tok)
    expect_error(r, 400, 905, "ERR905: " + message)
    assert policy_rows(server) == []


def test_update_with_bad_input_changes_nothing(server, rights):
    tok = rights
    server.post("/policy/keep", data={"scope": "admin", "action": "enable", "priority": "3"}, token=tok)
    before = policy_rows(server)
    expect_error(server.post("/policy/keep", data={"scope": "admin", "action": "enable",
                                                   "priority": "0"}, token=tok), 400, 905)
    # changing the scope re-checks the stored actions against the new scope
    expect_error(server.post("/policy/keep", data={"scope": "webui", "action": "enable"}, token=tok), 400, 905)
    assert policy_rows(server) == before


def test_values_accepted(server, rights):
    tok = rights
    ok = [("admin", "otp_pin_maxlength=0, otp_pin_minlength=31, hotp_otplen=8, hotp_hashlib=sha256, "
                    "enrollCERTIFICATE, enrollWEBAUTHN, certificate_trusted_Attestation_CA_path=/etc/ca"),
          ("authentication", "otppin='userstore', challenge_response=hotp totp, challenge_text='Hi there'"),
          ("enrollment", "max_token_per_user=3, hotp_max_token_per_user=1, tokenlabel={user}@{realm}, "
                         "webauthn_public_key_credential_algorithms=ecdsa rsassa-pss, "
                         "certificate_require_attestation=verify"),
          ("authorization", "tokentype=hotp totp, authorized=deny_access, serial=^OATH.*$"),
          ("webui", "login_mode=privacyIDEA, logout_time=300, default_tokentype=totp, hide_welcome_info"),
          ("user", "enrollHOTP, hotp_force_server_generate, setdescription"),
          ("register", "realm=newusers, requiredemail=/.*@example.com/"),
          ("authentication", "enroll_via_multichallenge=totp, push_ssl_verify=0, question_number=30")]
    for i, (scope, action) in enumerate(ok):
        r = server.post("/policy/ok%d" % i, data={"scope": scope, "action": action}, token=tok)
        assert r.status == 200, (scope, action, r)
    assert get_one(server, tok, "ok1")["action"] == {
        "otppin": "'userstore'", "challenge_response": "hotp totp", "challenge_text": "'Hi there'"}
    # a boolean action written as key=true is stored bare, key=false is dropped
    server.post("/policy/bools", data={"scope": "admin", "action": "enable=True, disable=false"}, token=tok)
    assert get_one(server, tok, "bools")["action"] == {"enable": True}


# ------------------------------------------------------------------------------------------------
# /policy/check
# ------------------------------------------------------------------------------------------------
def test_check(server, rights):
    tok = rights
    server.post("/policy/chk-net", data={"scope": "admin", "action": "enable", "realm": "r1",
                                         "client": "10.0.0.0/8, -10.0.0.9"}, token=tok)
    server.post("/policy/chk-user", data={"scope": "admin", "action": "enable, disable", "user": "*, -eve",
                                          "priority": "2"}, token=tok)
    q = {"user": "bob", "realm": "r1", "scope": "admin", "action": "enable", "client": "10.1.1.1"}
    v = server.get("/policy/check", params=q, token=tok).value
    assert v["allowed"] is True
    assert [p["name"] for p in v["policy"]] == ["chk-net", "chk-user"]
    assert v["policy"][0] == get_one(server, tok, "chk-net")
    v = server.get("/policy/check", params=dict(q, client="10.0.0.9"), token=tok).value
    assert [p["name"] for p in v["policy"]] == ["chk-user"]
    v = server.get("/policy/check", params=dict(q, user="eve", client="10.0.0.9"), token=tok).value
    assert v == {"allowed": False, "info": "No policies found"}
    # without a client parameter the request's own address is matched (127.0.0.1: not in 10/8)
    v = server.get("/policy/check", params={k: q[k] for k in ("user", "realm", "scope", "action")},
                   token=tok).value
    assert [p["name"] for p in v["policy"]] == ["chk-user"]
    for missing in ("user", "realm", "scope", "action"):
        r = server.get("/policy/check", params={k: x for k, x in q.items() if k != missing}, token=tok)
        expect_error(r, 400, 905, "ERR905: Missing parameter: '%s'" % missing)
    expect_error(server.get("/policy/check", params=dict(q, client=""), token=tok), 400, 905,
                 "ERR905: client argument must be a non-empty string")


def test_check_with_conditions_is_a_clear_error(server, tok):
    server.post("/policy/cond-hdr", json_body={
        "scope": "authentication", "action": "otppin=none",
        "conditions": [["HTTP Request header", "X-Tenant", "equals", "blue", True]]}, token=tok)
    q = {"user": "bob", "realm": "r1", "scope": "authentication", "action": "otppin"}
    v = server.get("/policy/check", params=q, headers={"X-Tenant": "blue"}, token=tok).value
    assert v["allowed"] is True
    v = server.get("/policy/check", params=q, headers={"X-Tenant": "red"}, token=tok).value
    assert v["allowed"] is False
    # the header is missing: privacyIDEA's PolicyError, never a crash
    expect_error(server.get("/policy/check", params=q, token=tok), 403, 303,
                 "Unknown HTTP header key referenced in condition of policy 'cond-hdr': 'X-Tenant'")
    server.post("/policy/cond-user", json_body={
        "scope": "admin", "action": "enable",
        "conditions": [["userinfo", "groups", "contains", "admins", True]]}, token=tok)
    expect_error(server.get("/policy/check", params=dict(q, scope="admin", action="enable"), token=tok),
                 403, 303,
                 "Policy 'cond-user' has condition on userinfo, but an according object is not available")
    assert server.get("/healthz").status == 200


def test_change_visible_without_restart(server, tok):
    q = {"user": "u", "realm": "r", "scope": "webui", "action": "login_mode"}
    assert server.get("/policy/check", params=q, token=tok).value["allowed"] is False
    server.post("/policy/live", data={"scope": "webui", "action": "login_mode=privacyIDEA"}, token=tok)
    assert server.get("/policy/check", params=q, token=tok).value["allowed"] is True
    server.post("/policy/disable/live", token=tok)
    assert server.get("/policy/check", params=q, token=tok).value["allowed"] is False
    # a change made by the CLI (another process) is seen too
    server.cli("policy", "enable", "live")
    assert server.get("/policy/check", params=q, token=tok).value["allowed"] is True
    server.cli("policy", "delete", "live")
    assert server.get("/policy/", token=tok).value == []


# ------------------------------------------------------------------------------------------------
# /policy/defs
# ------------------------------------------------------------------------------------------------
def test_defs(server, tok):
    v = server.get("/policy/defs", token=tok).value
    assert {s: len(a) for s, a in v.items()} == SCOPE_SIZES
    assert v["admin"]["policywrite"] == {"type": "bool", "desc": "Admin may create and change policies.",
                                         "group": "system", "mainmenu": ["config"]}
    assert v["admin"]["otp_pin_maxlength"]["value"] == list(range(32))
    assert v["admin"]["revoke"]["type"] == "bool"
    assert v["authentication"]["otppin"]["value"] == ["tokenpin", "userstore", "none"]
    assert v["authentication"]["passthru"]["value"] == ["userstore"]
    assert v["enrollment"]["hotp_max_token_per_user"]["type"] == "int"
    assert v["register"]["registration_body"]["type"] == "text"
    for scope, actions in v.items():
        for name, d in actions.items():
            assert d["type"] in ("bool", "str", "int", "text") and d["desc"], (scope, name)
    assert server.get("/policy/defs/webui", token=tok).value == v["webui"]
    assert server.get("/policy/defs/nosuch", token=tok).value is None
    c = server.get("/policy/defs/conditions", token=tok).value
    assert sorted(c["sections"]) == sorted(["userinfo", "token", "tokeninfo", "HTTP Request header",
                                            "HTTP Environment"])
    assert sorted(c["comparators"]) == sorted(["equals", "!equals", "contains", "!contains", "in", "!in",
                                               "matches", "!matches", "<", ">"])
    assert server.get("/policy/defs/pinodes", token=tok).value == ["localnode"]


# ------------------------------------------------------------------------------------------------
# export, import
# ------------------------------------------------------------------------------------------------
def make_three(server, tok):
    ok = lambda r: r.status == 200 or pytest.fail(repr(r))
    ok(server.post("/policy/exp1", json_body={"scope": "admin", "action": "enable, tokenlist",
                                           "realm": ["r1", "r2"], "adminrealm": "helpdesk",
                                           "adminuser": "frank", "priority": 2}, token=tok))
    ok(server.post("/policy/exp 2", json_body={"scope": "authentication", "action": {"otppin": "userstore"},
                                            "client": "10.0.0.0/8, -10.0.0.1", "time": "Mon-Fri: 9-18",
                                            "active": False, "check_all_resolvers": True,
                                            "conditions": [["userinfo", "mail", "matches", ".*'s", True]]},
                token=tok))
    ok(server.post("/policy/exp.3", data={"scope": "webui", "action": "login_text='Hello there'"}, token=tok))


def test_export_import_round_trip(server, rights):
    tok = rights
    make_three(server, tok)
    before = listed(server, tok)
    r = requests.get(server.base + "/policy/export/policies.cfg", headers={"Authorization": tok}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert "[exp1]\nname = exp1\nactive = True\nscope = admin\nrealm = ['r1', 'r2']\n" in text
    assert "[exp 2]\n" in text and "time = Mon-Fri: 9-18\n" in text
    assert "conditions = [('userinfo', 'mail', 'matches', \".*'s\", True)]\n" in text
    assert "action = {'otppin': 'userstore'}\n" in text
    for p in before:
        server.delete("/policy/" + requests.utils.quote(p["name"]), token=tok)
    # the test's own RIGHTS policy stays and is not imported again
    text = "".join(sec for sec in re.split(r"(?m)^(?=\[)", text) if not sec.startswith("[%s]" % RIGHTS))
    r = server.post("/policy/import/policies.cfg", data={"file": text}, token=tok)
    assert r.status == 200 and r.value == 3
    # every field comes back (privacyIDEA 3.8's import dropped active, admin fields and conditions)
    assert listed(server, tok) == before


def test_import_multipart_upload(server, rights):
    tok = rights
    """The Web UI uploads the file as multipart/form-data field "file" (src/http/multipart.c)."""
    text = "[mp]\nscope = admin\naction = {'enable': True}\n"
    r = requests.post(server.base + "/policy/import/x.cfg", headers={"Authorization": tok},
                      files={"file": ("x.cfg", text)}, timeout=30)
    assert r.status_code == 200 and r.json()["result"]["value"] == 1
    assert get_one(server, tok, "mp")["action"] == {"enable": True}


def test_import_bad_files_change_nothing(server, rights):
    tok = rights
    server.post("/policy/stay", data={"scope": "admin", "action": "enable"}, token=tok)
    before = policy_rows(server)
    cases = [("", "ERR905: Error loading policy. File empty!"),
             ("# only a comment\n", "ERR905: Error loading policy. File empty!"),
             ("scope = admin\n", None),
             ("[a]\nscope = admin\naction = {'enable': True\n", None),
             ("[a]\nscope = admin\naction = {'enable': True}\n[b]\nscope = admin\naction = {'nosuch': True}\n",
              "ERR905: The action 'nosuch' is not a valid action in the scope 'admin'."),
             ("[a]\nscope = admin\naction = {'enable': True}\npriority = x\n", None)]
    for text, message in cases:
        r = server.post("/policy/import/x.cfg", data={"file": text}, token=tok)
        expect_error(r, 400, 905, message)
    expect_error(server.post("/policy/import/x.cfg", token=tok), 400, 905, "ERR905: Missing parameter: 'file'")
    assert policy_rows(server) == before  # one transaction: "a" of the failing file is not kept


# ------------------------------------------------------------------------------------------------
# the CLI
# ------------------------------------------------------------------------------------------------
def test_cli(server, rights, tmp_path):
    tok = rights
    make_three(server, tok)
    out = server.cli("policy", "list").stdout.splitlines()
    assert out[:2] == ["Active \t Name \t Scope", "=" * 40]
    assert sorted(x for x in out[2:] if RIGHTS not in x) == sorted(["True \t exp1 \t admin", "False \t exp 2 \t authentication",
                                      "True \t exp.3 \t webui"])
    assert server.cli("policy", "disable", "exp1").stdout.strip().isdigit()
    assert get_one(server, tok, "exp1")["active"] is False
    server.cli("policy", "enable", "exp1")
    assert get_one(server, tok, "exp1")["active"] is True
    r = server.cli("policy", "enable", "nosuch", check=False)
    assert r.returncode == 1 and "The policy with name 'nosuch' does not exist" in r.stderr

    # p_export / p_import round trip (all fields, pi-manage's Python literal)
    f = tmp_path / "pol.txt"
    server.cli("policy", "p_export", "--filename", str(f))
    assert f.read_text().startswith("{'policy': [")
    stdout = server.cli("policy", "p_export", "-n", "exp1").stdout
    assert "'name': 'exp1'" in stdout and "exp.3" not in stdout
    before = listed(server, tok)
    server.cli("policy", "delete", "exp1")
    r = server.cli("policy", "p_import", "--filename", str(f))
    assert "Added policy exp1 with result" in r.stdout
    assert "Policy exp.3 exists and -u is not specified, skipping import." in r.stdout
    assert listed(server, tok) == before
    r = server.cli("policy", "p_import", "-f", str(f), "--update")
    assert "Updated policy exp.3 with result" in r.stdout
    server.cli("policy", "create", "extra", "admin", "disable")
    r = server.cli("policy", "p_import", "-f", str(f), "--cleanup")
    assert "Cleanup old policies." in r.stdout and "Deleted policy extra with result" in r.stdout
    assert listed(server, tok) == before

    # create from arguments and from a file (its values win)
    assert server.cli("policy", "create", "cli1", "authentication", "otppin=none").stdout.strip().isdigit()
    assert get_one(server, tok, "cli1")["action"] == {"otppin": "none"}
    spec = tmp_path / "create.txt"
    spec.write_text("{'name': 'cli2', 'scope': 'admin', 'action': 'enable', 'realm': 'r9', "
                    "'active': False, 'client': '10.0.0.0/8'}")
    r = server.cli("policy", "create", "ignored", "webui", "x", str(spec))
    assert "Found name 'cli2' in file, will use that instead of 'ignored'." in r.stdout
    p = get_one(server, tok, "cli2")
    assert p["scope"] == "admin" and p["realm"] == ["r9"] and p["active"] is False
    r = server.cli("policy", "create", "bad", "admin", "nosuch", check=False)
    assert r.returncode == 1 and "not a valid action" in r.stderr
    r = server.cli("policy", "frobnicate", check=False)
    assert r.returncode == 1 and "unknown subcommand" in r.stderr
    assert "p_export" in server.cli("policy", "--help").stdout
    r = server.cli("policy", "p_import", "-f", str(tmp_path / "missing"), check=False)
    assert r.returncode == 1 and "cannot open" in r.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("{'policy': [{'name': 'x', 'scope': 'admin', 'action': 'nosuch'}]}")
    r = server.cli("policy", "p_import", "-f", str(bad), check=False)
    assert r.returncode == 1 and "nosuch" in r.stderr
    assert server.get("/policy/x", token=tok).value == []


# ------------------------------------------------------------------------------------------------
# access, audit
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path", [("GET", "/policy/"), ("GET", "/policy/x"), ("POST", "/policy/x"),
                                         ("DELETE", "/policy/x"), ("POST", "/policy/enable/x"),
                                         ("POST", "/policy/disable/x"), ("GET", "/policy/check"),
                                         ("GET", "/policy/defs"), ("GET", "/policy/defs/admin"),
                                         ("GET", "/policy/export/x.cfg"), ("POST", "/policy/import/x.cfg")])
def test_admin_token_required(server, method, path):
    r = server.request(method, path)
    expect_error(r, 401, 4033)


def test_audit_rows(server, tok):
    start = int(server.db_query("SELECT coalesce(max(id), 0) FROM pidea_audit")[0][0])
    server.post("/policy/aud", data={"scope": "admin", "action": "enable"}, token=tok)
    server.get("/policy/check", params={"user": "u", "realm": "r", "scope": "admin", "action": "enable"},
               token=tok)
    server.post("/policy/aud", data={"scope": "nosuch", "action": "enable"}, token=tok)
    deadline = time.monotonic() + 10
    while True:
        rows = server.db_query("SELECT action, success, action_detail, policies FROM pidea_audit "
                               "WHERE id > %d ORDER BY id" % start)
        if len(rows) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert rows[0][:3] == ("POST /policy/<name>", "1", "aud")
    assert rows[1][:3] == ("GET /policy/check", "1", "action = enable, realm = r, scope = admin")
    assert rows[1][3] == "aud"
    assert rows[2][:2] == ("POST /policy/<name>", "0")
