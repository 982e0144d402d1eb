"""The certificate token (type certificate, issue 6): enrollment from a PEM CSR or SPKAC through a CA
connector (exchange 45), upload of a certificate, server-side key generation with an encrypted PKCS#12,
revocation at the CA (CRL and OCSP), the pending flow of the approval-mode CA, and the error paths with
nothing stored after a failure.

OpenSSL's own command line is the independent judge (verify, x509 -text, pkcs12, crl_check, ocsp).
privacyIDEA 3.8 / 3.12.3 behaviour (lib/tokens/certificatetoken.py); Tessera's deliberate differences are
in docs/compatibility.md. Runs on SQLite and PostgreSQL (TESSERA_DB).
"""
import base64
import os
import pathlib
import re

import pytest

from test_caconnector import (cli_create, create, csr, ocsp_cli, openssl, openssl_ca, sign_with_openssl, uniq,
                              wire_params)
from token_helpers import admin as admin_jwt, ensure_realm, err, init, ok, table_counts, token_info

CSR_ERROR = 504


@pytest.fixture
def tok(server, tmp_path_factory):
    t = admin_jwt(server)
    ensure_realm(server, t, tmp_path_factory.mktemp("users"))
    return t


def rsa_csr(d, cn, o="pi-ref"):
    """An RSA 2048 CSR /O=o/CN=cn as in exchange 45; returns its PEM text."""
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s/%s.key" % (d, cn), "-out",
            "%s/%s.csr" % (d, cn), "-subj", "/O=%s/CN=%s" % (o, cn))
    return pathlib.Path("%s/%s.csr" % (d, cn)).read_text()


def write(d, name, text):
    p = pathlib.Path(d, name)
    p.write_text(text)
    return str(p)


def verify(d, cert_path, *extra):
    return openssl("verify", "-CAfile", d + "/cacert.pem", *extra, cert_path, check=False)


def pem_of(text):
    return text[text.index("-----BEGIN CERTIFICATE-----"):]


def get_token(server, tok, serial):
    r = server.get("/token/", params={"serial": serial}, token=tok)
    assert r.status == 200, r
    assert len(r.value["tokens"]) == 1, r
    return r.value["tokens"][0]


# ---- CSR + CA (exchange 45) ---------------------------------------------------------------------

