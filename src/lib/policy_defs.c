/*
 * policy_defs.c — THE table of policy actions (policy_defs.h) and what is
 * derived from it: the /policy/defs JSON and the value checks of POST
 * /policy.  Data only, plus the few functions that read it; it must not
 * know how actions are enforced.
 *
 * Names, types, value lists, groups and menus are privacyIDEA 3.8's
 * (../shared/spec/policies_events.md §1.8); the descriptions are Tessera's
 * own wording.  Two 3.8 definition defects are not copied: admin `revoke`
 * has its type, admin `resolverread` its main menu.
 */
#include "policy_defs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const policy_scope_names[] = { "admin",      "user",  "authentication", "authorization",
					   "enrollment", "webui", "register",       NULL };

/* The 26 token types of privacyIDEA 3.8; the user-enrollable ones get a
 * user-scope enroll action below. */
const char *const policy_token_types[] = {
	"daplug", "hotp",  "motp",     "pw",  "remote", "spass",         "sshkey",   "totp",     "yubico",
	"yubikey", "radius", "sms",     "email", "registration", "certificate", "4eyes", "tiqr",  "ocra",
	"u2f",    "paper", "question", "vasco", "tan",   "push",          "indexedsecret", "webauthn", NULL,
};

/* ---- row builders ---- */
#define ROW(sc, a, ty, grp, menu, d, ...) \
	{ .scope = sc, .action = a, .type = ty, .group = grp, .mainmenu = menu, .desc = d, __VA_ARGS__ }
#define LIST(l) .values = PV_LIST, .list = l
#define RANGE(a, b) .values = PV_RANGE, .lo = a, .hi = b
#define TT(t) .tokentype = t

#define B POLICY_TYPE_BOOL
#define S POLICY_TYPE_STR
#define I POLICY_TYPE_INT
#define TXT POLICY_TYPE_TEXT

#define AD(a, ty, grp, menu, d, ...) ROW("admin", a, ty, grp, menu, d, __VA_ARGS__)
#define US(a, ty, grp, menu, d, ...) ROW("user", a, ty, grp, menu, d, __VA_ARGS__)
#define EN(a, ty, grp, d, ...) ROW("enrollment", a, ty, grp, NULL, d, __VA_ARGS__)
#define AU(a, ty, d, ...) ROW("authentication", a, ty, NULL, NULL, d, __VA_ARGS__)
#define AZ(a, ty, grp, d, ...) ROW("authorization", a, ty, grp, NULL, d, __VA_ARGS__)
#define WU(a, ty, grp, d, ...) ROW("webui", a, ty, grp, NULL, d, __VA_ARGS__)
#define RG(a, ty, d, ...) ROW("register", a, ty, NULL, NULL, d, __VA_ARGS__)

/* Token-type families. */
#define ENROLL_ADMIN(T, t) AD("enroll" T, B, "enrollment", "tokens", "Admin may enroll " T " tokens.", TT(t))
#define ENROLL_USER(T, t) US("enroll" T, B, "enrollment", "tokens", "The user may enroll " T " tokens.", TT(t))
#define MAX_TOKENS(t)                                                                                          \
	EN(t "_max_token_per_user", I, "token",                                                                \
	   "Maximum number of " t " tokens a user may have assigned (the highest matching limit wins).", TT(t)), \
	EN(t "_max_active_token_per_user", I, "token",                                                         \
	   "Maximum number of active " t " tokens a user may have (the highest matching limit wins).", TT(t))
#define PIN_POLICIES(sc, t)                                                                                  \
	ROW(sc, t "_otp_pin_maxlength", I, "pin", NULL, "Maximum PIN length of " t " tokens.", RANGE(0, 31), \
	    TT(t)),                                                                                          \
	ROW(sc, t "_otp_pin_minlength", I, "pin", NULL, "Minimum PIN length of " t " tokens.", RANGE(0, 31), \
	    TT(t)),                                                                                          \
	ROW(sc, t "_otp_pin_contents", S, "pin", NULL,                                                       \
	    "Required PIN contents of " t " tokens: (c)haracters, (n)umeric, (s)pecial, +/- or [list].", TT(t))
#define OTP_ENROLL(sc, t, T)                                                                           \
	ROW(sc, t "_hashlib", S, t, NULL, "Hash algorithm forced on new " T " tokens.",                \
	    LIST("sha1|sha256|sha512"), TT(t)),                                                        \
	ROW(sc, t "_otplen", I, t, NULL, "OTP length forced on new " T " tokens.", LIST("6|8"), TT(t)), \
	ROW(sc, t "_2step", S, t, NULL, "Two-step enrollment of " T " tokens: allow or force it.",     \
	    LIST("allow|force"), TT(t))
#define TWO_STEP_SIZES(t, T)                                                                              \
	EN(t "_2step_clientsize", I, t,                                                                   \
	   "Bytes of the " T " seed contributed by the client in two-step enrollment.", TT(t)),           \
	EN(t "_2step_serversize", I, t,                                                                   \
	   "Bytes of the " T " seed contributed by the server in two-step enrollment.", TT(t)),           \
	EN(t "_2step_difficulty", I, t, "PBKDF2 rounds of the " T " two-step key derivation (10000 or more).", \
	   TT(t)),                                                                                        \
	EN(t "_force_app_pin", B, t, "The privacyIDEA Authenticator must protect new " T " tokens with a PIN.", TT(t))

