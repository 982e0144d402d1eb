"""The certificate token's policies (issue 6) and the revocation reason.

- Attestation (privacyIDEA 3.8 lib/tokens/certificatetoken.py + prepolicy required_piv_attestation):
  `attestation=<PEM>` with a PKCS#10 `request`; its public key must be the CSR's (ERR10 "certificate
  request does not match attestation certificate."), its chain is checked against every file of the
  directories of admin/user `certificate_trusted_Attestation_CA_path` (default
  /etc/privacyidea/trusted_attestation_ca), and enrollment `certificate_require_attestation` says what a
  failure means: ignore (logged), verify (ERR10 "Failed to verify certificate chain of attestation
  certificate."), require_and_verify (also PolicyError 303 "A policy requires that you provide an
  attestation certificate." without one).
- enrollment `certificate_ca_connector`, `certificate_template` (replace `ca` / `template` as
  privacyIDEA's init_ca_connector / init_ca_template do), `certificate_request_subject_component`
  (email / realm in the subject of server-generated requests).
- POST /token/revoke `reason` (Tessera extension): the CRL reason in index.txt and the CRL.

OpenSSL's command line is the independent judge. Runs on SQLite and PostgreSQL (TESSERA_DB).
"""
import base64
import os
import pathlib
import re

import pytest

from test_caconnector import cli_create, create, openssl, openssl_ca, uniq, wire_params
from token_helpers import admin as admin_jwt, ensure_realm, err, init, ok, table_counts, token_info

EXT = """\
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
"""

MISMATCH = "ERR10: certificate request does not match attestation certificate."
NOT_VERIFIED = "ERR10: Failed to verify certificate chain of attestation certificate."
REQUIRED = "A policy requires that you provide an attestation certificate."


@pytest.fixture
def tok(server, tmp_path_factory):
    t = admin_jwt(server)
    ensure_realm(server, t, tmp_path_factory.mktemp("users"))
    return t


@pytest.fixture
def pol(server, tok):
    """pol(name, scope=..., action=..., ...) creates a policy; all are deleted (newest first) after
    the test. An admin-scope policy restricts the test admin, so tests creating one first create
    admin_all (the rights the tests use)."""
    names = []

    def make(name, **data):
        r = server.post("/policy/" + name, data=data, token=tok)
        assert r.status == 200, r.error
        names.append(name)

    yield make
    for n in reversed(names):
        r = server.delete("/policy/" + n, token=tok)
        assert r.status in (200, 404), r.error  # 404: deleted by the test already


def admin_all(pol):
    """Once an admin policy exists the admin may only what admin policies allow: what these tests use."""
    pol("cp_admin_rights", scope="admin",
        action="enrollCERTIFICATE, enrollHOTP, tokenlist, revoke, policywrite, policydelete, policyread, "
               "caconnectorwrite, caconnectorread")


class Chain:
    """root → intermediate (CA:TRUE) made with openssl; attest() issues a leaf for a CSR's key."""

    def __init__(self, d, name, key="rsa:2048"):
        self.d = str(d)
        os.makedirs(self.d, exist_ok=True)
        self.ext = pathlib.Path(self.d, "ext.cnf")
        self.ext.write_text(EXT)
        p = lambda f: "%s/%s" % (self.d, f)  # noqa: E731
        self.root, self.int = p("root.pem"), p("int.pem")
        kopt = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", key]
        openssl("req", "-x509", *kopt, "-nodes", "-keyout", p("root.key"), "-out", self.root,
                "-days", "30", "-subj", "/CN=%s Attestation Root" % name,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-new", *kopt, "-nodes", "-keyout", p("int.key"), "-out", p("int.csr"),
                "-subj", "/CN=%s Attestation Intermediate" % name)
        openssl("x509", "-req", "-in", p("int.csr"), "-CA", self.root, "-CAkey", p("root.key"), "-set_serial", "2",
                "-out", self.int, "-days", "30", "-extfile", str(self.ext), "-extensions", "ca")
        self.n = 100

    def pem(self):
        """The chain file: root first, then the intermediate (privacyIDEA's format)."""
        return pathlib.Path(self.root).read_text() + pathlib.Path(self.int).read_text()

    def attest(self, csr_path):
        self.n += 1
        out = "%s/att%d.pem" % (self.d, self.n)
        openssl("x509", "-req", "-in", csr_path, "-CA", self.int, "-CAkey", self.d + "/int.key", "-set_serial",
                str(self.n), "-out", out, "-days", "5", "-extfile", str(self.ext), "-extensions", "leaf")
        # the judge: the test chain itself is sound
        v = openssl("verify", "-CAfile", self.root, "-untrusted", self.int, out, check=False)
        assert v.stdout.strip() == out + ": OK", v
        return pathlib.Path(out).read_text()


