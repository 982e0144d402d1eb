"""The foundation's API contract: envelope and signature, parameters, errors, /auth and JWTs,
audit rows, secrets hygiene, the CLI, request-size limits and concurrency.

Every answer received through `server.<method>()` / `server.raw_request()` is checked by the
harness (JSON, Content-Type, Cache-Control, signature), so a test that only looks at the status
also proves the envelope and the signature.  References: docs of the contract in the brief,
../shared/spec/api.md §1, ../shared/examples/privacyidea-3.12.3/01..03.
"""
import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import threading
import time

import pytest
import requests

from harness import (REPO, Response, SignatureError, b64url, b64url_decode,
                     free_port, make_jwt, run_cli, tessera_bin)

MSG_404 = ("404 Not Found: The requested URL was not found on the server. If you entered the URL "
           "manually please check your spelling and try again.")
MSG_405 = "405 Method Not Allowed: The method is not allowed for the requested URL."
MSG_413 = ("413 Request Entity Too Large: The data value transmitted exceeds the capacity limit.")
MSG_4031 = "Authentication failure. Wrong credentials"
MSG_4032 = "Authentication failure. Missing Username"
MSG_4033 = "Authentication failure. Missing Authorization header."
PFX_4304 = "Authentication failure. Error during decoding your token: "
PFX_4305 = "Authentication failure. Your token has expired: "
UNICODE = "ädmin€😀"

# /auth's webui settings as privacyIDEA 3.12.3 answers them without any webui policy
# (examples/privacyidea-3.12.3/01-auth-admin.txt); compared with their JSON types.
WEBUI_DEFAULTS = {
    "auth": True, "logout_time": 120, "audit_page_size": 10, "token_page_size": 15,
    "user_page_size": 15,
    "policy_template_url":
        "https://raw.githubusercontent.com/privacyidea/policy-templates/master/templates/",
    "default_tokentype": "hotp", "default_container_type": "generic", "user_details": False,
    "token_wizard": False, "token_wizard_2nd": False, "admin_dashboard": False,
    "dialog_no_token": False, "search_on_enter": False, "timeout_action": "lockscreen",
    "token_rollover": {}, "hide_welcome": False, "hide_buttons": False,
    "deletion_confirmation": False, "show_seed": False, "show_node": "",
    "subscription_status": 0, "subscription_status_push": 0, "qr_image_android": None,
    "qr_image_ios": None, "qr_image_custom": None, "logout_redirect_url": "",
    "require_description": [], "rss_age": 180, "container_wizard": {"enabled": False},
}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def project_version():
    text = (REPO / "CMakeLists.txt").read_text()
    return re.search(r"project\(\s*tessera\s+VERSION\s+([0-9.]+)", text).group(1)


def assert_error(r, status, code, message=None, prefix=None):
    assert r.status == status, r
    assert r.result["status"] is False, r
    assert r.error.get("code") == code, r
    if message is not None:
        assert r.error.get("message") == message, r
    if prefix is not None:
        assert isinstance(r.error.get("message"), str) and r.error["message"].startswith(prefix), r


