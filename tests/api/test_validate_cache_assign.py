"""authentication.auth_cache and enrollment.autoassignment on /validate/check (privacyIDEA's
lib/policydecorators.auth_cache with lib/authcache.py, api/lib/postpolicy.autoassign with
lib/token.assign_token; order: ../shared/spec/policies_events.md §1.7).  Each action: the answer
without the policy, then with it, exact values, the rows in the database, and the races (counted
cache uses under parallel requests, two users claiming one pool token).  RFC 4226 HOTP vectors of
the key 3132333435363738393031323334353637383930."""
import concurrent.futures
import subprocess
import time

import pytest

from token_helpers import RFC4226_KEY, RFC4226_OTPS, admin, check, init, ok, token_row

OTP = RFC4226_OTPS
REALM = "carealm"
OTHER = "caother"
USERS = ["cara", "cole", "cody", "cleo", "cyd", "cruz", "cate"]
OUSERS = ["olga"]


def _hash(pw):
    return subprocess.run(["openssl", "passwd", "-6", pw], capture_output=True, text=True,
                          check=True).stdout.strip()


def _passwd(users, base):
    return "".join("%s:%s:%d:%d:%s,,,,:/home/%s:/bin/sh\n" % (u, _hash(u + "-pass"), base + i, base + i,
                                                              u.capitalize(), u)
                   for i, u in enumerate(users))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("validate_cache_assign")


@pytest.fixture
def tok(server, workdir):
    """Admin JWT; realms carealm and caother (users with passwords "<login>-pass"); no policy, no
    token of these realms and no authcache row left over from an earlier test."""
    t = admin(server)
    realms = server.get("/realm/", token=t).value or {}
    for realm, res, users, base in ((REALM, "cafile", USERS, 3000), (OTHER, "caofile", OUSERS, 3100)):
        if realm not in realms:
            path = workdir / res
            path.write_text(_passwd(users, base))
            ok(server.post("/resolver/" + res, data={"type": "passwdresolver", "fileName": str(path)}, token=t))
            ok(server.post("/realm/" + realm, data={"resolvers": res}, token=t))
    for p in server.get("/policy/", token=t).value:
        ok(server.delete("/policy/" + p["name"], token=t))
    for row in server.db_query("SELECT serial FROM token WHERE serial LIKE 'CA%'"):
        ok(server.delete("/token/" + row[0], token=t))
    server.db_query("DELETE FROM authcache")
    return t


def pol(server, tok, name, scope, action, **kw):
    data = {"scope": scope, "action": action}
    data.update(kw)
    ok(server.post("/policy/" + name, data=data, token=tok))


def chk(server, user, pw, realm=REALM):
    return check(server, user=user, realm=realm, **{"pass": pw})


def accepted(r, message):
    assert r.status == 200 and r.result["value"] is True, r
    assert r.result["authentication"] == "ACCEPT", r
    assert r.body["detail"]["message"] == message, r


def rejected(r, message):
    assert r.status == 200 and r.result["value"] is False, r
    assert r.result["authentication"] == "REJECT", r
    assert r.body["detail"]["message"] == message, r


def user_token(server, tok, user, serial, pin="pp"):
    ok(init(server, tok, type="hotp", otpkey=RFC4226_KEY, serial=serial, user=user, realm=REALM, pin=pin))


def pool_token(server, tok, serial, realm=REALM, **kw):
    params = dict(type="hotp", otpkey=RFC4226_KEY, serial=serial)
    params.update(kw)
    ok(init(server, tok, **params))
    ok(server.post("/token/realm/" + serial, data={"realms": realm}, token=tok))


def cache_rows(server, user):
    return server.db_query("SELECT username, realm, resolver, client_ip, user_agent, auth_count, authentication "
                           "FROM authcache WHERE username = '%s' ORDER BY id" % user)


def owner(server, serial):
    rows = server.db_query("SELECT o.user_id, o.resolver, r.name FROM tokenowner o JOIN token t "
                           "ON t.id = o.token_id LEFT JOIN realm r ON r.id = o.realm_id "
                           "WHERE t.serial = '%s'" % serial)
    return [tuple(x) for x in rows]


def last_audit(server):
    return tuple(server.db_query("SELECT success, serial, policies, info FROM pidea_audit "
                                 "ORDER BY id DESC LIMIT 1")[0])