def rsa_csr(d, cn):
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s/%s.key" % (d, cn), "-out",
            "%s/%s.csr" % (d, cn), "-subj", "/O=pi-ref/CN=%s" % cn)
    return "%s/%s.csr" % (d, cn)


def text(path):
    return pathlib.Path(path).read_text()


class Ca:
    """A CA made with the openssl command line (its policy keeps CN and O only), or with `tessera ca
    create` (tessera=True: its policy_anything keeps C, ST, L, O, OU, CN, emailAddress)."""

    def __init__(self, server, tok, d, tessera=False):
        self.name = uniq("cpol")
        if tessera:
            self.d = str(d)
            cli_create(server, self.name, self.d, "--key-size", "2048", "--dn", "/CN=Policy CA")
        else:
            self.d = openssl_ca(d)
            create(server, tok, self.name, wire_params(self.d))

    def state(self):
        return text(self.d + "/index.txt"), sorted(os.listdir(self.d))


@pytest.fixture
def setup(server, tok, tmp_path):
    ca = Ca(server, tok, tmp_path / "ca")
    trusted = Chain(tmp_path / "trusted", "Trusted")
    other = Chain(tmp_path / "other", "Other")
    tdir = tmp_path / "trustdir"
    tdir.mkdir()
    (tdir / "chain.pem").write_text(trusted.pem())
    (tdir / "README").write_text("not a certificate\n")
    return ca, trusted, other, str(tdir)


def enroll(server, tok, ca, csr_path, **kw):
    return init(server, tok, type="certificate", ca=ca.name, request=text(csr_path), **kw)


def issued_subject(r, ca, name):
    p = pathlib.Path(ca.d).parent / (name + ".crt")
    det = r.body["detail"]["certificate"]
    p.write_text(det[det.index("-----BEGIN CERTIFICATE-----"):])
    assert openssl("verify", "-CAfile", ca.d + "/cacert.pem", str(p)).stdout.strip().endswith(": OK")
    return str(p)


# ---- attestation ----------------------------------------------------------------------------------

def test_attestation_ignore_is_the_default(server, tok, setup, tmp_path):
    """Without policies: the key must match (ERR10), the chain is only checked and logged (the default
    directory /etc/privacyidea/trusted_attestation_ca does not exist here)."""
    ca, trusted, other, tdir = setup
    csr = rsa_csr(tmp_path, "ign")
    att_untrusted = other.attest(csr)
    r = enroll(server, tok, ca, csr, attestation=att_untrusted)
    assert ok(r) is True
    issued_subject(r, ca, "ign")
    # another key: refused even in ignore mode, nothing stored
    before, files = table_counts(server), ca.state()
    r = enroll(server, tok, ca, rsa_csr(tmp_path, "ign2"), attestation=att_untrusted)
    err(r, 400, 10, MISMATCH)
    assert table_counts(server) == before and ca.state() == files


