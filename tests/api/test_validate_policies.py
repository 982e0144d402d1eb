"""The authentication and authorization policies on /validate/check, samlcheck, radiuscheck and
triggerchallenge (privacyIDEA's lib/policydecorators.py, api/lib/prepolicy.py,
api/lib/postpolicy.py, lib/token.py check_token_list; order: ../shared/spec/policies_events.md
§1.7).  Every action: the answer without the policy, then with it, with exact values; RFC 4226
HOTP vectors of the key 3132333435363738393031323334353637383930."""
import base64
import hashlib
import hmac
import json
import subprocess
import time

import pytest

from token_helpers import RFC4226_KEY, RFC4226_OTPS, admin, check, ensure_realm, err, init, ok, token_info, \
    token_row

OTP = RFC4226_OTPS
REALM = "vprealm"
# login, password of the user store (sha512-crypt via openssl passwd -6)
USERS = ["pia", "pete", "paul", "pam", "piet", "polly", "percy", "penny", "pablo", "petra", "phil",
         "priya", "quinn", "rita", "rob", "sam", "tess", "ugo"]


def _hash(pw):
    return subprocess.run(["openssl", "passwd", "-6", pw], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("validate_policies")


@pytest.fixture
def tok(server, workdir):
    """Admin JWT; realm1 (token_helpers) and vprealm (users with passwords "<login>-pass");
    no policy left over from an earlier test."""
    t = admin(server)
    ensure_realm(server, t, workdir)
    r = server.get("/realm/", token=t)
    if REALM not in (r.value or {}):
        path = workdir / "vpusers"
        path.write_text("".join("%s:%s:%d:%d:%s Person,,,,%s@example.com:/home/%s:/bin/sh\n"
                                % (u, _hash(u + "-pass"), 2000 + i, 2000 + i, u.capitalize(), u, u)
                                for i, u in enumerate(USERS)))
        ok(server.post("/resolver/vpfile", data={"type": "passwdresolver", "fileName": str(path)}, token=t))
        ok(server.post("/realm/" + REALM, data={"resolvers": "vpfile"}, token=t))
    for p in server.get("/policy/", token=t).value:
        ok(server.delete("/policy/" + p["name"], token=t))
    return t


def pol(server, tok, name, scope, action, **kw):
    data = {"scope": scope, "action": action}
    data.update(kw)
    ok(server.post("/policy/" + name, data=data, token=tok))


def hotp_for(server, tok, user, pin="", serial=None, key=RFC4226_KEY, **kw):
    server.post("/token/unassign", data={"user": user, "realm": REALM}, token=tok)
    serial = serial or "VP" + user.upper() + str(int(time.time() * 1000) % 100000)
    params = dict(type="hotp", otpkey=key, serial=serial, user=user, realm=REALM, pin=pin)
    params.update(kw)
    ok(init(server, tok, **params))
    return serial


def chk(server, user, pw, **kw):
    return check(server, user=user, realm=REALM, **dict(kw, **{"pass": pw}))


def last_policies(server):
    rows = server.db_query("SELECT '[' || coalesce(policies, '') || ']' FROM pidea_audit ORDER BY id DESC LIMIT 1")
    return rows[0][0][1:-1]


def accepted(r, message):
    assert r.status == 200 and r.result["value"] is True, r
    assert r.result["authentication"] == "ACCEPT", r
    assert r.body["detail"]["message"] == message, r


def rejected(r, message):
    assert r.status == 200 and r.result["value"] is False, r
    assert r.result["authentication"] == "REJECT", r
    assert r.body["detail"]["message"] == message, r


def jwt_hs256(secret, claims):
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64(sig))


# ---- authentication.otppin -------------------------------------------------------------------

