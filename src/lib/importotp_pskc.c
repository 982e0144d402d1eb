/*
 * importotp_pskc.c — PSKC (RFC 6030) token files, as privacyIDEA 3.8's
 * parsePSKCdata reads them, with the additions documented at import_pskc
 * in importotp.h: plain and AES-CBC encrypted secrets (pre-shared key or
 * PBKDF2 password), the MAC check in privacyIDEA's three modes, Yubico
 * serials, PIN keys.
 *
 * Must not log.  The encryption and MAC keys live in struct pskc and are
 * wiped when the parse ends; decrypted secrets and PINs are wiped as soon
 * as they are copied into a record (whose free wipes them again).
 */
#include "importotp_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "otp.h"

#define PBKDF2_MAX_ITERATIONS 10000000
#define MAX_SECRET 4096

static const EVP_MD *hmac_md(const char *frag)
{
	if (!strcmp(frag, "hmac-sha1"))
		return EVP_sha1();
	if (!strcmp(frag, "hmac-sha224"))
		return EVP_sha224();
	if (!strcmp(frag, "hmac-sha256"))
		return EVP_sha256();
	if (!strcmp(frag, "hmac-sha384"))
		return EVP_sha384();
	if (!strcmp(frag, "hmac-sha512"))
		return EVP_sha512();
	return NULL;
}

struct pskc {
	const struct pskc_options *opt;
	xmlNodePtr container;
	unsigned char key[32]; /* encryption key (PSK or derived) */
	size_t keylen;
	int have_key;
	unsigned char mackey[256];
	size_t mackeylen;
	int mac_state; /* 0 not looked at, 1 have a MAC key, 2 the container has none */
	const EVP_MD *mac_md;
	int abort;     /* a bad MAC in check_fail_hard mode */
};

static int wrong_key(struct error *err)
{
	return imp_err(err, "Failed to import tokendata. Wrong encryption key?");
}

/* RFC 6030 §6.2: EncryptionKey/DerivedKey with PBKDF2 parameters. */
static int pskc_derive(struct pskc *p, xmlNodePtr derived, struct error *err)
{
	char *algo = NULL, *salt_t = NULL, *iter_t = NULL, *klen_t = NULL, *prf = NULL;
	unsigned char *salt = NULL;
	size_t saltlen = 0;
	int64_t iter = 0, klen = 0;
	char frag[64];
	int rc = -1;

	if (p->opt->password == NULL || p->opt->password[0] == '\0')
		return imp_err(err, "The XML KeyContainer specifies a derived encryption key, but no password given!");
	xmlNodePtr meth = imp_xml_find(derived, "KeyDerivationMethod");
	algo = imp_xml_attr(meth, "Algorithm");
	imp_uri_fragment(algo ? algo : "", frag, sizeof(frag));
	if (strcmp(frag, "pbkdf2") != 0) {
		imp_err(err, "We only support PBKDF2 as Key derivation function!");
		goto out;
	}
	salt_t = imp_xml_text(imp_xml_find(meth, "Salt"));
	iter_t = imp_xml_text(imp_xml_find(meth, "IterationCount"));
	klen_t = imp_xml_text(imp_xml_find(meth, "KeyLength"));
	if (!salt_t || !iter_t || !klen_t || (salt = imp_b64_bytes(salt_t, &saltlen)) == NULL ||
	    imp_parse_i64(iter_t, &iter) < 0 || imp_parse_i64(klen_t, &klen) < 0) {
		imp_err(err, "The PBKDF2 parameters (Salt, IterationCount, KeyLength) are missing or malformed.");
		goto out;
	}
	if (iter < 1 || iter > PBKDF2_MAX_ITERATIONS || !(klen == 16 || klen == 24 || klen == 32) ||
	    saltlen > 1024) {
		imp_err(err, "Unsupported PBKDF2 parameters (KeyLength must be 16, 24 or 32, IterationCount "
			     "1..%d).",
			PBKDF2_MAX_ITERATIONS);
		goto out;
	}
	const EVP_MD *md = EVP_sha1();
	xmlNodePtr prfn = imp_xml_find(meth, "PRF");
	prf = imp_xml_attr(prfn, "Algorithm");
	if (prf && *prf) {
		imp_uri_fragment(prf, frag, sizeof(frag));
		md = hmac_md(frag);
		if (md == NULL) {
			imp_err(err, "Unsupported PBKDF2 pseudo random function '%.60s'.", frag);
			goto out;
		}
	}
	static const unsigned char nosalt[1];
	if (!PKCS5_PBKDF2_HMAC(p->opt->password, (int)strlen(p->opt->password), saltlen ? salt : nosalt,
			       (int)saltlen, (int)iter, md, (int)klen, p->key)) {
		err_internal(err, "PBKDF2 failed");
		goto out;
	}
	p->keylen = (size_t)klen;
	p->have_key = 1;
	rc = 0;
out:
	free(algo);
	free(salt_t);
	free(iter_t);
	free(klen_t);
	free(prf);
	if (salt)
		crypto_free_secret(salt, saltlen);
	return rc;
}