const struct policy_def policy_defs[] = {
	/* ---- admin: what administrators may do on the REST API ---- */
	AD("enable", B, "token", "tokens", "Admin may enable tokens."),
	AD("disable", B, "token", "tokens", "Admin may disable tokens."),
	AD("set", B, "token", "tokens", "Admin may set token properties."),
	AD("setdescription", B, "token", "tokens", "Admin may set the token description."),
	AD("setpin", B, "token", "tokens", "Admin may set the OTP PIN of tokens."),
	AD("setrandompin", B, "token", "tokens", "Admin may set a random OTP PIN on tokens."),
	AD("settokeninfo", B, "token", "tokens", "Admin may set and delete token info."),
	AD("enrollpin", B, "enrollment", "tokens", "Admin may set the OTP PIN during enrollment."),
	AD("resync", B, "token", "tokens", "Admin may resynchronise tokens."),
	AD("reset", B, "token", "tokens", "Admin may reset the fail counter of tokens."),
	AD("revoke", B, "token", "tokens", "Admin may revoke tokens."),
	AD("assign", B, "token", "tokens|users", "Admin may assign tokens to users."),
	AD("unassign", B, "token", "tokens", "Admin may unassign tokens from users."),
	AD("importtokens", B, "system", "tokens", "Admin may import token files."),
	AD("delete", B, "token", "tokens", "Admin may delete tokens."),
	AD("userlist", B, "general", "users", "Admin may list the users."),
	AD("machinelist", B, "machine", "machines", "Admin may list the machines."),
	AD("manage_machine_tokens", B, "machine", "tokens|machines",
	    "Admin may attach tokens to and detach them from machines."),
	AD("fetch_authentication_items", B, "general", NULL,
	    "Admin may fetch the authentication items of machine tokens."),
	AD("tokenrealms", B, "token", "tokens", "Admin may set the realms of tokens."),
	AD("tokenlist", B, "token", "tokens",
	    "Admin may list the tokens of the policy's realms (all realms without a realm)."),
	AD("getserial", B, "tools", "tokens", "Admin may find the serial of a token from an OTP value."),
	AD("getrandom", B, "tools", NULL, "Admin may fetch random keys from the server."),
	AD("copytokenpin", B, "tools", NULL, "Admin may copy the PIN of one token to another."),
	AD("copytokenuser", B, "tools", NULL, "Admin may copy the user of one token to another."),
	AD("losttoken", B, "tools", "tokens", "Admin may run the lost-token workflow."),
	AD("configwrite", B, "system", "config", "Admin may write the system configuration."),
	AD("configdelete", B, "system", "config", "Admin may delete keys of the system configuration."),
	AD("configread", B, "system", "config", "Admin may read the system configuration."),
	AD("system_documentation", B, "system", "config",
	    "Admin may export the documentation of the whole configuration."),
	AD("policywrite", B, "system", "config", "Admin may create and change policies."),
	AD("policydelete", B, "system", "config", "Admin may delete policies."),
	AD("policyread", B, "system", "config", "Admin may read policies."),
	AD("resolverwrite", B, "system", "config", "Admin may create and change resolvers and realms."),
	AD("resolverdelete", B, "system", "config", "Admin may delete resolvers and realms."),
	AD("resolverread", B, "system", "config", "Admin may read resolvers and realms."),
	AD("caconnectorwrite", B, "system", "config", "Admin may create and change CA connectors."),
	AD("caconnectordelete", B, "system", "config", "Admin may delete CA connectors."),
	AD("caconnectorread", B, "system", "config", "Admin may read CA connectors."),
	AD("mresolverwrite", B, "system", "config", "Admin may create and change machine resolvers."),
	AD("mresolverdelete", B, "system", "config", "Admin may delete machine resolvers."),
	AD("mresolverread", B, "system", "config", "Admin may read machine resolvers."),
	AD("otp_pin_maxlength", I, "pin", NULL, "Maximum length of an OTP PIN set by the admin.", RANGE(0, 31)),
	AD("otp_pin_minlength", I, "pin", NULL, "Minimum length of an OTP PIN set by the admin.", RANGE(0, 31)),
	AD("otp_pin_contents", S, "pin", NULL,
	    "Required contents of an OTP PIN: (c)haracters, (n)umeric, (s)pecial, +/- modifiers or [list]."),
	AD("otp_pin_set_random", I, "pin", NULL, "Length of the random PIN set by the admin.", RANGE(1, 31)),
	AD("auditlog", B, "system", "audit", "Admin may read the audit log (of the policy's realms)."),
	AD("auditlog_age", S, "system", "audit",
	    "Admin sees only audit entries younger than this (10m, 10h, 10d, 1y)."),
	AD("hide_audit_columns", S, "system", "audit", "Audit columns hidden from the admin (blank-separated)."),
	AD("auditlog_download", B, "system", "audit", "Admin may download the audit log."),
	AD("adduser", B, "user", "users", "Admin may add users to editable user stores."),
	AD("updateuser", B, "user", "users", "Admin may change users in editable user stores."),
	AD("deleteuser", B, "user", "users", "Admin may delete users from editable user stores."),
	AD("set_hsm_password", B, "system", NULL, "Admin may set the password of the HSM."),
	AD("getchallenges", B, "general", "tokens", "Admin may list the open challenges."),
	AD("smtpserver_write", B, "system", "config", "Admin may write SMTP server definitions."),
	AD("smtpserver_read", B, "system", "config", "Admin may read SMTP server definitions."),
	AD("radiusserver_write", B, "system", "config", "Admin may write RADIUS server definitions."),
	AD("radiusserver_read", B, "system", "config", "Admin may read RADIUS server definitions."),
	AD("privacyideaserver_write", B, "system", "config", "Admin may write remote privacyIDEA server definitions."),
	AD("privacyideaserver_read", B, "system", "config", "Admin may read remote privacyIDEA server definitions."),
	AD("periodictask_write", B, "system", "config", "Admin may write periodic task definitions."),
	AD("periodictask_read", B, "system", "config", "Admin may read periodic task definitions."),
	AD("statistics_read", B, "system", NULL, "Admin may read statistics."),
	AD("statistics_delete", B, "system", NULL, "Admin may delete statistics."),
	AD("eventhandling_write", B, "system", "config", "Admin may write the event handler configuration."),
	AD("eventhandling_read", B, "system", "config", "Admin may read the event handler configuration."),
	AD("smsgateway_write", B, "system", "config", "Admin may write SMS gateway definitions."),
	AD("smsgateway_read", B, "system", "config", "Admin may read SMS gateway definitions."),
	AD("clienttype", B, "system", "components", "Admin may list the authenticating clients and their types."),
	AD("managesubscription", B, "system", "components", "Admin may add and delete subscriptions."),
	AD("triggerchallenge", B, "general", "", "Admin may trigger challenges (e.g. send an SMS OTP)."),
	AD("set_custom_user_attributes", S, "user", "",
	    "Custom user attributes the admin may set (':key: value ...', '*' for any)."),
	AD("delete_custom_user_attributes", S, "user", "",
	    "Custom user attributes the admin may delete (blank-separated, '*' for any)."),
	AD("hide_tokeninfo", S, "token", NULL, "Token info fields hidden from the admin (blank-separated)."),
	AD("tokengroup_list", B, "tokengroup", "config", "Admin may list the token groups."),
	AD("tokengroup_add", B, "tokengroup", "config", "Admin may add token groups."),
	AD("tokengroup_delete", B, "tokengroup", "config", "Admin may delete token groups."),
	AD("tokengroups", B, "token", NULL, "Admin may manage the token groups of a token."),
	ENROLL_ADMIN("DAPLUG", "daplug"), ENROLL_ADMIN("HOTP", "hotp"), ENROLL_ADMIN("MOTP", "motp"),
	ENROLL_ADMIN("PW", "pw"), ENROLL_ADMIN("REMOTE", "remote"), ENROLL_ADMIN("SPASS", "spass"),
	ENROLL_ADMIN("SSHKEY", "sshkey"), ENROLL_ADMIN("TOTP", "totp"), ENROLL_ADMIN("YUBICO", "yubico"),
	ENROLL_ADMIN("YUBIKEY", "yubikey"), ENROLL_ADMIN("RADIUS", "radius"), ENROLL_ADMIN("SMS", "sms"),
	ENROLL_ADMIN("EMAIL", "email"), ENROLL_ADMIN("REGISTRATION", "registration"),
	ENROLL_ADMIN("CERTIFICATE", "certificate"), ENROLL_ADMIN("4EYES", "4eyes"), ENROLL_ADMIN("TIQR", "tiqr"),
	ENROLL_ADMIN("OCRA", "ocra"), ENROLL_ADMIN("U2F", "u2f"), ENROLL_ADMIN("PAPER", "paper"),
	ENROLL_ADMIN("QUESTION", "question"), ENROLL_ADMIN("VASCO", "vasco"), ENROLL_ADMIN("TAN", "tan"),
	ENROLL_ADMIN("PUSH", "push"), ENROLL_ADMIN("INDEXEDSECRET", "indexedsecret"),
	ENROLL_ADMIN("WEBAUTHN", "webauthn"),
	OTP_ENROLL("admin", "hotp", "HOTP"),
	PIN_POLICIES("admin", "spass"),
	AD("totp_timestep", I, "totp", NULL, "Time step forced on new TOTP tokens.", LIST("30|60"), TT("totp")),
	OTP_ENROLL("admin", "totp", "TOTP"),
	AD("sms_gateways", S, "sms", NULL,
	    "SMS gateway identifiers the admin may set per token (blank-separated).", TT("sms")),
	AD("certificate_trusted_Attestation_CA_path", S, "certificate", NULL,
	    "Directory of trusted attestation CA chains for certificate enrollment.", TT("certificate")),
	AD("indexedsecret_force_attribute", S, "indexedsecret", NULL,
	    "User attribute that becomes the secret of new indexedsecret tokens.", TT("indexedsecret")),

	/* ---- user: what users may do with their own tokens ---- */
	US("assign", B, "token", "tokens", "The user may assign an unassigned token by its serial."),
	US("disable", B, "token", "tokens", "The user may disable his tokens."),
	US("enable", B, "token", "tokens", "The user may enable his tokens."),
	US("delete", B, "token", "tokens", "The user may delete his tokens."),
	US("unassign", B, "token", "tokens", "The user may unassign his tokens."),
	US("resync", B, "token", "tokens", "The user may resynchronise his tokens."),
	US("revoke", B, "token", "tokens", "The user may revoke his tokens."),
	US("reset", B, "token", "tokens", "The user may reset the fail counter of his tokens."),
	US("setpin", B, "pin", "tokens", "The user may set the OTP PIN of his tokens."),
	US("setrandompin", B, "pin", "tokens", "The user may set a random OTP PIN on his tokens."),
	US("otp_pin_set_random", I, "pin", NULL, "Length of the random PIN set by the user.", RANGE(1, 31)),
	US("setdescription", B, "token", "tokens", "The user may set the description of his tokens."),
	US("enrollpin", B, "pin", NULL, "The user may set the OTP PIN during enrollment."),
	US("otp_pin_maxlength", I, "pin", NULL, "Maximum length of an OTP PIN set by the user.", RANGE(0, 31)),
	US("otp_pin_minlength", I, "pin", NULL, "Minimum length of an OTP PIN set by the user.", RANGE(0, 31)),
	US("otp_pin_contents", S, "pin", NULL,
	    "Required contents of an OTP PIN: (c)haracters, (n)umeric, (s)pecial, +/- modifiers or [list]."),
	US("auditlog", B, NULL, "audit", "The user may read the audit entries of his tokens."),
	US("auditlog_age", S, NULL, "audit", "The user sees only audit entries younger than this (10m, 10h, 10d, 1y)."),
	US("hide_audit_columns", S, "system", "audit", "Audit columns hidden from the user (blank-separated)."),
	US("userlist", B, NULL, "users", "The user may read his own user information."),
	US("updateuser", B, NULL, "users", "The user may change his own user information, e.g. the password."),
	US("password_reset", B, NULL, "", "The user may reset his password in an editable user store."),
	US("set_custom_user_attributes", S, "user", "",
	    "Custom user attributes the user may set (':key: value ...', '*' for any)."),
	US("delete_custom_user_attributes", S, "user", "",
	    "Custom user attributes the user may delete (blank-separated, '*' for any)."),
	US("hide_tokeninfo", S, "token", NULL, "Token info fields hidden from the user (blank-separated)."),
	ENROLL_USER("HOTP", "hotp"), ENROLL_USER("MOTP", "motp"), ENROLL_USER("SPASS", "spass"),
	ENROLL_USER("SSHKEY", "sshkey"), ENROLL_USER("TOTP", "totp"), ENROLL_USER("YUBICO", "yubico"),
	ENROLL_USER("YUBIKEY", "yubikey"), ENROLL_USER("RADIUS", "radius"), ENROLL_USER("SMS", "sms"),
	ENROLL_USER("EMAIL", "email"), ENROLL_USER("CERTIFICATE", "certificate"), ENROLL_USER("TIQR", "tiqr"),
	ENROLL_USER("U2F", "u2f"), ENROLL_USER("PAPER", "paper"), ENROLL_USER("QUESTION", "question"),
	ENROLL_USER("TAN", "tan"), ENROLL_USER("PUSH", "push"), ENROLL_USER("INDEXEDSECRET", "indexedsecret"),
	ENROLL_USER("WEBAUTHN", "webauthn"),
	OTP_ENROLL("user", "hotp", "HOTP"),
	US("hotp_force_server_generate", B, "hotp", NULL,
	    "New HOTP tokens of the user get a key generated by the server.", TT("hotp")),
	PIN_POLICIES("user", "spass"),
	US("totp_timestep", I, "totp", NULL, "Time step forced on new TOTP tokens.", LIST("30|60"), TT("totp")),
	OTP_ENROLL("user", "totp", "TOTP"),
	US("totp_force_server_generate", B, "totp", NULL,
	    "New TOTP tokens of the user get a key generated by the server.", TT("totp")),
	US("sms_gateways", S, "sms", NULL, "SMS gateway identifiers the user may choose (blank-separated).", TT("sms")),
	US("certificate_trusted_Attestation_CA_path", S, "certificate", NULL,
	    "Directory of trusted attestation CA chains for certificate enrollment.", TT("certificate")),
	US("indexedsecret_force_attribute", S, "indexedsecret", NULL,
	    "User attribute that becomes the secret of new indexedsecret tokens.", TT("indexedsecret")),

	/* ---- enrollment: how /token/init behaves ---- */
	EN("max_token_per_realm", I, "token", "Maximum number of tokens in a realm (the highest matching limit wins)."),
	EN("max_token_per_user", I, "token",
	    "Maximum number of tokens a user may have assigned (the highest matching limit wins)."),
	EN("max_active_token_per_user", I, "token",
	    "Maximum number of active tokens a user may have (the highest matching limit wins)."),
	EN("otp_pin_random", I, "pin", "Set a random OTP PIN of this length at enrollment.", RANGE(1, 31)),
	/* Tessera has privacyIDEA's base handler only: the value list refuses
	 * other modules when the policy is set (3.8 publishes no list). */
	EN("pinhandling", S, "pin", "Module that handles a random PIN set at enrollment.",
	   LIST("privacyidea.lib.pinhandling.base.PinHandler"), .flags = POLICY_DEF_MULTIPLE),
	EN("change_pin_on_first_use", B, "pin", "A PIN set by the admin must be changed by the user at first use."),
	EN("change_pin_every", S, "pin", "The user must change his PIN this often, e.g. 180d."),
	EN("encrypt_pin", B, "pin", "Store the OTP PIN encrypted instead of hashed."),
	EN("tokenlabel", S, "token",
	    "Label of new smartphone tokens; tags {user}, {realm}, {serial}, {givenname}, {surname}."),
	EN("tokenissuer", S, "token",
	    "Issuer of new smartphone tokens; tags {user}, {realm}, {serial}, {givenname}, {surname}."),
	EN("appimageurl", S, "token", "URL of an image (PNG, JPG, GIF) shown by authenticator apps."),
	EN("autoassignment", S, "token",
	    "A user without tokens gets an unassigned token by authenticating with it.", LIST("any_pin|userstore")),
	EN("losttoken_PW_length", I, NULL, "Length of the temporary password of a lost token.", RANGE(1, 31)),
	EN("losttoken_PW_contents", S, NULL, "Contents of the temporary password of a lost token (C, c, n, s, 8)."),
	EN("losttoken_valid", I, NULL, "Days the temporary token of a lost token stays valid.", RANGE(1, 60)),
	EN("registration.length", I, "token", "Length of generated registration codes.", RANGE(1, 31)),
	EN("registration.contents", S, "token",
	    "Contents of generated registration codes: (c)haracters, (n)umeric, (s)pecial, +/- or [list]."),
	EN("pw.length", I, "token", "Length of generated passwords of password tokens.", RANGE(1, 31)),
	EN("pw.contents", S, "token",
	    "Contents of generated passwords of password tokens: (c)haracters, (n)umeric, (s)pecial, +/- or [list]."),
	EN("verify_enrollment", S, "token",
	    "Token types (blank-separated) that must be verified with an OTP after enrollment."),
	MAX_TOKENS("daplug"), MAX_TOKENS("hotp"), MAX_TOKENS("motp"), MAX_TOKENS("pw"), MAX_TOKENS("remote"),
	MAX_TOKENS("spass"), MAX_TOKENS("sshkey"), MAX_TOKENS("totp"), MAX_TOKENS("yubico"), MAX_TOKENS("yubikey"),
	MAX_TOKENS("radius"), MAX_TOKENS("sms"), MAX_TOKENS("email"), MAX_TOKENS("registration"),
	MAX_TOKENS("certificate"), MAX_TOKENS("4eyes"), MAX_TOKENS("tiqr"), MAX_TOKENS("ocra"), MAX_TOKENS("u2f"),
	MAX_TOKENS("paper"), MAX_TOKENS("question"), MAX_TOKENS("vasco"), MAX_TOKENS("tan"), MAX_TOKENS("push"),
	MAX_TOKENS("indexedsecret"), MAX_TOKENS("webauthn"),
	TWO_STEP_SIZES("hotp", "HOTP"),
	TWO_STEP_SIZES("totp", "TOTP"),
	EN("yubikey_access_code", S, "yubikey",
	    "Access code (12 hex characters, or old:new) for enrollment clients programming Yubikeys.", TT("yubikey")),
	EN("certificate_require_attestation", S, "certificate",
	    "Attestation of certificate requests.", LIST("ignore|verify|require_and_verify"), TT("certificate")),
	EN("certificate_ca_connector", S, "certificate",
	    "CA connector used for certificate enrollment.", .values = PV_CACONNECTORS, TT("certificate")),
	EN("certificate_template", S, "certificate",
	    "Certificate template used for certificate enrollment.", TT("certificate")),
	EN("certificate_request_subject_component", S, "certificate",
	    "Components added to the request subject (email, realm).",
	    LIST("email|realm"), .flags = POLICY_DEF_MULTIPLE, TT("certificate")),
	EN("u2f_req", S, "u2f",
	    "Only U2F devices whose attestation certificate matches may be registered (subject|issuer|serial/regex/).",
	    TT("u2f")),
	EN("u2f_no_verify_certificate", B, "u2f",
	    "Do not check the validity period of U2F attestation certificates.", TT("u2f")),
	EN("papertoken_count", I, "paper", "Number of OTP values printed on a paper token.", TT("paper")),
	EN("tantoken_count", I, "tan", "Number of TANs of a TAN token.", TT("tan")),
	EN("push_firebase_configuration", S, "push",
	    "Firebase gateway of push tokens, or 'poll only'.", .values = PV_FIREBASE, TT("push")),
	EN("push_registration_url", S, "push",
	    "URL the smartphone uses for the second enrollment step of push tokens.", TT("push")),
	EN("push_ttl", I, "push",
	    "Minutes within which the second enrollment step of a push token must happen.", TT("push")),
	EN("push_ssl_verify", S, "push",
	    "The smartphone verifies the TLS certificate at enrollment (1) or not (0).", LIST("0|1"), TT("push")),
	EN("push_force_app_pin", B, "push",
	    "The smartphone must be unlocked to accept a push notification.", TT("push")),
	EN("webauthn_avoid_double_registration", B, "webauthn",
	    "One authenticator cannot be registered twice for a user.", TT("webauthn")),
	EN("webauthn_relying_party_name", S, "webauthn",
	    "Human-readable name of the WebAuthn relying party.", TT("webauthn")),
	EN("webauthn_relying_party_id", S, "webauthn",
	    "WebAuthn relying party ID (a registrable domain).", TT("webauthn")),
	EN("webauthn_timeout", I, "webauthn",
	    "Seconds the client waits for the authenticator at enrollment.", TT("webauthn")),
	EN("webauthn_authenticator_attachment", S, "webauthn",
	    "Kind of authenticator allowed at enrollment.", LIST("platform|cross-platform|either"), TT("webauthn")),
	EN("webauthn_authenticator_selection_list", S, "webauthn",
	    "AAGUIDs of the authenticators that may be enrolled (blank-separated).", TT("webauthn")),
	EN("webauthn_user_verification_requirement", S, "webauthn",
	    "User verification required at enrollment.", LIST("required|preferred|discouraged"), TT("webauthn")),
	EN("webauthn_public_key_credential_algorithms", S, "webauthn",
	    "Public key algorithms allowed at enrollment.",
	    LIST("ecdsa|rsassa-pss|rsassa-pkcs1v1_5"), .flags = POLICY_DEF_MULTIPLE, TT("webauthn")),
	EN(
	    "webauthn_authenticator_attestation_form",
	    S, "webauthn", "Attestation requested at enrollment.", LIST("none|indirect|direct"), TT("webauthn")),
	EN("webauthn_authenticator_attestation_level", S, "webauthn",
	    "Attestation level required at enrollment.", LIST("none|untrusted|trusted"), TT("webauthn")),
	EN("webauthn_req", S, "webauthn",
	    "Only authenticators whose attestation certificate matches may be enrolled (subject|issuer|serial/regex/).",
	    TT("webauthn")),
	EN("webauthn_challenge_text", S, "webauthn", "Challenge text shown at WebAuthn enrollment.", TT("webauthn")),

	/* ---- authentication: how /validate authenticates ---- */
	AU("otppin", S,
	    "The fixed password part: the token PIN, the user store password, or none.",
	    LIST("tokenpin|userstore|none")),
	AU("challenge_response", S, "Token types (blank-separated) that may trigger a challenge with their PIN."),
	AU("challenge_text", S, "Challenge text asking the user for an OTP value."),
	AU("challenge_text_header", S, "Text before the list of challenge texts when several tokens are challenged."),
	AU("challenge_text_footer", S, "Text after the list of challenge texts when several tokens are challenged."),
	AU("change_pin_via_validate", B,
	    "A due PIN change happens in a challenge-response dialogue of /validate/check."),
	AU("resync_via_multichallenge", B, "An automatic resynchronisation happens in a challenge-response dialogue."),
	AU("enroll_via_multichallenge", S,
	    "After a successful authentication, enroll a token of this type if the user has none.",
	    LIST("HOTP|TOTP|PUSH|EMAIL|SMS"), .flags = POLICY_DEF_CASELESS),
	AU("passthru", S,
	    "A user without tokens authenticates against the user store or the given RADIUS server.",
	    .values = PV_RADIUS),
	AU("passthru_assign", S,
	    "After RADIUS passthru, assign the token matching the OTP value (e.g. 8:pin or pin:6)."),
	AU("passOnNoToken", B, "A user without tokens always authenticates successfully."),
	AU("passOnNoUser", B, "A user who does not exist always authenticates successfully."),
	AU("mangle", S, "Rewrite user, pass or realm of an authentication request (key/search/replace/)."),
	AU("reset_all_user_tokens", B,
	    "A successful authentication resets the fail counters of all the user's tokens."),
	AU("increase_failcounter_on_challenge", B, "Triggering a challenge increases the fail counter of the token."),
	AU("auth_cache", S, "Accept the same credentials again for a while (e.g. 4h, 4h/5m, 2m/3)."),
	AU("preferred_client_mode", S, "Client modes in order of preference (interactive webauthn poll u2f)."),
	AU("smstext", S, "Text of the SMS; tags {otp}, {serial}, {user}, {givenname}, {surname}, ...", TT("sms")),
	AU("smsautosend", B, "After a successful SMS token authentication, send the next OTP.", TT("sms")),
	AU("sms_challenge_text", S, "Challenge text of SMS tokens.", TT("sms")),
	AU("emailtext", S, "Body of the email; same tags as smstext; file:/path for an HTML template.", TT("email")),
	AU("emailsubject", S, "Subject of the email; same tags as smstext.", TT("email")),
	AU("emailautosend", B, "After a successful email token authentication, send the next OTP.", TT("email")),
	AU("email_challenge_text", S, "Challenge text of email tokens.", TT("email")),
	AU("u2f_facets", S, "Host names (blank-separated) trusted as U2F facets.", TT("u2f")),
	AU("u2f_challenge_text", S, "Challenge text of U2F tokens.", TT("u2f")),
	AU("question_number", I, "Number of questions asked.", RANGE(1, 30), TT("question")),
	AU("push_text_on_mobile", S, "Text of the push notification.", TT("push")),
	AU("push_title_on_mobile", S, "Title of the push notification.", TT("push")),
	AU("push_ssl_verify", S,
	    "The smartphone verifies the TLS certificate at authentication (1) or not (0).", LIST("0|1"), TT("push")),
	AU("push_wait", I, "Seconds /validate/check waits for the push confirmation.", TT("push")),
	AU("push_allow_polling", S,
	    "Whether smartphones may poll for push challenges.", LIST("allow|deny|token"), TT("push")),
	AU("indexedsecret_challenge_text", S,
	    "Challenge text of indexedsecret tokens; {0!s} is replaced by the positions.", TT("indexedsecret")),
	AU("indexedsecret_count", I, "Number of positions asked for.", TT("indexedsecret")),
	AU("webauthn_allowed_transports", S,
	    "Transports allowed at authentication (usb ble nfc internal).", TT("webauthn")),
	AU("webauthn_timeout", I, "Seconds the client waits for the authenticator.", TT("webauthn")),
	AU("webauthn_user_verification_requirement", S,
	    "User verification required at authentication.", LIST("required|preferred|discouraged"), TT("webauthn")),
	AU("webauthn_challenge_text", S, "Challenge text of WebAuthn tokens.", TT("webauthn")),

	/* ---- authorization: whether an authenticated user is let in, response shaping ---- */
	AZ("authorized", S, "modifying response",
	    "Grant (default) or deny access after a successful authentication.", LIST("grant_access|deny_access")),
	AZ("application_tokentype", B, NULL, "The application may restrict the token types with the parameter 'type'."),
	AZ("auth_max_success", S, "conditions", "Maximum successful authentications in a time window, e.g. 2/5m."),
	AZ("auth_max_fail", S, "conditions", "Maximum failed authentications in a time window, e.g. 2/5m."),
	AZ("last_auth", S, "conditions", "The token must have been used within this time, e.g. 12h, 7d, 1y."),
	AZ("tokentype", S, "conditions", "Token types (blank-separated) that may authenticate."),
	AZ("serial", S, "conditions", "Regular expression the token serial must match."),
	AZ("tokeninfo", S, "conditions", "Token info field that must match a regular expression (key/regex/)."),
	AZ("setrealm", S, "setting actions", "Authenticate the user in this realm.", .values = PV_REALMS),
	AZ("no_detail_on_success", B, "setting actions", "No details in the answer of a successful authentication."),
	AZ("no_detail_on_fail", B, "setting actions", "No details in the answer of a failed authentication."),
	AZ("add_user_in_response", B, "setting actions",
	    "Add the user's attributes to the answer of a successful authentication."),
	AZ("add_resolver_in_response", B, "setting actions",
	    "Add the user's resolver and realm to the answer of a successful authentication."),
	AZ("api_key_required", B, "setting actions",
	    "Authentication requests need an API key (a JWT of role validate)."),
	AZ("u2f_req", S, "u2f",
	    "Only U2F devices whose attestation certificate matches may authenticate (subject|issuer|serial/regex/).",
	    TT("u2f")),
	AZ("webauthn_authenticator_selection_list", S, "webauthn",
	    "AAGUIDs of the authenticators that may authenticate (blank-separated).", TT("webauthn")),
	AZ("webauthn_req", S, "webauthn",
	    "Only authenticators whose attestation certificate matches may authenticate.", TT("webauthn")),

	/* ---- webui: the Web UI's behaviour ---- */
	WU("admin_dashboard", B, NULL, "Administrators see a dashboard as start page."),
	WU("login_mode", S, NULL,
	    "How users log in to the Web UI: user store password, privacyIDEA token, or not at all.",
	    LIST("userstore|privacyIDEA|disable")),
	WU("login_text", S, NULL, "Text of the login dialog instead of 'Please sign in'."),
	WU("search_on_enter", B, NULL, "The user list is searched only when Enter is pressed."),
	WU("timeout_action", S, NULL, "What happens after logout_time of inactivity.", LIST("logout|lockscreen")),
	WU("remote_user", S, NULL,
	    "Accept the REMOTE_USER set by the web server for login.", LIST("allowed|disable|force")),
	WU("logout_time", I, NULL, "Seconds of inactivity before the Web UI logs out (default 120)."),
	WU("token_page_size", I, NULL, "Tokens per page (default 15)."),
	WU("user_page_size", I, NULL, "Users per page (default 15)."),
	WU("audit_page_size", I, NULL, "Audit entries per page (default 10)."),
	WU("custom_menu", S, NULL, "Own HTML template of the menu."),
	WU("custom_baseline", S, NULL, "Own HTML template of the footer."),
	WU("privacy_statement_link", S, NULL, "Link to the privacy statement shown in the footer."),
	WU("user_details", B, NULL, "Show user id and resolver in the token list."),
	WU("policy_template_url", S, NULL, "URL of the policy template repository."),
	WU("logout_redirect", S, NULL, "URL of an SSO provider to redirect to at logout (http:// or https://)."),
	WU("tokenwizard", B, NULL, "A user without tokens sees only the enrollment wizard."),
	WU("tokenwizard_2nd_token", B, NULL, "The enrollment wizard is shown also to users with tokens."),
	WU("token_rollover", S, "token", "Token types (blank-separated) with a rollover button."),
	WU("dialog_no_token", B, NULL, "A user without tokens sees a welcome dialog."),
	WU("default_tokentype", S, NULL, "Token type preselected in the enrollment dialog.", .values = PV_TOKENTYPES),
	WU("realm_dropdown", S, NULL, "Realms (blank-separated) offered in the login dialog."),
	WU("hide_welcome_info", B, NULL, "Administrators do not see the welcome dialog."),
	WU("hide_buttons", B, NULL, "Buttons of forbidden actions are hidden instead of disabled."),
	WU("show_seed", B, NULL, "The seed is shown as text during enrollment."),
	WU("show_node", B, NULL, "The node name is shown in the menu bar."),
	WU("show_android_privacyidea_authenticator", B, "QR Codes",
	    "Enrollment shows a QR code linking to the Android authenticator app."),
	WU("show_ios_privacyidea_authenticator", B, "QR Codes",
	    "Enrollment shows a QR code linking to the iOS authenticator app."),
	WU("show_custom_authenticator", S, "QR Codes", "Enrollment shows a QR code linking to this URL."),
	WU("indexedsecret_preset_attribute", S, "indexedsecret",
	    "User attribute preset as secret in the indexedsecret enrollment dialog.", TT("indexedsecret")),

	/* ---- register: self-registration ---- */
	RG("resolver", S, "Resolver in which new users are created.", .values = PV_RESOLVERS),
	RG("realm", S, "Realm in which new users are registered.", .values = PV_REALMS),
	RG("smtpconfig", S, "SMTP server that sends the registration email.", .values = PV_SMTP),
	RG("requiredemail", S, "Regular expression the email address must match, written /regex/."),
	RG("registration_body", TXT, "Body of the registration email; {regkey} is the registration key."),
};

