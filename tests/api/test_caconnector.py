"""CA connectors: the /caconnector blueprint (list, show, create/update with censored passwords, delete,
specific options, rights, nothing stored after an error), `tessera ca` (create scripted and interactive, RSA
and EC, list, create_crl, sign, requests/approve/reject), the CRL download, the RFC 6960 OCSP responder and
the approval endpoints.

OpenSSL's own command line is the independent judge: it builds a CA the way wire-check.py does, signs and
revokes with `openssl ca` on the same directories, parses our CRLs and asks our responder with `openssl ocsp`.
Runs on SQLite and PostgreSQL (TESSERA_DB). privacyIDEA 3.8 / 3.12.3 behaviour (api/caconnector.py,
lib/caconnector.py, localca.py); Tessera's deliberate differences are in docs/compatibility.md.
"""
import base64
import os
import pathlib
import re
import secrets
import subprocess
import time
import urllib.parse

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness import make_jwt

ROLE_ADMIN_MSG = ("Authentication failure. You do not have the necessary role (['admin']) to access "
                  "this resource!")
NOT_FOUND = "The requested CAConnector could not be found."
OCSP_UNAUTHORIZED = b"\x30\x03\x0a\x01\x06"
OCSP_MALFORMED = b"\x30\x03\x0a\x01\x01"
TEMPLATES = {"user": {"days": 365, "extensions": "user"}, "webserver": {"days": 750, "extensions": "server"}}

# The CA wire-check.py builds with the openssl command line (and privacyIDEA's documentation describes).
OPENSSL_CNF = """\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {d}
database = $dir/index.txt
new_certs_dir = $dir
certificate = $dir/cacert.pem
serial = $dir/serial
crlnumber = $dir/crlnumber
crl = $dir/crl.pem
private_key = $dir/cakey.pem
x509_extensions = user
default_days = 365
default_crl_days = 30
default_md = sha256
policy = policy_anything
unique_subject = no
[ policy_anything ]
commonName = supplied
organizationName = optional
[ user ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
"""


# ---- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def admin(server):
    return server.login()


def uniq(prefix):
    return prefix + secrets.token_hex(3)


def openssl(*args, cwd=None, input=None, check=True):
    r = subprocess.run(("openssl",) + tuple(str(a) for a in args), capture_output=True, text=True, cwd=cwd,
                       input=input, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s%s" % (" ".join(map(str, args)), r.stdout, r.stderr))
    return r


def openssl_ca(d):
    """A CA made with the openssl command line, exactly as wire-check.py makes it."""
    d = str(d)
    os.makedirs(d, exist_ok=True)
    pathlib.Path(d, "openssl.cnf").write_text(OPENSSL_CNF.format(d=d))
    pathlib.Path(d, "index.txt").write_text("")
    for f in ("serial", "crlnumber"):
        pathlib.Path(d, f).write_text("1000\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/cakey.pem", "-out",
            d + "/cacert.pem", "-days", "730", "-subj", "/CN=Wire Check CA", "-config", d + "/openssl.cnf",
            "-extensions", "v3_ca")
    openssl("ca", "-batch", "-config", d + "/openssl.cnf", "-gencrl", "-out", d + "/crl.pem")
    return d


def wire_params(d):
    """Exchange 41's parameters for a CA in d."""
    return {"type": "local", "cacert": d + "/cacert.pem", "cakey": d + "/cakey.pem", "WorkingDir": d,
            "CertificateDir": d, "CSRDir": d, "CRL": d + "/crl.pem", "CRL_Validity_Period": "30",
            "CRL_Overlap_Period": "2", "openssl.cnf": d + "/openssl.cnf"}


def csr(d, cn, name=None):
    """An EC P-256 key and CSR for /CN=cn in d; returns the CSR path."""
    name = name or cn
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "%s/%s.key" % (d, name), "-out", "%s/%s.csr" % (d, name), "-subj", "/CN=%s/O=Tessera tests" % cn)
    return "%s/%s.csr" % (d, name)


def sign_with_openssl(d, cn, passin=None):
    """Issue a certificate with `openssl ca` on the CA directory d; returns its path."""
    req = csr(d, cn)
    out = "%s/%s.pem" % (d, cn)
    extra = ["-passin", "pass:" + passin] if passin else []
    openssl("ca", "-batch", "-config", d + "/openssl.cnf", "-extensions", "user", "-in", req, "-out", out, *extra)
    return out


