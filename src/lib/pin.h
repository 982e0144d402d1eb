/*
 * pin.h — storing and checking token PINs (OTP PINs).
 *
 * A deliberate improvement over privacyIDEA (see docs/security.md): new
 * PINs are stored as a salted keyed hash
 *     "tpin1$<hex salt 16 bytes>$<hex HMAC-SHA256(K, salt || pin)>"
 * where K is derived (HKDF-SHA256) from the encryption key file's value
 * slot and never stored in the database.  Verification costs micro-
 * seconds; a stolen database alone reveals nothing.
 * privacyIDEA's formats are still verified (argon2 "$argon2…", passlib
 * "$pbkdf2-sha512$…", and the legacy sha256(pin_seed + pin) hex with the
 * `pin_seed` column) and flagged for re-storing in the keyed form.
 * PINs that must be recoverable are encrypted instead, in privacyIDEA's
 * "@@<hexiv>:<hexct>" pin_hash form (token slot).
 * Every comparison is constant-time.  Implemented in pin.c.
 */
#ifndef TESSERA_PIN_H
#define TESSERA_PIN_H

#include "error.h"

struct enckey;

/* New stored form of pin (malloc'd; free with crypto_free_str). An empty
 * PIN is stored as the empty string, as privacyIDEA does. */
char *pin_hash(const struct enckey *k, const char *pin, struct error *err);
/* 1 = pin matches, 0 = it does not, -1 = unreadable stored value.
 * *rehash (may be NULL) is set to 1 when the stored form is a legacy one
 * and should be replaced by pin_hash(pin) after this success.
 * pin_seed: the token's legacy pin_seed column (may be NULL). */
int pin_verify(const struct enckey *k, const char *stored, const char *pin_seed, const char *pin, int *rehash);
/* Recoverable PIN: "@@<hexiv>:<hexct>" and back (malloc'd). */
char *pin_encrypt(const struct enckey *k, const char *pin, struct error *err);
char *pin_decrypt(const struct enckey *k, const char *stored, struct error *err);
/* 1 when the stored value is the encrypted form. */
int pin_is_encrypted(const char *stored);

#endif