def test_attestation_verify(server, tok, setup, pol, tmp_path):
    ca, trusted, other, tdir = setup
    admin_all(pol)
    pol("cp_path", scope="admin", action="certificate_trusted_Attestation_CA_path=" + tdir)
    pol("cp_verify", scope="enrollment", action="certificate_require_attestation=verify")
    csr = rsa_csr(tmp_path, "ver")
    # the chain of a trusted file: accepted and issued
    r = enroll(server, tok, ca, csr, attestation=trusted.attest(csr), user="alice", realm="realm1")
    assert ok(r) is True
    serial = r.body["detail"]["serial"]
    assert token_info(server, serial)["certificate_serial"] == "1000"
    issued_subject(r, ca, "ver")
    # refused, nothing stored: an untrusted chain; another CSR's key; a non-PEM attestation
    csr2 = rsa_csr(tmp_path, "ver2")
    att_other, att_wrong_key = other.attest(csr2), trusted.attest(csr)
    assert openssl("verify", "-CAfile", trusted.root, "-untrusted", trusted.int,
                   write(tmp_path, "u.pem", att_other), check=False).returncode != 0
    before, state = table_counts(server), ca.state()
    err(enroll(server, tok, ca, csr2, attestation=att_other, serial=uniq("CRTV")), 400, 10, NOT_VERIFIED)
    err(enroll(server, tok, ca, csr2, attestation=att_wrong_key, serial=uniq("CRTV")), 400, 10, MISMATCH)
    err(enroll(server, tok, ca, csr2, attestation="A" * 65536), 400, 905,
        "ERR905: The attestation is not a PEM encoded X.509 certificate.")
    # a CSR with a broken signature: refused before its attestation is looked at (privacyIDEA's order)
    der = base64.b64decode("".join(l for l in text(csr).splitlines() if not l.startswith("-----")))
    broken = ("-----BEGIN CERTIFICATE REQUEST-----\n" +
              base64.encodebytes(der[:-5] + bytes([der[-5] ^ 1]) + der[-4:]).decode() +
              "-----END CERTIFICATE REQUEST-----\n")
    err(init(server, tok, type="certificate", ca=ca.name, request=broken, attestation=att_other), 400, 504,
        "ERR504: request has invalid signature.")
    assert table_counts(server) == before and ca.state() == state
    # an SPKAC request: privacyIDEA checks no attestation for it
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(tmp_path / "spk.key"))
    spkac = openssl("spkac", "-key", str(tmp_path / "spk.key"), "-challenge", "x").stdout.strip()
    r = init(server, tok, type="certificate", ca=ca.name, request=spkac + "\nCN=spk\n", spkac="1",
             attestation=att_other)
    assert ok(r) is True
    # verify: without an attestation the request is simply signed
    r = enroll(server, tok, ca, csr2)
    assert ok(r) is True


def test_attestation_chain_files(server, tok, setup, pol, tmp_path):
    """privacyIDEA reads every regular file of the directory; a file must list root first and every
    intermediate on the path; a missing directory verifies nothing."""
    ca, trusted, other, tdir = setup
    admin_all(pol)
    d2 = tmp_path / "trust2"
    d2.mkdir()
    # values of all matching policies count (privacyIDEA: action_values(unique=False)); a value is one
    # path (whitespace allowed)
    pol("cp_path_missing", scope="admin", action="certificate_trusted_Attestation_CA_path=" + str(tmp_path / "missing"))
    pol("cp_path2", scope="admin", action="certificate_trusted_Attestation_CA_path=" + str(d2))
    pol("cp_verify", scope="enrollment", action="certificate_require_attestation=verify")
    csr = rsa_csr(tmp_path, "files")
    att = trusted.attest(csr)
    # only the root: the intermediate is not on the path → refused
    (d2 / "root-only.pem").write_text(text(trusted.root))
    err(enroll(server, tok, ca, csr, attestation=att), 400, 10, NOT_VERIFIED)
    # the chain in the wrong order (intermediate first): refused as by privacyIDEA
    (d2 / "reversed.pem").write_text(text(trusted.int) + text(trusted.root))
    err(enroll(server, tok, ca, csr, attestation=att), 400, 10, NOT_VERIFIED)
    # the other chain in a file with another extension: does not verify this attestation
    (d2 / "other.crt").write_text(other.pem())
    err(enroll(server, tok, ca, csr, attestation=att), 400, 10, NOT_VERIFIED)
    # root + intermediate in a file named chain.crt: any regular file counts
    (d2 / "trusted.crt").write_text("# Yubico-style chain file\n" + trusted.pem())
    assert ok(enroll(server, tok, ca, csr, attestation=att)) is True


