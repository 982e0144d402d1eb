"""Users through the REST API: /resolver, /realm, /defaultrealm, /user and user logins with /auth,
against real user stores started by the tests — a passwd file with crypt hashes made here by
`openssl passwd` / `mkpasswd`, SQL user tables in an SQLite file and in PostgreSQL (hashes of
tests/data/resolvers/sql_users.sql, made by independent tools), and a throwaway OpenLDAP
(tests/fixtures/slapd.py) over plain LDAP, STARTTLS with the fixture's CA and a server pool.

References: ../shared/spec/api.md §1.3, §1.7, §3.1, §3.4-3.6; core.md §2;
../shared/examples/privacyidea-3.12.3/04 and 06 (POST /resolver, POST /realm).
"""
import json
import re
import sqlite3
import subprocess
import time

import pytest

from harness import REPO, b64url_decode

MSG_4031 = "Authentication failure. Wrong credentials"
MSG_904 = "ERR904: The user can not be found in any resolver in this realm!"
CENSORED = "__CENSORED__"
ENC_VALUE = re.compile(r"^[0-9a-f]{32}:[0-9a-f]+$")
SQL_USERS = REPO / "tests" / "data" / "resolvers" / "sql_users.sql"
SQL_MAP = json.dumps({"userid": "id", "username": "login", "givenname": "given", "surname": "sur",
                      "email": "mail", "phone": "tel", "mobile": "mob", "password": "pw"})
# Every row of sql_users.sql: login → password (login + "-pw"); each one a different hash format.
SQL_FORMATS = ["sha", "ssha", "ssha256", "ssha512", "owncloud", "otrs", "md5crypt", "sha256crypt",
               "sha512crypt", "yescrypt", "bcrypt2b", "bcrypt2a", "bcrypt2y", "phpassP", "phpassH",
               "drupal", "argon2", "ümlaut", "per%cent_x"]
LDAP_USERINFO = json.dumps({"phone": "telephoneNumber", "mobile": "mobile", "email": "mail",
                            "surname": "sn", "givenname": "givenName", "password": "userPassword"})


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def assert_error(r, status, code, message=None):
    assert r.status == status, r
    assert r.result["status"] is False, r
    assert r.error.get("code") == code, r
    if message is not None:
        assert r.error.get("message") == message, r


def ok(r):
    assert r.status == 200 and r.result["status"] is True, r
    return r.value


def claims(jwt):
    return json.loads(b64url_decode(jwt.split(".")[1]))


def count(server, sql):
    return int(server.db_query(sql)[0][0])


def crypt_line(login, password, method, uid, gecos):
    if method in ("-6", "-5", "-1"):
        h = subprocess.run(["openssl", "passwd", method, password], capture_output=True, text=True,
                           check=True).stdout.strip()
    else:  # mkpasswd (whois): yescrypt, bcrypt
        h = subprocess.run(["mkpasswd", "-m", method, password], capture_output=True, text=True,
                           check=True).stdout.strip()
    return "%s:%s:%d:%d:%s:/home/%s:/bin/sh\n" % (login, h, uid, uid, gecos, login)


def make_passwd(path, users):
    """users: [(login, password, method, uid, gecos)] → a passwd file with real crypt hashes."""
    path.write_text("".join(crypt_line(*u) for u in users), encoding="utf-8")
    return str(path)


def sqlite_users(path):
    """An SQLite user table loaded with sql_users.sql (every hash format)."""
    con = sqlite3.connect(str(path))
    con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, login TEXT UNIQUE, "
                "given TEXT, sur TEXT, mail TEXT, tel TEXT, mob TEXT, pw TEXT, active INTEGER DEFAULT 1)")
    con.executescript(SQL_USERS.read_text(encoding="utf-8"))
    con.commit()
    con.close()
    return str(path)


def pg_users(cluster):
    """A fresh PostgreSQL database with the same user table."""
    db = cluster.create_database()
    cluster.psql("CREATE TABLE users (id SERIAL PRIMARY KEY, login VARCHAR(64) UNIQUE, given VARCHAR(64), "
                 "sur VARCHAR(64), mail VARCHAR(128), tel VARCHAR(32), mob VARCHAR(32), pw VARCHAR(255), "
                 "active INTEGER DEFAULT 1)", db=db)
    cluster.psql(SQL_USERS.read_text(encoding="utf-8"), db=db)
    cluster.psql("SELECT setval('users_id_seq', 1000)", db=db)
    return db


def sql_def(driver, database, **extra):
    d = {"type": "sqlresolver", "Driver": driver, "Database": database, "Table": "users", "Map": SQL_MAP,
         "Where": "active == 1", "Limit": "500", "Editable": "1", "Password_Hash_Type": "SSHA256"}
    d.update(extra)
    return d


def ldap_def(ds, **extra):
    d = {"type": "ldapresolver", "LDAPURI": ds.uri, "LDAPBASE": ds.base, "BINDDN": ds.admin_dn,
         "BINDPW": ds.admin_pw, "AUTHTYPE": "Simple", "LOGINNAMEATTRIBUTE": "uid",
         "LDAPSEARCHFILTER": "(uid=*)(objectClass=inetOrgPerson)", "USERINFO": LDAP_USERINFO,
         "UIDTYPE": "DN", "TIMEOUT": "5", "CACHE_TIMEOUT": "0", "SIZELIMIT": "1000"}
    d.update(extra)
    return d


def resolver(server, tok, name, definition):
    """POST /resolver/<name> with a JSON body; returns the db id."""
    value = ok(server.post("/resolver/" + name, json_body=definition, token=tok))
    assert isinstance(value, int) and value > 0
    return value


def realm(server, tok, name, *resolvers, **prios):
    body = {"resolvers": ",".join(resolvers)}
    body.update({"priority." + k: v for k, v in prios.items()})
    return ok(server.post("/realm/" + name, json_body=body, token=tok))


def login(server, username, password, realm_param=None):
    data = {"username": username, "password": password}
    if realm_param is not None:
        data["realm"] = realm_param
    return server.post("/auth", json_body=data)


def user_jwt(server, username, password, realm_param=None):
    r = login(server, username, password, realm_param)
    assert r.status == 200, r
    return r.value["token"]


def set_config(server, key, value):
    """A system setting written as privacyIDEA stores it (/system is another issue's), with the
    config timestamp bumped so the server reloads."""
    server.db_query("DELETE FROM config WHERE \"Key\" = '%s'" % key)
    server.db_query("INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") "
                    "VALUES ('%s', '%s', '', '')" % (key, value))
    server.db_query("DELETE FROM config WHERE \"Key\" = '__timestamp__'")
    server.db_query("INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") "
                    "VALUES ('__timestamp__', '%.6f', '', '')" % time.time())


@pytest.fixture
def admin(server):
    return server.login()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("stores")


@pytest.fixture(scope="module")
def pwfile(store_dir):
    return make_passwd(store_dir / "passwd", [
        ("alice", "alice-sha512", "-6", 1001, "Alice Anderson,,+49 1,+49 2,alice@example.com"),
        ("bob", "bob-sha256", "-5", 1002, "Bob Brown,,,,bob@example.com"),
        ("carol", "carol-md5", "-1", 1003, "Carol Clark,,,,carol@example.com"),
        ("dave", "dave-yescrypt", "yescrypt", 1004, "Dave Doe,,,,"),
        ("erin", "erin-bcrypt", "bcrypt", 1005, "Erin Ek,,,,"),
        ("jörg", "jörg-geheim", "-6", 1006, "Jörg Müller,,,,joerg@example.de"),
    ])