const size_t policy_defs_count = sizeof(policy_defs) / sizeof(policy_defs[0]);

int policy_scope_known(const char *scope)
{
	for (int i = 0; scope && policy_scope_names[i]; i++)
		if (!strcmp(scope, policy_scope_names[i]))
			return 1;
	return 0;
}

const struct policy_def *policy_def_find(const char *scope, const char *action)
{
	if (!scope || !action)
		return NULL;
	for (size_t i = 0; i < policy_defs_count; i++)
		if (!strcmp(policy_defs[i].action, action) && !strcmp(policy_defs[i].scope, scope))
			return &policy_defs[i];
	return NULL;
}

const char *policy_type_name(enum policy_type t)
{
	switch (t) {
	case POLICY_TYPE_BOOL: return "bool";
	case POLICY_TYPE_INT: return "int";
	case POLICY_TYPE_TEXT: return "text";
	default: return "str";
	}
}

/* ---- values ---- */

/* Is word (len n) one of the '|'-separated entries of list? */
static int in_list(const char *list, const char *word, size_t n, int caseless)
{
	const char *p = list;
	while (p && *p) {
		size_t len = strcspn(p, "|");
		if (len == n && (caseless ? strncasecmp(p, word, n) == 0 : strncmp(p, word, n) == 0))
			return 1;
		p += len;
		if (*p == '|')
			p++;
	}
	return 0;
}