def test_attestation_ec_chain(server, tok, setup, pol, tmp_path):
    """An EC attestation chain (as YubiKey 5.7+ have) and an EC key (privacyIDEA's PKCS#1 v1.5 check
    cannot verify EC signatures; OpenSSL's verifier can)."""
    ca, trusted, other, tdir = setup
    ec = Chain(tmp_path / "ec", "EC", key="ec")
    d = tmp_path / "ecdir"
    d.mkdir()
    (d / "ec-chain.pem").write_text(ec.pem())
    admin_all(pol)
    pol("cp_path", scope="admin", action="certificate_trusted_Attestation_CA_path=" + str(d))
    pol("cp_verify", scope="enrollment", action="certificate_require_attestation=verify")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            str(tmp_path / "eck.key"), "-out", str(tmp_path / "eck.csr"), "-subj", "/CN=eck")
    csr = str(tmp_path / "eck.csr")
    r = enroll(server, tok, ca, csr, attestation=ec.attest(csr))
    assert ok(r) is True
    issued_subject(r, ca, "eck")
    err(enroll(server, tok, ca, csr, attestation=other.attest(csr)), 400, 10, NOT_VERIFIED)


def test_attestation_require_and_verify(server, tok, setup, pol, tmp_path):
    ca, trusted, other, tdir = setup
    admin_all(pol)
    pol("cp_path", scope="admin", action="certificate_trusted_Attestation_CA_path=" + tdir)
    pol("cp_req", scope="enrollment", action="certificate_require_attestation=require_and_verify")
    csr, csr2 = rsa_csr(tmp_path, "req"), rsa_csr(tmp_path, "req2")
    att_other, att_wrong_key = other.attest(csr), trusted.attest(csr2)
    before, state = table_counts(server), ca.state()
    # no attestation: PolicyError 303 (HTTP 403), for every certificate enrollment (privacyIDEA's
    # prepolicy looks at the type only) — genkey and upload included
    err(enroll(server, tok, ca, csr), 403, 303, REQUIRED)
    err(enroll(server, tok, ca, csr, attestation=""), 403, 303, REQUIRED)
    err(init(server, tok, type="certificate", ca=ca.name, genkey="1", user="alice", realm="realm1"), 403, 303,
        REQUIRED)
    err(init(server, tok, type="certificate", certificate=text(trusted.root)), 403, 303, REQUIRED)
    # untrusted chain and wrong key: ERR10
    err(enroll(server, tok, ca, csr, attestation=att_other), 400, 10, NOT_VERIFIED)
    err(enroll(server, tok, ca, csr, attestation=att_wrong_key), 400, 10, MISMATCH)
    assert table_counts(server) == before and ca.state() == state
    # the trusted chain: issued
    r = enroll(server, tok, ca, csr, attestation=trusted.attest(csr))
    assert ok(r) is True
    issued_subject(r, ca, "req")
    # the policy is Match.user: a policy for bob only does not bind alice
    server.delete("/policy/cp_req", token=tok)
    pol("cp_req_bob", scope="enrollment", action="certificate_require_attestation=require_and_verify",
        realm="realm1", user="bob")
    assert ok(enroll(server, tok, ca, csr, user="alice", realm="realm1")) is True
    err(enroll(server, tok, ca, csr, user="bob", realm="realm1"), 403, 303, REQUIRED)


def test_attestation_path_is_read_in_the_callers_scope(server, tok, setup, pol, tmp_path):
    """The path policy is read in the caller's scope: a user-scope policy does not serve an admin."""
    ca, trusted, other, tdir = setup
    pol("cp_verify", scope="enrollment", action="certificate_require_attestation=verify")
    pol("cp_upath", scope="user", action="enrollCERTIFICATE, certificate_trusted_Attestation_CA_path=" + tdir)
    csr = rsa_csr(tmp_path, "scope")
    att = trusted.attest(csr)
    err(enroll(server, tok, ca, csr, attestation=att), 400, 10, NOT_VERIFIED)
    admin_all(pol)
    pol("cp_apath", scope="admin", action="certificate_trusted_Attestation_CA_path=" + tdir)
    assert ok(enroll(server, tok, ca, csr, attestation=att)) is True


def write(d, name, content):
    p = pathlib.Path(d, name)
    p.write_text(content)
    return str(p)


