/*
 * importotp.h — parsers for token seed files (privacyIDEA lib/importotp.py):
 * OATH CSV, Yubikey CSV (Yubico personalization tool log), PSKC (RFC 6030)
 * and the deprecated SafeNet/Aladdin XML.  They turn a file into a list of
 * token records; creating the tokens (init_token, assign, realms, policies,
 * per-token failures) is the caller's business.
 *
 * Pure: no database, no logging (records hold seeds and PINs), no network,
 * no file access.  XML is parsed with libxml2 with network access off and
 * any document type declaration refused (no DTD, no entities: XXE and
 * entity-expansion safe).  Every input is limited to IMPORT_MAX_SIZE bytes.
 * Errors are privacyIDEA's TokenImportException: ERRK_PI, code 304
 * (ERR_TOKENIMPORT), e.g. "ERR304: Failed to import tokendata. Wrong
 * encryption key?".  On error the list is left empty.
 *
 * Records mirror the dictionaries privacyIDEA's parsers return, so that
 * the same serial twice overwrites the earlier record in place (dict
 * semantics).  Fields a format does not carry are NULL / 0 / has_x = 0.
 *
 * OATH CSV (parseOATHcsv + the token classes' get_import_csv):
 *   serial, key[, type[, otplen|ocrasuite|tans[, counter|timestep]]]
 *   - lines split at '\n' and ','; fields stripped of whitespace; a line
 *     starting with '#' (first character) is a comment; a line without a
 *     comma or with an empty serial is skipped.
 *   - first line "# version: 2" (regex ^#\s*version:\s*(\d+), exactly "2"):
 *     every line starts with username, resolver, realm.
 *   - type default "hotp" (lowercased); hashlib from the key length: 64 hex
 *     chars sha256, 128 sha512, 56 sha224, 96 sha384, else sha1; otplen
 *     column 4, default 6 (not for ocra/tiqr, whose column 4 is the
 *     ocrasuite, nor tan, whose column 4 is the whitespace separated TANs);
 *     hotp-like types (hotp, paper, email, sms, daplug): column 5 counter;
 *     totp: column 5 timeStep, default 30.
 *   - the key is passed on as written (hex for OATH types; for pw the
 *     password).  Unknown token types and malformed numbers are errors
 *     (privacyIDEA raises, which fails the whole import); an empty trailing
 *     numeric column counts as absent.
 * Yubikey CSV (parseYubicoCSV): lines with at least 6 comma separated
 *   fields; "Yubico OTP"/"OATH-HOTP"/"Static Password" first (traditional
 *   log format, public id in column 4 as modhex, key in column 6) or a
 *   decimal serial first (Yubico format, column 3: private id / "0" for
 *   OATH-HOTP / empty for static, key in column 4).  Yubico OTP → type
 *   yubikey, serial UBAM<serial>_<slot>, otplen 32 + len(public id); OATH
 *   → hotp, UBOM…, otplen 6; static passwords are skipped; the traditional
 *   format's serial is the public id's modhex value as a zero-padded
 *   8-digit decimal, the Yubico format's slot is "X".
 * PSKC: see import_pskc below.
 * SafeNet XML: <Tokens><Token serial=…><Applications><Application><Seed>,
 *   <MovingFactor> (case-sensitive names); hotp, sha256 when the seed has
 *   64 characters, else sha1; tokens without serial or seed are skipped.
 */
#ifndef TESSERA_IMPORTOTP_H
#define TESSERA_IMPORTOTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define IMPORT_MAX_SIZE (10u * 1024u * 1024u)

struct import_token {
	char *serial;
	char *type;         /* lowercase token type                                  */
	char *otpkey;       /* the otpkey init parameter (wiped on free), may be NULL */
	int otplen;         /* 0 = not given                                         */
	char *hashlib;      /* "sha1" …, NULL = not given                            */
	int has_counter;
	int64_t counter;
	int timestep;       /* 0 = not given                                         */
	int has_timeshift;
	int64_t timeshift;  /* PSKC TimeDrift, as privacyIDEA takes it               */
	char *description;  /* PSKC Manufacturer, Yubikey public id                  */
	char *ocrasuite;    /* OATH CSV ocra/tiqr                                    */
	char *tans;         /* OATH CSV tan: whitespace separated list (wiped)       */
	char *username;     /* OATH CSV version 2                                    */
	char *resolver;
	char *realm;
	char *pin;          /* PSKC PIN key referenced by the key's PINPolicy (wiped) */
};