static int in_token_types(const char *word, size_t n)
{
	for (int i = 0; policy_token_types[i]; i++)
		if (strlen(policy_token_types[i]) == n && strncmp(policy_token_types[i], word, n) == 0)
			return 1;
	return 0;
}

static int parse_int(const char *s, long long *out)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* One word of a listed value: 1 allowed, 0 not. */
static int word_allowed(const struct policy_def *d, const char *w, size_t n)
{
	if (d->values == PV_LIST)
		return in_list(d->list, w, n, (d->flags & POLICY_DEF_CASELESS) != 0);
	if (d->values == PV_TOKENTYPES)
		return in_token_types(w, n);
	return 1;
}

static int listed_value_check(const struct policy_def *d, const char *value, struct error *err)
{
	size_t len = strlen(value);
	/* A value in single quotes is taken verbatim (privacyIDEA's rule). */
	if (len >= 2 && value[0] == '\'' && value[len - 1] == '\'') {
		value++;
		len -= 2;
	}
	if (!(d->flags & POLICY_DEF_MULTIPLE)) {
		while (len && isspace((unsigned char)*value)) {
			value++;
			len--;
		}
		while (len && isspace((unsigned char)value[len - 1]))
			len--;
		if (word_allowed(d, value, len))
			return 0;
		return err_param(err, "The value '%.*s' is not allowed for the action '%s' in the scope '%s'.",
				 (int)len, value, d->action, d->scope);
	}
	for (size_t i = 0; i < len;) {
		while (i < len && isspace((unsigned char)value[i]))
			i++;
		size_t j = i;
		while (j < len && !isspace((unsigned char)value[j]))
			j++;
		if (j > i && !word_allowed(d, value + i, j - i))
			return err_param(err, "The value '%.*s' is not allowed for the action '%s' in the scope '%s'.",
					 (int)(j - i), value + i, d->action, d->scope);
		i = j;
	}
	return 0;
}