def config_rows(server, name):
    """{Key: (Value, Type, Description)} of a connector's caconnectorconfig rows."""
    rows = server.db_query('SELECT cc."Key", cc."Value", cc."Type", cc."Description" FROM caconnectorconfig cc '
                           "JOIN caconnector ca ON ca.id = cc.caconnector_id WHERE ca.name = '%s'" % name)
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def connector_ids(server, name):
    return [int(r[0]) for r in server.db_query("SELECT id FROM caconnector WHERE name = '%s'" % name)]


def timestamp(server):
    rows = server.db_query("SELECT \"Value\" FROM config WHERE \"Key\" = '__timestamp__'")
    return rows[0][0] if rows else None


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
    assert r.result["status"] is False, r
    assert r.error["code"] == code, r
    if message is not None:
        assert r.error["message"] == message, r


def create(server, token, name, params, status=200):
    r = server.post("/caconnector/" + name, data=params, token=token)
    assert r.status == status, r
    return r


def cli_create(server, name, d, *opts):
    r = server.cli("ca", "create", name, "--dir", str(d), *opts)
    m = re.search(r"Saved CA Connector with ID (\d+)\.", r.stdout)
    assert m, r.stdout
    assert connector_ids(server, name) == [int(m.group(1))]
    return int(m.group(1))


def get_one(server, token, name):
    r = server.get("/caconnector/" + name, token=token)
    assert r.status == 200, r
    assert len(r.value) == 1, r
    return r.value[0]


def crl(server, name, **kw):
    return requests.get(server.base + "/caconnector/%s/crl" % name, timeout=60, **kw)


def ocsp_cli(server, name, ca_dir, cert, *extra):
    r = openssl("ocsp", "-issuer", ca_dir + "/cacert.pem", "-cert", cert, "-CAfile", ca_dir + "/cacert.pem",
                "-url", "%s/ocsp/%s" % (server.base, name), "-resp_text", *extra, check=False)
    return r.stdout + r.stderr


# ---- create, list, show (exchange 41) ---------------------------------------------------------

def test_create_as_privacyidea_then_list_and_show(server, admin, tmp_path):
    d = openssl_ca(tmp_path)
    name = uniq("wire")
    before = timestamp(server)
    params = wire_params(d)
    r = create(server, admin, name, params)
    assert connector_ids(server, name) == [r.value]
    assert isinstance(r.value, int) and r.value >= 1
    assert timestamp(server) != before
    # the rows privacyIDEA writes: the description's types, no descriptions
    types = {"CRL_Validity_Period": "int", "CRL_Overlap_Period": "int"}
    assert config_rows(server, name) == {k: (v, types.get(k, "string"), "") for k, v in params.items()
                                         if k != "type"}
    expected = {"connectorname": name, "type": "local", "templates": {},
                "data": {k: v for k, v in params.items() if k != "type"}}
    assert get_one(server, admin, name) == expected
    assert expected in server.get("/caconnector/", token=admin).value
    assert server.get("/caconnector/", token=admin).value == \
        server.get("/caconnector", token=admin).value
    # an unknown name is an empty list, as privacyIDEA's filter
    assert server.get("/caconnector/" + uniq("nope"), token=admin).value == []
    # names are compared exactly when listing
    assert server.get("/caconnector/" + name.upper(), token=admin).value == []


def test_update_sends_only_changes_and_keeps_the_id(server, admin, tmp_path):
    d = openssl_ca(tmp_path)
    name = uniq("upd")
    cid = create(server, admin, name, wire_params(d)).value
    before = timestamp(server)
    r = create(server, admin, name, {"type": "local", "CRL_Overlap_Period": 4, "desc.CRL_Overlap_Period": "days",
                                     "extra": "kept", "type.extra": "string"})
    assert r.value == cid
    rows = config_rows(server, name)
    assert rows["CRL_Overlap_Period"] == ("4", "int", "days")
    assert rows["extra"] == ("kept", "string", "")
    assert rows["cakey"] == (d + "/cakey.pem", "string", "")
    assert timestamp(server) != before
    assert get_one(server, admin, name)["data"]["CRL_Overlap_Period"] == "4"
    # JSON bodies: numbers and booleans are stored as privacyIDEA's str() writes them
    r = server.post("/caconnector/" + name, json_body={"type": "local", "CRL_Validity_Period": 9,
                                                         "approval": False}, token=admin)
    assert r.value == cid, r
    assert config_rows(server, name)["CRL_Validity_Period"] == ("9", "int", "")
    assert config_rows(server, name)["approval"] == ("False", "bool", "")