# ------------------------------------------------------------------------------------------------
# the recorded privacyIDEA exchanges (examples 04 and 06) on a fresh server
# ------------------------------------------------------------------------------------------------
def test_examples_04_06_on_a_fresh_server(make_server, pwfile):
    srv = make_server()
    tok = srv.login()
    r = srv.post("/resolver/pwfile", data={"type": "passwdresolver", "fileName": pwfile}, token=tok)
    assert r.status == 200 and r.result == {"status": True, "value": 1}, r
    assert "detail" not in r.body
    r = srv.post("/realm/realm1", data={"resolvers": "pwfile"}, token=tok)
    assert r.status == 200 and r.result == {"status": True, "value": {"added": ["pwfile"], "failed": []}}, r
    # The first realm is the default realm.
    assert ok(srv.get("/defaultrealm", token=tok)) == {"realm1": {
        "default": True, "id": 1, "option": "",
        "resolver": [{"name": "pwfile", "node": "", "priority": None, "type": "passwdresolver"}]}}
    assert srv.db_query("SELECT name, rtype FROM resolver") == [("pwfile", "passwdresolver")]
    assert srv.db_query('SELECT "Key", "Value", "Type" FROM resolverconfig') == [
        ("fileName", pwfile, "string")]


# ------------------------------------------------------------------------------------------------
# /resolver
# ------------------------------------------------------------------------------------------------
def test_passwd_resolver_create_get_update_delete(server, admin, pwfile, store_dir):
    rid = resolver(server, admin, "pwcrud", {"type": "passwdresolver", "fileName": pwfile})
    expected = {"pwcrud": {"resolvername": "pwcrud", "type": "passwdresolver", "censor_keys": [],
                           "data": {"fileName": pwfile}}}
    assert ok(server.get("/resolver/pwcrud", token=admin)) == expected
    assert ok(server.get("/resolver/PWCRUD", token=admin)) == expected  # name case-insensitive
    assert ok(server.get("/resolver/", token=admin))["pwcrud"] == expected["pwcrud"]
    assert "pwcrud" in ok(server.get("/resolver/", params={"type": "passwdresolver"}, token=admin))
    assert "pwcrud" not in ok(server.get("/resolver/", params={"type": "ldapresolver"}, token=admin))
    assert "pwcrud" in ok(server.get("/resolver/", params={"editable": "0"}, token=admin))
    assert "pwcrud" not in ok(server.get("/resolver/", params={"editable": "1"}, token=admin))
    # Update: same id, only the keys sent change; another type is refused.
    other = make_passwd(store_dir / "passwd2", [("zed", "zed-pw", "-6", 42, "Zed,,,,")])
    assert resolver(server, admin, "pwcrud", {"type": "passwdresolver", "fileName": other}) == rid
    assert ok(server.get("/resolver/pwcrud", token=admin))["pwcrud"]["data"] == {"fileName": other}
    r = server.post("/resolver/pwcrud", json_body={"type": "sqlresolver", "Driver": "sqlite"}, token=admin)
    assert_error(r, 400, 905, "ERR905: resolver with similar name and other type already exists: pwcrud")
    assert server.db_query("SELECT rtype FROM resolver WHERE name = 'pwcrud'") == [("passwdresolver",)]
    # Delete: the id; unknown names answer -1 as privacyIDEA does.
    assert ok(server.delete("/resolver/pwcrud", token=admin)) == rid
    assert ok(server.get("/resolver/pwcrud", token=admin)) == {}
    assert count(server, "SELECT count(*) FROM resolver WHERE name = 'pwcrud'") == 0
    assert count(server, "SELECT count(*) FROM resolverconfig WHERE resolver_id = %d" % rid) == 0
    assert ok(server.delete("/resolver/pwcrud", token=admin)) == -1


@pytest.mark.parametrize("name,body,message", [
    ("badtype", {"type": "nosuchresolver", "fileName": "/x"},
     "ERR905: resolver type : nosuchresolver not in ['passwdresolver', 'sqlresolver', 'ldapresolver', "
     "'httpresolver']"),
    ("notype", {"fileName": "/x"}, "ERR905: Missing parameter: 'type'"),
    ("bad name!", {"type": "passwdresolver"},
     "ERR905: non conformant characters in the name: 'bad name!' (not in ^[A-Za-z0-9_\\-\\.]+$)"),
    ("ldapnobase", {"type": "ldapresolver", "LDAPURI": "ldap://127.0.0.1:1", "LOGINNAMEATTRIBUTE": "uid"},
     "ERR905: Missing parameter: 'LDAPBASE'"),
    ("ldapnouri", {"type": "ldapresolver", "LDAPBASE": "dc=x", "LOGINNAMEATTRIBUTE": "uid"},
     "ERR905: Missing parameter: 'LDAPURI'"),
    ("sqlnomap", {"type": "sqlresolver", "Driver": "sqlite", "Database": "/tmp/x.db", "Table": "users"},
     "ERR905: Missing parameter: 'Map'"),
    ("sqlnotable", {"type": "sqlresolver", "Driver": "sqlite", "Map": SQL_MAP},
     "ERR905: Missing parameter: 'Table'"),
    ("httpnoendpoint", {"type": "httpresolver", "responseMapping": "{\"username\": \"{u}\"}"},
     "ERR905: Missing parameter: 'endpoint'"),
    ("typeonly", {"type": "passwdresolver", "type.fileName": "string"},
     "ERR905: type or description without necessary data! (fileName)"),
])
def test_resolver_bad_input_stores_nothing(server, admin, name, body, message):
    before = server.db_query("SELECT count(*) FROM resolver")[0][0]
    r = server.post("/resolver/" + name.replace(" ", "%20").replace("!", "%21"), json_body=body, token=admin)
    assert_error(r, 400, 905, message)
    assert server.db_query("SELECT count(*) FROM resolver")[0][0] == before


def test_resolver_bad_values_are_905(server, admin):
    for body in ({"type": "ldapresolver", "LDAPURI": "http://example.org", "LDAPBASE": "dc=x",
                  "LOGINNAMEATTRIBUTE": "uid"},
                 {"type": "ldapresolver", "LDAPURI": "ldap://x", "LDAPBASE": "dc=x", "LOGINNAMEATTRIBUTE": "uid",
                  "TIMEOUT": "soon"},
                 {"type": "sqlresolver", "Driver": "oracle", "Table": "t", "Map": SQL_MAP},
                 {"type": "sqlresolver", "Driver": "sqlite", "Table": "users", "Map": "not a map"}):
        r = server.post("/resolver/badvalue", json_body=body, token=admin)
        assert_error(r, 400, 905)
    assert count(server, "SELECT count(*) FROM resolver WHERE name = 'badvalue'") == 0