int policy_def_check_value(const struct policy_def *d, const char *value, struct error *err)
{
	if (d->type == POLICY_TYPE_BOOL) {
		if (value)
			return err_param(err,
					 "The action '%s' in the scope '%s' is a boolean action and takes no value.",
					 d->action, d->scope);
		return 0;
	}
	if (!value)
		return err_param(err, "The action '%s' in the scope '%s' needs a value (%s=...).", d->action, d->scope,
				 d->action);
	if (d->type == POLICY_TYPE_INT) {
		long long v;
		if (parse_int(value, &v) < 0)
			return err_param(err, "The action '%s' in the scope '%s' needs an integer value, not '%s'.",
					 d->action, d->scope, value);
		if (d->values == PV_RANGE && (v < d->lo || v > d->hi))
			return err_param(err,
					 "The value of the action '%s' in the scope '%s' must be between %d and %d.",
					 d->action, d->scope, d->lo, d->hi);
		if (d->values == PV_LIST) {
			char buf[32];
			int n = snprintf(buf, sizeof(buf), "%lld", v);
			if (!in_list(d->list, buf, (size_t)n, 0))
				return err_param(err,
						 "The value '%s' is not allowed for the action '%s' in the scope '%s'.",
						 value, d->action, d->scope);
		}
		return 0;
	}
	if (d->values == PV_LIST || d->values == PV_TOKENTYPES)
		return listed_value_check(d, value, err);
	return 0;
}