struct import_list {
	struct import_token *tokens;
	size_t count, cap;
	char **not_imported; /* PSKC serials rejected by the MAC check */
	size_t n_not_imported, cap_not_imported;
	size_t *index;       /* private: serial hash → position + 1 */
	size_t index_cap;
};

/* libxml2's one-time initialisation; call once at start-up before worker
 * threads parse anything (harmless to call again). */
void import_global_init(void);

void import_list_init(struct import_list *l);
/* Frees (and wipes the secrets of) everything in the list, leaves it empty. */
void import_list_free(struct import_list *l);
/* The record with that serial, or NULL. */
const struct import_token *import_list_find(const struct import_list *l, const char *serial);

int import_oath_csv(const char *data, size_t len, struct import_list *out, struct error *err);
int import_yubico_csv(const char *data, size_t len, struct import_list *out, struct error *err);
int import_safenet_xml(const char *data, size_t len, struct import_list *out, struct error *err);

/* PSKC MAC validation modes (privacyIDEA's pskcValidateMAC parameter). */
enum pskc_mac_mode {
	PSKC_MAC_CHECK_FAIL_HARD = 0, /* "check_fail_hard": any bad MAC → nothing imported, all serials listed */
	PSKC_MAC_CHECK_FAIL_SOFT,     /* "check_fail_soft": keys with a bad MAC skipped and listed */
	PSKC_MAC_NO_CHECK,            /* "no_check"                                                 */
};
/* "check_fail_hard" … → *mode; NULL means the default (hard).  -1 unknown. */
int import_pskc_mac_mode(const char *name, enum pskc_mac_mode *mode);

struct pskc_options {
	const char *psk_hex;   /* pre-shared key, hex (16/24/32 bytes for aes128/192/256-cbc) */
	const char *password;  /* for PBKDF2-derived keys (RFC 6030 §6.2)                     */
	enum pskc_mac_mode mac_mode;
};

/* PSKC (RFC 6030), as privacyIDEA's parsePSKCdata, with these rules:
 *   - KeyContainer anywhere in the document, each KeyPackage's first Key;
 *     element names compared case-insensitively without namespace prefix.
 *   - serial: Key@Id; DeviceInfo/SerialNo when present and not empty;
 *     Yubico exports (Algorithm http://www.yubico.com/#yubikey-aes or the
 *     pskc:hotp URI, Key@Id "<serial>:<slot>") → UBAM/UBOM<serial>_<slot>.
 *   - type: the last ':' (or '#') component of Key@Algorithm, lowercased:
 *     hotp, totp, pw (privacyIDEA's export); yubikey via the Yubico rule.
 *     "pin" keys (RFC 6030 Figure 5) are not tokens: their value becomes
 *     the pin of the key whose PINPolicy@PINKeyId names them.  Anything
 *     else is an "unsupported algorithm" error.
 *   - otplen: ResponseFormat@Length, default 6.  hashlib: the text of
 *     AlgorithmParameters/Suite, else its hashalgo attribute (privacyIDEA's
 *     own export writes <Suite hashalgo="sha256"/>, which 3.8 ignores),
 *     else sha1.  description: DeviceInfo/Manufacturer.
 *   - Data/Secret/PlainValue (base64) or EncryptedValue: aes128-cbc (also
 *     aes192/256-cbc), IV prepended, PKCS#7, with the pre-shared key or
 *     the key from EncryptionKey/DerivedKey (PBKDF2, PRF hmac-sha1 by
 *     default).  otpkey: lowercase hex of the secret; for pw the decrypted
 *     text (privacyIDEA passes the password itself; a plain pw value stays
 *     hex, as in privacyIDEA).
 *   - MAC (RFC 6030 §6.1.1): when the container has MACMethod/MACKey, the
 *     ValueMAC of every encrypted secret must equal HMAC(MAC key,
 *     IV || ciphertext) (hmac-sha1 unless MACMethod@Algorithm names a
 *     SHA-2 variant); a missing ValueMAC counts as a mismatch.  Mismatch:
 *     hard → no token in the list, every serial in not_imported (success,
 *     as privacyIDEA); soft → that key skipped and listed.
 *   - hotp/totp: Data/Counter; totp: Data/TimeInterval → timestep,
 *     Data/TimeDrift → timeshift.
 *   - Errors (304): oversize, malformed XML, any DOCTYPE, no KeyContainer,
 *     a key without Id/Algorithm/secret, unsupported algorithm, hash or
 *     encryption method, encrypted data without key/password, wrong key or
 *     password (padding check fails), malformed numbers.
 */
int import_pskc(const char *data, size_t len, const struct pskc_options *opt, struct import_list *out,
		struct error *err);

#endif