def test_otppin(server, tok):
    s = hotp_for(server, tok, "pia", pin="tp")
    # default (tokenpin): the token PIN, not the user-store password
    accepted(chk(server, "pia", "tp" + OTP[0]), "matching 1 tokens")
    rejected(chk(server, "pia", "pia-pass" + OTP[1]), "wrong otp pin")
    pol(server, tok, "pinstore", "authentication", "otppin=userstore", realm=REALM)
    accepted(chk(server, "pia", "pia-pass" + OTP[1]), "matching 1 tokens")
    assert last_policies(server) == "pinstore"
    rejected(chk(server, "pia", "tp" + OTP[2]), "wrong otp pin")
    pol(server, tok, "pinstore", "authentication", "otppin=none", realm=REALM)
    accepted(chk(server, "pia", OTP[2]), "matching 1 tokens")
    rejected(chk(server, "pia", "tp" + OTP[3]), "wrong otp pin")   # a PIN is refused
    pol(server, tok, "pinstore", "authentication", "otppin=tokenpin", realm=REALM)
    accepted(chk(server, "pia", "tp" + OTP[3]), "matching 1 tokens")
    # a policy of another realm does not apply
    pol(server, tok, "pinstore", "authentication", "otppin=none", realm="realm1")
    rejected(chk(server, "pia", OTP[4]), "wrong otp pin")
    # by serial: the policy is matched with the token's owner
    pol(server, tok, "pinstore", "authentication", "otppin=none", realm=REALM)
    r = check(server, serial=s, **{"pass": OTP[4]})
    accepted(r, "matching 1 tokens")
    assert r.body["detail"]["serial"] == s


def test_otppin_conflict_at_equal_priority(server, tok):
    hotp_for(server, tok, "pia", pin="tp")
    pol(server, tok, "a1", "authentication", "otppin=none", priority="2")
    pol(server, tok, "a2", "authentication", "otppin=userstore", priority="2")
    err(chk(server, "pia", OTP[0]), 403, 303, "There are policies with conflicting actions: ['a1', 'a2']")
    # a higher priority decides
    pol(server, tok, "a2", "authentication", "otppin=userstore", priority="1")
    accepted(chk(server, "pia", "pia-pass" + OTP[0]), "matching 1 tokens")


# ---- passthru, passOnNoToken, passOnNoUser --------------------------------------------------

def test_passthru(server, tok):
    server.post("/token/unassign", data={"user": "pete", "realm": REALM}, token=tok)
    rejected(chk(server, "pete", "pete-pass"), "The user has no tokens assigned")
    pol(server, tok, "pt", "authentication", "passthru=userstore", realm=REALM)
    accepted(chk(server, "pete", "pete-pass"), "against userstore due to 'pt'")
    assert last_policies(server) == "pt"
    rejected(chk(server, "pete", "wrong"), "The user has no tokens assigned")
    # only for users without tokens
    hotp_for(server, tok, "pete")
    rejected(chk(server, "pete", "pete-pass"), "wrong otp pin")
    server.post("/token/unassign", data={"user": "pete", "realm": REALM}, token=tok)
    # a RADIUS server identifier: Tessera has none, so it does not exist
    pol(server, tok, "pt", "authentication", "passthru=radius1", realm=REALM)
    err(chk(server, "pete", "pete-pass"), 400, 302,
        "ERR302: The specified RADIUSServer configuration does not exist.")
    # different values at the same priority
    pol(server, tok, "pt", "authentication", "passthru=userstore", realm=REALM, priority="3")
    pol(server, tok, "pt2", "authentication", "passthru=radius1", priority="3")
    err(chk(server, "pete", "pete-pass"), 403, 303, "Contradicting passthru policies.")


def test_pass_on_no_token(server, tok):
    server.post("/token/unassign", data={"user": "paul", "realm": REALM}, token=tok)
    rejected(chk(server, "paul", "anything"), "The user has no tokens assigned")
    pol(server, tok, "pnt", "authentication", "passOnNoToken", realm=REALM)
    accepted(chk(server, "paul", "anything"), "user has no token, accepted due to 'pnt'")
    assert last_policies(server) == "pnt"
    hotp_for(server, tok, "paul")
    rejected(chk(server, "paul", "anything"), "wrong otp pin")