/* ---- JSON ---- */

static json_t *split_list(const char *list)
{
	json_t *a = json_array();
	const char *p = list;
	while (p && *p) {
		size_t len = strcspn(p, "|");
		json_array_append_new(a, json_stringn(p, len));
		p += len;
		if (*p == '|')
			p++;
	}
	return a;
}

static json_t *def_values(const struct policy_def *d, const struct policy_defs_source *src)
{
	json_t *a = NULL;
	switch (d->values) {
	case PV_NONE:
		return NULL;
	case PV_LIST:
		if (d->type == POLICY_TYPE_INT) {
			a = json_array();
			for (const char *p = d->list; p && *p;) {
				json_array_append_new(a, json_integer(strtoll(p, NULL, 10)));
				p += strcspn(p, "|");
				if (*p == '|')
					p++;
			}
			return a;
		}
		return split_list(d->list);
	case PV_RANGE:
		a = json_array();
		for (int i = d->lo; i <= d->hi; i++)
			json_array_append_new(a, json_integer(i));
		return a;
	case PV_TOKENTYPES:
		a = json_array();
		for (int i = 0; policy_token_types[i]; i++)
			json_array_append_new(a, json_string(policy_token_types[i]));
		return a;
	default:
		break;
	}
	a = src && src->values ? src->values(src->ctx, d->values) : NULL;
	if (!a)
		a = json_array();
	/* The fixed first entries privacyIDEA puts before the configured ones. */
	if (d->values == PV_RADIUS)
		json_array_insert_new(a, 0, json_string("userstore"));
	else if (d->values == PV_FIREBASE)
		json_array_insert_new(a, 0, json_string("poll only"));
	return a;
}