def test_resolver_endpoints_are_admin_only(server, admin, pwfile):
    resolver(server, admin, "pwadm", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "admonly", "pwadm")
    jwt = user_jwt(server, "alice@admonly", "alice-sha512")
    msg = "Authentication failure. You do not have the necessary role (['admin']) to access this resource!"
    for method, path in (("GET", "/resolver/"), ("POST", "/resolver/x"), ("DELETE", "/resolver/pwadm"),
                         ("POST", "/resolver/test"), ("GET", "/realm/"), ("POST", "/realm/x"),
                         ("DELETE", "/realm/admonly"), ("GET", "/defaultrealm"), ("DELETE", "/defaultrealm"),
                         ("POST", "/defaultrealm/admonly"), ("GET", "/realm/superuser"),
                         ("POST", "/user/"), ("DELETE", "/user/pwadm/alice")):
        assert_error(server.request(method, path, token=jwt), 401, 4306, msg)
    assert_error(server.get("/resolver/"), 401, 4033)
    assert count(server, "SELECT count(*) FROM resolver WHERE name = 'pwadm'") == 1


def test_resolver_in_a_realm_cannot_be_deleted(server, admin, pwfile):
    rid = resolver(server, admin, "pwkept", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "keeper", "pwkept")
    r = server.delete("/resolver/pwkept", token=admin)
    assert_error(r, 400, 302, "ERR302: The resolver 'pwkept' is still contained in realm 'keeper'.")
    assert count(server, "SELECT count(*) FROM resolver WHERE id = %d" % rid) == 1
    ok(server.delete("/realm/keeper", token=admin))
    assert ok(server.delete("/resolver/pwkept", token=admin)) == rid


# ------------------------------------------------------------------------------------------------
# passwd files
# ------------------------------------------------------------------------------------------------
def test_passwd_login_every_crypt_format_and_user_list(server, admin, pwfile):
    resolver(server, admin, "pwlogin", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "pwrealm", "pwlogin")
    for user, pw in (("alice", "alice-sha512"), ("bob", "bob-sha256"), ("carol", "carol-md5"),
                     ("dave", "dave-yescrypt"), ("erin", "erin-bcrypt"), ("jörg", "jörg-geheim")):
        r = login(server, user + "@pwrealm", pw)
        assert r.status == 200, (user, r)
        v = r.value
        assert (v["role"], v["username"], v["realm"]) == ("user", user, "pwrealm")
        c = claims(v["token"])
        assert (c["username"], c["realm"], c["role"], c["resolver"], c["authtype"]) == \
            (user, "pwrealm", "user", "pwlogin", "password")
        assert "enrollHOTP" in c["rights"] and "userlist" in c["rights"] and "resolverwrite" not in c["rights"]
        assert sorted(v["menus"]) == ["audit", "tokens", "users"]
        assert_error(login(server, user + "@pwrealm", pw + "x"), 401, 4031, MSG_4031)
    users = ok(server.get("/user/", params={"realm": "pwrealm"}, token=admin))
    assert sorted(u["username"] for u in users) == ["alice", "bob", "carol", "dave", "erin", "jörg"]
    alice = [u for u in users if u["username"] == "alice"][0]
    assert alice == {"userid": "1001", "username": "alice", "givenname": "Alice", "surname": "Anderson",
                     "email": "alice@example.com", "phone": "+49 2", "mobile": "+49 1",
                     "description": "Alice Anderson,,+49 1,+49 2,alice@example.com",
                     "resolver": "pwlogin", "editable": False}
    assert [u["username"] for u in ok(server.get("/user/", params={"realm": "pwrealm", "username": "j*"},
                                                 token=admin))] == ["jörg"]


def test_passwd_file_edited_while_running(server, admin, store_dir):
    path = store_dir / "edited"
    make_passwd(path, [("frank", "frank-1", "-6", 2001, "Frank,,,,")])
    resolver(server, admin, "pwedit", {"type": "passwdresolver", "fileName": str(path)})
    realm(server, admin, "editrealm", "pwedit")
    assert login(server, "frank@editrealm", "frank-1").status == 200
    time.sleep(1.1)  # a new mtime
    make_passwd(path, [("frank", "frank-2", "-6", 2001, "Frank,,,,"), ("gina", "gina-1", "-5", 2002, "Gina,,,,")])
    assert_error(login(server, "frank@editrealm", "frank-1"), 401, 4031, MSG_4031)
    assert login(server, "frank@editrealm", "frank-2").status == 200
    assert login(server, "gina@editrealm", "gina-1").status == 200


# ------------------------------------------------------------------------------------------------
# SQL
# ------------------------------------------------------------------------------------------------
def check_sql_store(server, admin, rname, realm_name):
    for fmt in SQL_FORMATS:
        r = login(server, fmt, fmt + "-pw", realm_name)
        assert r.status == 200, (fmt, r)
        assert (r.value["username"], r.value["realm"], r.value["role"]) == (fmt, realm_name, "user")
        assert claims(r.value["token"])["resolver"] == rname
        assert_error(login(server, fmt, fmt + "-PW", realm_name), 401, 4031, MSG_4031)
    # Where "active == 1" hides ghost; a user without a password never logs in.
    assert_error(login(server, "ghost", "ghost-pw", realm_name), 401, 4031, MSG_4031)
    assert_error(login(server, "nopw", "", realm_name), 401, 4031, MSG_4031)
    users = ok(server.get("/user/", params={"realm": realm_name}, token=admin))
    assert sorted(u["username"] for u in users) == sorted(SQL_FORMATS + ["nopw"])
    sha = [u for u in users if u["username"] == "sha"][0]
    assert sha["resolver"] == rname and sha["editable"] is True and sha["email"] == "sha@example.com"
    assert "password" not in sha
    found = ok(server.get("/user/", params={"realm": realm_name, "username": "ssha*"}, token=admin))
    assert sorted(u["username"] for u in found) == ["ssha", "ssha256", "ssha512"]
    found = ok(server.get("/user/", params={"realm": realm_name, "email": "*crypt@example.com"}, token=admin))
    assert sorted(u["username"] for u in found) == ["md5crypt", "sha256crypt", "sha512crypt", "yescrypt"]
    found = ok(server.get("/user/", params={"realm": realm_name, "givenname": "Ümlaut"}, token=admin))
    assert [u["username"] for u in found] == ["ümlaut"]
    assert ok(server.get("/user/", params={"resolver": rname, "surname": "Nobody"}, token=admin)) == []


def test_sql_resolver_sqlite(server, admin, store_dir):
    db = sqlite_users(store_dir / "users.sqlite")
    resolver(server, admin, "sqlite1", sql_def("sqlite", db))
    realm(server, admin, "sqlrealm", "sqlite1")
    check_sql_store(server, admin, "sqlite1", "sqlrealm")


def test_sql_resolver_postgres_password_stored_encrypted(server, admin, users_pg):
    db = pg_users(users_pg)
    rid = resolver(server, admin, "pgusers", sql_def("postgresql", db, Server="127.0.0.1", Port=str(users_pg.port),
                                                     User="postgres", Password="pg-Secret-1"))
    got = ok(server.get("/resolver/pgusers", token=admin))["pgusers"]
    assert got["censor_keys"] == ["Password"] and got["data"]["Password"] == CENSORED
    assert got["data"]["Driver"] == "postgresql" and got["data"]["Port"] == str(users_pg.port)
    stored = server.db_query('SELECT "Value", "Type" FROM resolverconfig WHERE resolver_id = %d '
                             'AND "Key" = \'Password\'' % rid)
    assert len(stored) == 1 and stored[0][1] == "password" and ENC_VALUE.match(stored[0][0]), stored
    assert "pg-Secret-1" not in json.dumps(server.db_query("SELECT * FROM resolverconfig"))
    # __CENSORED__ keeps the stored value (the row is not rewritten).
    resolver(server, admin, "pgusers", {"type": "sqlresolver", "Password": CENSORED, "Limit": "400"})
    assert server.db_query('SELECT "Value" FROM resolverconfig WHERE resolver_id = %d AND "Key" = '
                           '\'Password\'' % rid)[0][0] == stored[0][0]
    assert ok(server.get("/resolver/pgusers", token=admin))["pgusers"]["data"]["Limit"] == "400"
    realm(server, admin, "pgrealm", "pgusers")
    check_sql_store(server, admin, "pgusers", "pgrealm")