def test_pass_on_no_user(server, tok):
    err(chk(server, "nobody", "x"), 400, 904, "ERR904: The user can not be found in any resolver in this realm!")
    pol(server, tok, "pnu", "authentication", "passOnNoUser", realm=REALM)
    r = chk(server, "nobody", "x")
    accepted(r, "user does not exist, accepted due to 'pnu'")
    assert set(r.body["detail"]) == {"message", "threadid"}
    row = server.db_query("SELECT success, \"user\", realm, resolver, policies FROM pidea_audit "
                          "ORDER BY id DESC LIMIT 1")[0]
    assert row == ("1", "nobody", REALM, "", "pnu")
    # an existing user is checked as usual
    server.post("/token/unassign", data={"user": "pam", "realm": REALM}, token=tok)
    rejected(chk(server, "pam", "x"), "The user has no tokens assigned")


# ---- challenge_response, challenge_text, header/footer, increase_failcounter_on_challenge -------

def test_challenge_response(server, tok):
    s = hotp_for(server, tok, "piet", pin="cr")
    rejected(chk(server, "piet", "cr"), "wrong otp pin")   # the PIN alone: no challenge
    pol(server, tok, "chal", "authentication", "challenge_response=totp hotp", realm=REALM)
    r = chk(server, "piet", "cr")
    assert r.status == 200 and r.result["value"] is False and r.result["authentication"] == "CHALLENGE"
    d = r.body["detail"]
    assert d["message"] == "please enter otp: " and d["serial"] == s
    assert [c["serial"] for c in d["multi_challenge"]] == [s]
    assert last_policies(server) == "chal"
    r = chk(server, "piet", OTP[2], transaction_id=d["transaction_id"])
    accepted(r, "Found matching challenge")
    # a type not in the list
    pol(server, tok, "chal", "authentication", "challenge_response=totp", realm=REALM)
    rejected(chk(server, "piet", "cr"), "wrong otp pin")


def test_challenge_text_and_header_footer(server, tok):
    hotp_for(server, tok, "polly", pin="cr")
    ok(init(server, tok, type="hotp", otpkey="11" * 20, pin="cr", user="polly", realm=REALM))
    pol(server, tok, "chal", "authentication", "challenge_response=hotp", realm=REALM)
    r = chk(server, "polly", "cr")
    assert r.body["detail"]["message"] == "please enter otp: , please enter otp: "
    pol(server, tok, "ctext", "authentication", "challenge_text=Enter the code", realm=REALM)
    r = chk(server, "polly", "cr")
    d = r.body["detail"]
    assert d["message"] == "Enter the code, Enter the code"
    assert [c["message"] for c in d["multi_challenge"]] == ["Enter the code", "Enter the code"]
    assert sorted(last_policies(server).split(",")) == ["chal", "ctext"]
    pol(server, tok, "chead", "authentication", "challenge_text_header=Choose one:<ul>, "
        "challenge_text_footer=</ul>", realm=REALM)
    r = chk(server, "polly", "cr")
    assert r.body["detail"]["message"] == "Choose one:<ul><li>Enter the code</li>\n</ul>"
    pol(server, tok, "chead", "authentication", "challenge_text_header=Please:", realm=REALM)
    r = chk(server, "polly", "cr")
    assert r.body["detail"]["message"] == "Please:\nEnter the code\n"
    # the same on /validate/triggerchallenge
    r = server.post("/validate/triggerchallenge", data={"user": "polly", "realm": REALM},
                    headers={"PI-Authorization": tok})
    assert r.value == 2 and r.body["detail"]["message"] == "Please:\nEnter the code\n"


def test_increase_failcounter_on_challenge(server, tok):
    s = hotp_for(server, tok, "percy", pin="cr")
    pol(server, tok, "chal", "authentication", "challenge_response=hotp", realm=REALM)
    assert chk(server, "percy", "cr").result["authentication"] == "CHALLENGE"
    assert token_row(server, s)["failcount"] == "0"
    # a client cannot ask for it by itself
    chk(server, "percy", "cr", increase_failcounter_on_challenge="1")
    assert token_row(server, s)["failcount"] == "0"
    pol(server, tok, "incfail", "authentication", "increase_failcounter_on_challenge", realm=REALM)
    assert chk(server, "percy", "cr").result["authentication"] == "CHALLENGE"
    assert token_row(server, s)["failcount"] == "1"
    r = server.post("/validate/triggerchallenge", data={"user": "percy", "realm": REALM},
                    headers={"PI-Authorization": tok})
    assert r.value == 1 and token_row(server, s)["failcount"] == "2"