static json_t *def_json(const struct policy_def *d, const struct policy_defs_source *src)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(policy_type_name(d->type)));
	json_object_set_new(o, "desc", json_string(d->desc));
	if (d->group)
		json_object_set_new(o, "group", json_string(d->group));
	if (d->mainmenu)
		json_object_set_new(o, "mainmenu", split_list(d->mainmenu));
	json_t *v = def_values(d, src);
	if (v)
		json_object_set_new(o, "value", v);
	if (d->flags & POLICY_DEF_MULTIPLE)
		json_object_set_new(o, "multiple", json_true());
	return o;
}

json_t *policy_defs_json(const char *scope, const struct policy_defs_source *src)
{
	if (scope && !policy_scope_known(scope))
		return NULL;
	json_t *all = json_object();
	for (int i = 0; policy_scope_names[i]; i++)
		if (!scope || !strcmp(scope, policy_scope_names[i]))
			json_object_set_new(all, policy_scope_names[i], json_object());
	for (size_t i = 0; i < policy_defs_count; i++) {
		json_t *sc = json_object_get(all, policy_defs[i].scope);
		if (sc)
			json_object_set_new(sc, policy_defs[i].action, def_json(&policy_defs[i], src));
	}
	if (!scope)
		return all;
	json_t *one = json_incref(json_object_get(all, scope));
	json_decref(all);
	return one;
}