def http_head(method, path, headers=None):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "Connection: close"]
    lines += ["%s: %s" % kv for kv in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def wait_for(fn, timeout=10.0, what="condition"):
    """Poll fn() until it returns something truthy (audit rows may be written after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            assert got, "timed out waiting for " + what
            return got
        time.sleep(0.05)


def max_audit_id(server):
    return int(server.db_query("SELECT coalesce(max(id), 0) FROM pidea_audit")[0][0])


def audit_rows_after(server, after_id, columns="id, action, success"):
    return server.db_query("SELECT %s FROM pidea_audit WHERE id > %d ORDER BY id"
                           % (columns, after_id))


def without_volatile(body):
    return {k: v for k, v in body.items() if k not in ("time", "signature", "nonce")}


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), s


def valid_claims(username="admin", **over):
    c = {"username": username, "realm": "", "nonce": secrets.token_hex(20), "role": "admin",
         "authtype": "password", "exp": int(time.time()) + 3600}
    c.update(over)
    return c


# ------------------------------------------------------------------------------------------------
# envelope, signature, nonce
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/healthz", "/healthz/"])
def test_healthz(server, path):
    r = server.get(path)
    assert r.status == 200, r
    assert r.result["status"] is True, r


def test_success_envelope(server):
    before = time.time()
    r = server.get("/healthz")
    body = r.body
    assert set(body) - {"detail"} == {"id", "jsonrpc", "result", "time", "version",
                                      "versionnumber", "signature"}, body
    assert body["id"] == 1 and body["jsonrpc"] == "2.0"
    assert body["result"]["status"] is True and "value" in body["result"]
    assert isinstance(body["time"], float) and before - 5 <= body["time"] <= time.time() + 5
    assert body["versionnumber"] == project_version()
    assert body["version"] == "tessera " + project_version()
    assert r.header("Content-Type").split(";")[0] == "application/json"
    assert r.header("Cache-Control") == "no-cache"


@pytest.mark.parametrize("method,path,status", [("GET", "/no/such/endpoint", 404),
                                                ("GET", "/auth/rights", 401)])
def test_error_envelope(server, method, path, status):
    r = server.request(method, path)
    assert r.status == status
    body = r.body
    assert set(body) == {"detail", "id", "jsonrpc", "result", "time", "version", "signature"}, body
    assert body["detail"] is None and body["id"] == 1 and body["jsonrpc"] == "2.0"
    assert set(body["result"]) == {"error", "status"} and body["result"]["status"] is False
    assert set(body["result"]["error"]) == {"code", "message"}
    assert isinstance(body["result"]["error"]["code"], int)
    assert isinstance(body["time"], float)
    assert body["version"] == "tessera " + project_version()
    assert r.header("Cache-Control") == "no-cache"


def test_signature_checker_rejects_forgeries(server):
    """Negative control: the automatic check really fails on a changed body or a foreign key."""
    r = server.get("/healthz")
    forged = dict(r.body, time=r.body["time"] + 1.0)
    with pytest.raises(SignatureError):
        server.verify_signature(forged)
    with pytest.raises(SignatureError):
        server.verify_signature({k: v for k, v in r.body.items() if k != "signature"})
    sig = r.body["signature"]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    with pytest.raises(SignatureError):
        server.verify_signature(dict(r.body, signature=flipped))


def test_nonce_echo_query(server):
    r = server.get("/healthz", params={"nonce": "n-123"})
    assert r.body["nonce"] == "n-123"


def test_nonce_echo_on_error_form_and_json(server):
    r = server.post("/auth", data={"username": "admin", "password": "wrong", "nonce": "abc"})
    assert_error(r, 401, 4031)
    assert r.body["nonce"] == "abc"
    r = server.post("/auth", json_body={"username": "admin", "password": "wrong", "nonce": "def"})
    assert_error(r, 401, 4031)
    assert r.body["nonce"] == "def"


def test_no_nonce_without_parameter(server):
    assert "nonce" not in server.get("/healthz").body


def test_non_ascii_nonce_is_signed_and_ascii_escaped(server):
    r = server.get("/healthz", params={"nonce": UNICODE})
    assert r.body["nonce"] == UNICODE  # signature verified over \\u-escaped sort_keys JSON
    assert max(r.raw) < 0x80, "JSON text must be ASCII-escaped (api.md 1.1)"


@pytest.mark.parametrize("how", ["form", "json"])
def test_non_ascii_username_failed_auth(server, how):
    kw = ({"data": {"username": UNICODE, "password": UNICODE, "nonce": UNICODE}} if how == "form"
          else {"json_body": {"username": UNICODE, "password": UNICODE, "nonce": UNICODE}})
    r = server.post("/auth", **kw)
    assert_error(r, 401, 4031, MSG_4031)
    assert r.body["nonce"] == UNICODE


def test_no_response_sign(make_server):
    s = make_server(cfg={"PI_NO_RESPONSE_SIGN": True})
    ok = s.get("/healthz", params={"nonce": "x"})
    assert ok.status == 200 and "signature" not in ok.body and ok.body["nonce"] == "x"
    err = s.post("/auth", data={"username": "admin", "password": "wrong"})
    assert_error(err, 401, 4031)
    assert "signature" not in err.body
    token = s.login()
    assert "signature" not in s.get("/auth/rights", token=token).body


# ------------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------------
def test_auth_params_in_query_string(server):
    r = server.post("/auth", params={"username": "admin", "password": server.admin_password})
    assert r.status == 200, r


def test_auth_params_form_and_json(server):
    pw = server.admin_password
    assert server.post("/auth", data={"username": "admin", "password": pw}).status == 200
    assert server.post("/auth", json_body={"username": "admin", "password": pw}).status == 200


def test_content_types_with_charset(server):
    pw = server.admin_password
    r = server.post("/auth", data=("username=admin&password=" + requests.utils.quote(pw)).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert r.status == 200, r
    r = server.post("/auth", data=json.dumps({"username": "admin", "password": pw}).encode(),
                    headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200, r


def test_duplicate_form_parameter_first_wins(server):
    pw = server.admin_password
    r = server.post("/auth", data=[("username", "admin"), ("password", pw), ("password", "wrong")])
    assert r.status == 200, r
    r = server.post("/auth", data=[("username", "admin"), ("password", "wrong"), ("password", pw)])
    assert_error(r, 401, 4031)


def test_duplicate_query_parameter_first_wins(server):
    pw = server.admin_password
    r = server.post("/auth", params=[("username", "admin"), ("password", pw), ("password", "x")])
    assert r.status == 200, r
    r = server.post("/auth", params=[("username", "admin"), ("password", "x"), ("password", pw)])
    assert_error(r, 401, 4031)


def test_query_string_wins_over_form(server):
    """api.md 1.2: request.values = query then form; for a key in both the query wins."""
    r = server.post("/auth", params={"password": server.admin_password},
                    data={"username": "admin", "password": "wrong"})
    assert r.status == 200, r


def test_json_body_wins_over_query(server):
    """api.md 1.2: the JSON body is merged last and overrides the query string."""
    r = server.post("/auth", params={"password": "wrong"},
                    json_body={"username": "admin", "password": server.admin_password})
    assert r.status == 200, r


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
def test_missing_parameter_905(server):
    """ERR905 for a missing required parameter, on the first admin endpoint that is routed."""
    token = server.login()
    candidates = [("POST", "/resolver/testres905", "type"),
                  ("POST", "/realm/testrealm905", "resolvers")]
    for method, path, name in candidates:
        r = server.request(method, path, token=token, data={"description": "x"})
        if r.status == 404 and r.error.get("message") == MSG_404:
            continue  # endpoint not written yet
        assert_error(r, 400, 905, "ERR905: Missing parameter: '%s'" % name)
        return
    pytest.skip("no endpoint with a required parameter is routed yet")


@pytest.mark.parametrize("body", [b'{"username": "admin", "password": ', b"{bad json}",
                                  b'{"username": "admin",}', b"[1, 2]", b'"text"', b"42"])
def test_malformed_json_body_905(server, body):
    r = server.post("/auth", data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, 905, prefix="ERR905: ")


@pytest.mark.parametrize("method,path", [("GET", "/nonexistent"), ("POST", "/nonexistent/"),
                                         ("GET", "/auth/nonexistent"), ("DELETE", "/x/y/z")])
def test_unknown_path_404(server, method, path):
    assert_error(server.request(method, path), 404, 404, MSG_404)
    assert_error(server.request(method, path, token=server.login()), 404, 404, MSG_404)


@pytest.mark.parametrize("method,path", [("GET", "/auth"), ("PUT", "/auth"),
                                         ("DELETE", "/healthz"), ("POST", "/healthz/"),
                                         ("POST", "/auth/rights")])
def test_wrong_method_405(server, method, path):
    assert_error(server.request(method, path), 405, 405, MSG_405)


def test_internal_error_500_without_details(make_server):
    s = make_server()
    if not s.table_exists("admin"):
        pytest.skip("no table `admin` to break")
    s.db_query("DROP TABLE admin")
    r = s.post("/auth", data={"username": "admin", "password": s.admin_password})
    assert_error(r, 500, -500, prefix="500 Internal Server Error")
    low = r.error["message"].lower()
    for leak in ("sqlite", "relation", "table", "sql", "admin", "postgres", ".c:"):
        assert leak not in low, r
    assert s.get("/healthz").status == 200


def test_body_over_limit_413(make_server):
    s = make_server(cfg={"TESSERA_MAX_BODY": 1024})
    small = b"username=admin&password=" + b"x" * 900
    r = s.post("/auth", data=small,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 401, 4031)
    big = b"username=admin&password=" + b"x" * 2000
    r = s.raw_request(http_head("POST", "/auth", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(big))}), big)
    assert_error(r, 413, 413, MSG_413)
    # chunked: the size is only known while reading
    chunks = [b"%x\r\n%s\r\n" % (512, b"y" * 512) for _ in range(8)] + [b"0\r\n\r\n"]
    chunks[0] = b"%x\r\nusername=admin&password=%s\r\n" % (512, b"y" * (512 - 24))
    r = s.raw_request(http_head("POST", "/auth", {
        "Content-Type": "application/x-www-form-urlencoded",
        "Transfer-Encoding": "chunked"}), chunks=chunks)
    assert_error(r, 413, 413, MSG_413)
    assert s.get("/healthz").status == 200


def test_2mib_body_413_and_server_alive(server):
    size = 2 * 1024 * 1024
    body = b"username=admin&password=" + b"z" * (size - 24)
    r = server.raw_request(http_head("POST", "/auth", {
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(size)}), body)
    assert_error(r, 413, 413, MSG_413)
    assert server.alive()
    assert server.get("/healthz").status == 200
    assert server.login()


# ------------------------------------------------------------------------------------------------
# POST /auth
# ------------------------------------------------------------------------------------------------
def test_auth_success_answer(server):
    r = server.post("/auth", data={"username": "admin", "password": server.admin_password})
    assert r.status == 200, r
    assert r.body["id"] in (1, 2)
    assert r.result["status"] is True
    assert r.result.get("authentication") == "ACCEPT", r
    v = r.value
    assert v["role"] == "admin" and v["username"] == "admin" and v["realm"] == ""
    assert isinstance(v["token"], str) and v["token"].count(".") == 2
    assert isinstance(v["rights"], list) and v["rights"]
    assert all(isinstance(x, str) for x in v["rights"])
    assert isinstance(v["menus"], list) and all(isinstance(x, str) for x in v["menus"])
    assert isinstance(v["log_level"], int) and not isinstance(v["log_level"], bool)
    for key, expected in WEBUI_DEFAULTS.items():
        assert key in v, "missing %r in /auth value" % key
        assert json.dumps(v[key]) == json.dumps(expected), (key, v[key], expected)


def test_auth_jwt(server):
    before = int(time.time())
    token = server.login()
    h, p, s = token.split(".")
    header, claims, _ = jwt_parts(token)
    assert header["alg"] == "HS256"
    # HMAC-SHA256 with SECRET_KEY over the token's own encoding of header and payload
    mac = hmac.new(server.secret_key.encode(), (h + "." + p).encode(), hashlib.sha256).digest()
    assert b64url_decode(s) == mac, "JWT is not HS256-signed with SECRET_KEY"
    assert claims["username"] == "admin" and claims["realm"] == "" and claims["role"] == "admin"
    assert claims["authtype"] == "password"
    assert isinstance(claims["nonce"], str) and claims["nonce"]
    assert isinstance(claims["exp"], int)
    assert abs(claims["exp"] - (before + 3600)) <= 60


@pytest.mark.parametrize("params", [
    {"username": "admin", "password": "wrong"},
    {"username": "nosuchadmin", "password": "wrong"},
    {"username": "admin", "password": ""},
    {"username": "admin"},
    {"username": "", "password": "x"},
], ids=["wrong-password", "unknown-user", "empty-password", "no-password", "empty-username"])
def test_auth_rejected_4031(server, params):
    r = server.post("/auth", data=params)
    assert_error(r, 401, 4031, MSG_4031)
    assert r.body.get("detail") in (None, {}), r


def test_auth_unknown_user_looks_like_wrong_password(server):
    a = server.post("/auth", data={"username": "admin", "password": "wrong"})
    b = server.post("/auth", data={"username": "nosuchadmin", "password": "wrong"})
    assert without_volatile(a.body) == without_volatile(b.body)


def test_auth_missing_username_4032(server):
    assert_error(server.post("/auth", data={"password": "x"}), 401, 4032, MSG_4032)
    assert_error(server.post("/auth", json_body={"password": "x"}), 401, 4032, MSG_4032)
    assert_error(server.post("/auth"), 401, 4032, MSG_4032)


# ------------------------------------------------------------------------------------------------
# JWT on protected endpoints
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["raw", "pi-authorization", "bearer"])
def test_jwt_header_styles(server, style):
    token = server.login()
    headers = {"raw": {"Authorization": token}, "pi-authorization": {"PI-Authorization": token},
               "bearer": {"Authorization": "Bearer " + token}}[style]
    r = server.get("/auth/rights", headers=headers)
    assert r.status == 200, r
    assert r.result["status"] is True


def test_pi_authorization_takes_precedence(server):
    token = server.login()
    r = server.get("/auth/rights", headers={"PI-Authorization": token, "Authorization": "garbage"})
    assert r.status == 200, r
    r = server.get("/auth/rights", headers={"PI-Authorization": "garbage", "Authorization": token})
    assert_error(r, 401, 4304, prefix=PFX_4304)


@pytest.mark.parametrize("path", ["/auth/rights", "/token/"])
def test_missing_authorization_4033(server, path):
    r = server.get(path)
    if path == "/token/" and r.status == 404 and r.error.get("message") == MSG_404:
        pytest.skip("GET /token/ is not routed yet")
    assert_error(r, 401, 4033, MSG_4033)
    assert r.body["detail"] is None


def _bad_tokens(server):
    good = server.login()
    h, p, s = good.split(".")
    claims = jwt_parts(good)[1]
    other_user = dict(claims, username="root")
    mid = len(s) // 2
    flipped = s[:mid] + ("A" if s[mid] != "A" else "B") + s[mid + 1:]
    return {
        "garbage": "garbage",
        "two-parts": h + "." + p,
        "empty-parts": "..",
        "not-base64": "@@@.###.$$$",
        "header-not-json": b64url(b"nojson") + "." + p + "." + s,
        "tampered-payload": h + "." + b64url(json.dumps(other_user).encode()) + "." + s,
        "tampered-signature": h + "." + p + "." + flipped,
        "alg-none": make_jwt(valid_claims(), "", alg="none"),
        "alg-none-with-sig": make_jwt(valid_claims(), "", alg="none") + s,
        "hs512": make_jwt(valid_claims(), server.secret_key, alg="HS512"),
        "hs384": make_jwt(valid_claims(), server.secret_key, alg="HS384"),
        "other-secret": make_jwt(valid_claims(), "not-the-secret-key"),
        "exp-not-a-number": make_jwt(valid_claims(exp="soon"), server.secret_key),
        "payload-array": make_jwt([1, 2, 3], server.secret_key),
    }


BAD_TOKEN_IDS = ["garbage", "two-parts", "empty-parts", "not-base64", "header-not-json",
                 "tampered-payload", "tampered-signature", "alg-none", "alg-none-with-sig",
                 "hs512", "hs384", "other-secret", "exp-not-a-number", "payload-array"]


@pytest.mark.parametrize("kind", BAD_TOKEN_IDS)
@pytest.mark.parametrize("path", ["/auth/rights", "/token/"])
def test_bad_jwt_4304(server, kind, path):
    token = _bad_tokens(server)[kind]
    r = server.get(path, token=token)
    if path == "/token/" and r.status == 404 and r.error.get("message") == MSG_404:
        pytest.skip("GET /token/ is not routed yet")
    assert_error(r, 401, 4304, prefix=PFX_4304)


@pytest.mark.parametrize("path", ["/auth/rights", "/token/"])
def test_expired_jwt_4305(server, path):
    token = make_jwt(valid_claims(exp=int(time.time()) - 120), server.secret_key)
    r = server.get(path, token=token)
    if path == "/token/" and r.status == 404 and r.error.get("message") == MSG_404:
        pytest.skip("GET /token/ is not routed yet")
    assert_error(r, 401, 4305, prefix=PFX_4305)


def test_crafted_valid_jwt_is_accepted(server):
    """A JWT made with SECRET_KEY (as `pi-manage api createtoken` does) is honoured."""
    r = server.get("/auth/rights", token=make_jwt(valid_claims(), server.secret_key))
    assert r.status == 200, r


# ------------------------------------------------------------------------------------------------
# audit and secrets
# ------------------------------------------------------------------------------------------------
def test_audit_rows_for_auth(server):
    start = max_audit_id(server)
    assert server.post("/auth", data={"username": "admin",
                                      "password": server.admin_password}).status == 200
    assert server.post("/auth", data={"username": "admin", "password": "wrong"}).status == 401

    def rows():
        got = audit_rows_after(server, start, "action, success, client, startdate, duration")
        return got if len(got) >= 2 else None
    got = wait_for(rows, what="two audit rows")
    assert [(a, s) for a, s, *_ in got] == [("POST /auth", "1"), ("POST /auth", "0")], got
    for _, _, client, startdate, duration in got:
        assert client == "127.0.0.1"
        assert startdate and duration is not None


def test_audit_row_names_administrator(server):
    token = server.login()
    start = max_audit_id(server)
    assert server.get("/auth/rights", token=token).status == 200
    got = wait_for(lambda: audit_rows_after(server, start, "action, success, administrator"),
                   what="audit row of GET /auth/rights")
    assert got == [("GET /auth/rights", "1", "admin")], got


def test_healthz_not_audited(server):
    server.login()
    time.sleep(0.3)
    start = max_audit_id(server)
    for _ in range(5):
        server.get("/healthz")
    time.sleep(0.5)
    assert audit_rows_after(server, start) == []


def test_no_secrets_in_log_or_audit(make_server):
    wrong = "Wr0ng-" + secrets.token_hex(8)
    s = make_server(cfg={"PI_LOGLEVEL": 10})
    start = max_audit_id(s)
    assert s.post("/auth", data={"username": "admin", "password": s.admin_password}).status == 200
    assert s.post("/auth", json_body={"username": "admin",
                                      "password": s.admin_password}).status == 200
    assert s.post("/auth", data={"username": "admin", "password": wrong}).status == 401
    assert s.post("/auth", data={"username": "nobody", "password": wrong}).status == 401
    s.cli("admin", "change", "admin", "-p", s.admin_password + "X")  # the CLI logs too
    wait_for(lambda: len(audit_rows_after(s, start)) >= 4, what="audit rows")
    audit = "\n".join(repr(row) for row in s.db_query("SELECT * FROM pidea_audit"))
    log = s.log_text()
    assert log, "PI_LOGFILE is empty at PI_LOGLEVEL 10"
    for secret in (s.admin_password, s.admin_password + "X", wrong, s.secret_key, s.pepper):
        assert secret not in log, "secret %r in the log file" % secret
        assert secret not in audit, "secret %r in pidea_audit" % secret


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------
HELP_COMMANDS = [[], ["createdb"], ["create_enckey"], ["create_audit_keys"], ["admin"],
                 ["admin", "add"], ["admin", "list"], ["admin", "delete"], ["admin", "change"],
                 ["serve"]]


@pytest.mark.parametrize("cmd", HELP_COMMANDS, ids=lambda c: "-".join(c) or "top")
def test_help(cmd, tmp_path):
    env = dict(os.environ, PRIVACYIDEA_CONFIGFILE=str(tmp_path / "absent.cfg"))
    r = run_cli([tessera_bin()] + cmd + ["--help"], check=False, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "usage" in r.stdout.lower(), r.stdout


def test_unknown_command_fails(tmp_path):
    env = dict(os.environ, PRIVACYIDEA_CONFIGFILE=str(tmp_path / "absent.cfg"))
    r = run_cli([tessera_bin(), "no-such-command"], check=False, env=env, timeout=30)
    assert r.returncode > 0


def test_createdb_is_idempotent(make_server):
    s = make_server(start=False)  # setup() ran createdb once already
    s.cli("createdb")
    s.cli("createdb")
    assert "admin" in s.cli("admin", "list").stdout.split()
    assert s.table_exists("pidea_audit")
    s.start()
    assert s.login()


def test_create_enckey_refuses_overwrite(make_server):
    s = make_server(start=False)
    before = s.enckey.read_bytes()
    assert len(before) == 96
    assert stat.S_IMODE(s.enckey.stat().st_mode) == 0o400
    r = s.cli("create_enckey", check=False)
    assert r.returncode > 0
    assert s.enckey.read_bytes() == before
    assert stat.S_IMODE(s.enckey.stat().st_mode) == 0o400


def test_create_audit_keys_refuses_overwrite(make_server):
    s = make_server(start=False)
    priv, pub = s.private_pem.read_bytes(), s.public_pem.read_bytes()
    assert b"PRIVATE KEY" in priv and b"PUBLIC KEY" in pub
    assert stat.S_IMODE(s.private_pem.stat().st_mode) & 0o077 == 0, "private key readable by others"
    r = s.cli("create_audit_keys", check=False)
    assert r.returncode > 0
    assert s.private_pem.read_bytes() == priv and s.public_pem.read_bytes() == pub


def _admin_lines(server):
    return [ln.split() for ln in server.cli("admin", "list").stdout.splitlines() if ln.strip()]


def test_admin_add_list_change_delete(server):
    name = "alice" + secrets.token_hex(3)
    email = name + "@example.com"
    pw1, pw2 = "First-" + secrets.token_hex(6), "Second-" + secrets.token_hex(6)
    server.cli("admin", "add", name, "-p", pw1, "-e", email)
    assert any(f[0] == name and email in f for f in _admin_lines(server)), _admin_lines(server)
    assert any(f[0] == "admin" for f in _admin_lines(server))
    assert jwt_parts(server.login(name, pw1))[1]["username"] == name
    server.cli("admin", "change", name, "-p", pw2)
    assert_error(server.post("/auth", data={"username": name, "password": pw1}), 401, 4031)
    assert jwt_parts(server.login(name, pw2))[1]["username"] == name
    server.cli("admin", "delete", name)
    assert not any(f[0] == name for f in _admin_lines(server))
    assert_error(server.post("/auth", data={"username": name, "password": pw2}), 401, 4031)


def test_admin_with_non_ascii_and_special_characters(server):
    name = UNICODE + secrets.token_hex(2)
    pw = "pä ss&+=?#€😀" + secrets.token_hex(2)
    server.cli("admin", "add", name, "-p", pw)
    try:
        for kw in ({"data": {"username": name, "password": pw}},
                   {"json_body": {"username": name, "password": pw}}):
            r = server.post("/auth", **kw)
            assert r.status == 200, r
            assert r.value["username"] == name
            assert jwt_parts(r.value["token"])[1]["username"] == name
    finally:
        server.cli("admin", "delete", name)


def test_config_from_environment(server):
    r = server.cli("admin", "list", config=False,
                   env={"PRIVACYIDEA_CONFIGFILE": str(server.cfg_path)})
    assert "admin" in r.stdout.split()


def _one_line_failure(r, *must_contain):
    assert r.returncode > 0, "exit status %d" % r.returncode
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, "expected exactly one stderr line, got: %r" % r.stderr
    for word in must_contain:
        assert word in lines[0], (word, lines[0])


@pytest.fixture
def prepared(make_server):
    """A configured, not started server to derive broken configurations from."""
    return make_server(start=False)


def test_missing_config_file(prepared, tmp_path):
    missing = tmp_path / "nope" / "pi.cfg"
    r = run_cli([tessera_bin(), "--config", str(missing), "admin", "list"], check=False,
                env=prepared.env(), timeout=30)
    _one_line_failure(r, str(missing))
    r = run_cli([tessera_bin(), "admin", "list"], check=False,
                env=prepared.env({"PRIVACYIDEA_CONFIGFILE": str(missing)}), timeout=30)
    _one_line_failure(r, str(missing))


def test_default_config_path(prepared):
    if os.path.exists("/etc/tessera/pi.cfg"):
        pytest.skip("/etc/tessera/pi.cfg exists on this machine")
    r = run_cli([tessera_bin(), "admin", "list"], check=False, env=prepared.env(), timeout=30)
    _one_line_failure(r, "/etc/tessera/pi.cfg")


def test_config_path_is_a_directory(prepared, tmp_path):
    r = run_cli([tessera_bin(), "--config", str(tmp_path), "createdb"], check=False,
                env=prepared.env(), timeout=30)
    _one_line_failure(r)


@pytest.mark.parametrize("cmd", [["createdb"], ["admin", "list"], ["serve"]])
def test_unknown_uri_scheme(prepared, cmd):
    text = prepared.cfg_path.read_text()
    bad = prepared.dir / "mysql.cfg"
    bad.write_text(re.sub(r"(?m)^SQLALCHEMY_DATABASE_URI = .*$",
                          "SQLALCHEMY_DATABASE_URI = 'mysql://x'", text))
    if cmd == ["serve"]:
        cmd = cmd + ["--listen", "127.0.0.1:%d" % free_port()]
    r = run_cli([tessera_bin(), "--config", str(bad)] + cmd, check=False, env=prepared.env(),
                timeout=30)
    _one_line_failure(r, "mysql")


def test_missing_enckey(prepared):
    prepared.enckey.rename(prepared.dir / "enckey.moved")
    r = prepared.cli("serve", "--listen", "127.0.0.1:%d" % free_port(), check=False, timeout=30)
    _one_line_failure(r, str(prepared.enckey))


# ------------------------------------------------------------------------------------------------
# concurrency and hostile input
# ------------------------------------------------------------------------------------------------
def test_50_concurrent_auth_requests(server):
    n = 50
    start = max_audit_id(server)
    barrier = threading.Barrier(n, timeout=60)

    def one(i):
        pw = server.admin_password if i % 2 == 0 else "wrong-%d" % i
        barrier.wait()
        r = requests.post(server.base + "/auth", data={"username": "admin", "password": pw},
                          timeout=120)
        return i, server.check(Response(r.status_code, r.headers, r.content))

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    for i, r in results:
        if i % 2 == 0:
            assert r.status == 200 and r.value["token"], r
        else:
            assert_error(r, 401, 4031)
    wait_for(lambda: len(audit_rows_after(server, start)) >= n, timeout=30, what="50 audit rows")
    time.sleep(0.3)
    assert len(audit_rows_after(server, start)) == n
    assert server.get("/healthz").status == 200


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
HOSTILE = {
    "form-invalid-utf8": (FORM, b"username=%FF%FE%80&password=%C3%28"),
    "form-raw-invalid-utf8": (FORM, b"username=\xff\xfe&password=\xc3\x28"),
    "form-nul": (FORM, b"username=adm%00in&password=x%00y"),
    "form-bad-percent": (FORM, b"username=%G1%&password=%"),
    "form-no-values": (FORM, b"&&&=&username&password&=="),
    "form-10000-params": (FORM, b"&".join(b"p%d=%d" % (i, i) for i in range(10000))
                          + b"&username=admin&password=wrong"),
    "form-long-name": (FORM, b"x" * 100000 + b"=1&username=admin&password=wrong"),
    "json-invalid-utf8": (JSON, b'{"username": "\xff\xfe", "password": "x"}'),
    "json-nul-escape": (JSON, b'{"username": "adm\\u0000in", "password": "x"}'),
    "json-lone-surrogate": (JSON, b'{"username": "\\ud800", "password": "x"}'),
    "json-deep-nesting": (JSON, b"[" * 100000 + b"]" * 100000),
    "json-deep-object": (JSON, b'{"a":' * 50000 + b"1" + b"}" * 50000),
    "json-wrong-types": (JSON, b'{"username": ["admin"], "password": {"x": 1}}'),
    "json-numbers": (JSON, b'{"username": 123, "password": 1e999}'),
    "json-null": (JSON, b'{"username": null, "password": null}'),
    "json-empty-body": (JSON, b""),
    "json-trailing-garbage": (JSON, b'{"username": "admin"} xyz'),
    "text-plain": ({"Content-Type": "text/plain"}, b"username=admin&password=wrong"),
    "no-content-type": ({}, b"\x00\x01\x02garbage"),
    "multipart-garbage": ({"Content-Type": "multipart/form-data; boundary=zz"},
                          b"--zz\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n"
                          b"admin\r\n--zz\r\nContent-Disposition: form-data\r\n\r\nx"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_auth_bodies_are_client_errors(server, case):
    headers, body = HOSTILE[case]
    r = server.post("/auth", data=body, headers=headers)
    assert 400 <= r.status < 500, r
    assert r.result["status"] is False
    assert server.get("/healthz").status == 200


def test_hostile_headers_and_urls(server):
    r = server.get("/auth/rights", headers={"Authorization": "x" * 6000})
    assert_error(r, 401, 4304, prefix=PFX_4304)
    r = server.get("/auth/rights", headers={"Authorization": "Bearer "})
    assert r.status == 401 and r.error["code"] in (4033, 4304), r
    r = server.get("/healthz", params={"x": "y" * 6000})
    assert r.status == 200, r
    r = server.raw_request(http_head("GET", "/auth%00/rights"))
    assert 400 <= r.status < 500, r
    r = server.raw_request(http_head("GET", "/nonexistent/%ZZ%"))
    assert 400 <= r.status < 500, r
    r = server.raw_request(http_head("GET", "/healthz?%"))
    assert r.status in (200, 400), r
    assert server.get("/healthz").status == 200