BAD = [
    ({"cacert": "/x/c.pem", "cakey": "/x/k.pem"}, "ERR905: Missing parameter: 'type'"),
    ({"type": "remote", "cacert": "/x/c.pem", "cakey": "/x/k.pem"},
     "ERR905: connector type : remote not in ['local']"),
    ({"type": "local", "cacert": "/x/c.pem"}, "ERR905: required argument 'cakey' is missing."),
    ({"type": "local", "cacert": "/x/c.pem", "cakey": ""}, "ERR905: required argument 'cakey' is missing."),
    ({"type": "local", "cakey": "/x/k.pem"}, "ERR905: required argument 'cacert' is missing."),
    ({"type": "local", "cacert": "/x/c.pem", "cakey": "/x/k.pem", "CRL_Overlap_Period": "two"},
     "ERR905: parameter 'CRL_Overlap_Period' must be an integer"),
    ({"type": "local", "cacert": "/x/c.pem", "cakey": "/x/k.pem", "approval": "maybe"},
     "ERR905: parameter 'approval' must be a boolean"),
    ({"type": "local", "cacert": "/x/c.pem", "cakey": "/x/k.pem", "CRL_Validity_Period": "0"},
     "ERR905: CRL_Validity_Period must be positive and CRL_Overlap_Period not negative"),
    ({"type": "local", "cacert": "/x/c.pem", "cakey": "/x/k.pem", "type.cakey": "string", "type.foo": "int"},
     "ERR905: type or description without necessary data! (foo)"),
]


@pytest.mark.parametrize("params,message", BAD)
def test_bad_definitions_are_905_and_nothing_is_stored(server, admin, params, message):
    name = uniq("bad")
    before = timestamp(server)
    r = server.post("/caconnector/" + name, data=params, token=admin)
    assert_error(r, 400, 905, message)
    assert connector_ids(server, name) == []
    assert timestamp(server) == before


def test_bad_name_and_type_change(server, admin, tmp_path):
    r = server.post("/caconnector/bad%20name", data=wire_params(str(tmp_path)), token=admin)
    assert_error(r, 400, 905, "ERR905: non conformant characters in the name: 'bad name' "
                              "(not in ^[A-Za-z0-9_\\-\\.]+$)")
    d = openssl_ca(tmp_path)
    name = uniq("chg")
    cid = create(server, admin, name, wire_params(d)).value
    rows = config_rows(server, name)
    before = timestamp(server)
    # an update that would leave the definition incomplete changes nothing
    r = server.post("/caconnector/" + name, data={"type": "local", "cakey": "", "CRL": "/elsewhere"}, token=admin)
    assert_error(r, 400, 905, "ERR905: required argument 'cakey' is missing.")
    # the type of an existing connector cannot change
    r = server.post("/caconnector/" + name, data={"type": "microsoft", "cakey": "x"}, token=admin)
    assert r.error["message"].startswith("ERR905: connector type : microsoft not in"), r
    assert config_rows(server, name) == rows
    assert connector_ids(server, name) == [cid]
    assert timestamp(server) == before


def test_delete(server, admin, tmp_path):
    d = openssl_ca(tmp_path)
    name = uniq("del")
    cid = create(server, admin, name, wire_params(d)).value
    before = timestamp(server)
    r = server.delete("/caconnector/" + name, token=admin)
    assert r.status == 200 and r.value == cid, r
    assert connector_ids(server, name) == []
    assert server.db_query("SELECT count(*) FROM caconnectorconfig WHERE caconnector_id = %d" % cid) == [("0",)]
    assert timestamp(server) != before
    assert get_one_or_none(server, admin, name) is None
    r = server.delete("/caconnector/" + name, token=admin)
    assert_error(r, 404, 601, NOT_FOUND)
    # the CA directory is left alone
    assert os.path.exists(d + "/cakey.pem")
    rows = server.db_query("SELECT action, success, info, administrator FROM pidea_audit "
                           "WHERE action = 'DELETE /caconnector/<caconnector>' ORDER BY id DESC")
    assert rows[0] == ("DELETE /caconnector/<caconnector>", "0", name, "admin")
    assert rows[1] == ("DELETE /caconnector/<caconnector>", "1", name, "admin")


def get_one_or_none(server, token, name):
    v = server.get("/caconnector/" + name, token=token).value
    return v[0] if v else None