json_t *policy_defs_conditions_json(void)
{
	static const char *const sections[][2] = {
		{ "userinfo", "The policy matches only if conditions on the user's attributes hold." },
		{ "token", "The policy matches only if conditions on the token's attributes hold." },
		{ "tokeninfo", "The policy matches only if conditions on the token info hold." },
		{ "HTTP Request header", "The policy matches only if conditions on HTTP request headers hold." },
		{ "HTTP Environment", "The policy matches only if conditions on the HTTP environment hold." },
	};
	static const char *const comparators[][2] = {
		{ "equals", "true if the left value equals the right value" },
		{ "!equals", "false if the left value equals the right value" },
		{ "contains", "true if the left value (a list) contains the right value" },
		{ "!contains", "false if the left value (a list) contains the right value" },
		{ "in", "true if the left value is one of the comma-separated right values" },
		{ "!in", "false if the left value is one of the comma-separated right values" },
		{ "matches", "true if the left value completely matches the regular expression on the right" },
		{ "!matches", "false if the left value completely matches the regular expression on the right" },
		{ "<", "true if the left value as integer is smaller than the right integer" },
		{ ">", "true if the left value as integer is bigger than the right integer" },
	};
	json_t *s = json_object(), *c = json_object();
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		json_object_set_new(s, sections[i][0], json_pack("{s:s}", "description", sections[i][1]));
	for (size_t i = 0; i < sizeof(comparators) / sizeof(comparators[0]); i++)
		json_object_set_new(c, comparators[i][0], json_pack("{s:s}", "description", comparators[i][1]));
	return json_pack("{s:o,s:o}", "sections", s, "comparators", c);
}