def test_editable_sql_users(server, admin, store_dir):
    db = sqlite_users(store_dir / "editable.sqlite")
    resolver(server, admin, "sqledit", sql_def("sqlite", db))
    realm(server, admin, "editsql", "sqledit")
    uid = ok(server.post("/user/", json_body={"user": "newbie", "resolver": "sqledit", "givenname": "New",
                                              "surname": "Bie", "email": "newbie@example.com",
                                              "password": "Newbie-Pw-1", "phone": ""}, token=admin))
    assert isinstance(uid, int) and uid > 51
    row = sqlite3.connect(db).execute("SELECT login, given, sur, mail, tel, pw FROM users WHERE id = ?",
                                      (uid,)).fetchone()
    assert row[:5] == ("newbie", "New", "Bie", "newbie@example.com", None)
    assert row[5].startswith("{SSHA256}")  # Password_Hash_Type
    assert login(server, "newbie@editsql", "Newbie-Pw-1").status == 200
    listed = ok(server.get("/user/", params={"realm": "editsql", "username": "newbie"}, token=admin))
    assert [(u["userid"], u["givenname"], u["editable"]) for u in listed] in (
        [(uid, "New", True)], [(str(uid), "New", True)])
    # The admin changes the user, then the user changes his own password.
    assert ok(server.put("/user/", json_body={"user": "newbie", "resolver": "sqledit", "givenname": "Nina",
                                              "password": "Changed-Pw-2"}, token=admin)) is True
    assert_error(login(server, "newbie@editsql", "Newbie-Pw-1"), 401, 4031, MSG_4031)
    jwt = user_jwt(server, "newbie@editsql", "Changed-Pw-2")
    # user/resolver sent by a user are overwritten with his own
    assert ok(server.put("/user/", json_body={"user": "sha", "resolver": "other", "password": "Self-Pw-3"},
                         token=jwt)) is True
    assert login(server, "newbie@editsql", "Self-Pw-3").status == 200
    assert login(server, "sha@editsql", "sha-pw").status == 200
    assert sqlite3.connect(db).execute("SELECT given FROM users WHERE id = ?", (uid,)).fetchone() == ("Nina",)
    assert_error(server.delete("/user/sqledit/newbie", token=jwt), 401, 4306)
    assert_error(server.post("/user/", json_body={"user": "x", "resolver": "sqledit"}, token=jwt), 401, 4306)
    assert ok(server.delete("/user/sqledit/newbie", token=admin)) is True
    assert sqlite3.connect(db).execute("SELECT count(*) FROM users WHERE login = 'newbie'").fetchone() == (0,)
    assert_error(login(server, "newbie@editsql", "Self-Pw-3"), 401, 4031, MSG_4031)
    assert_error(server.delete("/user/sqledit/newbie", token=admin), 400, 904, MSG_904)
    assert_error(server.post("/user/", json_body={"resolver": "sqledit"}, token=admin), 400, 905,
                 "ERR905: Missing parameter: 'user'")
    assert_error(server.post("/user/", json_body={"user": "x", "resolver": "nosuch"}, token=admin), 400, 904,
                 "ERR904: The resolver 'nosuch' does not exist!")


def test_non_editable_resolver_refuses_changes(server, admin, pwfile):
    resolver(server, admin, "pwro", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "rorealm", "pwro")
    assert_error(server.post("/user/", json_body={"user": "x", "resolver": "pwro"}, token=admin), 400, 907,
                 "ERR907: The resolver 'pwro' is not editable.")
    assert_error(server.put("/user/", json_body={"user": "alice", "resolver": "pwro", "givenname": "A"},
                            token=admin), 400, 907)
    assert_error(server.delete("/user/pwro/alice", token=admin), 400, 907)


# ------------------------------------------------------------------------------------------------
# LDAP
# ------------------------------------------------------------------------------------------------
def test_ldap_plain_login_list_and_censored_bindpw(server, admin, slapd):
    rid = resolver(server, admin, "ldap1", ldap_def(slapd))
    realm(server, admin, "ldaprealm", "ldap1")
    got = ok(server.get("/resolver/ldap1", token=admin))["ldap1"]
    assert got["censor_keys"] == ["BINDPW"] and got["data"]["BINDPW"] == CENSORED
    assert got["data"]["LDAPURI"] == slapd.uri and got["data"]["UIDTYPE"] == "DN"
    stored = server.db_query('SELECT "Value", "Type" FROM resolverconfig WHERE resolver_id = %d AND "Key" = '
                             '\'BINDPW\'' % rid)
    assert stored[0][1] == "password" and ENC_VALUE.match(stored[0][0]) and slapd.admin_pw not in stored[0][0]
    for user, pw in (("user0001", "Pass-0001"), ("user0499", "Pass-0499"), ("jürgen", "Grüße-1"),
                     ("张伟", "密码-2"), ("special", "Sp3cial!*()"), ("odd,user+x", "Odd-Pass-5")):
        r = login(server, user, pw, "ldaprealm")
        assert r.status == 200, (user, r)
        c = claims(r.value["token"])
        assert (c["username"], c["realm"], c["role"], c["resolver"]) == (user, "ldaprealm", "user", "ldap1")
        assert_error(login(server, user, pw + "!", "ldaprealm"), 401, 4031, MSG_4031)
    # BINDPW "__CENSORED__" keeps the stored password: logins still work.
    resolver(server, admin, "ldap1", {"type": "ldapresolver", "BINDPW": CENSORED, "SIZELIMIT": "900"})
    assert server.db_query('SELECT "Value" FROM resolverconfig WHERE resolver_id = %d AND "Key" = '
                           '\'BINDPW\'' % rid)[0][0] == stored[0][0]
    assert login(server, "user0002@ldaprealm", "Pass-0002").status == 200
    # A wrong BINDPW makes every lookup fail: still only "wrong credentials".
    resolver(server, admin, "ldap1", {"type": "ldapresolver", "BINDPW": "wrong"})
    assert_error(login(server, "user0002@ldaprealm", "Pass-0002"), 401, 4031, MSG_4031)
    resolver(server, admin, "ldap1", {"type": "ldapresolver", "BINDPW": slapd.admin_pw})
    assert login(server, "user0002@ldaprealm", "Pass-0002").status == 200
    # The user list, with filters and wildcards.
    q = lambda **p: ok(server.get("/user/", params=dict(realm="ldaprealm", **p), token=admin))
    assert len(q()) == 506
    assert sorted(u["username"] for u in q(username="user001*")) == ["user%04d" % i for i in range(10, 20)]
    one = q(username="user0002")
    assert len(one) == 1 and one[0]["givenname"] == "Given0002" and one[0]["surname"] == "Sur0002"
    assert one[0]["userid"] == "uid=user0002,ou=people,dc=example,dc=org" and one[0]["resolver"] == "ldap1"
    assert one[0]["editable"] is False
    assert [u["username"] for u in q(email="user0042@*")] == ["user0042"]
    assert [u["username"] for u in q(givenname="Given0100")] == ["user0100"]
    assert [u["username"] for u in q(surname="Sur050*")] == ["user0500"]
    assert [u["username"] for u in q(username="j*rgen")] == ["jürgen"]
    assert [u["username"] for u in q(surname="Müller")] == ["jürgen"]
    assert [u["username"] for u in q(username="张*")] == ["张伟"]
    # '*' is the only wildcard: filter syntax in a value finds nothing or itself.
    assert q(username="*)(uid=*") == []
    assert [u["username"] for u in q(surname="O*Brien(x)\\")] == ["special"]
    assert_error(login(server, "*)(uid=*", "Pass-0001", "ldaprealm"), 401, 4031, MSG_4031)
    assert_error(login(server, "*", "Pass-0001", "ldaprealm"), 401, 4031, MSG_4031)
    assert_error(login(server, "user0001)(|(uid=*", "Pass-0001", "ldaprealm"), 401, 4031, MSG_4031)