# ---- CA connector, template, subject components -----------------------------------------------------

def test_ca_connector_policy(server, tok, pol, tmp_path):
    a = Ca(server, tok, tmp_path / "a")
    b = Ca(server, tok, tmp_path / "b")
    csr = rsa_csr(tmp_path, "cap")
    # without the policy and without ca: 905
    err(init(server, tok, type="certificate", request=text(csr)), 400, 905)
    pol("cp_ca", scope="enrollment", action="certificate_ca_connector=" + b.name, realm="realm1", user="alice")
    r = init(server, tok, type="certificate", request=text(csr), user="alice", realm="realm1")
    assert ok(r) is True
    assert token_info(server, r.body["detail"]["serial"])["CA"] == b.name
    assert len(text(b.d + "/index.txt").splitlines()) == 1 and text(a.d + "/index.txt") == ""
    issued_subject(r, b, "cap")
    # the policy replaces a given ca (privacyIDEA's init_ca_connector sets the parameter)
    r = init(server, tok, type="certificate", request=text(csr), ca=a.name, user="alice", realm="realm1")
    assert ok(r) is True and token_info(server, r.body["detail"]["serial"])["CA"] == b.name
    assert text(a.d + "/index.txt") == ""
    # Match.user: bob is not bound, so his request needs a ca again
    before = table_counts(server)
    err(init(server, tok, type="certificate", request=text(csr), user="bob", realm="realm1"), 400, 905)
    assert table_counts(server) == before
    r = init(server, tok, type="certificate", request=text(csr), ca=a.name, user="bob", realm="realm1")
    assert ok(r) is True and token_info(server, r.body["detail"]["serial"])["CA"] == a.name


def test_template_policy(server, tok, pol, tmp_path):
    name = uniq("tpl")
    d = str(tmp_path / "ca")
    cli_create(server, name, d, "--key-size", "2048", "--dn", "/CN=Template CA")
    csr = rsa_csr(tmp_path, "tpl")
    r = init(server, tok, type="certificate", ca=name, request=text(csr), template="user")
    det = r.body["detail"]["certificate"]
    p = write(d, "u.pem", det[det.index("-----BEGIN"):])
    assert "TLS Web Client Authentication" in openssl("x509", "-in", p, "-noout", "-text").stdout
    pol("cp_tpl", scope="enrollment", action="certificate_template=webserver")
    for extra in ({}, {"template": "user"}):
        r = init(server, tok, type="certificate", ca=name, request=text(csr), **extra)
        assert ok(r) is True
        det = r.body["detail"]["certificate"]
        p = write(d, "w.pem", det[det.index("-----BEGIN"):])
        out = openssl("x509", "-in", p, "-noout", "-text").stdout
        assert "TLS Web Server Authentication" in out and "TLS Web Client Authentication" not in out
    # an unknown template from the policy: the connector's CSRError, nothing stored
    server.delete("/policy/cp_tpl", token=tok)
    pol("cp_tpl2", scope="enrollment", action="certificate_template=nosuch")
    before, index = table_counts(server), text(d + "/index.txt")
    err(init(server, tok, type="certificate", ca=name, request=text(csr)), 400, 504,
        "ERR504: unknown certificate template 'nosuch'")
    assert table_counts(server) == before and text(d + "/index.txt") == index


def genkey_subject(server, tok, ca, user):
    r = init(server, tok, type="certificate", ca=ca.name, genkey="1", user=user, realm="realm1", pin="pin-1234")
    assert ok(r) is True
    p = issued_subject(r, ca, uniq("gk"))
    return openssl("x509", "-in", p, "-noout", "-subject", "-nameopt", "compat").stdout.strip()