def test_specific_options(server, admin, tmp_path):
    r = server.get("/caconnector/specific/local", params={"cakey": "/x/k.pem", "cacert": "/x/c.pem"}, token=admin)
    assert r.status == 200 and r.value == {}, r
    r = server.get("/caconnector/specific/local", params={"cacert": "/x/c.pem"}, token=admin)
    assert_error(r, 400, 503, "ERR503: required argument 'cakey' is missing.")
    r = server.get("/caconnector/specific/remote", token=admin)
    assert_error(r, 400, 905, "ERR905: connector type : remote not in ['local']")


USER_CALLS = [("GET", "/caconnector/"), ("GET", "/caconnector/x"), ("POST", "/caconnector/x"),
              ("DELETE", "/caconnector/x"), ("GET", "/caconnector/specific/local"),
              ("GET", "/caconnector/x/requests"), ("POST", "/caconnector/x/requests/abc/approve"),
              ("POST", "/caconnector/x/requests/abc/reject")]


@pytest.mark.parametrize("method,path", USER_CALLS)
def test_admin_only(server, method, path):
    r = server.request(method, path)
    assert_error(r, 401, 4033, "Authentication failure. Missing Authorization header.")
    claims = {"username": "alice", "realm": "realm1", "nonce": secrets.token_hex(20), "role": "user",
              "authtype": "password", "exp": int(time.time()) + 3600, "rights": []}
    r = server.request(method, path, token=make_jwt(claims, server.secret_key))
    assert_error(r, 401, 4306, ROLE_ADMIN_MSG)


def test_wrong_method(server, admin):
    r = server.request("PUT", "/caconnector/x", token=admin)
    assert r.status == 405, r
    r = server.request("POST", "/caconnector/", token=admin)
    assert r.status == 405, r


# ---- passwords: encrypted at rest, censored, __CENSORED__ keeps them --------------------------

def test_passphrase_encrypted_censored_and_kept(server, admin, tmp_path):
    name = uniq("pw")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--passphrase", "s3cret-Pass")
    assert "ENCRYPTED" in pathlib.Path(d, "cakey.pem").read_text()
    stored, ptype, _ = config_rows(server, name)["cakey_password"]
    assert ptype == "password" and "s3cret" not in stored
    assert decrypt_config_value(server, stored) == "s3cret-Pass"
    data = get_one(server, admin, name)["data"]
    assert data["cakey_password"] == "__CENSORED__"
    assert "s3cret" not in server.get("/caconnector/", token=admin).raw.decode()
    out = server.cli("ca", "list", "-v").stdout
    assert "s3cret" not in out and "__CENSORED__" in out
    # writing back what GET shows keeps the secret (the ciphertext is untouched)
    r = create(server, admin, name, dict(data, type="local", CRL_Overlap_Period="3"))
    assert config_rows(server, name)["cakey_password"] == (stored, "password", "")
    assert config_rows(server, name)["CRL_Overlap_Period"][0] == "3"
    # and the key still opens: a new CRL
    os.unlink(d + "/crl.pem")
    r = crl(server, name)
    assert r.status_code == 200, r.text
    # a wrong passphrase: CAError on use, nothing leaks
    create(server, admin, name, {"type": "local", "cakey_password": "wrong-pass"})
    assert decrypt_config_value(server, config_rows(server, name)["cakey_password"][0]) == "wrong-pass"
    os.unlink(d + "/crl.pem")
    r = crl(server, name)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["result"]["error"]["code"] == 503
    assert "wrong passphrase (cakey_password)" in body["result"]["error"]["message"]
    assert "wrong-pass" not in r.text
    r = server.cli("ca", "create_crl", name, "-f", check=False)
    assert r.returncode == 1 and "wrong passphrase" in r.stderr and "wrong-pass" not in r.stderr
    out = server.cli("ca", "list", "-v").stdout
    assert re.search(r"status\s+: cannot decrypt the CA key", out), out
    # type.cakey_password=string cannot store the passphrase in clear
    create(server, admin, name, {"type": "local", "cakey_password": "s3cret-Pass", "type.cakey_password": "string"})
    stored2, ptype2, _ = config_rows(server, name)["cakey_password"]
    assert ptype2 == "password" and decrypt_config_value(server, stored2) == "s3cret-Pass"
    assert crl(server, name).status_code == 200


# ---- tessera ca create / list ----------------------------------------------------------------

