"""The challenge dialogues of /validate/check that authentication policies switch on (privacyIDEA's
lib/challengeresponsedecorators.py and the postpolicies multichallenge_enroll_via_validate and
preferred_client_mode): change_pin_via_validate, resync_via_multichallenge,
enroll_via_multichallenge, preferred_client_mode.  Each: the answer without the policy, then the
whole dialogue with it (exact answers, the challenge rows, the token afterwards), and wrong input.
RFC 4226 HOTP vectors of the key 3132333435363738393031323334353637383930; the enrolled token's
values come from oathtool with the key read from the QR code (zbarimg)."""
import base64
import re
import subprocess
import time
import urllib.parse

import pytest

from token_helpers import RFC4226_KEY, RFC4226_OTPS, admin, check, ensure_realm, err, hotp, init, ok, \
    token_info, token_row

OTP = RFC4226_OTPS
REALM = "mcrealm"
USERS = ["mia", "max", "moe", "mel", "mat"]


def _hash(pw):
    return subprocess.run(["openssl", "passwd", "-6", pw], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("validate_multichallenge")


@pytest.fixture
def tok(server, workdir):
    """Admin JWT; the realm mcrealm (passwords "<login>-pass"); no policy, no AutoResync left over."""
    t = admin(server)
    ensure_realm(server, t, workdir)
    r = server.get("/realm/", token=t)
    if REALM not in (r.value or {}):
        path = workdir / "mcusers"
        path.write_text("".join("%s:%s:%d:%d:%s Person,,,,%s@example.com:/home/%s:/bin/sh\n"
                                % (u, _hash(u + "-pass"), 3000 + i, 3000 + i, u.capitalize(), u, u)
                                for i, u in enumerate(USERS)))
        ok(server.post("/resolver/mcfile", data={"type": "passwdresolver", "fileName": str(path)}, token=t))
        ok(server.post("/realm/" + REALM, data={"resolvers": "mcfile"}, token=t))
    for p in server.get("/policy/", token=t).value:
        ok(server.delete("/policy/" + p["name"], token=t))
    server.post("/system/setConfig", json_body={"AutoResync": False}, token=t)
    return t


def pol(server, tok, name, scope, action, **kw):
    data = {"scope": scope, "action": action}
    data.update(kw)
    ok(server.post("/policy/" + name, data=data, token=tok))


def hotp_for(server, tok, user, pin="", serial=None, **kw):
    server.post("/token/unassign", data={"user": user, "realm": REALM}, token=tok)
    serial = serial or "MC" + user.upper() + str(int(time.time() * 1000) % 100000)
    params = dict(type="hotp", otpkey=RFC4226_KEY, serial=serial, user=user, realm=REALM, pin=pin)
    params.update(kw)
    ok(init(server, tok, **params))
    return serial


def chk(server, user, pw, **kw):
    return check(server, user=user, realm=REALM, **dict(kw, **{"pass": pw}))


def detail(r):
    d = dict(r.body["detail"])
    d.pop("threadid", None)
    return d


def accepted(r, message):
    assert r.status == 200 and r.result["value"] is True, r
    assert r.result["authentication"] == "ACCEPT", r
    assert r.body["detail"]["message"] == message, r


def rejected(r, message):
    assert r.status == 200 and r.result["value"] is False, r
    assert r.result["authentication"] == "REJECT", r
    assert r.body["detail"]["message"] == message, r


def challenged(r, message, serial, extra=None):
    """A generic challenge (privacyIDEA's _create_challenge) plus preferred_client_mode."""
    assert r.status == 200 and r.result["value"] is False, r
    assert r.result["authentication"] == "CHALLENGE", r
    d = detail(r)
    tx = d["transaction_id"]
    assert re.fullmatch(r"[0-9]{20}", tx), d
    expect = {"message": message, "messages": [message], "transaction_id": tx, "transaction_ids": [tx],
              "preferred_client_mode": "interactive",
              "multi_challenge": [{"transaction_id": tx, "client_mode": "interactive", "message": message,
                                   "attributes": None, "serial": serial, "type": "hotp"}]}
    expect.update(extra or {})
    assert d == expect, d
    return tx


def challenges(server, serial):
    return server.db_query("SELECT transaction_id, challenge, CASE WHEN data = '' OR data IS NULL THEN '' "
                           "ELSE 'data' END FROM challenge WHERE serial = '%s' ORDER BY id" % serial)


def pin_hash(server, serial):
    return token_row(server, serial)["pin_hash"]


def make_due(server, serial, when="2020-01-01T00:00+0000"):
    tid = token_row(server, serial)["id"]
    server.db_query("DELETE FROM tokeninfo WHERE token_id = %s AND \"Key\" = 'next_pin_change'" % tid)
    server.db_query("INSERT INTO tokeninfo (token_id, \"Key\", \"Value\", \"Type\", \"Description\") "
                    "VALUES (%s, 'next_pin_change', '%s', '', '')" % (tid, when))


# ---- authentication.change_pin_via_validate ----------------------------------------------------

def test_change_pin_default(server, tok):
    """Without the policy a due PIN change is only reported (next_pin_change, pin_change)."""
    s = hotp_for(server, tok, "mia", pin="old1")
    make_due(server, s)
    r = chk(server, "mia", "old1" + OTP[0])
    accepted(r, "matching 1 tokens")
    assert detail(r) == {"message": "matching 1 tokens", "serial": s, "type": "hotp", "otplen": 6,
                         "next_pin_change": "2020-01-01T00:00+0000", "pin_change": True}
    # a change that is not yet due
    make_due(server, s, "2999-01-01T00:00+0000")
    r = chk(server, "mia", "old1" + OTP[1])
    assert detail(r)["pin_change"] is False and r.result["value"] is True
    # not due: the policy changes nothing
    pol(server, tok, "cpv", "authentication", "change_pin_via_validate", realm=REALM)
    accepted(chk(server, "mia", "old1" + OTP[2]), "matching 1 tokens")
    assert challenges(server, s) == []


def test_change_pin_via_validate(server, tok):
    s = hotp_for(server, tok, "mia", pin="old1")
    # enrollment.change_pin_on_first_use writes next_pin_change at the admin's enrollment
    pol(server, tok, "first", "enrollment", "change_pin_on_first_use", realm=REALM)
    s = hotp_for(server, tok, "mia", pin="old1")
    assert "next_pin_change" in token_info(server, s)
    make_due(server, s)
    pol(server, tok, "cpv", "authentication", "change_pin_via_validate", realm=REALM)
    pol(server, tok, "upin", "user", "otp_pin_minlength=4", realm=REALM)
    old_hash = pin_hash(server, s)

    r = chk(server, "mia", "old1" + OTP[0])
    tx1 = challenged(r, "Please enter a new PIN", s)
    assert challenges(server, s) == [(tx1, "generic_pin_reset", "")]
    assert token_row(server, s)["count"] == "1"          # the OTP was used
    audit = server.db_query("SELECT success, serial, info FROM pidea_audit ORDER BY id DESC LIMIT 1")[0]
    assert audit[1:] == (s, "Please enter a new PIN"), audit
    assert audit[0] in ("0", "False", "f", "false"), audit

    # a PIN against the PIN policy: PolicyError, nothing changes
    r = chk(server, "mia", "ab", transaction_id=tx1)
    err(r, 403, 303, "The minimum OTP PIN length is 4")
    assert challenges(server, s) == [(tx1, "generic_pin_reset", "")]
    assert pin_hash(server, s) == old_hash

    r = chk(server, "mia", "new-pin", transaction_id=tx1)
    tx2 = challenged(r, "Please enter the new PIN again", s)
    assert tx2 != tx1
    assert challenges(server, s) == [(tx2, "generic_pin_reset", "data")]
    assert pin_hash(server, s) == old_hash

    # the second PIN differs: refused, the dialogue stays open, nothing changes
    r = chk(server, "mia", "new-pix", transaction_id=tx2)
    rejected(r, "PINs do not match")
    assert detail(r) == {"message": "PINs do not match", "serial": s}
    assert challenges(server, s) == [(tx2, "generic_pin_reset", "data")]
    assert pin_hash(server, s) == old_hash
    assert token_row(server, s)["failcount"] == "0"

    r = chk(server, "mia", "new-pin", transaction_id=tx2)
    accepted(r, "PIN successfully set.")
    assert detail(r) == {"message": "PIN successfully set.", "serial": s}
    assert challenges(server, s) == []
    assert pin_hash(server, s) != old_hash
    assert "next_pin_change" not in token_info(server, s)   # no change_pin_every

    # the used transaction is gone (docs/compatibility.md)
    rejected(chk(server, "mia", "new-pin", transaction_id=tx2), "wrong otp pin")
    # the old PIN fails, the new one works, and no change is asked any more
    rejected(chk(server, "mia", "old1" + OTP[1]), "wrong otp pin")
    r = chk(server, "mia", "new-pin" + OTP[1])
    accepted(r, "matching 1 tokens")
    assert "pin_change" not in detail(r)


def test_change_pin_every_and_serial(server, tok):
    """change_pin_every sets the next change after the dialogue; a serial check runs it too."""
    s = hotp_for(server, tok, "max", pin="pin1")
    make_due(server, s)
    pol(server, tok, "cpv", "authentication", "change_pin_via_validate", realm=REALM)
    pol(server, tok, "every", "enrollment", "change_pin_every=30d", realm=REALM)
    r = check(server, serial=s, **{"pass": "pin1" + OTP[0]})
    tx = challenged(r, "Please enter a new PIN", s)
    tx = challenged(check(server, serial=s, transaction_id=tx, **{"pass": "pin2"}),
                    "Please enter the new PIN again", s)
    accepted(check(server, serial=s, transaction_id=tx, **{"pass": "pin2"}), "PIN successfully set.")
    nxt = token_info(server, s)["next_pin_change"]
    assert nxt == time.strftime("%Y-%m-%dT%H:%M+0000", time.gmtime(time.time() + 30 * 86400)) or \
        nxt == time.strftime("%Y-%m-%dT%H:%M+0000", time.gmtime(time.time() - 60 + 30 * 86400)), nxt
    accepted(check(server, serial=s, **{"pass": "pin2" + OTP[1]}), "matching 1 tokens")
    # the policy of another realm does not apply
    make_due(server, s)
    pol(server, tok, "cpv", "authentication", "change_pin_via_validate", realm="realm1")
    accepted(check(server, serial=s, **{"pass": "pin2" + OTP[2]}), "matching 1 tokens")


def test_change_pin_after_challenge_response(server, tok):
    """A due change after a challenge-response answer (privacyIDEA's test_lib_token flow)."""
    s = hotp_for(server, tok, "moe", pin="cr1")
    make_due(server, s)
    pol(server, tok, "cr", "authentication", "challenge_response=hotp, change_pin_via_validate", realm=REALM)
    r = chk(server, "moe", "cr1")
    assert r.result["authentication"] == "CHALLENGE"
    d = detail(r)
    assert d["message"] == "please enter otp: "
    assert d["multi_challenge"][0]["next_pin_change"] == "2020-01-01T00:00+0000"
    assert d["multi_challenge"][0]["pin_change"] is True
    tx = challenged(chk(server, "moe", OTP[0], transaction_id=d["transaction_id"]), "Please enter a new PIN", s)
    tx = challenged(chk(server, "moe", "cr2", transaction_id=tx), "Please enter the new PIN again", s)
    accepted(chk(server, "moe", "cr2", transaction_id=tx), "PIN successfully set.")
    accepted(chk(server, "moe", "cr2" + OTP[1]), "matching 1 tokens")


# ---- authentication.resync_via_multichallenge --------------------------------------------------

def test_resync_default(server, tok):
    s = hotp_for(server, tok, "mel", pin="rs")
    ok(server.post("/system/setConfig", json_body={"AutoResync": True}, token=tok))
    # without the policy: two requests, each with PIN and OTP
    rejected(chk(server, "mel", "rs" + hotp(RFC4226_KEY, 20)), "wrong otp value")
    assert token_info(server, s)["otp1c"] == "20"
    accepted(chk(server, "mel", "rs" + hotp(RFC4226_KEY, 21)), "matching 1 tokens")
    assert token_row(server, s)["count"] == "22"
    # the policy without AutoResync: nothing to resync
    ok(server.post("/system/setConfig", json_body={"AutoResync": False}, token=tok))
    pol(server, tok, "rsm", "authentication", "resync_via_multichallenge", realm=REALM)
    rejected(chk(server, "mel", "rs" + hotp(RFC4226_KEY, 40)), "wrong otp value")
    assert challenges(server, s) == []


def test_resync_via_multichallenge(server, tok):
    s = hotp_for(server, tok, "mel", pin="rs")
    ok(server.post("/system/setConfig", json_body={"AutoResync": True}, token=tok))
    pol(server, tok, "rsm", "authentication", "resync_via_multichallenge", realm=REALM)
    r = chk(server, "mel", "rs" + hotp(RFC4226_KEY, 20))
    tx = challenged(r, "To resync your token, please enter the next OTP value", s)
    assert challenges(server, s) == [(tx, "generic_resync", "")]
    assert token_row(server, s)["count"] == "0"
    assert token_row(server, s)["failcount"] == "1"
    # a wrong next value: refused, the counter stays
    r = chk(server, "mel", hotp(RFC4226_KEY, 25), transaction_id=tx)
    rejected(r, "Response did not match the challenge.")
    assert detail(r) == {"message": "Response did not match the challenge.", "serial": s, "type": "hotp"}
    assert token_row(server, s)["count"] == "0"
    # the next value (without PIN) completes the resync
    r = chk(server, "mel", "rs" + hotp(RFC4226_KEY, 30))
    tx_first = tx
    tx = challenged(r, "To resync your token, please enter the next OTP value", s)
    r = chk(server, "mel", hotp(RFC4226_KEY, 31), transaction_id=tx)
    accepted(r, "Found matching challenge")
    assert token_row(server, s)["count"] == "32"
    assert token_row(server, s)["failcount"] == "0"
    # the answered transaction is gone; the unanswered first one expires (as in privacyIDEA)
    assert challenges(server, s) == [(tx_first, "generic_resync", "")]
    assert "otp1c" not in token_info(server, s)
    # the transaction is used up
    rejected(chk(server, "mel", hotp(RFC4226_KEY, 32), transaction_id=tx), "wrong otp pin")
    accepted(chk(server, "mel", "rs" + hotp(RFC4226_KEY, 33)), "matching 1 tokens")
    # an answer outside the sync window keeps otp1c: the wrapper asks again
    tx = challenged(chk(server, "mel", "rs" + hotp(RFC4226_KEY, 60)),
                    "To resync your token, please enter the next OTP value", s)
    tx2 = challenged(chk(server, "mel", hotp(RFC4226_KEY, 5000), transaction_id=tx),
                     "To resync your token, please enter the next OTP value", s)
    assert tx2 != tx and token_info(server, s)["otp1c"] == "60"
    accepted(chk(server, "mel", hotp(RFC4226_KEY, 61), transaction_id=tx2), "Found matching challenge")
    assert token_row(server, s)["count"] == "62"


# ---- authentication.enroll_via_multichallenge --------------------------------------------------

def qr_otpauth(image):
    assert image.startswith("data:image/png;base64,"), image[:40]
    png = base64.b64decode(image.split(",", 1)[1])
    out = subprocess.run(["zbarimg", "--raw", "-q", "-"], input=png, capture_output=True, check=True).stdout
    return out.decode().strip()


def oath_b32(secret, counter):
    return subprocess.run(["oathtool", "--hotp", "-b", "-c", str(counter), secret], capture_output=True,
                          text=True, check=True).stdout.strip()


def user_tokens(server, user):
    return server.db_query("SELECT t.serial, t.tokentype FROM token t JOIN tokenowner o ON o.token_id = t.id "
                           "WHERE o.user_id = '%d' "
                           "ORDER BY t.id" % (3000 + USERS.index(user)))


def test_enroll_default(server, tok):
    server.post("/token/unassign", data={"user": "mat", "realm": REALM}, token=tok)
    pol(server, tok, "pt", "authentication", "passthru=userstore", realm=REALM)
    r = chk(server, "mat", "mat-pass")
    accepted(r, "against userstore due to 'pt'")
    assert detail(r) == {"message": "against userstore due to 'pt'"}
    assert user_tokens(server, "mat") == []
    # a policy with a type that cannot be enrolled this way changes nothing
    pol(server, tok, "evm", "authentication", "enroll_via_multichallenge=SMS", realm=REALM)
    accepted(chk(server, "mat", "mat-pass"), "against userstore due to 'pt'")
    assert user_tokens(server, "mat") == []
    # a failed authentication enrolls nothing
    pol(server, tok, "evm", "authentication", "enroll_via_multichallenge=HOTP", realm=REALM)
    rejected(chk(server, "mat", "wrong"), "The user has no tokens assigned")
    assert user_tokens(server, "mat") == []


def test_enroll_via_multichallenge(server, tok):
    server.post("/token/unassign", data={"user": "mat", "realm": REALM}, token=tok)
    pol(server, tok, "pt", "authentication", "passthru=userstore, enroll_via_multichallenge=HOTP", realm=REALM)
    pol(server, tok, "label", "enrollment", "tokenlabel=<u>@<r>, tokenissuer=Tessera", realm=REALM)
    r = chk(server, "mat", "mat-pass")
    assert r.status == 200 and r.result["value"] is False and r.result["authentication"] == "CHALLENGE", r
    d = detail(r)
    rows = user_tokens(server, "mat")
    assert len(rows) == 1 and rows[0][1] == "hotp", rows
    serial = rows[0][0]
    tx = d["transaction_id"]
    chal = {"transaction_id": tx, "image": d["image"], "client_mode": "interactive", "serial": serial,
            "type": "hotp", "message": "Please scan the QR code!"}
    assert d == dict(chal, transaction_ids=[tx], messages=["Please scan the QR code!"], multi_challenge=[chal],
                     preferred_client_mode="interactive"), d
    assert challenges(server, serial) == [(tx, "", "")]
    url = qr_otpauth(d["image"])
    parsed = urllib.parse.urlparse(url)
    assert parsed.scheme == "otpauth" and parsed.netloc == "hotp", url
    assert urllib.parse.unquote(parsed.path) == "/mat@mcrealm", url
    q = urllib.parse.parse_qs(parsed.query)
    assert q["issuer"] == ["Tessera"], url
    secret = q["secret"][0]
    # a wrong OTP: refused, the challenge stays, the counter stays
    wrong = "000000" if oath_b32(secret, 0) != "000000" else "111111"
    r = chk(server, "mat", wrong, transaction_id=tx)
    assert r.result["value"] is False and detail(r)["message"] == "Response did not match the challenge.", r
    assert token_row(server, serial)["count"] == "0"
    assert challenges(server, serial)[0][0] == tx
    # the first OTP of the new token completes the enrollment
    accepted(chk(server, "mat", oath_b32(secret, 0), transaction_id=tx), "Found matching challenge")
    assert token_row(server, serial)["count"] == "1"
    assert challenges(server, serial) == []
    rejected(chk(server, "mat", oath_b32(secret, 1), transaction_id=tx), "wrong otp pin")
    # now the user has a token: no passthru, no second enrollment
    rejected(chk(server, "mat", "mat-pass"), "wrong otp pin")
    accepted(chk(server, "mat", oath_b32(secret, 2)), "matching 1 tokens")
    assert len(user_tokens(server, "mat")) == 1
    ok(server.delete("/token/" + serial, token=tok))


def test_enroll_via_multichallenge_totp_pass_on_no_token(server, tok):
    server.post("/token/unassign", data={"user": "mat", "realm": REALM}, token=tok)
    pol(server, tok, "pnt", "authentication", "passOnNoToken, enroll_via_multichallenge=totp", realm=REALM)
    r = chk(server, "mat", "anything")
    assert r.result["authentication"] == "CHALLENGE", r
    d = detail(r)
    assert d["type"] == "totp" and d["message"] == "Please scan the QR code!"
    url = qr_otpauth(d["image"])
    assert url.startswith("otpauth://totp/"), url
    secret = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["secret"][0]
    otp = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True,
                         check=True).stdout.strip()
    accepted(chk(server, "mat", otp, transaction_id=d["transaction_id"]), "Found matching challenge")
    ok(server.delete("/token/" + d["serial"], token=tok))


# ---- authentication.preferred_client_mode ------------------------------------------------------

def test_preferred_client_mode(server, tok):
    hotp_for(server, tok, "moe", pin="pcm")
    pol(server, tok, "cr", "authentication", "challenge_response=hotp", realm=REALM)
    r = chk(server, "moe", "pcm")
    assert r.result["authentication"] == "CHALLENGE" and detail(r)["preferred_client_mode"] == "interactive"
    for value in ("poll webauthn interactive", "poll u2f", "unknownmode"):
        # privacyIDEA accepts any text as the value
        pol(server, tok, "pcm", "authentication", "preferred_client_mode=" + value, realm=REALM)
        r = chk(server, "moe", "pcm")
        assert detail(r)["preferred_client_mode"] == "interactive", r
        r = server.post("/validate/triggerchallenge", data={"user": "moe", "realm": REALM}, token=tok)
        assert r.value == 1 and r.body["detail"]["preferred_client_mode"] == "interactive", r
    # no challenge: no preferred_client_mode
    r = chk(server, "moe", "pcm" + OTP[5])
    assert "preferred_client_mode" not in detail(r)
    r = server.get("/policy/pcm", token=tok)
    assert r.value[0]["action"] == {"preferred_client_mode": "unknownmode"}, r.value