def test_ldap_starttls_with_the_fixture_ca(server, admin, slapd):
    resolver(server, admin, "ldaptls", ldap_def(slapd, START_TLS="True", TLS_VERIFY="True",
                                                TLS_CA_FILE=slapd.ca_file))
    realm(server, admin, "tlsrealm", "ldaptls")
    assert login(server, "user0003@tlsrealm", "Pass-0003").status == 200
    r = server.post("/resolver/test", json_body=ldap_def(slapd, START_TLS="True", TLS_VERIFY="True",
                                                          TLS_CA_FILE=slapd.ca_file), token=admin)
    assert ok(r) is True and r.body["detail"]["description"] == \
        "Your LDAP config seems to be OK, 506 user objects found."
    # An unrelated CA: the certificate is refused.
    r = server.post("/resolver/test", json_body=ldap_def(slapd, START_TLS="True", TLS_VERIFY="True",
                                                          TLS_CA_FILE=slapd.wrong_ca_file, TIMEOUT="2"),
                    token=admin)
    assert ok(r) is False and r.body["detail"]["description"]
    resolver(server, admin, "ldapbadca", ldap_def(slapd, START_TLS="True", TLS_VERIFY="True",
                                                  TLS_CA_FILE=slapd.wrong_ca_file, TIMEOUT="2"))
    realm(server, admin, "badcarealm", "ldapbadca")
    assert_error(login(server, "user0003@badcarealm", "Pass-0003"), 401, 4031, MSG_4031)
    # ldaps:// with the CA works too.
    resolver(server, admin, "ldaps1", ldap_def(slapd, LDAPURI=slapd.ldaps_uri, TLS_VERIFY="True",
                                               TLS_CA_FILE=slapd.ca_file))
    realm(server, admin, "ldapsrealm", "ldaps1")
    assert login(server, "user0004@ldapsrealm", "Pass-0004").status == 200


def ldap_set_given(slapd, uid, value):
    ldif = ("dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: givenName\ngivenName: %s\n"
            % (uid, slapd.base, value))
    subprocess.run(["ldapmodify", "-x", "-H", slapd.uri, "-D", slapd.admin_dn, "-w", slapd.admin_pw],
                   input=ldif, text=True, capture_output=True, check=True)


def test_ldap_instance_survives_unrelated_changes(server, admin, slapd, pwfile):
    """A configuration change reloads the snapshot; a resolver whose definition did not change keeps
    its live instance (connections, CACHE_TIMEOUT cache), a changed one gets a new instance."""
    resolver(server, admin, "ldapkeep", ldap_def(slapd, CACHE_TIMEOUT="300"))
    realm(server, admin, "keeprealm", "ldapkeep")
    jwt = user_jwt(server, "user0450@keeprealm", "Pass-0450")
    given = lambda: ok(server.get("/user/", token=jwt))[0]["givenname"]
    assert given() == "Given0450"
    try:
        ldap_set_given(slapd, "user0450", "Changed0450")
        assert given() == "Given0450"  # served from the instance's cache
        resolver(server, admin, "unrelated", {"type": "passwdresolver", "fileName": pwfile})
        realm(server, admin, "unrelatedrealm", "unrelated")
        assert given() == "Given0450"  # same instance after two reloads
        resolver(server, admin, "ldapkeep", {"type": "ldapresolver", "SIZELIMIT": "999"})
        assert given() == "Changed0450"  # a changed definition: a new instance
    finally:
        ldap_set_given(slapd, "user0450", "Given0450")


def test_ldap_pool_with_the_first_server_down(server, admin, slapd):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again when the block ends: connection refused
    resolver(server, admin, "ldappool", ldap_def(slapd, LDAPURI="ldap://127.0.0.1:%d, %s" % (dead, slapd.uri),
                                                 TIMEOUT="2"))
    realm(server, admin, "poolrealm", "ldappool")
    for i in (5, 6, 7):
        assert login(server, "user%04d@poolrealm" % i, "Pass-%04d" % i).status == 200


def test_resolver_test_endpoint(server, admin, slapd, pwfile):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    r = server.post("/resolver/test", json_body=ldap_def(slapd, LDAPURI="ldap://127.0.0.1:%d" % dead,
                                                          TIMEOUT="1"), token=admin)
    assert ok(r) is False and isinstance(r.body["detail"]["description"], str) and r.body["detail"]["description"]
    r = server.post("/resolver/test", json_body=ldap_def(slapd), token=admin)
    assert ok(r) is True
    assert r.body["detail"]["description"] == "Your LDAP config seems to be OK, 506 user objects found."
    # Saving does not connect: a server that is down does not prevent it (as privacyIDEA).
    resolver(server, admin, "ldapdown", ldap_def(slapd, LDAPURI="ldap://127.0.0.1:%d" % dead, TIMEOUT="1"))
    realm(server, admin, "downrealm", "ldapdown")
    assert_error(login(server, "user0001@downrealm", "Pass-0001"), 401, 4031, MSG_4031)
    # A stored resolver tested again with its censored password.
    resolver(server, admin, "ldaptest", ldap_def(slapd))
    r = server.post("/resolver/test", json_body=ldap_def(slapd, BINDPW=CENSORED, resolver="ldaptest"), token=admin)
    assert ok(r) is True
    r = server.post("/resolver/test", json_body=ldap_def(slapd, BINDPW=CENSORED), token=admin)
    assert ok(r) is False  # no stored password to take
    r = server.post("/resolver/test", json_body={"type": "passwdresolver", "fileName": pwfile}, token=admin)
    assert ok(r) is True and r.body["detail"]["description"]
    assert_error(server.post("/resolver/test", json_body={"fileName": pwfile}, token=admin), 400, 905,
                 "ERR905: Missing parameter: 'type'")
    assert count(server, "SELECT count(*) FROM resolver WHERE name = 'ldaptest'") == 1