# ---- last_auth, auth_max_success, auth_max_fail ---------------------------------------------------

def test_last_auth(server, tok):
    s = hotp_for(server, tok, "penny")
    ok(server.post("/token/info/%s/last_auth" % s, data={"value": "2020-01-01 10:00:00.000000+00:00"},
                   token=tok))
    accepted(chk(server, "penny", OTP[0]), "matching 1 tokens")   # no policy: the age does not matter
    assert token_info(server, s)["last_auth"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    ok(server.post("/token/info/%s/last_auth" % s, data={"value": "2020-01-01 10:00:00.000000+00:00"},
                   token=tok))
    pol(server, tok, "la", "authorization", "last_auth=10d", realm=REALM)
    rejected(chk(server, "penny", OTP[1]),
             "The last successful authentication was 2020-01-01 10:00:00.000000+00:00. It is to long ago.")
    assert last_policies(server) == "la"
    assert token_row(server, s)["count"] == "2"   # the OTP was used up
    assert token_info(server, s)["last_auth"] == "2020-01-01 10:00:00.000000+00:00"
    # recent enough
    ok(server.post("/token/info/%s/last_auth" % s, data={"value": time.strftime("%Y-%m-%d %H:%M:%S.000000+00:00",
                                                                                 time.gmtime())}, token=tok))
    accepted(chk(server, "penny", OTP[2]), "matching 1 tokens")
    # by serial too
    ok(server.post("/token/info/%s/last_auth" % s, data={"value": "2020-01-01 10:00:00+00:00"}, token=tok))
    rejected(check(server, serial=s, **{"pass": OTP[3]}),
             "The last successful authentication was 2020-01-01 10:00:00+00:00. It is to long ago.")


def test_auth_max_success(server, tok):
    hotp_for(server, tok, "pablo")
    pol(server, tok, "ms", "authorization", "auth_max_success=2/5m", realm=REALM)
    accepted(chk(server, "pablo", OTP[0]), "matching 1 tokens")
    accepted(chk(server, "pablo", OTP[1]), "matching 1 tokens")
    rejected(chk(server, "pablo", OTP[2]), "Only 2 successful authentications per 0:05:00")
    rejected(chk(server, "pablo", OTP[2]), "wrong otp value. previous otp used again")  # consumed
    rejected(chk(server, "pablo", OTP[3]), "Only 2 successful authentications per 0:05:00")
    # without the policy the user authenticates again
    ok(server.delete("/policy/ms", token=tok))
    accepted(chk(server, "pablo", OTP[4]), "matching 1 tokens")
    pol(server, tok, "ms", "authorization", "auth_max_success=10/1d", realm=REALM)
    accepted(chk(server, "pablo", OTP[5]), "matching 1 tokens")
    pol(server, tok, "ms", "authorization", "auth_max_success=3/2d", realm=REALM)
    rejected(chk(server, "pablo", OTP[6]), "Only 3 successful authentications per 2 days, 0:00:00")


def test_auth_max_fail(server, tok):
    hotp_for(server, tok, "petra")
    pol(server, tok, "mf", "authorization", "auth_max_fail=2/1h", realm=REALM)
    rejected(chk(server, "petra", "000000"), "wrong otp value")
    rejected(chk(server, "petra", "000001"), "wrong otp value")
    rejected(chk(server, "petra", OTP[0]), "Only 2 failed authentications per 1:00:00")
    assert last_policies(server) == "mf"
    ok(server.delete("/policy/mf", token=tok))
    accepted(chk(server, "petra", OTP[1]), "matching 1 tokens")


# ---- reset_all_user_tokens ------------------------------------------------------------------------

def test_reset_all_user_tokens(server, tok):
    a = hotp_for(server, tok, "phil", pin="a")
    b = "VPB" + str(int(time.time() * 1000) % 100000)
    ok(init(server, tok, type="hotp", otpkey="22" * 20, pin="b", serial=b, user="phil", realm=REALM))
    rejected(chk(server, "phil", "b000000"), "wrong otp value")
    assert token_row(server, b)["failcount"] == "1"
    accepted(chk(server, "phil", "a" + OTP[0]), "matching 1 tokens")
    assert token_row(server, b)["failcount"] == "1"   # default: only the token used is reset
    pol(server, tok, "rall", "authentication", "reset_all_user_tokens", realm=REALM)
    accepted(chk(server, "phil", "a" + OTP[1]), "matching 1 tokens")
    assert token_row(server, b)["failcount"] == "0"
    assert token_row(server, a)["failcount"] == "0"
    assert last_policies(server) == "rall"


# ---- no_detail_on_success / fail, add_user_in_response, add_resolver_in_response -----------------

def test_no_detail(server, tok):
    hotp_for(server, tok, "priya")
    r = chk(server, "priya", OTP[0])
    assert r.body["detail"]["message"] == "matching 1 tokens"
    pol(server, tok, "nds", "authorization", "no_detail_on_success")
    r = chk(server, "priya", OTP[1])
    assert r.result["value"] is True and "detail" not in r.body
    r = chk(server, "priya", "000000")
    assert r.body["detail"]["message"] == "wrong otp value"
    ok(server.delete("/policy/nds", token=tok))
    pol(server, tok, "ndf", "authorization", "no_detail_on_fail")
    r = chk(server, "priya", "000000")
    assert r.result["value"] is False and "detail" not in r.body
    assert last_policies(server) == "ndf"
    r = chk(server, "priya", OTP[2])
    assert r.body["detail"]["serial"].startswith("VPPRIYA")


def test_add_user_and_resolver_in_response(server, tok):
    hotp_for(server, tok, "quinn")
    r = chk(server, "quinn", OTP[0])
    assert set(r.body["detail"]) == {"message", "otplen", "serial", "threadid", "type"}
    pol(server, tok, "aur", "authorization", "add_user_in_response, add_resolver_in_response", realm=REALM)
    r = chk(server, "quinn", OTP[1])
    d = r.body["detail"]
    assert d["user-resolver"] == "vpfile" and d["user-realm"] == REALM
    u = d["user"]
    assert u["username"] == "quinn" and u["email"] == "quinn@example.com" and u["givenname"] == "Quinn"
    assert u["password"] == ""
    assert last_policies(server) == "aur"
    # not on failure
    r = chk(server, "quinn", "000000")
    assert set(r.body["detail"]) == {"message", "otplen", "serial", "threadid", "type"}


# ---- api_key_required ------------------------------------------------------------------------------

def test_api_key_required(server, tok):
    hotp_for(server, tok, "rita")
    accepted(chk(server, "rita", OTP[0]), "matching 1 tokens")
    pol(server, tok, "apikey", "authorization", "api_key_required")
    err(chk(server, "rita", OTP[1]), 403, 303, "No valid API key was passed.")
    err(server.post("/validate/check", data={"user": "rita", "realm": REALM, "pass": OTP[1]},
                    headers={"Authorization": "garbage"}), 403, 303, "No valid API key was passed.")
    r = server.post("/validate/check", data={"user": "rita", "realm": REALM, "pass": OTP[1]},
                    headers={"Authorization": tok})
    err(r, 403, 303, "A correct JWT was passed, but it was no API key.")
    key = jwt_hs256(server.secret_key, {"username": "app", "realm": "", "role": "validate",
                                         "exp": int(time.time()) + 3600})
    r = server.post("/validate/check", data={"user": "rita", "realm": REALM, "pass": OTP[1]},
                    headers={"PI-Authorization": key})
    accepted(r, "matching 1 tokens")
    # the OTP of the refused requests was not used
    assert token_row(server, r.body["detail"]["serial"])["count"] == "2"
    # pi-manage's `api createtoken`: tessera api createtoken -r validate
    out = server.cli("api", "createtoken", "-r", "validate", "-d", "2", "-u", "radius").stdout
    lines = dict(l.split(":", 1) for l in out.strip().splitlines())
    assert {k: v.strip() for k, v in lines.items() if k != "Auth-Token"} == {
        "Username": "radius", "Realm": "API", "Role": "validate", "Validity": "2 days"}
    r = server.post("/validate/check", data={"user": "rita", "realm": REALM, "pass": OTP[2]},
                    headers={"Authorization": lines["Auth-Token"].strip()})
    accepted(r, "matching 1 tokens")
    # a validate key opens no admin endpoint; an admin key made the same way does
    r = server.get("/token/", headers={"Authorization": lines["Auth-Token"].strip()})
    assert (r.status, r.body["result"]["error"]["code"]) == (401, 4306)
    out = server.cli("api", "createtoken", "-u", "script").stdout
    key = out.strip().splitlines()[-1].split(":", 1)[1].strip()
    assert server.get("/token/", headers={"Authorization": key}).status == 200
    bad = server.cli("api", "createtoken", "-r", "user", check=False)
    assert bad.returncode == 1 and "The role must be 'admin' or 'validate'!" in bad.stderr


# ---- tokentype, serial, tokeninfo (post-checks: the OTP is used up) ---------------------------

def test_tokentype(server, tok):
    s = hotp_for(server, tok, "rob")
    pol(server, tok, "tt", "authorization", "tokentype=spass totp", realm=REALM)
    err(chk(server, "rob", OTP[0]), 403, 303, "Tokentype not allowed for authentication!")
    row = server.db_query("SELECT success, action_detail FROM pidea_audit ORDER BY id DESC LIMIT 1")[0]
    assert row == ("0", "Tokentype 'hotp' not allowed for authentication")
    assert token_row(server, s)["count"] == "1"
    pol(server, tok, "tt", "authorization", "tokentype=spass hotp", realm=REALM)
    accepted(chk(server, "rob", OTP[1]), "matching 1 tokens")
    pol(server, tok, "tt", "authorization", "tokentype=HOTP", realm=REALM)   # case-sensitive
    err(chk(server, "rob", OTP[2]), 403, 303, "Tokentype not allowed for authentication!")
    ok(server.delete("/policy/tt", token=tok))
    accepted(chk(server, "rob", OTP[3]), "matching 1 tokens")


def test_serial(server, tok):
    s = hotp_for(server, tok, "sam", serial="VPSAM%d" % (int(time.time() * 1000) % 100000))
    pol(server, tok, "ser", "authorization", "serial=^OATH")
    err(chk(server, "sam", OTP[0]), 403, 303, "Serial is not allowed for authentication!")
    assert token_row(server, s)["count"] == "1"
    pol(server, tok, "ser", "authorization", "serial=^OATH ^VPSAM")
    accepted(chk(server, "sam", OTP[1]), "matching 1 tokens")
    # matched action-only: a user filter of the policy is ignored
    pol(server, tok, "ser", "authorization", "serial=^OATH", user="somebodyelse")
    err(chk(server, "sam", OTP[2]), 403, 303, "Serial is not allowed for authentication!")
    ok(server.delete("/policy/ser", token=tok))
    accepted(chk(server, "sam", OTP[3]), "matching 1 tokens")


def test_tokeninfo(server, tok):
    s = hotp_for(server, tok, "tess")
    ok(server.post("/token/info/%s/dept" % s, data={"value": "hr"}, token=tok))
    accepted(chk(server, "tess", OTP[0]), "matching 1 tokens")
    pol(server, tok, "ti", "authorization", "tokeninfo=dept/^sales$/")
    err(chk(server, "tess", OTP[1]), 403, 303,
        "Tokeninfo field dept with contents does not match regular expression.")
    assert token_row(server, s)["count"] == "2"
    ok(server.post("/token/info/%s/dept" % s, data={"value": "sales"}, token=tok))
    accepted(chk(server, "tess", OTP[2]), "matching 1 tokens")


# ---- setrealm, mangle, application_tokentype, authorized -------------------------------------

def test_setrealm(server, tok):
    hotp_for(server, tok, "ugo")
    # ugo lives in vprealm only
    err(check(server, user="ugo", realm="realm1", **{"pass": OTP[0]}), 400, 904)
    pol(server, tok, "sr", "authorization", "setrealm=" + REALM, realm="realm1")
    r = check(server, user="ugo", realm="realm1", **{"pass": OTP[0]})
    accepted(r, "matching 1 tokens")
    row = server.db_query("SELECT \"user\", realm, policies FROM pidea_audit ORDER BY id DESC LIMIT 1")[0]
    assert row == ("ugo", REALM, "sr")
    pol(server, tok, "sr2", "authorization", "setrealm=otherrealm", realm="realm1")
    err(check(server, user="ugo", realm="realm1", **{"pass": OTP[1]}), 403, 303,
        "I do not know, to which realm I should set the new realm. Conflicting policies exist.")


def test_mangle(server, tok):
    s = hotp_for(server, tok, "pia", pin="tp")
    err(chk(server, "pia@example.com", "tp" + OTP[0]), 400, 904)
    pol(server, tok, "mg", "authentication", r"mangle=user/^(.*)@example\.com$/\1/")
    accepted(chk(server, "pia@example.com", "tp" + OTP[0]), "matching 1 tokens")
    assert last_policies(server) == "mg"
    # two values: the user and the password
    pol(server, tok, "mg", "authentication", r"mangle=user/^(.*)@example\.com$/\1/ pass/-//")
    accepted(chk(server, "pia@example.com", "tp" + OTP[1][:3] + "-" + OTP[1][3:]), "matching 1 tokens")
    ok(server.delete("/policy/mg", token=tok))
    rejected(check(server, serial=s, **{"pass": "tp" + OTP[2][:3] + "-" + OTP[2][3:]}), "wrong otp pin")


def test_application_tokentype(server, tok):
    hotp_for(server, tok, "pete", pin="hp")
    ok(init(server, tok, type="spass", pin="sp", user="pete", realm=REALM))
    # without the policy "type" is ignored
    accepted(chk(server, "pete", "sp", type="hotp"), "matching 1 tokens")
    pol(server, tok, "at", "authorization", "application_tokentype", realm=REALM)
    rejected(chk(server, "pete", "sp", type="hotp"), "wrong otp pin")
    r = chk(server, "pete", "sp", type="spass")
    accepted(r, "matching 1 tokens")
    assert r.body["detail"]["type"] == "spass"
    rejected(chk(server, "pete", "sp", type="totp"), "The user has no tokens assigned")
    server.post("/token/unassign", data={"user": "pete", "realm": REALM}, token=tok)


def test_authorized(server, tok):
    s = hotp_for(server, tok, "pam", pin="cr")
    pol(server, tok, "deny", "authorization", "authorized=deny_access", realm=REALM, priority="2")
    r = chk(server, "pam", "cr" + OTP[0])
    err(r, 400, 401, "ERR401: User is not authorized to authenticate under these conditions.")
    assert r.body["detail"] is None
    assert token_row(server, s)["count"] == "1"   # the OTP was used
    row = server.db_query("SELECT success, policies FROM pidea_audit ORDER BY id DESC LIMIT 1")[0]
    assert row == ("0", "deny")
    pol(server, tok, "allow", "authorization", "authorized=grant_access", realm=REALM, priority="1")
    accepted(chk(server, "pam", "cr" + OTP[1]), "matching 1 tokens")
    # equal priority, different values
    pol(server, tok, "allow", "authorization", "authorized=grant_access", realm=REALM, priority="2")
    err(chk(server, "pam", "cr" + OTP[2]), 403, 303,
        "There are policies with conflicting actions: ['deny', 'allow']")
    ok(server.delete("/policy/allow", token=tok))
    # triggerchallenge
    pol(server, tok, "chal", "authentication", "challenge_response=hotp", realm=REALM)
    r = server.post("/validate/triggerchallenge", data={"user": "pam", "realm": REALM},
                    headers={"PI-Authorization": tok})
    err(r, 400, 401, "ERR401: User is not authorized to authenticate under these conditions.")
    ok(server.delete("/policy/deny", token=tok))
    r = server.post("/validate/triggerchallenge", data={"user": "pam", "realm": REALM},
                    headers={"PI-Authorization": tok})
    assert r.value == 1


def test_radiuscheck_with_policies(server, tok):
    import requests
    hotp_for(server, tok, "ugo")
    url = server.base + "/validate/radiuscheck"
    r = requests.post(url, data={"user": "ugo", "realm": REALM, "pass": OTP[0]})
    assert r.status_code == 204 and r.content == b""
    pol(server, tok, "deny", "authorization", "authorized=deny_access", realm=REALM)
    err(server.post("/validate/radiuscheck", data={"user": "ugo", "realm": REALM, "pass": OTP[1]}), 400, 401,
        "ERR401: User is not authorized to authenticate under these conditions.")
    ok(server.delete("/policy/deny", token=tok))
    pol(server, tok, "tt", "authorization", "tokentype=spass", realm=REALM)
    err(server.post("/validate/radiuscheck", data={"user": "ugo", "realm": REALM, "pass": OTP[2]}), 403, 303,
        "Tokentype not allowed for authentication!")
    ok(server.delete("/policy/tt", token=tok))
    r = requests.post(url, data={"user": "ugo", "realm": REALM, "pass": OTP[3]})
    assert r.status_code == 204


def test_last_auth_only_for_one_token(server, tok):
    """last_auth is written when the answer names one token (privacyIDEA's auth_lastauth)."""
    hotp_for(server, tok, "rob", pin="x")
    ok(init(server, tok, type="hotp", otpkey=RFC4226_KEY, pin="x", user="rob", realm=REALM))
    serials = [row[0] for row in server.db_query(
        "SELECT t.serial FROM token t JOIN tokenowner o ON o.token_id = t.id WHERE o.user_id = '%d'"
        % (2000 + USERS.index("rob")))]
    assert len(serials) == 2
    accepted(chk(server, "rob", "x" + OTP[0]), "matching 2 tokens")
    assert [("last_auth" in token_info(server, s)) for s in serials] == [False, False]
    server.post("/token/unassign", data={"user": "rob", "realm": REALM}, token=tok)


def test_serial_only_requests_match_the_token_owner(server, tok):
    """Serial-only requests: the policies are matched with the token's owner (Match.token)."""
    s = hotp_for(server, tok, "sam")
    other = "VPR1%d" % (int(time.time() * 1000) % 100000)
    ok(init(server, tok, type="hotp", otpkey=RFC4226_KEY, serial=other, user="alice", realm="realm1"))
    pol(server, tok, "tt", "authorization", "tokentype=spass", realm=REALM)
    err(check(server, serial=s, **{"pass": OTP[0]}), 403, 303, "Tokentype not allowed for authentication!")
    accepted(check(server, serial=other, **{"pass": OTP[0]}), "matching 1 tokens")
    pol(server, tok, "tt", "authorization", "tokentype=spass", user="sam")
    err(check(server, serial=s, **{"pass": OTP[1]}), 403, 303, "Tokentype not allowed for authentication!")
    accepted(check(server, serial=other, **{"pass": OTP[1]}), "matching 1 tokens")
    ok(server.delete("/token/" + other, token=tok))


def test_samlcheck_with_policies(server, tok):
    hotp_for(server, tok, "phil")
    pol(server, tok, "tt", "authorization", "tokentype=spass", realm=REALM)
    r = server.post("/validate/samlcheck", data={"user": "phil", "realm": REALM, "pass": OTP[0]})
    err(r, 403, 303, "Tokentype not allowed for authentication!")
    ok(server.delete("/policy/tt", token=tok))
    pol(server, tok, "nds", "authorization", "no_detail_on_success")
    r = server.post("/validate/samlcheck", data={"user": "phil", "realm": REALM, "pass": OTP[1]})
    assert r.value["auth"] is True and "detail" not in r.body


def test_no_policies_no_audit_entry(server, tok):
    """Without any policy nothing is recorded in the audit row's policies."""
    hotp_for(server, tok, "sam")
    accepted(chk(server, "sam", OTP[0]), "matching 1 tokens")
    assert last_policies(server) == ""