# ---- authentication.auth_cache --------------------------------------------------------------

def test_auth_cache_default_off(server, tok):
    user_token(server, tok, "cara", "CACARA1")
    accepted(chk(server, "cara", "pp" + OTP[0]), "matching 1 tokens")
    # the same HOTP value again: refused, nothing cached
    rejected(chk(server, "cara", "pp" + OTP[0]), "wrong otp value. previous otp used again")
    assert cache_rows(server, "cara") == []


def test_auth_cache_time_window(server, tok):
    user_token(server, tok, "cara", "CACARA2")
    pol(server, tok, "ac", "authentication", "auth_cache=2s", realm=REALM)
    accepted(chk(server, "cara", "pp" + OTP[0]), "matching 1 tokens")
    rows = cache_rows(server, "cara")
    assert len(rows) == 1
    login, realm, resolver, ip, ua, count, auth = rows[0]
    assert (login, realm, resolver, ip, ua, int(count)) == ("cara", REALM, "cafile", "", "", 0)
    # a salted keyed hash, never the password nor a part of it
    assert auth.startswith("tac1$") and len(auth) == 5 + 32 + 1 + 64, auth
    assert "pp" + OTP[0] not in auth and OTP[0] not in auth
    assert token_row(server, "CACARA2")["count"] in (1, "1")
    # the same credentials again within the window: from the cache, no OTP consumed
    r = chk(server, "cara", "pp" + OTP[0])
    accepted(r, "Authenticated by AuthCache.")
    assert set(r.body["detail"]) == {"message", "threadid"}
    assert last_audit(server)[0:3] == ("1", "", "ac")
    assert token_row(server, "CACARA2")["count"] in (1, "1")
    assert int(cache_rows(server, "cara")[0][5]) == 1
    # other credentials are not in the cache: the token decides
    rejected(chk(server, "cara", "xx" + OTP[0]), "wrong otp pin")
    # after the window the entry is expired and deleted; the token refuses the used value
    time.sleep(2.2)
    rejected(chk(server, "cara", "pp" + OTP[0]), "wrong otp value. previous otp used again")
    assert cache_rows(server, "cara") == []
    # a fresh value is cached anew
    accepted(chk(server, "cara", "pp" + OTP[1]), "matching 1 tokens")
    assert len(cache_rows(server, "cara")) == 1


def test_auth_cache_last_use_window(server, tok):
    user_token(server, tok, "cole", "CACOLE1")
    pol(server, tok, "ac", "authentication", "auth_cache=1h/2s", realm=REALM)
    accepted(chk(server, "cole", "pp" + OTP[0]), "matching 1 tokens")
    time.sleep(1.2)
    accepted(chk(server, "cole", "pp" + OTP[0]), "Authenticated by AuthCache.")
    time.sleep(1.2)   # within 2 s of the last use
    accepted(chk(server, "cole", "pp" + OTP[0]), "Authenticated by AuthCache.")
    time.sleep(2.2)   # unused for longer than 2 s
    rejected(chk(server, "cole", "pp" + OTP[0]), "wrong otp value. previous otp used again")
    assert cache_rows(server, "cole") == []


def test_auth_cache_counted(server, tok):
    user_token(server, tok, "cody", "CACODY1")
    pol(server, tok, "ac", "authentication", "auth_cache=2m/3", realm=REALM)
    accepted(chk(server, "cody", "pp" + OTP[0]), "matching 1 tokens")
    for i in range(3):
        accepted(chk(server, "cody", "pp" + OTP[0]), "Authenticated by AuthCache.")
        assert int(cache_rows(server, "cody")[0][5]) == i + 1
    # the fourth use: used up, the entry deleted, the token refuses the used value
    rejected(chk(server, "cody", "pp" + OTP[0]), "wrong otp value. previous otp used again")
    assert cache_rows(server, "cody") == []