def test_csr_with_wire_check_ca(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("wire")
    create(server, tok, name, wire_params(d))
    request = rsa_csr(d, "carol")
    serial = uniq("CERT-CAROL-")
    r = init(server, tok, type="certificate", ca=name, request=request, user="carol", realm="realm1",
             serial=serial)
    assert ok(r) is True
    # exchange 45: detail = certificate (text dump + PEM), rollout_state "", serial
    assert sorted(k for k in r.body["detail"] if k != "threadid") == ["certificate", "rollout_state", "serial"]
    assert r.body["detail"]["rollout_state"] == "" and r.body["detail"]["serial"] == serial
    text = r.body["detail"]["certificate"]
    assert text.startswith("Certificate:\n    Data:\n        Version: 3 (0x2)\n        Serial Number: 4096 (0x1000)\n")
    # the CA orders the subject by its policy_anything (commonName, organizationName), as openssl ca
    assert "Issuer: CN=Wire Check CA\n" in text and "Subject: CN=carol, O=pi-ref\n" in text
    assert text.endswith("-----END CERTIFICATE-----\n")
    cert = write(d, "carol.pem", pem_of(text))
    assert verify(d, cert).stdout.strip().endswith("OK")
    # the dump is exactly what openssl x509 -text prints for it
    dump = openssl("x509", "-in", cert, "-noout", "-text", "-nameopt", "compat").stdout
    assert text.split("-----BEGIN")[0] == dump
    # tokeninfo: CA, the PEM, subject, issuer, serial and validity for the token list
    info = get_token(server, tok, serial)["info"]
    assert info["CA"] == name and info["tokenkind"] == "software"
    assert info["certificate"] == pem_of(text)
    assert info["subject"] == "CN = carol, O = pi-ref" and info["issuer"] == "CN = Wire Check CA"
    assert info["certificate_serial"] == "1000"
    nb = openssl("x509", "-in", cert, "-noout", "-startdate").stdout.strip().split("=", 1)[1]
    na = openssl("x509", "-in", cert, "-noout", "-enddate").stdout.strip().split("=", 1)[1]
    assert info["certificate_not_before"] == nb and info["certificate_not_after"] == na
    assert "privatekey" not in info and "pkcs12" not in info
    t = get_token(server, tok, serial)
    assert t["tokentype"] == "certificate" and t["username"] == "carol" and t["otplen"] == 0
    assert t["rollout_state"] == ""
    # index.txt of the CA has it
    assert re.search(r"^V\t\w+\t\t1000\tunknown\t/CN=carol/O=pi-ref$",
                     pathlib.Path(d, "index.txt").read_text(), re.M)


def test_csr_with_tessera_ca_and_template(server, tok, tmp_path):
    name = uniq("tca")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-size", "2048", "--dn", "/CN=Tessera Cert CA/O=Tests")
    request = pathlib.Path(csr(d, "dave")).read_text()
    r = init(server, tok, type="certificate", ca=name, request=request, template="user", user="dave",
             realm="realm1")
    assert ok(r) is True, r
    serial = r.body["detail"]["serial"]
    assert serial.startswith("CRT")
    cert = write(d, "dave.pem", pem_of(r.body["detail"]["certificate"]))
    assert verify(d, cert).stdout.strip().endswith("OK")
    text = openssl("x509", "-in", cert, "-noout", "-text").stdout
    # template "user": 365 days, extensions section [ user ]
    assert "TLS Web Client Authentication, E-mail Protection" in text
    assert "Non Repudiation" in text and "CA:FALSE" in text
    # template "webserver" → [ server ]
    r = init(server, tok, type="certificate", ca=name, request=pathlib.Path(csr(d, "web")).read_text(),
             template="webserver")
    cert = write(d, "web.pem", pem_of(ok(r) and r.body["detail"]["certificate"]))
    assert "TLS Web Server Authentication" in openssl("x509", "-in", cert, "-noout", "-text").stdout
    # a CSR without BEGIN/END lines is normalised (privacyIDEA 3.12)
    body = "".join(l for l in request.splitlines() if not l.startswith("-----"))
    r = init(server, tok, type="certificate", ca=name, request=body)
    assert ok(r) is True, r


def test_spkac(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("spk")
    create(server, tok, name, wire_params(d))
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", d + "/spk.key")
    spkac = openssl("spkac", "-key", d + "/spk.key", "-challenge", "x").stdout.strip()
    assert spkac.startswith("SPKAC=")
    # privacyIDEA: spkac=1 with the SPKAC text (the CN comes from the CA side)
    r = init(server, tok, type="certificate", ca=name, request=spkac + "\nCN=spkacuser\n", spkac="1")
    assert ok(r) is True, r
    cert = write(d, "spk.pem", pem_of(r.body["detail"]["certificate"]))
    assert verify(d, cert).stdout.strip().endswith("OK")
    assert "CN=spkacuser" in r.body["detail"]["certificate"]


def test_upload_certificate(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            d + "/up.key", "-out", d + "/up.pem", "-subj", "/CN=uploaded", "-days", "10")
    pem = pathlib.Path(d, "up.pem").read_text()
    r = init(server, tok, type="certificate", certificate=pem, user="alice", realm="realm1")
    assert ok(r) is True, r
    serial = r.body["detail"]["serial"]
    assert r.body["detail"]["certificate"] == pem and r.body["detail"]["rollout_state"] == ""
    info = token_info(server, serial)
    assert info["certificate"] == pem and info["subject"] == "CN = uploaded" and "CA" not in info
    # not a certificate: 905, nothing stored
    before = table_counts(server)
    err(init(server, tok, type="certificate", certificate="garbage"), 400, 905,
        "ERR905: The certificate is not a PEM encoded X.509 certificate.")
    assert table_counts(server) == before


# ---- errors: nothing half-enrolled ------------------------------------------------------------

def test_errors_leave_nothing(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("bad")
    create(server, tok, name, wire_params(d))
    good = rsa_csr(d, "eve")
    # a CSR with a broken signature: flip one byte of the signature
    der = base64.b64decode("".join(l for l in good.splitlines() if not l.startswith("-----")))
    broken = der[:-5] + bytes([der[-5] ^ 1]) + der[-4:]
    broken_pem = ("-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(broken).decode() +
                  "-----END CERTIFICATE REQUEST-----\n")
    index_before = pathlib.Path(d, "index.txt").read_text()
    files_before = sorted(os.listdir(d))
    before = table_counts(server)
    for request in (broken_pem, "not a csr at all", "A" * 65536):
        r = init(server, tok, type="certificate", ca=name, request=request, serial=uniq("BAD"))
        assert r.status == 400 and r.error["code"] == CSR_ERROR, r
    # unknown CA: privacyIDEA's get_caconnector_object finds nothing → 601 here
    err(init(server, tok, type="certificate", ca=uniq("nope"), request=good), 404, 601,
        "The requested CAConnector could not be found.")
    # unknown template: the connector's CSRError
    err(init(server, tok, type="certificate", ca=name, request=good, template="nosuch"), 400, CSR_ERROR,
        "ERR504: unknown certificate template 'nosuch'")
    # request without ca; genkey without user
    err(init(server, tok, type="certificate", request=good), 400, 905)
    err(init(server, tok, type="certificate", ca=name, genkey="1"), 400, 905)
    assert table_counts(server) == before
    assert pathlib.Path(d, "index.txt").read_text() == index_before
    assert sorted(os.listdir(d)) == files_before


def test_failed_write_revokes_issued_certificate(server, tok, tmp_path):
    """The core's write fails after the CA signed (a serial taken by a concurrent init is simulated
    by a token of another type with that serial → refused before enroll; so use the realm check):
    an issued certificate is revoked again, so no valid certificate exists without its token."""
    d = openssl_ca(tmp_path / "ca")
    name = uniq("undo")
    create(server, tok, name, wire_params(d))
    before = table_counts(server)
    # tokenrealms with an unknown realm are ignored, so provoke the failure with a bad validity end
    r = init(server, tok, type="certificate", ca=name, request=rsa_csr(d, "frank"),
             validity_period_end="not a date")
    assert r.status == 400 and r.error["code"] == 905, r
    # refused before enroll: nothing issued at all
    assert pathlib.Path(d, "index.txt").read_text() == ""
    assert table_counts(server) == before


# ---- server-side key generation -----------------------------------------------------------------

def p12_open(d, b64, password):
    path = pathlib.Path(d, "t.p12")
    path.write_bytes(base64.b64decode(b64))
    return openssl("pkcs12", "-in", str(path), "-passin", "pass:" + password, "-nokeys", check=False)


def test_genkey_with_pin(server, tok, tmp_path):
    name = uniq("gen")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-size", "2048")
    r = init(server, tok, type="certificate", ca=name, genkey="1", user="bob", realm="realm1", pin="Bob-PIN-1",
             template="user")
    assert ok(r) is True, r
    serial = r.body["detail"]["serial"]
    assert "pkcs12_password" not in r.body["detail"] and r.body["detail"]["rollout_state"] == ""
    assert "Subject: CN=bob\n" in r.body["detail"]["certificate"]
    assert "Public-Key: (2048 bit)" in r.body["detail"]["certificate"]
    out = p12_open(d, r.body["detail"]["pkcs12"], "Bob-PIN-1")
    assert out.returncode == 0 and "subject=CN = bob" in out.stdout and "CN = " in out.stdout
    # the CA chain is in the container too
    assert out.stdout.count("-----BEGIN CERTIFICATE-----") == 2
    assert p12_open(d, r.body["detail"]["pkcs12"], "wrong").returncode != 0
    cert = write(d, "bob.pem", pem_of(r.body["detail"]["certificate"]))
    assert verify(d, cert).stdout.strip().endswith("OK")
    # the private key at rest: encrypted (type password), never in the token list
    rows = server.db_query("SELECT ti.\"Value\", ti.\"Type\" FROM tokeninfo ti JOIN token t ON t.id = ti.token_id "
                           "WHERE t.serial = '%s' AND ti.\"Key\" = 'privatekey'" % serial)
    assert rows[0][1] == "password" and "PRIVATE KEY" not in rows[0][0]
    info = get_token(server, tok, serial)["info"]
    assert "privatekey" not in info and info["pkcs12"] == r.body["detail"]["pkcs12"]
    # the key in the container belongs to the certificate
    p = pathlib.Path(d, "k.p12")
    p.write_bytes(base64.b64decode(info["pkcs12"]))
    key = openssl("pkcs12", "-in", str(p), "-passin", "pass:Bob-PIN-1", "-nocerts", "-nodes").stdout
    write(d, "bob.key", key[key.index("-----BEGIN"):])
    k1 = openssl("pkey", "-in", d + "/bob.key", "-pubout").stdout
    k2 = openssl("x509", "-in", cert, "-noout", "-pubkey").stdout
    assert k1 == k2


def test_genkey_random_password_and_ec(server, tok, tmp_path):
    name = uniq("genr")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec")
    r = init(server, tok, type="certificate", ca=name, generate="1", keytype="ec", user="carol", realm="realm1")
    assert ok(r) is True, r
    assert sorted(k for k in r.body["detail"] if k != "threadid") == \
        ["certificate", "pkcs12", "pkcs12_password", "rollout_state", "serial"]
    pw = r.body["detail"]["pkcs12_password"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", pw)
    assert "Subject: CN=carol\n" in r.body["detail"]["certificate"] and "id-ecPublicKey" in r.body["detail"]["certificate"]
    assert p12_open(d, r.body["detail"]["pkcs12"], pw).returncode == 0
    assert p12_open(d, r.body["detail"]["pkcs12"], pw + "x").returncode != 0
    # the password is returned once: not in tokeninfo, not in the list
    info = get_token(server, tok, r.body["detail"]["serial"])["info"]
    assert pw not in str(info) and "pkcs12_password" not in info
    # bad key parameters
    err(init(server, tok, type="certificate", ca=name, genkey="1", user="carol", realm="realm1", keysize="1024"),
        400, 905)
    err(init(server, tok, type="certificate", ca=name, genkey="1", user="carol", realm="realm1", keytype="dsa"),
        400, 905)


# ---- revocation -----------------------------------------------------------------------------------

def test_revoke_at_the_ca(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("rev")
    create(server, tok, name, wire_params(d))
    r = init(server, tok, type="certificate", ca=name, request=rsa_csr(d, "gina"))
    serial = r.body["detail"]["serial"]
    cert = write(d, "gina.pem", pem_of(r.body["detail"]["certificate"]))
    assert "gina.pem: good" in ocsp_cli(server, name, d, cert)
    r = server.post("/token/revoke", data={"serial": serial}, token=tok)
    assert r.status == 200 and r.value == 1, r
    t = get_token(server, tok, serial)
    assert t["revoked"] is True and t["locked"] is True and t["active"] is False
    assert re.search(r"^R\t", pathlib.Path(d, "index.txt").read_text(), re.M)
    v = verify(d, cert, "-crl_check", "-CRLfile", d + "/crl.pem")
    assert v.returncode != 0 and "certificate revoked" in v.stdout + v.stderr
    out = ocsp_cli(server, name, d, cert)
    assert "gina.pem: revoked" in out and "Response verify OK" in out, out
    # revoking again does not touch the CA again (and does not fail)
    r = server.post("/token/revoke", data={"serial": serial}, token=tok)
    assert r.status == 200, r
    # revoked with openssl ca first (or by an attempt rolled back): /token/revoke still succeeds
    r = init(server, tok, type="certificate", ca=name, request=rsa_csr(d, "gina2"))
    c2 = write(d, "gina2.pem", pem_of(r.body["detail"]["certificate"]))
    openssl("ca", "-config", d + "/openssl.cnf", "-revoke", c2, "-crl_reason", "keyCompromise")
    r = server.post("/token/revoke", data={"serial": r.body["detail"]["serial"]}, token=tok)
    assert r.status == 200 and r.value == 1, r
    # an uploaded certificate: only the token is revoked
    r = init(server, tok, type="certificate", certificate=pathlib.Path(cert).read_text())
    r = server.post("/token/revoke", data={"serial": r.body["detail"]["serial"]}, token=tok)
    assert r.status == 200 and r.value == 1, r


# ---- pending (approval mode) ----------------------------------------------------------------------

def test_pending_then_approved(server, tok, tmp_path):
    name = uniq("pend")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--approval")
    r = init(server, tok, type="certificate", ca=name, request=pathlib.Path(csr(d, "hank")).read_text(),
             user="dave", realm="realm1")
    assert ok(r) is True, r
    serial = r.body["detail"]["serial"]
    assert r.body["detail"]["rollout_state"] == "pending" and "certificate" not in r.body["detail"]
    t = get_token(server, tok, serial)
    assert t["rollout_state"] == "pending"
    rid = t["info"]["requestId"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert "certificate" not in t["info"]
    # approved: the next load fetches the certificate and clears the state
    out = server.cli("ca", "approve", name, rid).stdout
    assert out.startswith("Request %s approved: certificate" % rid), out
    t = get_token(server, tok, serial)
    assert t["rollout_state"] == "enrolled", t
    cert = write(d, "hank.pem", t["info"]["certificate"])
    assert verify(d, cert).stdout.strip().endswith("OK")
    assert t["info"]["subject"] == "O = Tessera tests, CN = hank"
    rows = server.db_query("SELECT rollout_state FROM token WHERE serial = '%s'" % serial)
    assert rows[0][0] == "enrolled"
    # revocation of the approved certificate works as for any other
    r = server.post("/token/revoke", data={"serial": serial}, token=tok)
    assert r.status == 200 and r.value == 1, r
    v = verify(d, cert, "-crl_check", "-CRLfile", d + "/crl.pem")
    assert v.returncode != 0 and "certificate revoked" in v.stdout + v.stderr


def test_pending_then_rejected(server, tok, tmp_path):
    name = uniq("rej")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--approval")
    r = init(server, tok, type="certificate", ca=name, request=pathlib.Path(csr(d, "ivan")).read_text())
    serial = r.body["detail"]["serial"]
    rid = get_token(server, tok, serial)["info"]["requestId"]
    # still pending while nobody decided
    assert get_token(server, tok, serial)["rollout_state"] == "pending"
    server.cli("ca", "reject", name, rid, "--reason", "unknown person")
    t = get_token(server, tok, serial)
    assert t["rollout_state"] == "denied" and "certificate" not in t["info"]


# ---- attestation (key match; the chain check needs the policy wiring) -------------------------------

def test_attestation_key_must_match(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("att")
    create(server, tok, name, wire_params(d))
    request = rsa_csr(d, "judy")
    # an "attestation certificate" for judy's key, and one for another key
    openssl("x509", "-req", "-in", d + "/judy.csr", "-signkey", d + "/judy.key", "-out", d + "/att.pem",
            "-days", "5")
    rsa_csr(d, "other")
    openssl("x509", "-req", "-in", d + "/other.csr", "-signkey", d + "/other.key", "-out", d + "/att2.pem",
            "-days", "5")
    before = table_counts(server)
    index = pathlib.Path(d, "index.txt").read_text()
    err(init(server, tok, type="certificate", ca=name, request=request,
             attestation=pathlib.Path(d, "att2.pem").read_text()), 400, 10,
        "ERR10: certificate request does not match attestation certificate.")
    err(init(server, tok, type="certificate", ca=name, request=request, attestation="junk"), 400, 905)
    assert table_counts(server) == before and pathlib.Path(d, "index.txt").read_text() == index
    r = init(server, tok, type="certificate", ca=name, request=request,
             attestation=pathlib.Path(d, "att.pem").read_text())
    assert ok(r) is True, r


# ---- re-initialisation and concurrency ------------------------------------------------------------

def index_lines(d):
    return [l.split("\t") for l in pathlib.Path(d, "index.txt").read_text().splitlines()]


def test_reinit_revokes_the_superseded_certificate(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("re")
    create(server, tok, name, wire_params(d))
    serial = uniq("CRTRE")
    r1 = init(server, tok, type="certificate", ca=name, request=rsa_csr(d, "kim"), serial=serial)
    c1 = write(d, "kim1.pem", pem_of(r1.body["detail"]["certificate"]))
    r2 = init(server, tok, type="certificate", ca=name, request=rsa_csr(d, "kim2"), serial=serial)
    assert ok(r2) is True, r2
    c2 = write(d, "kim2.pem", pem_of(r2.body["detail"]["certificate"]))
    assert [(l[0], l[3]) for l in index_lines(d)] == [("R", "1000"), ("V", "1001")]
    assert "superseded" in index_lines(d)[0][2]
    assert token_info(server, serial)["certificate_serial"] == "1001"
    v = verify(d, c1, "-crl_check", "-CRLfile", d + "/crl.pem")
    assert v.returncode != 0 and "certificate revoked" in v.stdout + v.stderr
    assert verify(d, c2, "-crl_check", "-CRLfile", d + "/crl.pem").returncode == 0
    # `openssl ca` keeps working on the same directory, with the next serial
    extra = sign_with_openssl(d, "extra")
    assert verify(d, extra).stdout.strip().endswith("OK")
    assert [(l[0], l[3]) for l in index_lines(d)] == [("R", "1000"), ("V", "1001"), ("V", "1002")]
    openssl("ca", "-config", d + "/openssl.cnf", "-gencrl", "-out", d + "/crl2.pem")


def test_parallel_enrollments(server, tok, tmp_path):
    import concurrent.futures
    d = openssl_ca(tmp_path / "ca")
    name = uniq("par")
    create(server, tok, name, wire_params(d))
    reqs = [rsa_csr(d, "p%02d" % i) for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        rs = list(ex.map(lambda q: init(server, tok, type="certificate", ca=name, request=q), reqs))
    assert all(r.status == 200 for r in rs), [r for r in rs if r.status != 200][:1]
    lines = index_lines(d)
    serials = sorted(l[3] for l in lines)
    assert len(lines) == 50 and len(set(serials)) == 50 and all(l[0] == "V" for l in lines)
    # consecutive serials from 1000, and the serial file holds the next one (as openssl ca keeps it)
    assert serials == ["%X" % n for n in range(0x1000, 0x1000 + 50)]
    assert pathlib.Path(d, "serial").read_text() == "%X\n" % (0x1000 + 50)
    assert sorted(l[5] for l in lines) == ["/CN=p%02d/O=pi-ref" % i for i in range(50)]
    got = sorted(token_info(server, r.body["detail"]["serial"])["certificate_serial"] for r in rs)
    assert got == serials
    # two enrollments racing for one serial: whoever loses (insert conflict, or re-initialisation),
    # exactly one certificate stays valid — the token's
    for i in range(4):
        serial = uniq("RACE")
        pair = [rsa_csr(d, "r%d%d" % (i, j)) for j in range(2)]
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            rs = list(ex.map(lambda q: init(server, tok, type="certificate", ca=name, request=q, serial=serial),
                             pair))
        assert any(r.status == 200 for r in rs), rs
        # PostgreSQL: the loser's insert conflicts after its CA signed → enroll_failed revoked it
        assert all(r.error["message"] == "ERR301: token create failed: the serial %s exists already" % serial
                   for r in rs if r.status != 200), rs
        mine = [l for l in index_lines(d) if re.search(r"/CN=r%d[01]/" % i, l[5])]
        assert len(mine) == 2
        valid = [l[3] for l in mine if l[0] == "V"]
        assert valid == [token_info(server, serial)["certificate_serial"]], (mine, rs)


def test_parallel_enrollments_two_processes(server, tok, tmp_path, second_server_same_db):
    """Two server processes on one database and one CA directory: the CA lock (flock on
    index.txt.lock) is shared across processes — every serial once, index.txt and the serial file
    consistent, and `openssl ca` continues from there."""
    import concurrent.futures
    other = second_server_same_db(server)
    tok2 = other.login()
    d = openssl_ca(tmp_path / "ca")
    name = uniq("par2")
    create(server, tok, name, wire_params(d))
    reqs = [rsa_csr(d, "q%02d" % i) for i in range(30)]
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        rs = list(ex.map(lambda iq: init(*((server, tok) if iq[0] % 2 else (other, tok2)), type="certificate",
                                         ca=name, request=iq[1]), enumerate(reqs)))
    assert all(r.status == 200 for r in rs), [r for r in rs if r.status != 200][:1]
    lines = index_lines(d)
    assert sorted(l[3] for l in lines) == ["%X" % n for n in range(0x1000, 0x1000 + 30)]
    assert all(l[0] == "V" and l[4] == "unknown" for l in lines)
    assert pathlib.Path(d, "serial").read_text() == "%X\n" % (0x1000 + 30)
    for r in rs:
        cert = write(d, "v.pem", pem_of(r.body["detail"]["certificate"]))
        assert verify(d, cert).stdout.strip().endswith("OK")
    extra = sign_with_openssl(d, "after")
    assert verify(d, extra).stdout.strip().endswith("OK")
    assert index_lines(d)[-1][3] == "%X" % (0x1000 + 30)


def test_pending_genkey_gets_a_key_only_container(server, tok, tmp_path):
    name = uniq("pgen")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--approval")
    r = init(server, tok, type="certificate", ca=name, genkey="1", keytype="ec", user="alice", realm="realm1")
    assert ok(r) is True, r
    det = r.body["detail"]
    assert det["rollout_state"] == "pending" and "certificate" not in det
    p = pathlib.Path(d, "pend.p12")
    p.write_bytes(base64.b64decode(det["pkcs12"]))
    out = openssl("pkcs12", "-in", str(p), "-passin", "pass:" + det["pkcs12_password"], "-nocerts", "-nodes")
    assert "PRIVATE KEY" in out.stdout and "CERTIFICATE" not in out.stdout
    rid = get_token(server, tok, det["serial"])["info"]["requestId"]
    server.cli("ca", "approve", name, rid)
    t = get_token(server, tok, det["serial"])
    assert t["rollout_state"] == "enrolled" and "Subject" not in t["info"]["certificate"]
    # the key of the container belongs to the certificate issued later
    key = out.stdout[out.stdout.index("-----BEGIN"):]
    write(d, "pend.key", key)
    cert = write(d, "pend.pem", t["info"]["certificate"])
    assert openssl("pkey", "-in", d + "/pend.key", "-pubout").stdout == \
        openssl("x509", "-in", cert, "-noout", "-pubkey").stdout
    assert verify(d, cert).stdout.strip().endswith("OK")


def test_revoke_fails_when_the_ca_cannot(server, tok, tmp_path):
    d = openssl_ca(tmp_path / "ca")
    name = uniq("revf")
    create(server, tok, name, wire_params(d))
    r = init(server, tok, type="certificate", ca=name, request=rsa_csr(d, "lena"))
    serial = r.body["detail"]["serial"]
    os.rename(d, d + ".away")
    try:
        r = server.post("/token/revoke", data={"serial": serial}, token=tok)
        assert r.status == 400 and r.error["code"] == 503, r
        t = get_token(server, tok, serial)
        assert t["revoked"] is False and t["locked"] is False and t["active"] is True
    finally:
        os.rename(d + ".away", d)
    r = server.post("/token/revoke", data={"serial": serial}, token=tok)
    assert r.status == 200 and r.value == 1, r
    assert [l[0] for l in index_lines(d)] == ["R"]


def test_wrong_ca_key_passphrase_is_503_and_nothing_stored(server, tok, tmp_path):
    name = uniq("pp")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-type", "ec", "--passphrase", "right-pass-1")
    request = pathlib.Path(csr(d, "mia")).read_text()
    create(server, tok, name, {"type": "local", "cakey_password": "wrong-pass-2"})
    before = table_counts(server)
    r = init(server, tok, type="certificate", ca=name, request=request, serial=uniq("PP"))
    assert r.status == 400 and r.error["code"] == 503, r
    assert "right-pass-1" not in r.error["message"] and "wrong-pass-2" not in r.error["message"]
    assert table_counts(server) == before and index_lines(d) == []
    create(server, tok, name, {"type": "local", "cakey_password": "right-pass-1"})
    assert ok(init(server, tok, type="certificate", ca=name, request=request)) is True


# ---- the CA work runs outside the database write transaction ------------------------------------

@pytest.mark.skipif(os.environ.get("TESSERA_DB", "sqlite") == "postgres",
                    reason="SQLite: one database-wide write lock")
def test_validate_check_is_not_stalled_by_a_slow_genkey(server, tok, tmp_path):
    """Key generation, CSR checks and CA signing run before /token/init's write transaction
    (token_type.prepare), so on SQLite a /validate/check (which writes: counters) is not queued behind
    the database write lock while an RSA key is generated. No timing assert: while one slow genkey
    enrollment is in flight, /validate/check requests are sent one after another; at least two must
    complete before the enrollment does (holding the write lock during key generation allows at most
    the one that was waiting for it). A machine too fast to tell retries with a bigger key."""
    import threading
    import time
    name = uniq("slow")
    cli_create(server, name, str(tmp_path / "ca"), "--key-size", "2048")
    ok(init(server, tok, type="spass", serial="CHKSLOW", pin="chk-pin"))
    for keysize in ("4096", "8192", "8192"):
        done, res = threading.Event(), {}

        def enroll():
            res["r"] = init(server, tok, type="certificate", ca=name, genkey="1", keysize=keysize, user="alice",
                            realm="realm1")
            done.set()
        th = threading.Thread(target=enroll)
        th.start()
        time.sleep(0.3)  # let the enrollment reach its key generation (not an assertion)
        early = 0
        while not done.is_set():
            r = server.post("/validate/check", data={"serial": "CHKSLOW", "pass": "chk-pin"})
            assert r.status == 200 and r.value is True, r
            if not done.is_set():
                early += 1
        th.join()
        assert ok(res["r"]) is True, res["r"]
        assert "Public-Key: (%s bit)" % keysize in res["r"].body["detail"]["certificate"]
        if early >= 2:
            return
        if early == 1:
            break  # one check waited for the whole enrollment: the write lock was held
    pytest.fail("no /validate/check completed while the genkey enrollment ran (%d)" % early)