def test_subject_components(server, tok, pol, tmp_path):
    ca = Ca(server, tok, tmp_path / "ca", tessera=True)
    # default: CN = login only
    assert genkey_subject(server, tok, ca, "alice") == "subject=/CN=alice"
    pol("cp_subj", scope="enrollment", action="certificate_request_subject_component=email realm")
    # privacyIDEA's request: CN, emailAddress, OU; the CA's policy_anything orders OU, CN, emailAddress
    assert genkey_subject(server, tok, ca, "alice") == "subject=/OU=realm1/CN=alice/emailAddress=alice@example.com"
    server.delete("/policy/cp_subj", token=tok)
    pol("cp_subj2", scope="enrollment", action="certificate_request_subject_component=realm", user="bob",
        realm="realm1")
    assert genkey_subject(server, tok, ca, "bob") == "subject=/OU=realm1/CN=bob"
    assert genkey_subject(server, tok, ca, "carol") == "subject=/CN=carol"
    # a CSR sent by the client keeps its own subject
    r = init(server, tok, type="certificate", ca=ca.name, request=text(rsa_csr(tmp_path, "own")), user="bob",
             realm="realm1")
    p = issued_subject(r, ca, "own")
    assert openssl("x509", "-in", p, "-noout", "-subject", "-nameopt", "compat").stdout.strip() == \
        "subject=/O=pi-ref/CN=own"


# ---- revocation reason -----------------------------------------------------------------------------

def crl_text(ca):
    out = openssl("crl", "-in", ca.d + "/crl.pem", "-noout", "-text").stdout
    return out


def test_revoke_reason(server, tok, tmp_path):
    ca = Ca(server, tok, tmp_path / "ca")
    serials = []
    for cn in ("r1", "r2", "r3"):
        r = enroll(server, tok, ca, rsa_csr(tmp_path, cn))
        serials.append(r.body["detail"]["serial"])
    # an unknown reason: 905 before anything happens
    r = server.post("/token/revoke", data={"serial": serials[0], "reason": "lost it"}, token=tok)
    err(r, 400, 905, "ERR905: Parameter 'reason' must be one of unspecified, keyCompromise, CACompromise, "
        "affiliationChanged, superseded, cessationOfOperation, certificateHold.")
    t = server.get("/token/", params={"serial": serials[0]}, token=tok).value["tokens"][0]
    assert t["revoked"] is False and re.fullmatch(r"(V\t[^\n]*\n){3}", text(ca.d + "/index.txt"))
    # keyCompromise (any case) and the default
    r = server.post("/token/revoke", data={"serial": serials[0], "reason": "KEYCOMPROMISE"}, token=tok)
    assert r.status == 200 and r.value == 1, r
    r = server.post("/token/revoke", data={"serial": serials[1], "reason": "affiliationChanged"}, token=tok)
    assert r.status == 200 and r.value == 1, r
    r = server.post("/token/revoke", data={"serial": serials[2]}, token=tok)
    assert r.status == 200 and r.value == 1, r
    rows = [l.split("\t") for l in text(ca.d + "/index.txt").splitlines()]
    assert [(x[0], x[3]) for x in rows] == [("R", "1000"), ("R", "1001"), ("R", "1002")]
    assert rows[0][2].endswith("Z,keyCompromise") and rows[1][2].endswith("Z,affiliationChanged")
    assert rows[2][2].endswith("Z,unspecified")
    out = crl_text(ca)
    entries = re.findall(r"Serial Number: (\w+)\n\s+Revocation Date: [^\n]+\n(?:\s+CRL entry extensions:\n"
                         r"\s+X509v3 CRL Reason Code: \n\s+([^\n]+)\n)?", out)
    assert entries == [("1000", "Key Compromise"), ("1001", "Affiliation Changed"), ("1002", "Unspecified")], out
    # openssl's own CRL of the same index agrees
    openssl("ca", "-config", ca.d + "/openssl.cnf", "-gencrl", "-out", ca.d + "/crl2.pem")
    out2 = openssl("crl", "-in", ca.d + "/crl2.pem", "-noout", "-text").stdout
    assert re.findall(r"Serial Number: (\w+)\n\s+Revocation Date: [^\n]+\n(?:\s+CRL entry extensions:\n"
                      r"\s+X509v3 CRL Reason Code: \n\s+([^\n]+)\n)?", out2) == entries
    # a non-certificate token takes the parameter and ignores it
    r = init(server, tok, type="hotp", otpkey="3132333435363738393031323334353637383930")
    r = server.post("/token/revoke", data={"serial": r.body["detail"]["serial"], "reason": "superseded"},
                    token=tok)
    assert r.status == 200 and r.value == 1, r