def test_auth_cache_counted_parallel(server, tok):
    user_token(server, tok, "cleo", "CACLEO1")
    pol(server, tok, "ac", "authentication", "auth_cache=2m/3", realm=REALM)
    accepted(chk(server, "cleo", "pp" + OTP[0]), "matching 1 tokens")
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda _: chk(server, "cleo", "pp" + OTP[0]), range(20)))
    assert all(r.status == 200 for r in rs), [r for r in rs if r.status != 200]
    wins = [r for r in rs if r.result["value"] is True]
    assert len(wins) == 3, [r.body for r in rs]
    assert all(r.body["detail"]["message"] == "Authenticated by AuthCache." for r in wins)
    rows = cache_rows(server, "cleo")
    assert rows == [] or int(rows[0][5]) == 3


def test_auth_cache_bad_value_and_other_realm(server, tok):
    user_token(server, tok, "cyd", "CACYD1")
    # a policy of another realm does not apply
    pol(server, tok, "ac", "authentication", "auth_cache=1h", realm=OTHER)
    accepted(chk(server, "cyd", "pp" + OTP[0]), "matching 1 tokens")
    rejected(chk(server, "cyd", "pp" + OTP[0]), "wrong otp value. previous otp used again")
    # an unreadable value is ignored (logged)
    pol(server, tok, "ac", "authentication", "auth_cache=soon", realm=REALM)
    accepted(chk(server, "cyd", "pp" + OTP[1]), "matching 1 tokens")
    rejected(chk(server, "cyd", "pp" + OTP[1]), "wrong otp value. previous otp used again")
    assert cache_rows(server, "cyd") == []
    # a failed authentication is never cached
    pol(server, tok, "ac", "authentication", "auth_cache=1h", realm=REALM)
    rejected(chk(server, "cyd", "pp" + OTP[1]), "wrong otp value. previous otp used again")
    assert cache_rows(server, "cyd") == []


def test_auth_cache_by_serial_not_used(server, tok):
    user_token(server, tok, "cruz", "CACRUZ1")
    pol(server, tok, "ac", "authentication", "auth_cache=1h", realm=REALM)
    r = check(server, serial="CACRUZ1", **{"pass": "pp" + OTP[0]})
    accepted(r, "matching 1 tokens")
    assert cache_rows(server, "cruz") == []
    r = check(server, serial="CACRUZ1", **{"pass": "pp" + OTP[0]})
    rejected(r, "wrong otp value. previous otp used again")


# ---- enrollment.autoassignment --------------------------------------------------------------

def test_autoassign_default_off(server, tok):
    pool_token(server, tok, "CAPOOL0")
    rejected(chk(server, "cate", "pin" + OTP[0]), "The user has no tokens assigned")
    assert owner(server, "CAPOOL0") == []


def test_autoassign_any_pin(server, tok):
    pool_token(server, tok, "CAPOOL1")
    pol(server, tok, "aa", "enrollment", "autoassignment=any_pin", realm=REALM)
    # a wrong OTP assigns nothing
    rejected(chk(server, "cate", "newpin" + "000000"), "The user has no tokens assigned")
    assert owner(server, "CAPOOL1") == []
    r = chk(server, "cate", "newpin" + OTP[0])
    assert r.status == 200 and r.result["value"] is True and r.result["authentication"] == "ACCEPT", r
    assert r.body["detail"] == {"message": "Token assigned to user via Autoassignment", "serial": "CAPOOL1",
                                "otplen": 6, "type": "hotp", "threadid": r.body["detail"]["threadid"]}
    assert owner(server, "CAPOOL1") == [("3006", "cafile", REALM)]
    assert last_audit(server)[0:3] == ("1", "CAPOOL1", "aa")
    row = token_row(server, "CAPOOL1")
    assert int(row["count"]) == 1 and int(row["failcount"]) == 0
    # the OTP is consumed, and the PIN given is the token PIN now
    rejected(chk(server, "cate", "newpin" + OTP[0]), "wrong otp value. previous otp used again")
    accepted(chk(server, "cate", "newpin" + OTP[1]), "matching 1 tokens")
    rejected(chk(server, "cate", "other" + OTP[2]), "wrong otp pin")
    # a user with a token gets no second one
    pool_token(server, tok, "CAPOOL1B")
    rejected(chk(server, "cate", "x" + OTP[0]), "wrong otp pin")
    assert owner(server, "CAPOOL1B") == []


