/*
 * pinpolicy.c — privacyIDEA's PIN content policies (policies_events.md
 * §1.6): the check of otp_pin_contents and the random PINs of
 * otp_pin_random / otp_pin_set_random.  Pure functions over strings: no
 * policy lookups (the callers find the values), no database.
 */
#include "pinpolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* Python's string.ascii_letters, string.digits, string.punctuation. */
static const char LETTERS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char DIGITS[] = "0123456789";
static const char PUNCT[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

static const char *group_chars(char g)
{
	return g == 'c' ? LETTERS : g == 'n' ? DIGITS : g == 's' ? PUNCT : NULL;
}

/* ^[+-]*[cns]+$ or ^\[.*\]+$ */
static int spec_valid(const char *p)
{
	size_t n = strlen(p);
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']')
		return 1;
	while (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return 0;
	for (; *p; p++)
		if (!group_chars(*p))
			return 0;
	return 1;
}

static void charlists_free(struct pin_charlists *cl)
{
	free(cl->base);
	for (size_t i = 0; i < cl->n_req; i++)
		free(cl->req[i]);
	memset(cl, 0, sizeof(*cl));
}

void pinpolicy_charlists_free(struct pin_charlists *cl)
{
	charlists_free(cl);
}

int pinpolicy_charlists(const char *policy, struct pin_charlists *cl, struct error *err)
{
	memset(cl, 0, sizeof(*cl));
	if (!policy || !spec_valid(policy))
		return err_set(err, ERRK_POLICY, ERR_POLICY, "Unknown character specifier in PIN policy.");
	size_t n = strlen(policy);
	char all[sizeof(LETTERS) + sizeof(DIGITS) + sizeof(PUNCT)];
	snprintf(all, sizeof(all), "%s%s%s", LETTERS, DIGITS, PUNCT);
	if (policy[0] == '+') {
		cl->base = strdup(all);
		char req[sizeof(all)] = "";
		for (const char *p = policy + 1; *p; p++)
			if (group_chars(*p) && !strstr(req, group_chars(*p)))
				strncat(req, group_chars(*p), sizeof(req) - strlen(req) - 1);
		cl->req[cl->n_req++] = strdup(req);
	} else if (policy[0] == '-') {
		char base[sizeof(all)] = "";
		static const char groups[] = "cns";
		for (const char *g = groups; *g; g++)
			if (!strchr(policy + 1, *g))
				strncat(base, group_chars(*g), sizeof(base) - strlen(base) - 1);
		cl->base = strdup(base);
	} else if (policy[0] == '[' && policy[n - 1] == ']') {
		cl->base = strndup(policy + 1, n - 2);
	} else {
		cl->base = strdup(all);
		for (const char *p = policy; *p && cl->n_req < PIN_MAX_REQ; p++)
			cl->req[cl->n_req++] = strdup(group_chars(*p));
	}
	if (!cl->base) {
		charlists_free(cl);
		return err_internal(err, "out of memory");
	}
	for (size_t i = 0; i < cl->n_req; i++)
		if (!cl->req[i]) {
			charlists_free(cl);
			return err_internal(err, "out of memory");
		}
	return 0;
}

/* Length of the UTF-8 sequence starting at s (1 for bytes that are not a
 * valid lead byte). */
static size_t u8len(const unsigned char *s)
{
	size_t l = *s < 0x80 ? 1 : (*s & 0xE0) == 0xC0 ? 2 : (*s & 0xF0) == 0xE0 ? 3 : (*s & 0xF8) == 0xF0 ? 4 : 1;
	for (size_t i = 1; i < l; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return l;
}

size_t pinpolicy_strlen(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p += u8len(p))
		n++;
	return n;
}

/* 1 when the character at c (l bytes) occurs in set. */
static int in_set(const char *set, const char *c, size_t l)
{
	size_t sl = strlen(set);
	for (size_t i = 0; i + l <= sl; i++)
		if (!memcmp(set + i, c, l))
			return 1;
	return 0;
}

int pinpolicy_check_contents(const char *pin, const char *policy, char *comment, size_t len, struct error *err)
{
	struct pin_charlists cl;
	comment[0] = '\0';
	if (pinpolicy_charlists(policy, &cl, err) < 0)
		return -1;
	int ok = 1;
	for (const unsigned char *p = (const unsigned char *)pin; *p;) {
		size_t l = u8len(p);
		if (!in_set(cl.base, (const char *)p, l)) {
			ok = 0;
			break;
		}
		p += l;
	}
	if (!ok)
		snprintf(comment, len, "%s", "Not allowed character in PIN!");
	for (size_t i = 0; i < cl.n_req; i++) {
		int found = 0;
		for (const char *p = pin; *p && !found; p++)
			found = strchr(cl.req[i], *p) != NULL;
		if (!found) {
			size_t used = strlen(comment);
			snprintf(comment + used, len - used, "%sMissing character in PIN: %s", ok ? "" : ",", cl.req[i]);
			ok = 0;
		}
	}
	charlists_free(&cl);
	return ok;
}

/* A uniformly random index below n. */
static int rand_index(size_t n, size_t *out)
{
	uint32_t r, limit = UINT32_MAX - UINT32_MAX % (uint32_t)n;
	do {
		if (crypto_random(&r, sizeof(r)) < 0)
			return -1;
	} while (r >= limit);
	*out = r % n;
	return 0;
}

int pinpolicy_random(const char *policy, size_t size, char **out, struct error *err)
{
	*out = NULL;
	struct pin_charlists cl;
	if (policy) {
		if (pinpolicy_charlists(policy, &cl, err) < 0)
			return -1;
	} else {
		memset(&cl, 0, sizeof(cl));
		char base[sizeof(LETTERS) + sizeof(DIGITS)];
		snprintf(base, sizeof(base), "%s%s", LETTERS, DIGITS);
		cl.base = strdup(base);
		if (!cl.base)
			return err_internal(err, "out of memory");
	}
	/* one character of each requirement, the rest from the base, shuffled
	 * (privacyIDEA's generate_password) */
	size_t n = size > cl.n_req ? size : cl.n_req;
	char *pw = calloc(n + 1, 1);
	int rc = pw ? 0 : -1;
	size_t k;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *set = i < cl.n_req ? cl.req[i] : cl.base;
		if (!*set)
			set = "0";
		if ((rc = rand_index(strlen(set), &k)) == 0)
			pw[i] = set[k];
	}
	for (size_t i = n; rc == 0 && i > 1; i--) {
		if ((rc = rand_index(i, &k)) == 0) {
			char tmp = pw[i - 1];
			pw[i - 1] = pw[k];
			pw[k] = tmp;
		}
	}
	charlists_free(&cl);
	if (rc < 0) {
		free(pw);
		return err_internal(err, "random generator failed");
	}
	*out = pw;
	return 0;
}