def test_privacyidea_exported_definitions_post_unchanged(server, admin, slapd, store_dir):
    """The data of a privacyIDEA 3.x export (GET /resolver/ / pi-manage config export), POSTed as it is,
    with the Web UI's JSON types."""
    ldap_export = {
        "type": "ldapresolver", "AUTHTYPE": "Simple", "BINDDN": slapd.admin_dn, "BINDPW": slapd.admin_pw,
        "CACERTIFICATE": "", "CACHE_TIMEOUT": 120, "DN_TEMPLATE": "", "EDITABLE": False,
        "LDAPBASE": slapd.base, "LDAPSEARCHFILTER": "(uid=*)(objectClass=inetOrgPerson)",
        "LDAPURI": slapd.uri, "LOGINNAMEATTRIBUTE": "uid, mail", "MULTIVALUEATTRIBUTES": "",
        "NOREFERRALS": True, "NOSCHEMAS": False, "OBJECT_CLASSES": "", "SCOPE": "SUBTREE",
        "SERVERPOOL_PERSISTENT": "False", "SERVERPOOL_ROUNDS": "2", "SERVERPOOL_SKIP": "30",
        "SIZELIMIT": "500", "START_TLS": "False", "TIMEOUT": "5", "TLS_CA_FILE": "", "TLS_VERIFY": "False",
        "TLS_VERSION": "2", "UIDTYPE": "entryUUID", "KEYTABFILE": "",
        "USERINFO": "{ \"phone\" : \"telephoneNumber\", \"mobile\" : \"mobile\", \"email\" : \"mail\", "
                    "\"surname\" : \"sn\", \"givenname\" : \"givenName\" }"}
    resolver(server, admin, "piexport", ldap_export)
    data = ok(server.get("/resolver/piexport", token=admin))["piexport"]["data"]
    assert data["BINDPW"] == CENSORED and data["CACHE_TIMEOUT"] == "120" and data["NOREFERRALS"] == "True"
    assert data["EDITABLE"] == "False" and data["UIDTYPE"] == "entryUUID"
    realm(server, admin, "exportrealm", "piexport")
    # Two login attributes: the mail address logs in as the uid.
    r = login(server, "user0010@example.org", "Pass-0010", "exportrealm")
    assert r.status == 200 and r.value["username"] == "user0010", r
    c = claims(r.value["token"])
    assert c["username"] == "user0010" and c["resolver"] == "piexport"
    sql_export = {"type": "sqlresolver", "Driver": "sqlite", "Server": "", "Port": "", "User": "",
                  "Password": "", "Database": sqlite_users(store_dir / "export.sqlite"), "Table": "users",
                  "Limit": "500", "Editable": "0", "Encoding": "utf-8", "Where": "", "conParams": "",
                  "poolSize": "5", "poolTimeout": "10", "poolRecycle": "7200", "Password_Hash_Type": "SSHA256",
                  "Map": "{ \"userid\" : \"id\", \"username\": \"login\", \"email\" : \"mail\", "
                         "\"surname\" : \"sur\", \"givenname\" : \"given\", \"password\" : \"pw\", "
                         "\"phone\": \"tel\", \"mobile\": \"mob\"}"}
    resolver(server, admin, "sqlexport", sql_export)
    got = ok(server.get("/resolver/sqlexport", token=admin))["sqlexport"]
    assert got["censor_keys"] == ["Password"] and got["data"]["Password"] == CENSORED
    realm(server, admin, "sqlexportrealm", "sqlexport")
    assert login(server, "ssha512@sqlexportrealm", "ssha512-pw").status == 200
    assert login(server, "ghost@sqlexportrealm", "ghost-pw").status == 200  # no Where here


# ------------------------------------------------------------------------------------------------
# realms, priorities, the default realm, SUPERUSER_REALM
# ------------------------------------------------------------------------------------------------
def test_realm_priorities(server, admin, store_dir):
    a = make_passwd(store_dir / "prio-a", [("pat", "pat-in-a", "-6", 3001, "Pat A,,,,")])
    b = make_passwd(store_dir / "prio-b", [("pat", "pat-in-b", "-6", 3002, "Pat B,,,,"),
                                           ("quinn", "quinn-b", "-6", 3003, "Quinn,,,,")])
    resolver(server, admin, "prio-a", {"type": "passwdresolver", "fileName": a})
    resolver(server, admin, "prio-b", {"type": "passwdresolver", "fileName": b})
    # Form-encoded priorities (the manual's example), lower number first.
    r = server.post("/realm/Prio Realm", data={"resolvers": "prio-a, prio-b", "priority.prio-a": "2",
                                               "priority.prio-b": "1"}, token=admin)
    assert ok(r) == {"added": ["prio-a", "prio-b"], "failed": []}
    listed = ok(server.get("/realm/", token=admin))["prio-realm"]  # lower-cased, blank → '-'
    assert listed["resolver"] == [{"name": "prio-a", "type": "passwdresolver", "priority": 2, "node": ""},
                                  {"name": "prio-b", "type": "passwdresolver", "priority": 1, "node": ""}]
    assert listed["default"] in (True, False) and listed["option"] == ""
    r = login(server, "pat@prio-realm", "pat-in-b")
    assert r.status == 200 and claims(r.value["token"])["resolver"] == "prio-b"
    assert_error(login(server, "pat@prio-realm", "pat-in-a"), 401, 4031, MSG_4031)
    assert login(server, "quinn@prio-realm", "quinn-b").status == 200
    # JSON list and JSON integers (privacyIDEA's Web UI); the realm is replaced.
    ok(server.post("/realm/prio-realm", json_body={"resolvers": ["prio-a", "prio-b"], "priority.prio-a": 1,
                                                    "priority.prio-b": 5}, token=admin))
    r = login(server, "pat@prio-realm", "pat-in-a")
    assert r.status == 200 and claims(r.value["token"])["resolver"] == "prio-a"
    # Without priorities: by name.
    ok(server.post("/realm/prio-realm", json_body={"resolvers": "prio-b,prio-a"}, token=admin))
    assert claims(user_jwt(server, "pat@prio-realm", "pat-in-a"))["resolver"] == "prio-a"
    # Users of both resolvers are listed, each login once per realm (the higher priority one).
    names = [u["username"] for u in ok(server.get("/user/", params={"realm": "prio-realm"}, token=admin))]
    assert sorted(names) == ["pat", "quinn"]
    assert_error(server.post("/realm/prio-realm", json_body={"resolvers": "prio-a", "priority.prio-a": "high"},
                             token=admin), 400, 905, "ERR905: Parameter 'priority.prio-a' must be an integer.")


def test_realm_with_unknown_resolver_stores_nothing(server, admin, pwfile):
    resolver(server, admin, "pwknown", {"type": "passwdresolver", "fileName": pwfile})
    before = server.db_query("SELECT count(*) FROM realm")[0][0], \
        server.db_query("SELECT count(*) FROM resolverrealm")[0][0]
    r = server.post("/realm/ghostrealm", json_body={"resolvers": "pwknown,nosuchresolver"}, token=admin)
    assert_error(r, 400, 905, "ERR905: The resolver(s) do not exist: 'nosuchresolver'")
    after = server.db_query("SELECT count(*) FROM realm")[0][0], \
        server.db_query("SELECT count(*) FROM resolverrealm")[0][0]
    assert before == after
    assert count(server, "SELECT count(*) FROM realm WHERE name = 'ghostrealm'") == 0
    assert_error(server.post("/realm/ghostrealm", json_body={}, token=admin), 400, 905,
                 "ERR905: Missing parameter: 'resolvers'")
    assert_error(server.post("/realm/bad$name", json_body={"resolvers": "pwknown"}, token=admin), 400, 905)
    assert_error(server.delete("/realm/ghostrealm", token=admin), 404, 601,
                 "The requested Realm could not be found.")