static int pskc_key(struct pskc *p, struct error *err)
{
	if (p->have_key)
		return 0;
	if (p->opt->psk_hex == NULL || p->opt->psk_hex[0] == '\0')
		return imp_err(err, "The PSKC data contains encrypted keys, but no pre-shared key or password was "
				    "given.");
	size_t len = 0;
	unsigned char *k = crypto_hex_decode(p->opt->psk_hex, &len);
	if (k == NULL || !(len == 16 || len == 24 || len == 32)) {
		if (k)
			crypto_free_secret(k, len);
		return imp_err(err, "The pre-shared key must be 16, 24 or 32 bytes given as hex digits.");
	}
	memcpy(p->key, k, len);
	p->keylen = len;
	p->have_key = 1;
	crypto_free_secret(k, len);
	return 0;
}

/* AES-CBC with the container key; the IV is the first block of the data
 * (base64 text).  *out malloc'd (+ NUL), wiped by the caller.  For the
 * MAC the raw IV||ciphertext is returned in *raw when raw != NULL. */
static int pskc_decrypt(struct pskc *p, const char *b64, size_t want_keylen, unsigned char **out, size_t *outlen,
			unsigned char **raw, size_t *rawlen, struct error *err)
{
	unsigned char *data = NULL, *pt = NULL;
	size_t dlen = 0;
	int l1 = 0, l2 = 0, rc = -1;
	EVP_CIPHER_CTX *cx = NULL;

	if (pskc_key(p, err) < 0)
		return -1;
	if (want_keylen && want_keylen != p->keylen)
		return wrong_key(err);
	data = b64 ? imp_b64_bytes(b64, &dlen) : NULL;
	if (data == NULL || dlen < 32 || dlen % 16 || dlen > MAX_SECRET + 32) {
		imp_err(err, "Failed to import tokendata. The encrypted value is not valid base64 AES-CBC data.");
		goto out;
	}
	const EVP_CIPHER *ciph = p->keylen == 16 ? EVP_aes_128_cbc() : p->keylen == 24 ? EVP_aes_192_cbc()
										      : EVP_aes_256_cbc();
	pt = malloc(dlen + 1);
	cx = EVP_CIPHER_CTX_new();
	if (pt == NULL || cx == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	if (!EVP_DecryptInit_ex(cx, ciph, NULL, p->key, data) ||
	    !EVP_DecryptUpdate(cx, pt, &l1, data + 16, (int)(dlen - 16)) || !EVP_DecryptFinal_ex(cx, pt + l1, &l2)) {
		wrong_key(err);
		goto out;
	}
	pt[l1 + l2] = '\0';
	*out = pt;
	*outlen = (size_t)(l1 + l2);
	pt = NULL;
	if (raw) {
		*raw = data;
		*rawlen = dlen;
		data = NULL;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(cx);
	if (pt)
		crypto_free_secret(pt, dlen + 1);
	if (data)
		crypto_free_secret(data, dlen);
	return rc;
}

/* Loads the MAC key on first use.  0: p->mac_state says whether there is
 * one; -1 error. */
static int pskc_mackey(struct pskc *p, struct error *err)
{
	if (p->mac_state)
		return 0;
	xmlNodePtr mk = imp_xml_find(p->container, "MACKey");
	if (mk == NULL) {
		p->mac_state = 2;
		return 0;
	}
	char *algo = imp_xml_attr(imp_xml_find(p->container, "MACMethod"), "Algorithm");
	char frag[64];
	imp_uri_fragment(algo && *algo ? algo : "hmac-sha1", frag, sizeof(frag));
	free(algo);
	p->mac_md = hmac_md(frag);
	if (p->mac_md == NULL)
		return imp_err(err, "Unsupported MAC algorithm '%.60s'.", frag);
	char *t = imp_xml_text(mk);
	unsigned char *k = NULL;
	size_t klen = 0;
	int rc = t ? pskc_decrypt(p, t, 0, &k, &klen, NULL, NULL, err) : err_internal(err, "out of memory");
	imp_free_secret(&t);
	if (rc < 0)
		return -1;
	if (klen > sizeof(p->mackey)) {
		crypto_free_secret(k, klen + 1);
		return imp_err(err, "The MAC key is too long.");
	}
	memcpy(p->mackey, k, klen);
	p->mackeylen = klen;
	crypto_free_secret(k, klen + 1);
	p->mac_state = 1;
	return 0;
}

/* 1 MAC valid (or nothing to check), 0 invalid, -1 error. */
static int pskc_check_mac(struct pskc *p, xmlNodePtr data, const unsigned char *raw, size_t rawlen,
			  struct error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (p->opt->mac_mode == PSKC_MAC_NO_CHECK)
		return 1;
	if (pskc_mackey(p, err) < 0)
		return -1;
	if (p->mac_state != 1)
		return 1;
	char *t = imp_xml_text(imp_xml_find(data, "ValueMAC"));
	size_t vlen = 0;
	unsigned char *v = t ? imp_b64_bytes(t, &vlen) : NULL;
	free(t);
	if (v == NULL)
		return 0;
	if (!HMAC(p->mac_md, p->mackey, (int)p->mackeylen, raw, rawlen, md, &mdlen)) {
		crypto_free_secret(v, vlen);
		return err_internal(err, "HMAC failed");
	}
	int ok = vlen == mdlen && CRYPTO_memcmp(v, md, mdlen) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	crypto_free_secret(v, vlen);
	return ok;
}

/* Integer value of a Data child (Counter, TimeInterval, TimeDrift): the
 * PlainValue text.  *has = 0 when the element is absent. */
static int pskc_int(xmlNodePtr data, const char *name, int64_t *v, int *has, struct error *err)
{
	*has = 0;
	xmlNodePtr n = imp_xml_find(data, name);
	if (n == NULL)
		return 0;
	if (imp_xml_find(n, "EncryptedValue"))
		return imp_err(err, "Encrypted %s values are not supported.", name);
	xmlNodePtr pv = imp_xml_find(n, "PlainValue");
	char *t = imp_xml_text(pv ? pv : n);
	int rc = t ? imp_parse_i64(t, v) : -1;
	free(t);
	if (rc < 0)
		return imp_err(err, "The %s value is not a number.", name);
	*has = 1;
	return 0;
}

/* The token type of an algorithm URI: its last ':' or '#' component,
 * lowercased (privacyIDEA: algo.split(":")[-1].lower()). */
static void algo_type(const char *algo, char *buf, size_t len)
{
	const char *c1 = strrchr(algo, ':'), *c2 = strrchr(algo, '#');
	const char *last = c1 > c2 ? c1 : c2;
	snprintf(buf, len, "%s", last ? last + 1 : algo);
	for (char *q = buf; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
}

/* What one KeyPackage yields. */
struct pkg {
	struct import_token t;
	char type[32];  /* hotp, totp, pw, yubikey, pin */
	char *key_id;   /* Key@Id */
	char *pin_ref;  /* Policy/PINPolicy@PINKeyId */
	int mac_ok;
};

static void pkg_clear(struct pkg *k)
{
	imp_token_clear(&k->t);
	free(k->key_id);
	free(k->pin_ref);
	memset(k, 0, sizeof(*k));
}

/* Serial, type and description of the package. */
static int pkg_identify(xmlNodePtr kp, xmlNodePtr key, struct pkg *k, struct error *err)
{
	char *algo = imp_xml_attr(key, "Algorithm"), *sn = NULL;
	xmlNodePtr dev = imp_xml_find(kp, "DeviceInfo");
	xmlNodePtr manu = imp_xml_find(dev, "Manufacturer");
	int rc = -1;

	k->key_id = imp_xml_attr(key, "Id");
	if (algo == NULL || k->key_id == NULL) {
		imp_err(err, "Failed to import tokendata. A Key has no Id or Algorithm.");
		goto out;
	}
	if (manu && (k->t.description = imp_xml_text(manu)) == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	algo_type(algo, k->type, sizeof(k->type));
	/* Yubico exports: Key@Id "<serial>:<slot>" (re.match(r"\d+:\d+")) */
	const char *yprefix = NULL, *ytype = NULL, *id = k->key_id;
	if (!strcmp(algo, "http://www.yubico.com/#yubikey-aes"))
		yprefix = "UBAM", ytype = "yubikey";
	else if (!strcmp(algo, "urn:ietf:params:xml:ns:keyprov:pskc:hotp"))
		yprefix = "UBOM", ytype = "hotp";
	size_t d1 = strspn(id, "0123456789");
	if (yprefix && d1 > 0 && id[d1] == ':' && id[d1 + 1] >= '0' && id[d1 + 1] <= '9') {
		const char *slot = id + d1 + 1;
		size_t sl = strcspn(slot, ":");
		size_t need = strlen(yprefix) + d1 + 1 + sl + 1;
		if ((k->t.serial = malloc(need)) == NULL) {
			err_internal(err, "out of memory");
			goto out;
		}
		snprintf(k->t.serial, need, "%s%.*s_%.*s", yprefix, (int)d1, id, (int)sl, slot);
		snprintf(k->type, sizeof(k->type), "%s", ytype);
	} else {
		sn = imp_xml_text(imp_xml_find(dev, "SerialNo"));
		const char *s = sn ? imp_strip(sn) : "";
		if (imp_set_dup(&k->t.serial, *s ? s : id, err) < 0)
			goto out;
	}
	if (strcmp(k->type, "pin") && strcmp(k->type, "hotp") && strcmp(k->type, "totp") && strcmp(k->type, "pw") &&
	    strcmp(k->type, "yubikey")) {
		imp_err(err, "Unsupported algorithm '%.100s' in key '%.60s'.", algo, id);
		goto out;
	}
	rc = imp_set_dup(&k->t.type, k->type, err);
out:
	free(algo);
	free(sn);
	return rc;
}

/* ResponseFormat@Length (default 6) and the hash from Suite. */
static int pkg_params(xmlNodePtr key, struct pkg *k, struct error *err)
{
	xmlNodePtr params = imp_xml_find(key, "AlgorithmParameters");
	char *len_t = imp_xml_attr(imp_xml_find(params, "ResponseFormat"), "Length");
	xmlNodePtr sel = imp_xml_find(params, "Suite");
	char *suite = NULL, hbuf[64];
	int64_t v = 6;
	int rc = -1;

	if (len_t && (imp_parse_i64(len_t, &v) < 0 || v < 1 || v > 1000)) {
		imp_err(err, "Invalid ResponseFormat Length in key '%.60s'.", k->key_id);
		goto out;
	}
	k->t.otplen = (int)v;
	/* the Suite text; privacyIDEA's own export writes <Suite hashalgo=…/> */
	suite = imp_xml_text(sel);
	if (suite && *imp_strip(suite) == '\0') {
		free(suite);
		suite = imp_xml_attr(sel, "hashalgo");
	}
	const char *h = "sha1";
	if (suite && *imp_strip(suite)) {
		/* "SHA256", "sha-256", "HMAC-SHA256" → sha256 */
		const char *s = imp_strip(suite);
		if (!strncasecmp(s, "hmac-", 5))
			s += 5;
		size_t o = 0;
		for (; *s && o + 1 < sizeof(hbuf); s++)
			if (*s != '-')
				hbuf[o++] = *s;
		hbuf[o] = '\0';
		enum otp_hash hh;
		if (otp_hash_parse(hbuf, &hh) < 0) {
			imp_err(err, "Unsupported hash algorithm '%.40s' in key '%.60s'.", imp_strip(suite), k->key_id);
			goto out;
		}
		h = otp_hash_name(hh);
	}
	rc = imp_set_dup(&k->t.hashlib, h, err);
out:
	free(len_t);
	free(suite);
	return rc;
}

/* Data/Secret: plain or encrypted (with the MAC check) → otpkey or pin. */
static int pkg_secret(struct pskc *p, xmlNodePtr data, struct pkg *k, struct error *err)
{
	xmlNodePtr sec = imp_xml_find(data, "Secret");
	xmlNodePtr pv = imp_xml_find(sec, "PlainValue");
	xmlNodePtr ev = imp_xml_find(sec, "EncryptedValue");
	char *text = NULL, *enc_algo = NULL, frag[64];
	unsigned char *secret = NULL, *raw = NULL;
	size_t slen = 0, rawlen = 0;
	int rc = -1;

	k->mac_ok = 1;
	if (pv) {
		text = imp_xml_text(pv);
		secret = text ? imp_b64_bytes(text, &slen) : NULL;
		if (secret == NULL) {
			imp_err(err, "Failed to import tokendata. The secret of key '%.60s' is not base64.", k->key_id);
			goto out;
		}
	} else if (ev) {
		enc_algo = imp_xml_attr(imp_xml_find(ev, "EncryptionMethod"), "Algorithm");
		imp_uri_fragment(enc_algo ? enc_algo : "", frag, sizeof(frag));
		size_t want = !strcmp(frag, "aes128-cbc")   ? 16
			      : !strcmp(frag, "aes192-cbc") ? 24
			      : !strcmp(frag, "aes256-cbc") ? 32
							    : 0;
		if (want == 0) {
			imp_err(err, "We only import PSKC files with AES128-CBC (or AES192/256-CBC), not '%.60s'.",
				frag);
			goto out;
		}
		text = imp_xml_text(imp_xml_find(ev, "CipherValue"));
		if (text == NULL) {
			imp_err(err, "Failed to import tokendata. Key '%.60s' has no CipherValue.", k->key_id);
			goto out;
		}
		if (pskc_decrypt(p, text, want, &secret, &slen, &raw, &rawlen, err) < 0)
			goto out;
		int m = pskc_check_mac(p, data, raw, rawlen, err);
		if (m < 0)
			goto out;
		k->mac_ok = m;
	} else {
		imp_err(err, "Failed to import tokendata. Key '%.60s' has no secret.", k->key_id);
		goto out;
	}
	if (slen > MAX_SECRET) {
		imp_err(err, "The secret of key '%.60s' is too long.", k->key_id);
		goto out;
	}
	int is_pin = !strcmp(k->type, "pin");
	if (is_pin || (ev && !strcmp(k->type, "pw"))) {
		/* PINs and (as privacyIDEA) decrypted passwords are text */
		if (memchr(secret, '\0', slen)) {
			imp_err(err, "The secret of key '%.60s' is not text.", k->key_id);
			goto out;
		}
		if (imp_set_dup(is_pin ? &k->t.pin : &k->t.otpkey, (const char *)secret, err) < 0)
			goto out;
	} else if ((k->t.otpkey = imp_hexlify(secret, slen)) == NULL) {
		err_internal(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	imp_free_secret(&text);
	free(enc_algo);
	if (secret)
		crypto_free_secret(secret, slen + 1);
	if (raw)
		crypto_free_secret(raw, rawlen);
	return rc;
}

/* Counter (hotp, totp), TimeInterval and TimeDrift (totp). */
static int pkg_values(xmlNodePtr data, struct pkg *k, struct error *err)
{
	int64_t v = 0;
	int has = 0;
	int is_totp = !strcmp(k->type, "totp");

	if (is_totp || !strcmp(k->type, "hotp")) {
		if (pskc_int(data, "Counter", &v, &has, err) < 0)
			return -1;
		if (has && v < 0)
			return imp_err(err, "The Counter value must not be negative.");
		k->t.has_counter = has;
		k->t.counter = has ? v : 0;
	}
	if (is_totp) {
		if (pskc_int(data, "TimeInterval", &v, &has, err) < 0)
			return -1;
		if (has && (v < 1 || v > 86400 * 366))
			return imp_err(err, "Invalid TimeInterval in key '%.60s'.", k->key_id);
		k->t.timestep = has ? (int)v : 0;
		if (pskc_int(data, "TimeDrift", &v, &has, err) < 0)
			return -1;
		k->t.has_timeshift = has;
		k->t.timeshift = has ? v : 0;
	}
	return 0;
}

/* One KeyPackage → *k.  0 or -1 (error). */
static int pskc_package(struct pskc *p, xmlNodePtr kp, struct pkg *k, struct error *err)
{
	xmlNodePtr key = imp_xml_find(kp, "Key");
	if (key == NULL)
		return imp_err(err, "Failed to import tokendata. A KeyPackage has no Key.");
	xmlNodePtr data = imp_xml_find(key, "Data");
	if (pkg_identify(kp, key, k, err) < 0 || pkg_params(key, k, err) < 0 || pkg_secret(p, data, k, err) < 0 ||
	    pkg_values(data, k, err) < 0)
		return -1;
	k->pin_ref = imp_xml_attr(imp_xml_find(imp_xml_find(key, "Policy"), "PINPolicy"), "PINKeyId");
	return 0;
}

struct pin {
	char *key_id;
	char *value;
};

struct pins {
	struct pin *v;
	size_t n;
};

static void free_pins(struct pins *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].key_id);
		imp_free_secret(&ps->v[i].value);
	}
	free(ps->v);
}

int import_pskc_mac_mode(const char *name, enum pskc_mac_mode *mode)
{
	if (name == NULL || !strcmp(name, "check_fail_hard"))
		*mode = PSKC_MAC_CHECK_FAIL_HARD;
	else if (!strcmp(name, "check_fail_soft"))
		*mode = PSKC_MAC_CHECK_FAIL_SOFT;
	else if (!strcmp(name, "no_check"))
		*mode = PSKC_MAC_NO_CHECK;
	else
		return -1;
	return 0;
}

/* 1 when the package's Key is a PIN key. */
static int is_pin_package(xmlNodePtr kp)
{
	char *algo = imp_xml_attr(imp_xml_find(kp, "Key"), "Algorithm");
	char type[32] = "";
	if (algo)
		algo_type(algo, type, sizeof(type));
	free(algo);
	return !strcmp(type, "pin");
}

/* Parses one package and files its result: a PIN into pins, a token into
 * out (with its PIN), a MAC failure as the mode says. */
static int pskc_one(struct pskc *p, xmlNodePtr kp, struct pins *pins, struct import_list *out,
		    struct error *err)
{
	struct pkg k;
	int rc = -1;

	memset(&k, 0, sizeof(k));
	if (pskc_package(p, kp, &k, err) < 0)
		goto out;
	int is_pin = !strcmp(k.type, "pin");
	if (!k.mac_ok) {
		if (p->opt->mac_mode == PSKC_MAC_CHECK_FAIL_HARD) {
			p->abort = 1; /* keep parsing: every serial is reported */
		} else {
			if (!is_pin && imp_list_not_imported(out, k.t.serial) < 0)
				err_internal(err, "out of memory");
			else
				rc = 0;
			goto out;
		}
	}
	if (is_pin) {
		pins->v[pins->n].key_id = k.key_id;
		pins->v[pins->n].value = k.t.pin;
		pins->n++;
		k.key_id = NULL;
		k.t.pin = NULL;
		rc = 0;
		goto out;
	}
	for (size_t j = 0; k.pin_ref && j < pins->n; j++) {
		if (strcmp(pins->v[j].key_id, k.pin_ref) != 0)
			continue;
		if (imp_set_dup(&k.t.pin, pins->v[j].value, err) < 0)
			goto out;
		break;
	}
	if (imp_list_put(out, &k.t) < 0) {
		err_internal(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	pkg_clear(&k);
	return rc;
}

int import_pskc(const char *data, size_t len, const struct pskc_options *opt, struct import_list *out,
		struct error *err)
{
	static const struct pskc_options none = {NULL, NULL, PSKC_MAC_CHECK_FAIL_HARD};
	struct pskc p;
	struct imp_nodes kps = {0};
	struct pins pins = {0};
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.opt = opt ? opt : &none;
	xmlDocPtr doc = imp_xml_parse(data, len, "PSKC", err);
	if (doc == NULL)
		return -1;
	p.container = imp_xml_find_self_or(xmlDocGetRootElement(doc), "KeyContainer");
	if (p.container == NULL) {
		imp_err(err, "No KeyContainer found in PSKC data. Could not import any tokens.");
		goto out;
	}
	xmlNodePtr derived = imp_xml_find(imp_xml_find(p.container, "EncryptionKey"), "DerivedKey");
	if (derived && pskc_derive(&p, derived, err) < 0)
		goto out;
	imp_xml_find_all(p.container, "KeyPackage", &kps);
	if (kps.oom || (kps.n && (pins.v = calloc(kps.n, sizeof(*pins.v))) == NULL)) {
		err_internal(err, "out of memory");
		goto out;
	}
	/* PIN keys first, so that a token can refer to a later one */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < kps.n; i++)
			if (is_pin_package(kps.v[i]) == (pass == 0) && pskc_one(&p, kps.v[i], &pins, out, err) < 0)
				goto out;
	if (p.abort) {
		/* privacyIDEA: not_imported_serials = tokens.keys(); tokens = {} */
		for (size_t i = 0; i < out->count; i++)
			if (imp_list_not_imported(out, out->tokens[i].serial) < 0) {
				err_internal(err, "out of memory");
				goto out;
			}
		imp_list_drop_tokens(out);
	}
	rc = 0;
out:
	if (rc < 0)
		import_list_free(out);
	free_pins(&pins);
	free(kps.v);
	OPENSSL_cleanse(&p, sizeof(p));
	xmlFreeDoc(doc);
	return rc;
}