def test_cli_create_rsa(server, admin, tmp_path):
    name = uniq("rsa")
    d = str(tmp_path / "rsa")
    cid = cli_create(server, name, d, "--key-size", "2048", "--days", "100", "--dn", "/CN=Tessera RSA/O=Tests",
                     "--crl-days", "10", "--crl-overlap", "3")
    text = openssl("x509", "-in", d + "/cacert.pem", "-noout", "-text").stdout
    assert "Public-Key: (2048 bit)" in text
    assert "Subject: CN = Tessera RSA, O = Tests" in text
    assert "CA:TRUE" in text
    assert "Certificate Sign, CRL Sign" in text
    assert openssl("verify", "-CAfile", d + "/cacert.pem", d + "/cacert.pem").stdout.strip().endswith("OK")
    dates = openssl("x509", "-in", d + "/cacert.pem", "-noout", "-enddate").stdout
    end = time.strptime(dates.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    assert abs(time.mktime(end) - time.time() - 100 * 86400) < 2 * 86400
    assert oct(os.stat(d + "/cakey.pem").st_mode & 0o777) == "0o600"
    one = get_one(server, admin, name)
    assert one["templates"] == TEMPLATES
    assert one["data"] == {"WorkingDir": d, "cacert": d + "/cacert.pem", "cakey": d + "/cakey.pem",
                           "CertificateDir": d, "CSRDir": d, "CRL": d + "/crl.pem", "CRL_Validity_Period": "10",
                           "CRL_Overlap_Period": "3", "openssl.cnf": d + "/openssl.cnf",
                           "templates": d + "/templates.yaml"}
    assert connector_ids(server, name) == [cid]
    # the first CRL exists and is valid for 10 days
    text = openssl("crl", "-in", d + "/crl.pem", "-noout", "-text").stdout
    assert "Issuer: CN = Tessera RSA, O = Tests" in text
    # pi-manage's answer for a name in use
    r = server.cli("ca", "create", name, "--dir", str(tmp_path / "other"), check=False)
    assert r.returncode == 1 and "A CA connector with the name '%s' already exists." % name in r.stdout
    assert not os.path.exists(tmp_path / "other")
    # the CA works with `openssl ca` too
    cert = sign_with_openssl(d, "rsa-client")
    assert openssl("verify", "-CAfile", d + "/cacert.pem", cert).stdout.strip().endswith("OK")


def test_cli_create_ec_and_list(server, admin, tmp_path):
    name = uniq("ec")
    d = str(tmp_path / "ec")
    cli_create(server, name, d, "--curve", "P-384", "--approval")
    text = openssl("x509", "-in", d + "/cacert.pem", "-noout", "-text").stdout
    assert "NIST CURVE: P-384" in text and "Subject: CN = %s" % name in text
    assert get_one(server, admin, name)["data"]["approval"] == "True"
    assert config_rows(server, name)["approval"] == ("True", "bool", "")
    out = server.cli("ca", "list").stdout
    assert "%s (type local)\n" % name in out
    out = server.cli("ca", "list", "-v").stdout
    block = out.split("%s (type local)\n" % name)[1].split(" (type ")[0]
    assert "\tWorkingDir          : %s\n" % d in block
    assert "\tstatus              : OK\n" in block


def test_cli_create_errors(server, tmp_path):
    r = server.cli("ca", "create", "bad/name", "--batch", check=False)
    assert r.returncode == 1 and "non conformant characters" in r.stderr
    r = server.cli("ca", "create", uniq("x"), "--key-size", "1024", check=False)
    assert r.returncode == 1 and "--key-size must be from 2048 to 4096" in r.stderr
    r = server.cli("ca", "create", uniq("x"), "--key-type", "ec", "--key-size", "2048", check=False)
    assert r.returncode == 1 and "--key-size is for RSA keys" in r.stderr
    r = server.cli("ca", "create", uniq("x"), "--key-type", "rsa", "--curve", "P-256", check=False)
    assert r.returncode == 1 and "--curve is for EC keys" in r.stderr
    r = server.cli("ca", "create", uniq("x"), "--passphrase-file", str(tmp_path / "none"), check=False)
    assert r.returncode == 1 and "cannot read" in r.stderr
    # a directory that holds a CA already: refused, nothing registered
    d = openssl_ca(tmp_path)
    name = uniq("x")
    r = server.cli("ca", "create", name, "--dir", d, check=False)
    assert r.returncode == 1 and "already holds a CA" in r.stderr
    assert connector_ids(server, name) == []
    r = server.cli("ca", "frobnicate", check=False)
    assert r.returncode == 1 and "unknown subcommand" in r.stderr


def test_cli_create_interactive(server, admin, tmp_path):
    name = uniq("ask")
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    answers = [first, "ec", "P-256", "365", "", "7", "2", "n", "", "n",     # not correct: ask again
               second, "", "", "", "/CN=Asked CA", "", "", "y", "", "y"]
    r = server.cli("ca", "create", name, input=("\n".join(answers) + "\n").encode())
    assert "In which directory do you want to create the CA [./ca]: " in r.stdout
    assert "Is this configuration correct? (y/n) [n]: " in r.stdout
    assert "Saved CA Connector with ID" in r.stdout
    assert not os.path.exists(first)
    text = openssl("x509", "-in", second + "/cacert.pem", "-noout", "-text").stdout
    assert "NIST CURVE: P-256" in text and "Subject: CN = Asked CA" in text
    one = get_one(server, admin, name)
    assert one["data"]["WorkingDir"] == second
    assert one["data"]["CRL_Validity_Period"] == "7" and one["data"]["CRL_Overlap_Period"] == "2"
    assert one["data"]["approval"] == "True"
    # the end of input before the questions are answered: nothing is created
    other = uniq("eof")
    r = server.cli("ca", "create", other, input=b"%s\nrsa\n" % str(tmp_path / "third").encode(), check=False)
    assert r.returncode == 1 and "end of input" in r.stderr
    assert not os.path.exists(tmp_path / "third") and connector_ids(server, other) == []


# ---- the CRL --------------------------------------------------------------------------------

def test_crl_download(server, admin, tmp_path):
    d = openssl_ca(tmp_path)
    name = uniq("crl")
    create(server, admin, name, wire_params(d))
    # DER by default, no JWT needed
    r = crl(server, name)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pkix-crl"
    pathlib.Path(d, "got.der").write_bytes(r.content)
    text = openssl("crl", "-inform", "DER", "-in", d + "/got.der", "-noout", "-text").stdout
    assert "Issuer: CN = Wire Check CA" in text and "No Revoked Certificates." in text
    # PEM with ?format=pem or Accept
    for kw in ({"params": {"format": "pem"}}, {"headers": {"Accept": "application/x-pem-file"}}):
        r = crl(server, name, **kw)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-pem-file"
        assert r.text.startswith("-----BEGIN X509 CRL-----\n")
        assert openssl("crl", "-noout", "-text", input=r.text).stdout == text
    r = crl(server, name, params={"format": "txt"})
    assert r.status_code == 400 and r.json()["result"]["error"]["code"] == 905
    r = crl(server, uniq("nope"))
    assert r.status_code == 404 and r.json()["result"]["error"]["message"] == NOT_FOUND
    # a missing CRL is written on the way
    os.unlink(d + "/crl.pem")
    assert crl(server, name).status_code == 200 and os.path.exists(d + "/crl.pem")


def test_cli_create_crl_only_when_needed(server, tmp_path):
    name = uniq("ccrl")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--crl-days", "30", "--crl-overlap", "5")
    number = pathlib.Path(d, "crlnumber").read_text()
    r = server.cli("ca", "create_crl", name)
    assert r.stdout.startswith("The CRL was not created: %s/crl.pem is valid until " % d), r.stdout
    assert pathlib.Path(d, "crlnumber").read_text() == number
    r = server.cli("ca", "create_crl", name, "-f")
    assert r.stdout.startswith("The CRL %s/crl.pem was created (next update " % d), r.stdout
    assert int(pathlib.Path(d, "crlnumber").read_text(), 16) == int(number, 16) + 1
    # a CRL valid for less than the overlap period is renewed without -f
    short = uniq("short")
    d2 = str(tmp_path / "short")
    cli_create(server, short, d2, "--key-type", "ec", "--crl-days", "3", "--crl-overlap", "5")
    number = pathlib.Path(d2, "crlnumber").read_text()
    r = server.cli("ca", "create_crl", short)
    assert "was created" in r.stdout
    assert int(pathlib.Path(d2, "crlnumber").read_text(), 16) == int(number, 16) + 1
    r = server.cli("ca", "create_crl", uniq("nope"), check=False)
    assert r.returncode == 1 and "no CA connector named" in r.stderr


# ---- OCSP -----------------------------------------------------------------------------------

def test_ocsp_good_then_revoked(server, admin, tmp_path):
    d = openssl_ca(tmp_path)
    name = uniq("ocsp")
    create(server, admin, name, wire_params(d))
    cert = sign_with_openssl(d, "carol")
    out = ocsp_cli(server, name, d, cert)
    assert "%s: good" % cert in out and "Response verify OK" in out, out
    assert "WARNING: no nonce in response" not in out
    # revoked with openssl on the same directory: OCSP sees it at once ...
    openssl("ca", "-config", d + "/openssl.cnf", "-revoke", cert, "-crl_reason", "keyCompromise")
    out = ocsp_cli(server, name, d, cert)
    assert "%s: revoked" % cert in out and "Reason: keyCompromise" in out and "Response verify OK" in out, out
    # ... and our CRL regeneration lists it
    assert "was created" in server.cli("ca", "create_crl", name, "-f").stdout
    pathlib.Path(d, "new.der").write_bytes(crl(server, name).content)
    text = openssl("crl", "-inform", "DER", "-in", d + "/new.der", "-noout", "-text").stdout
    assert "Serial Number: 1000" in text and "Key Compromise" in text
    openssl("crl", "-inform", "DER", "-in", d + "/new.der", "-out", d + "/new.pem")
    r = openssl("verify", "-crl_check", "-CRLfile", d + "/new.pem", "-CAfile", d + "/cacert.pem", cert,
                check=False)
    assert r.returncode != 0 and "certificate revoked" in r.stdout + r.stderr
    # a serial this CA never issued is unknown, and so is a certificate of another issuer
    r = openssl("ocsp", "-issuer", d + "/cacert.pem", "-serial", "0x9999", "-CAfile", d + "/cacert.pem",
                "-url", "%s/ocsp/%s" % (server.base, name))
    assert "0x9999: unknown" in r.stdout and "Response verify OK" in r.stderr, r
    other = openssl_ca(tmp_path / "other")
    stranger = sign_with_openssl(other, "stranger")
    r = openssl("ocsp", "-issuer", other + "/cacert.pem", "-cert", stranger, "-url",
                "%s/ocsp/%s" % (server.base, name), "-noverify")
    assert "%s: unknown" % stranger in r.stdout, r


def test_ocsp_get_and_bad_requests(server, admin, tmp_path):
    d = openssl_ca(tmp_path)
    name = uniq("oget")
    create(server, admin, name, wire_params(d))
    cert = sign_with_openssl(d, "dave")
    openssl("ocsp", "-issuer", d + "/cacert.pem", "-cert", cert, "-reqout", d + "/req.der", "-no_nonce")
    der = pathlib.Path(d, "req.der").read_bytes()
    b64 = base64.b64encode(der).decode()
    # RFC 6960 A.1: url-encoded base64 — and the raw form many clients send, '/' included
    for path in (urllib.parse.quote(b64, safe=""), b64):
        r = requests.get("%s/ocsp/%s/%s" % (server.base, name, path), timeout=60)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/ocsp-response"
        pathlib.Path(d, "resp.der").write_bytes(r.content)
        out = openssl("ocsp", "-respin", d + "/resp.der", "-resp_text", "-CAfile", d + "/cacert.pem",
                      "-issuer", d + "/cacert.pem", "-cert", cert).stdout
        assert "Cert Status: good" in out and "%s: good" % cert in out
    # POST with the DER body
    r = requests.post("%s/ocsp/%s" % (server.base, name), data=der,
                      headers={"Content-Type": "application/ocsp-request"}, timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/ocsp-response"
    assert b"\x30\x03\x0a\x01" not in r.content[:4]
    # garbage: malformedRequest; an unknown responder: unauthorized
    for body in (b"", b"garbage", der[:-3], b"\x00" * 70000):
        r = requests.post("%s/ocsp/%s" % (server.base, name), data=body,
                          headers={"Content-Type": "application/ocsp-request"}, timeout=60)
        assert r.status_code == 200 and r.content == OCSP_MALFORMED, body[:10]
    r = requests.get("%s/ocsp/%s/%s" % (server.base, name, "!!notbase64!!"), timeout=60)
    assert r.content == OCSP_MALFORMED
    r = requests.post("%s/ocsp/%s" % (server.base, uniq("nope")), data=der, timeout=60)
    assert r.status_code == 200 and r.content == OCSP_UNAUTHORIZED
    rows = server.db_query("SELECT success, info FROM pidea_audit WHERE action = 'POST /ocsp/<caconnector>' "
                           "ORDER BY id DESC")
    assert rows[0][0] == "0"


# ---- approval mode ---------------------------------------------------------------------------

def test_approval_flow(server, admin, tmp_path):
    name = uniq("appr")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--approval", "--passphrase", "pp-1234")
    req = csr(d, "erin")
    r = server.cli("ca", "sign", name, req)
    m = re.match(r"Request ([0-9a-f]{32}) is waiting for approval", r.stdout)
    assert m, r.stdout
    rid = m.group(1)
    reqs = server.get("/caconnector/%s/requests" % name, token=admin).value
    assert [(x["request_id"], x["state"], x["subject"]) for x in reqs] == \
        [(rid, "pending", "/CN=erin/O=Tessera tests")]
    assert server.get("/caconnector/%s/requests" % name, params={"state": "issued"}, token=admin).value == []
    assert rid in server.cli("ca", "requests", name).stdout
    # approve through the API: the certificate comes back and verifies
    r = server.post("/caconnector/%s/requests/%s/approve" % (name, rid), token=admin)
    assert r.status == 200, r
    assert r.value["state"] == "issued" and r.value["serial"] == "1000" and r.value["request_id"] == rid
    pathlib.Path(d, "erin.pem").write_text(r.value["certificate"])
    assert openssl("verify", "-CAfile", d + "/cacert.pem", d + "/erin.pem").stdout.strip().endswith("OK")
    assert "erin.pem: good" in ocsp_cli(server, name, d, d + "/erin.pem")
    # a decided request cannot be decided again
    r = server.post("/caconnector/%s/requests/%s/reject" % (name, rid), token=admin)
    assert_error(r, 400, 503, "ERR503: request %s is issued, not pending" % rid)
    # reject another one with a reason (CLI), approve a third (CLI)
    r2 = re.match(r"Request (\w+) is", server.cli("ca", "sign", name, csr(d, "frank")).stdout).group(1)
    r3 = re.match(r"Request (\w+) is", server.cli("ca", "sign", name, csr(d, "gina")).stdout).group(1)
    assert server.cli("ca", "reject", name, r2, "--reason", "not known").stdout == "Request %s rejected.\n" % r2
    assert server.cli("ca", "approve", name, r3).stdout == \
        "Request %s approved: certificate 1001 issued.\n" % r3
    states = {x["request_id"]: x for x in server.get("/caconnector/%s/requests" % name, token=admin).value}
    assert states[r2]["state"] == "denied" and states[r2]["reason"] == "not known"
    assert states[r3]["state"] == "issued" and states[r3]["serial"] == "1001"
    r = server.post("/caconnector/%s/requests/%s/reject" % (name, r3), data={"reason": "x"}, token=admin)
    assert r.status == 400
    # unknown ids and connectors
    r = server.post("/caconnector/%s/requests/%s/approve" % (name, "0" * 32), token=admin)
    assert_error(r, 404, 601, "The requested certificate request could not be found.")
    r = server.post("/caconnector/%s/requests/%s/approve" % (name, "not-an-id"), token=admin)
    assert r.status == 404, r
    r = server.get("/caconnector/%s/requests" % uniq("nope"), token=admin)
    assert_error(r, 404, 601, NOT_FOUND)
    r = server.get("/caconnector/%s/requests" % name, params={"state": "odd"}, token=admin)
    assert_error(r, 400, 905)
    r = server.cli("ca", "approve", name, "f" * 32, check=False)
    assert r.returncode == 1 and "unknown request id" in r.stderr


def test_cli_sign_without_approval(server, tmp_path):
    name = uniq("sign")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec")
    out = d + "/hank.pem"
    r = server.cli("ca", "sign", name, csr(d, "hank"), "--template", "webserver", "--out", out)
    assert r.stdout == "Certificate 1000 issued and written to %s.\n" % out
    text = openssl("x509", "-in", out, "-noout", "-text").stdout
    assert "TLS Web Server Authentication" in text
    r = server.cli("ca", "sign", name, csr(d, "ivy"), "--template", "nope", check=False)
    assert r.returncode == 1


# ---- configuration reload ---------------------------------------------------------------------

def test_cli_change_seen_by_running_server(server, admin, tmp_path):
    """A connector registered by `tessera ca create` (another process) is in the server's next snapshot."""
    name = uniq("seen")
    assert server.get("/caconnector/" + name, token=admin).value == []
    cli_create(server, name, tmp_path / "ca", "--key-type", "ec")
    assert get_one(server, admin, name)["connectorname"] == name
    assert crl(server, name).status_code == 200