def test_default_realm_and_realm_splitting(make_server, pwfile, store_dir):
    srv = make_server()
    tok = srv.login()
    other = make_passwd(store_dir / "split", [("alice", "alice-other", "-6", 4001, "Other Alice,,,,"),
                                              ("mail@example.com", "mail-pw", "-6", 4002, "Mail,,,,")])
    resolver(srv, tok, "pwmain", {"type": "passwdresolver", "fileName": pwfile})
    resolver(srv, tok, "pwother", {"type": "passwdresolver", "fileName": other})
    realm(srv, tok, "main", "pwmain")
    realm(srv, tok, "other", "pwother")
    realms = ok(srv.get("/realm/", token=tok))
    assert realms["main"]["default"] is True and realms["other"]["default"] is False
    assert list(ok(srv.get("/defaultrealm", token=tok))) == ["main"]
    # login, login@realm, realm\login, the realm parameter winning over the split realm
    for username, realm_param, pw, expect in (
            ("alice", None, "alice-sha512", "main"), ("alice@main", None, "alice-sha512", "main"),
            ("alice@other", None, "alice-other", "other"), ("other\\alice", None, "alice-other", "other"),
            ("alice@other", "main", "alice-sha512", "main"), ("alice", "other", "alice-other", "other"),
            ("ALICE@Other", None, None, None), ("mail@example.com", "other", "mail-pw", "other"),
            ("mail@example.com@other", None, "mail-pw", "other")):
        if expect is None:
            assert_error(login(srv, username, "alice-other", realm_param), 401, 4031, MSG_4031)
            continue
        r = login(srv, username, pw, realm_param)
        assert r.status == 200 and r.value["realm"] == expect, (username, realm_param, r)
    # user@unknown is a login of the default realm; an unknown realm parameter is refused first.
    assert_error(login(srv, "alice@nowhere", "alice-sha512"), 401, 4031, MSG_4031)
    assert_error(login(srv, "alice", "alice-sha512", "nowhere"), 401, 4031,
                 "Authentication failure. Unknown realm: nowhere.")
    assert_error(login(srv, srv.admin_user, srv.admin_password, "nowhere"), 401, 4031,
                 "Authentication failure. Unknown realm: nowhere.")
    # splitAtSign off: no splitting at all
    set_config(srv, "splitAtSign", "False")
    assert_error(login(srv, "alice@other", "alice-other"), 401, 4031, MSG_4031)
    assert login(srv, "mail@example.com", "mail-pw", "other").status == 200
    set_config(srv, "splitAtSign", "True")
    # Changing and clearing the default realm.
    main_id, other_id = realms["main"]["id"], realms["other"]["id"]
    assert ok(srv.post("/defaultrealm/OTHER", token=tok)) == other_id
    assert login(srv, "alice", "alice-other").status == 200
    assert_error(srv.post("/defaultrealm/nowhere", token=tok), 404, 601, "The requested Realm could not be found.")
    assert ok(srv.delete("/defaultrealm", token=tok)) == other_id
    assert ok(srv.get("/defaultrealm", token=tok)) == {}
    assert ok(srv.delete("/defaultrealm", token=tok)) == 0
    assert_error(login(srv, "alice", "alice-other"), 401, 4031, MSG_4031)
    assert srv.db_query('SELECT count(*) FROM realm WHERE "default" = 1') == [("0",)]
    # Deleting a realm leaves one: it becomes the default.
    assert ok(srv.delete("/realm/other", token=tok)) == other_id
    assert list(ok(srv.get("/defaultrealm", token=tok))) == ["main"]
    assert ok(srv.get("/realm/", token=tok))["main"]["id"] == main_id


def test_superuser_realm(make_server, pwfile):
    srv = make_server(extra_lines="SUPERUSER_REALM = ['SuperR', 'nosuch']")
    tok = srv.login()
    assert ok(srv.get("/realm/superuser", token=tok)) == ["SuperR", "nosuch"]
    resolver(srv, tok, "pwsuper", {"type": "passwdresolver", "fileName": pwfile})
    realm(srv, tok, "superr", "pwsuper")
    r = login(srv, "bob@superr", "bob-sha256")
    assert r.status == 200 and r.value["role"] == "admin" and r.value["realm"] == "superr", r
    assert "resolverwrite" in r.value["rights"] and "config" in r.value["menus"]
    c = claims(r.value["token"])
    assert (c["role"], c["username"], c["realm"], c["resolver"]) == ("admin", "bob", "superr", "pwsuper")
    assert "superr" in ok(srv.get("/realm/", token=r.value["token"]))
    rows = srv.db_query("SELECT administrator, \"user\", realm, success FROM pidea_audit WHERE action = "
                        "'POST /auth' ORDER BY id DESC")
    assert rows[0] == ("bob", "", "superr", "1")


# ------------------------------------------------------------------------------------------------
# /user as a user, custom attributes
# ------------------------------------------------------------------------------------------------
def test_user_role_sees_only_itself(server, admin, pwfile):
    resolver(server, admin, "pwself", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "selfrealm", "pwself")
    jwt = user_jwt(server, "carol@selfrealm", "carol-md5")
    for params in ({}, {"username": "*"}, {"realm": "selfrealm", "user": "alice"}, {"resolver": "pwself"},
                   {"username": "*)(uid=*"}):
        users = ok(server.get("/user/", params=params, token=jwt))
        assert [(u["username"], u["resolver"], u["editable"]) for u in users] == [("carol", "pwself", False)]
    attrs = ok(server.get("/user/attribute", params={"user": "alice", "realm": "selfrealm"}, token=jwt))
    assert attrs == {}