def test_autoassign_userstore(server, tok):
    pool_token(server, tok, "CAPOOL2")
    pol(server, tok, "aa", "enrollment", "autoassignment=userstore", realm=REALM)
    # the PIN part must be the user-store password
    rejected(chk(server, "cruz", "nopass" + OTP[0]), "The user has no tokens assigned")
    assert owner(server, "CAPOOL2") == []
    r = chk(server, "cruz", "cruz-pass" + OTP[0])
    assert r.status == 200 and r.result["value"] is True, r
    assert r.body["detail"]["message"] == "Token assigned to user via Autoassignment"
    assert r.body["detail"]["serial"] == "CAPOOL2"
    assert owner(server, "CAPOOL2") == [("3005", "cafile", REALM)]
    # assign_token sets the given PIN part (here the password) as the token PIN
    accepted(chk(server, "cruz", "cruz-pass" + OTP[1]), "matching 1 tokens")


def test_autoassign_candidates(server, tok):
    """Only unassigned, active tokens of the user's realm are taken."""
    pol(server, tok, "aa", "enrollment", "autoassignment=any_pin", realm=REALM)
    pool_token(server, tok, "CAPOOLO", realm=OTHER)
    rejected(chk(server, "cyd", "p" + OTP[0]), "The user has no tokens assigned")
    assert owner(server, "CAPOOLO") == []
    pool_token(server, tok, "CAPOOLD")
    ok(server.post("/token/disable/CAPOOLD", token=tok))
    rejected(chk(server, "cyd", "p" + OTP[0]), "The user has no tokens assigned")
    assert owner(server, "CAPOOLD") == []
    # a user of the other realm takes the token of his realm
    r = chk(server, "olga", "p" + OTP[0], realm=OTHER)
    assert r.result["value"] is False   # the policy is for carealm only
    pol(server, tok, "aa2", "enrollment", "autoassignment=any_pin", realm=OTHER)
    r = chk(server, "olga", "p" + OTP[0], realm=OTHER)
    assert r.result["value"] is True and r.body["detail"]["serial"] == "CAPOOLO", r
    assert owner(server, "CAPOOLO") == [("3100", "caofile", OTHER)]


def test_autoassign_race(server, tok):
    """Two users claim the same pool token at once: exactly one owns it."""
    pool_token(server, tok, "CAPOOLR")
    pol(server, tok, "aa", "enrollment", "autoassignment=any_pin", realm=REALM)
    users = ["cara", "cole", "cody", "cleo", "cyd", "cate"]
    for u in users:
        server.post("/token/unassign", data={"user": u, "realm": REALM}, token=tok)
        for row in server.db_query("SELECT t.serial FROM token t JOIN tokenowner o ON o.token_id = t.id "
                                   "JOIN realm r ON r.id = o.realm_id WHERE r.name = '%s'" % REALM):
            server.delete("/token/" + row[0], token=tok)
    with concurrent.futures.ThreadPoolExecutor(len(users)) as ex:
        rs = list(ex.map(lambda u: chk(server, u, u + "pin" + OTP[0]), users))
    assert all(r.status == 200 for r in rs), rs
    wins = [u for u, r in zip(users, rs) if r.result["value"] is True]
    assert len(wins) == 1, [r.body for r in rs]
    assert len(owner(server, "CAPOOLR")) == 1
    uid = owner(server, "CAPOOLR")[0][0]
    assert uid == str(3000 + USERS.index(wins[0]))
    assert int(token_row(server, "CAPOOLR")["count"]) == 1


def test_autoassign_not_on_auth_login(server, tok):
    """The /auth login (login_mode=privacyIDEA) checks PIN+OTP with check_user_pass, but the
    autoassignment is a post-policy of /validate/check only."""
    pool_token(server, tok, "CAPOOLW")
    pol(server, tok, "aa", "enrollment", "autoassignment=any_pin", realm=REALM)
    pol(server, tok, "lm", "webui", "login_mode=privacyIDEA", realm=REALM)
    r = server.post("/auth", data={"username": "cleo@" + REALM, "password": "p" + OTP[0]})
    assert r.status == 401 and r.error["message"] == "Authentication failure. Wrong credentials", r
    assert owner(server, "CAPOOLW") == []
    # the same on /validate/check assigns it
    r = chk(server, "cleo", "p" + OTP[0])
    assert r.result["value"] is True and r.body["detail"]["serial"] == "CAPOOLW", r