def test_custom_user_attributes(server, admin, pwfile):
    resolver(server, admin, "pwattr", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "attrrealm", "pwattr")
    # (no policy engine yet: set_custom_user_attributes is not checked)
    aid = ok(server.post("/user/attribute", json_body={"user": "alice", "realm": "attrrealm", "key": "department",
                                                        "value": "sales"}, token=admin))
    assert isinstance(aid, int) and aid > 0
    assert ok(server.post("/user/attribute", json_body={"user": "alice@attrrealm", "key": "department",
                                                         "value": "finance"}, token=admin)) == aid
    ok(server.post("/user/attribute", json_body={"user": "alice", "realm": "attrrealm", "key": "room",
                                                  "value": "42", "type": "str"}, token=admin))
    assert ok(server.get("/user/attribute", params={"user": "alice", "realm": "attrrealm"}, token=admin)) == \
        {"department": "finance", "room": "42"}
    assert ok(server.get("/user/attribute", params={"user": "alice", "realm": "attrrealm", "key": "room"},
                         token=admin)) == "42"
    assert ok(server.get("/user/attribute", params={"user": "alice", "realm": "attrrealm", "key": "none"},
                         token=admin)) is None
    listed = ok(server.get("/user/", params={"realm": "attrrealm", "username": "alice"}, token=admin))
    assert listed[0]["department"] == "finance" and listed[0]["room"] == "42"
    rows = server.db_query('SELECT user_id, resolver, "Key", "Value" FROM customuserattribute ORDER BY id')
    assert ("1001", "pwattr", "department", "finance") in rows
    assert ok(server.get("/user/editable_attributes/", params={"user": "alice", "realm": "attrrealm"},
                         token=admin)) == {"delete": [], "set": {}}
    # The user sees his own attributes.
    jwt = user_jwt(server, "alice@attrrealm", "alice-sha512")
    assert ok(server.get("/user/attribute", params={"user": "bob"}, token=jwt)) == \
        {"department": "finance", "room": "42"}
    assert ok(server.delete("/user/attribute/room/alice/attrrealm", token=admin)) == 1
    assert ok(server.delete("/user/attribute/room/alice/attrrealm", token=admin)) == 0
    assert_error(server.post("/user/attribute", json_body={"user": "alice", "realm": "attrrealm", "key": "k"},
                             token=admin), 400, 905, "ERR905: Missing parameter: 'value'")
    assert_error(server.get("/user/attribute", params={"realm": "attrrealm"}, token=admin), 400, 905,
                 "ERR905: Missing parameter: 'user'")
    assert_error(server.get("/user/attribute", params={"user": "nobody", "realm": "attrrealm"}, token=admin),
                 400, 904, MSG_904)
    assert_error(server.get("/user/attribute", params={"user": "alice", "realm": "nosuchrealm"}, token=admin),
                 400, 904, MSG_904)


# ------------------------------------------------------------------------------------------------
# the user cache
# ------------------------------------------------------------------------------------------------
def test_user_cache(make_server, store_dir):
    srv = make_server()
    tok = srv.login()
    path = store_dir / "cached"
    make_passwd(path, [("cathy", "cathy-pw", "-6", 5001, "Cathy,,,,")])
    resolver(srv, tok, "pwcache", {"type": "passwdresolver", "fileName": str(path)})
    realm(srv, tok, "cacherealm", "pwcache")
    assert login(srv, "cathy", "cathy-pw").status == 200
    assert count(srv, "SELECT count(*) FROM usercache") == 0  # off by default
    set_config(srv, "UserCacheExpiration", "300")
    assert login(srv, "cathy", "cathy-pw").status == 200
    rows = srv.db_query("SELECT username, used_login, resolver, user_id FROM usercache")
    assert rows == [("cathy", "cathy", "pwcache", "5001")]
    # While the entry is valid a renamed user still logs in with the old name (manual 1.5.1).
    time.sleep(1.1)
    make_passwd(path, [("katharina", "cathy-pw", "-6", 5001, "Cathy,,,,")])
    assert login(srv, "cathy", "cathy-pw").status == 200
    # Changing the resolver drops its entries.
    resolver(srv, tok, "pwcache", {"type": "passwdresolver", "fileName": str(path), "desc.fileName": "x"})
    assert count(srv, "SELECT count(*) FROM usercache") == 0
    assert_error(login(srv, "cathy", "cathy-pw"), 401, 4031, MSG_4031)
    assert login(srv, "katharina", "cathy-pw").status == 200
    assert count(srv, "SELECT count(*) FROM usercache WHERE used_login = 'katharina'") == 1
    # Expired entries are not used (and stay until removed, as in privacyIDEA).
    set_config(srv, "UserCacheExpiration", "1")
    time.sleep(2.1)
    make_passwd(path, [("karin", "cathy-pw", "-6", 5001, "Cathy,,,,")])
    assert_error(login(srv, "katharina", "cathy-pw"), 401, 4031, MSG_4031)
    assert count(srv, "SELECT count(*) FROM usercache WHERE used_login = 'katharina'") == 1


def test_failed_logins_take_alike(server, admin, pwfile):
    """Unknown names, wrong user passwords and wrong admin passwords all cost one password-hash
    verification: the answer and (roughly) the time are the same."""
    resolver(server, admin, "pwtime", {"type": "passwdresolver", "fileName": pwfile})
    realm(server, admin, "timerealm", "pwtime")

    def fastest(username, password, realm_param=None):
        times = []
        for _ in range(3):
            t = time.monotonic()
            assert_error(login(server, username, password, realm_param), 401, 4031, MSG_4031)
            times.append(time.monotonic() - t)
        return min(times)

    admin_wrong = fastest(server.admin_user, "wrong", "timerealm")
    assert fastest("nosuchuser@timerealm", "wrong") > 0.5 * admin_wrong
    assert fastest("alice@timerealm", "wrong") > 0.5 * admin_wrong
    assert fastest("*)(uid=*", "wrong") > 0.5 * admin_wrong


def test_editable_ldap_users(server, admin, slapd):
    resolver(server, admin, "ldapedit", ldap_def(
        slapd, EDITABLE="1", DN_TEMPLATE="uid=<username>,ou=people,<basedn>", OBJECT_CLASSES="top, inetOrgPerson",
        USERINFO=json.dumps({"surname": "sn", "givenname": "givenName", "commonname": "cn", "email": "mail",
                             "phone": "telephoneNumber", "password": "userPassword"})))
    realm(server, admin, "ldapeditrealm", "ldapedit")
    assert "ldapedit" in ok(server.get("/resolver/", params={"editable": "1"}, token=admin))
    dn = "uid=ldap-newbie,ou=people," + slapd.base
    try:
        uid = ok(server.post("/user/", json_body={"user": "ldap-newbie", "resolver": "ldapedit", "surname": "Bie",
                                                  "givenname": "Lena", "commonname": "Lena Bie",
                                                  "email": "lena@example.org", "password": "Lena-Pw-1"},
                             token=admin))
        assert uid == dn
        r = login(server, "ldap-newbie@ldapeditrealm", "Lena-Pw-1")
        assert r.status == 200 and claims(r.value["token"])["resolver"] == "ldapedit", r
        listed = ok(server.get("/user/", params={"realm": "ldapeditrealm", "username": "ldap-newbie"}, token=admin))
        assert [(u["userid"], u["givenname"], u["email"], u["editable"]) for u in listed] == \
            [(dn, "Lena", "lena@example.org", True)]
        assert ok(server.put("/user/", json_body={"user": "ldap-newbie", "resolver": "ldapedit",
                                                  "phone": "+49 555", "password": "Lena-Pw-2"}, token=admin)) is True
        assert_error(login(server, "ldap-newbie@ldapeditrealm", "Lena-Pw-1"), 401, 4031, MSG_4031)
        jwt = user_jwt(server, "ldap-newbie@ldapeditrealm", "Lena-Pw-2")
        assert ok(server.get("/user/", token=jwt))[0]["phone"] == "+49 555"
        assert ok(server.delete("/user/ldapedit/ldap-newbie", token=admin)) is True
        assert_error(login(server, "ldap-newbie@ldapeditrealm", "Lena-Pw-2"), 401, 4031, MSG_4031)
        assert ok(server.get("/user/", params={"realm": "ldapeditrealm", "username": "ldap-newbie"},
                             token=admin)) == []
    finally:
        subprocess.run(["ldapdelete", "-x", "-H", slapd.uri, "-D", slapd.admin_dn, "-w", slapd.admin_pw, dn],
                       capture_output=True)
