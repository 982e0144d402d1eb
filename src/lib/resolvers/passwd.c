/*
 * passwd.c — "passwdresolver": users from a flat file in /etc/passwd
 * format (name:password:uid:gid:gecos:home:shell), as privacyIDEA's
 * PasswdIdResolver reads it.
 *
 * Parameters: fileName (privacyIDEA also reads "filename"); empty means
 * /etc/passwd.  Lines are stripped of surrounding blanks; empty lines and
 * lines with fewer than three fields (or invalid UTF-8) are skipped.  The
 * uid is the third column as text.  When a name or uid occurs twice the
 * later line wins, as in privacyIDEA's dictionaries.
 *
 * GECOS, split as privacyIDEA does ("Alice Anderson,,,,alice@example.com"):
 *   description = the whole field
 *   givenname   = first comma field up to its first space, surname = the rest
 *   mobile      = 3rd comma field, phone = 4th (only when there are >= 4)
 *   email       = the last comma field from the 5th on that looks like
 *                 x@y.z (else "")
 * The password column is never part of the user info (privacyIDEA's
 * getUserInfo returns it as "cryptpass"; Tessera never hands hashes out).
 *
 * check_pass verifies the crypt(3) hash of column 2 with libxcrypt
 * (yescrypt, sha512/sha256/md5-crypt, bcrypt, DES ...) and compares in
 * constant time; "", "x", "*", "!..." and every unparsable hash never match.
 *
 * Freshness: each lookup stat()s the file; when device, inode, size, mtime
 * or ctime changed, the file is parsed again into a new immutable snapshot
 * and swapped in under the instance lock.  Readers hold a reference to the
 * snapshot they started with, so a reload never pulls data from under them.
 * The file is never written: the resolver is not editable.
 */
#include "resolver.h"
#include "../log.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define PASSWD_DEFAULT_FILE "/etc/passwd"
#define PASSWD_MAX_FILE (64L * 1024 * 1024)

struct pw_user {
	const char *username, *cryptpass, *uid, *gecos;
	const char *givenname, *surname, *phone, *mobile, *email;
};

/* One parsed version of the file.  All strings point into text/gtext. */
struct pw_snap {
	atomic_int refs;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char *text;  /* the file, fields NUL-terminated in place */
	size_t textlen; /* bytes allocated for text */
	char *gtext; /* copies of the GECOS fields, split in place */
	struct pw_user *users;
	size_t n;
	size_t *by_name, *by_uid; /* indices sorted by (key, line order) */
};

struct pw_priv {
	char *path;
	pthread_mutex_t lock;
	struct pw_snap *cur;
};

static const char empty[] = "";

/* ---- snapshots ------------------------------------------------------------ */

static void snap_unref(struct pw_snap *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	free(s->by_name);
	free(s->by_uid);
	free(s->users);
	if (s->text) {
		/* The text holds password hashes: wipe before freeing. */
		OPENSSL_cleanse(s->text, s->textlen);
		free(s->text);
	}
	free(s->gtext);
	free(s);
}

static int same_file(const struct pw_snap *s, const struct stat *st)
{
	return s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
	       s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       s->ctime.tv_sec == st->st_ctim.tv_sec && s->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* A comma field that privacyIDEA's r'.+@.+\..+' finds: since the pattern
 * starts and ends with '.+', it matches iff the whole field has an '@'
 * after at least one character, then a '.' at least one character later,
 * then at least one more character. */
static int looks_like_email(const char *f)
{
	size_t len = strlen(f);
	const char *at = len > 1 ? strchr(f + 1, '@') : NULL;
	if (at == NULL)
		return 0;
	/* The earliest usable '@' leaves the most room for the '.'. */
	for (const char *d = at + 2; d + 1 < f + len; d++)
		if (*d == '.')
			return 1;
	return 0;
}

/* Fill the GECOS-derived attributes of u from its own copy g. */
static void split_gecos(struct pw_user *u, char *g)
{
	char *fields[64];
	size_t nf = 0;
	char *p = g;

	fields[nf++] = p;
	while ((p = strchr(p, ',')) != NULL && nf < 64) {
		*p++ = '\0';
		fields[nf++] = p;
	}
	char *sp = strchr(fields[0], ' ');
	u->givenname = fields[0];
	u->surname = empty;
	if (sp != NULL) {
		*sp = '\0';
		u->surname = sp + 1;
	}
	u->mobile = u->phone = u->email = empty;
	if (nf >= 4) {
		u->mobile = fields[2];
		u->phone = fields[3];
	}
	for (size_t i = 4; i < nf; i++)
		if (looks_like_email(fields[i]))
			u->email = fields[i];
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
	const struct pw_user *u = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(u[x].username, u[y].username);
	return c ? c : (x > y) - (x < y);
}

static int cmp_uid(const void *a, const void *b, void *ctx)
{
	const struct pw_user *u = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(u[x].uid, u[y].uid);
	return c ? c : (x > y) - (x < y);
}

/* Parse text (NUL-terminated, len bytes) into s. */
static int snap_parse(struct pw_snap *s, const char *path, struct error *err)
{
	size_t len = (size_t)s->size, cap = 16;
	char *line = s->text;
	size_t lineno = 0;

	s->users = malloc(cap * sizeof(*s->users));
	s->gtext = malloc(len + 1);
	if (s->users == NULL || s->gtext == NULL)
		return err_internal(err, "out of memory");
	char *gfree = s->gtext;

	while (line != NULL && line < s->text + len) {
		char *nl = strchr(line, '\n');
		char *next = nl ? nl + 1 : NULL;
		lineno++;
		if (nl)
			*nl = '\0';
		/* Python's str.strip(): blanks at both ends. */
		char *b = line, *e = line + strlen(line);
		while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\v' || *b == '\f')
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\v' || e[-1] == '\f'))
			e--;
		*e = '\0';
		line = next;
		if (b == e)
			continue;
		if (!resolver_utf8_valid(b, (size_t)(e - b))) {
			log_warning("passwdresolver: %s line %zu is not UTF-8, skipped", path, lineno);
			continue;
		}
		char *f[8] = { 0 };
		size_t nf = 0;
		char *p = b;
		f[nf++] = p;
		while (nf < 8 && (p = strchr(p, ':')) != NULL) {
			*p++ = '\0';
			f[nf++] = p;
		}
		if (nf < 3) {
			log_warning("passwdresolver: %s line %zu has too few fields, skipped", path, lineno);
			continue;
		}
		if (s->n == cap) {
			struct pw_user *nu = reallocarray(s->users, cap * 2, sizeof(*nu));
			if (nu == NULL)
				return err_internal(err, "out of memory");
			s->users = nu;
			cap *= 2;
		}
		struct pw_user *u = &s->users[s->n++];
		u->username = f[0];
		u->cryptpass = f[1];
		u->uid = f[2];
		u->gecos = nf > 4 ? f[4] : empty;
		size_t gl = strlen(u->gecos);
		memcpy(gfree, u->gecos, gl + 1);
		split_gecos(u, gfree);
		gfree += gl + 1;
	}

	s->by_name = malloc((s->n + 1) * sizeof(size_t));
	s->by_uid = malloc((s->n + 1) * sizeof(size_t));
	if (s->by_name == NULL || s->by_uid == NULL)
		return err_internal(err, "out of memory");
	for (size_t i = 0; i < s->n; i++)
		s->by_name[i] = s->by_uid[i] = i;
	qsort_r(s->by_name, s->n, sizeof(size_t), cmp_name, s->users);
	qsort_r(s->by_uid, s->n, sizeof(size_t), cmp_uid, s->users);
	return 0;
}

/* Read and parse path into a new snapshot (refs = 1). */
static struct pw_snap *snap_load(const char *path, struct error *err)
{
	struct pw_snap *s = calloc(1, sizeof(*s));
	struct stat st;
	int fd = -1;

	if (s == NULL) {
		err_internal(err, "out of memory");
		return NULL;
	}
	atomic_init(&s->refs, 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* fstat before reading: a change made while we read bumps the mtime
	 * past what we record, so the next lookup reloads. */
	if (fd < 0 || fstat(fd, &st) != 0) {
		err_set(err, ERRK_PI, ERR_USER, "Could not read the passwd file %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PASSWD_MAX_FILE) {
		err_set(err, ERRK_PI, ERR_USER, "The passwd file %s is not a regular file of at most 64 MiB",
			path);
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
	s->textlen = (size_t)st.st_size + 1;
	s->text = malloc(s->textlen);
	if (s->text == NULL) {
		err_internal(err, "out of memory");
		goto fail;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, s->text + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, ERRK_PI, ERR_USER, "Could not read the passwd file %s: %s", path,
				strerror(errno));
			goto fail;
		}
		if (r == 0)
			break; /* shrunk meanwhile; the changed ctime triggers a reload */
		got += (size_t)r;
	}
	s->text[got] = '\0';
	/* The size we record is the size stat() reported, so a file that
	 * shrank while we read is seen as changed next time. */
	s->size = st.st_size;
	close(fd);
	fd = -1;
	/* A NUL byte ends parsing early; such a file is not a passwd file. */
	if (snap_parse(s, path, err) != 0)
		goto fail;
	return s;
fail:
	if (fd >= 0)
		close(fd);
	snap_unref(s);
	return NULL;
}

/* The current snapshot (a new reference), reloading it when the file
 * changed. */
static struct pw_snap *snap_get(struct pw_priv *pv, struct error *err)
{
	struct stat st;
	struct pw_snap *s;

	if (stat(pv->path, &st) != 0) {
		err_set(err, ERRK_PI, ERR_USER, "Could not read the passwd file %s: %s", pv->path,
			strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&pv->lock);
	s = pv->cur;
	if (s != NULL && same_file(s, &st)) {
		atomic_fetch_add(&s->refs, 1);
		pthread_mutex_unlock(&pv->lock);
		return s;
	}
	pthread_mutex_unlock(&pv->lock);

	/* Parse outside the lock so lookups are not blocked by a reload; two
	 * threads may both parse, the later swap wins, both are correct. */
	struct pw_snap *fresh = snap_load(pv->path, err);
	if (fresh == NULL)
		return NULL;
	pthread_mutex_lock(&pv->lock);
	struct pw_snap *old = pv->cur;
	pv->cur = fresh;
	atomic_fetch_add(&fresh->refs, 1);
	pthread_mutex_unlock(&pv->lock);
	snap_unref(old);
	log_info("passwdresolver: loaded %zu users from %s", fresh->n, pv->path);
	return fresh;
}

/* Last line with the given key in a sorted index, or NULL. */
static const struct pw_user *snap_find(const struct pw_snap *s, const size_t *idx, int by_uid, const char *key)
{
	size_t lo = 0, hi = s->n;
	/* Upper bound of key: first element whose key is greater. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pw_user *u = &s->users[idx[mid]];
		if (strcmp(by_uid ? u->uid : u->username, key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct pw_user *u = &s->users[idx[lo - 1]];
	return strcmp(by_uid ? u->uid : u->username, key) == 0 ? u : NULL;
}

/* ---- the vtable ------------------------------------------------------------ */

static const struct resolver_param passwd_params[] = {
	{"fileName", RP_STRING, 0, PASSWD_DEFAULT_FILE,
	 "The file in /etc/passwd format to read the users from (also accepted as \"filename\")"},
	{NULL, 0, 0, NULL, NULL},
};

static const char *config_path(const json_t *config)
{
	const char *p = resolver_cfg_str(config, "fileName", NULL);
	if (p == NULL)
		p = resolver_cfg_str(config, "filename", NULL);
	return (p == NULL || *p == '\0') ? PASSWD_DEFAULT_FILE : p;
}

static struct resolver *passwd_create(const char *name, const json_t *config, struct error *err)
{
	struct resolver *r = calloc(1, sizeof(*r));
	struct pw_priv *pv = calloc(1, sizeof(*pv));
	if (r == NULL || pv == NULL || (r->name = strdup(name ? name : "")) == NULL ||
	    (pv->path = strdup(config_path(config))) == NULL) {
		if (r)
			free(r->name);
		if (pv)
			free(pv->path);
		free(pv);
		free(r);
		err_internal(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&pv->lock, NULL);
	r->type = &passwdresolver_type;
	r->priv = pv;
	/* The file is read on first use: a file that appears later (or is
	 * temporarily unreadable) must not make the definition unusable. */
	return r;
}

static void passwd_destroy(struct resolver *r)
{
	if (r == NULL)
		return;
	struct pw_priv *pv = r->priv;
	if (pv) {
		snap_unref(pv->cur);
		pthread_mutex_destroy(&pv->lock);
		free(pv->path);
		free(pv);
	}
	free(r->name);
	free(r);
}

static json_t *user_info(const struct pw_user *u)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "username", json_string(u->username));
	json_object_set_new(o, "userid", json_string(u->uid));
	json_object_set_new(o, "description", json_string(u->gecos));
	json_object_set_new(o, "email", json_string(u->email));
	json_object_set_new(o, "givenname", json_string(u->givenname));
	json_object_set_new(o, "surname", json_string(u->surname));
	json_object_set_new(o, "phone", json_string(u->phone));
	json_object_set_new(o, "mobile", json_string(u->mobile));
	return o;
}

static int passwd_get_user_id(struct resolver *r, const char *login, char **uid, struct error *err)
{
	struct pw_snap *s = snap_get(r->priv, err);
	int rc = 1;
	if (s == NULL)
		return -1;
	const struct pw_user *u = login ? snap_find(s, s->by_name, 0, login) : NULL;
	if (u != NULL) {
		*uid = strdup(u->uid);
		rc = *uid ? 0 : err_internal(err, "out of memory");
	}
	snap_unref(s);
	return rc;
}

static int passwd_get_username(struct resolver *r, const char *uid, char **login, struct error *err)
{
	struct pw_snap *s = snap_get(r->priv, err);
	int rc = 1;
	if (s == NULL)
		return -1;
	const struct pw_user *u = uid ? snap_find(s, s->by_uid, 1, uid) : NULL;
	if (u != NULL) {
		*login = strdup(u->username);
		rc = *login ? 0 : err_internal(err, "out of memory");
	}
	snap_unref(s);
	return rc;
}

static int passwd_get_user_info(struct resolver *r, const char *uid, json_t **info, struct error *err)
{
	struct pw_snap *s = snap_get(r->priv, err);
	int rc = 1;
	if (s == NULL)
		return -1;
	const struct pw_user *u = uid ? snap_find(s, s->by_uid, 1, uid) : NULL;
	if (u != NULL) {
		*info = user_info(u);
		rc = *info ? 0 : err_internal(err, "out of memory");
	}
	snap_unref(s);
	return rc;
}

/* privacyIDEA's checkUserId: "=1000", ">=1000", "<2000", "between 1000,2000"
 * compare numerically; any other pattern is matched as text. */
static int match_uid(const char *pattern, const char *uid)
{
	const char *p = pattern;
	char *end;
	while (*p == ' ' || *p == '\t')
		p++;
	static const char *const ops[] = {">=", "<=", ">", "<", "=", "between"};
	size_t op = 0, nops = sizeof(ops) / sizeof(ops[0]);
	for (; op < nops; op++)
		if (strncmp(p, ops[op], strlen(ops[op])) == 0)
			break;
	if (op == nops)
		return resolver_wildcard_match(pattern, uid, 0);

	errno = 0;
	long long v = strtoll(uid, &end, 10);
	if (errno || end == uid || *end != '\0')
		return 0;
	p += strlen(ops[op]);
	if (op == 5) {
		long long lo, hi;
		lo = strtoll(p, &end, 10);
		if (end == p)
			return 0;
		while (*end == ' ')
			end++;
		if (*end != ',')
			return 0;
		p = end + 1;
		hi = strtoll(p, &end, 10);
		if (end == p)
			return 0;
		while (*end == ' ')
			end++;
		if (*end != '\0')
			return 0;
		if (hi < lo) {
			long long t = hi;
			hi = lo;
			lo = t;
		}
		return lo <= v && v <= hi;
	}
	long long x = strtoll(p, &end, 10);
	if (end == p)
		return 0;
	while (*end == ' ')
		end++;
	if (*end != '\0')
		return 0;
	switch (op) {
	case 0: return v >= x;
	case 1: return v <= x;
	case 2: return v > x;
	case 3: return v < x;
	default: return v == x;
	}
}

/* 1 when u matches every criterion of search; unknown keys match nobody,
 * as in privacyIDEA (its getUserList drops users for unknown fields). */
static int user_matches(const struct pw_user *u, const json_t *search)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)search, key, val) {
		if (!json_is_string(val))
			return 0;
		const char *pat = json_string_value(val);
		int ok;
		if (strcmp(key, "username") == 0)
			ok = resolver_wildcard_match(pat, u->username, 1);
		else if (strcmp(key, "userid") == 0)
			ok = match_uid(pat, u->uid);
		else if (strcmp(key, "description") == 0)
			ok = resolver_wildcard_match(pat, u->gecos, 1);
		else if (strcmp(key, "email") == 0)
			/* privacyIDEA matches "email" against the whole GECOS
			 * field; we accept that and the e-mail address itself. */
			ok = resolver_wildcard_match(pat, u->email, 1) || resolver_wildcard_match(pat, u->gecos, 1);
		else if (strcmp(key, "givenname") == 0)
			ok = resolver_wildcard_match(pat, u->givenname, 1);
		else if (strcmp(key, "surname") == 0)
			ok = resolver_wildcard_match(pat, u->surname, 1);
		else if (strcmp(key, "phone") == 0)
			ok = resolver_wildcard_match(pat, u->phone, 1);
		else if (strcmp(key, "mobile") == 0)
			ok = resolver_wildcard_match(pat, u->mobile, 1);
		else
			ok = 0;
		if (!ok)
			return 0;
	}
	return 1;
}

static int passwd_get_user_list(struct resolver *r, const json_t *search, json_t **list, struct error *err)
{
	struct pw_snap *s = snap_get(r->priv, err);
	if (s == NULL)
		return -1;
	json_t *arr = json_array();
	int rc = 0;
	if (arr == NULL) {
		rc = err_internal(err, "out of memory");
		goto out;
	}
	/* One entry per uid (the last line wins), in file order. */
	for (size_t i = 0; i < s->n; i++) {
		const struct pw_user *u = &s->users[i];
		if (snap_find(s, s->by_uid, 1, u->uid) != u)
			continue;
		if (search != NULL && json_is_object(search) && !user_matches(u, search))
			continue;
		if (json_array_append_new(arr, user_info(u)) != 0) {
			rc = err_internal(err, "out of memory");
			goto out;
		}
	}
	*list = arr;
	arr = NULL;
out:
	json_decref(arr);
	snap_unref(s);
	return rc;
}

/* Constant-time check of password against a crypt(3) hash. */
static int crypt_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	int ok = 0;
	if (hash[0] == '\0' || strcmp(hash, "x") == 0 || strcmp(hash, "*") == 0 || hash[0] == '!')
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	const char *out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	size_t hl = strlen(hash);
	if (out != NULL && out[0] != '*' && strlen(out) == hl)
		ok = CRYPTO_memcmp(out, hash, hl) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static int passwd_check_pass(struct resolver *r, const char *uid, const char *password, struct error *err)
{
	struct pw_snap *s = snap_get(r->priv, err);
	int rc = 1;
	if (s == NULL)
		return -1;
	const struct pw_user *u = uid ? snap_find(s, s->by_uid, 1, uid) : NULL;
	if (u != NULL && password != NULL) {
		int ok = crypt_verify(password, u->cryptpass);
		if (ok < 0)
			rc = err_internal(err, "out of memory");
		else
			rc = ok ? 0 : 1;
	}
	snap_unref(s);
	return rc;
}

static int passwd_editable(const struct resolver *r)
{
	return 0;
}

static int passwd_test_connection(const json_t *config, char **desc, struct error *err)
{
	const char *path = config_path(config);
	struct pw_snap *s = snap_load(path, err);
	if (s == NULL)
		return -1;
	char buf[128];
	snprintf(buf, sizeof(buf), "Resolver config seems OK. %zu Users found.", s->n);
	snap_unref(s);
	*desc = strdup(buf);
	return *desc ? 0 : err_internal(err, "out of memory");
}

const struct resolver_type passwdresolver_type = {
	.name = "passwdresolver",
	.description = "Users from a flat file in /etc/passwd format",
	.params = passwd_params,
	.create = passwd_create,
	.destroy = passwd_destroy,
	.get_user_id = passwd_get_user_id,
	.get_username = passwd_get_username,
	.get_user_info = passwd_get_user_info,
	.get_user_list = passwd_get_user_list,
	.check_pass = passwd_check_pass,
	.add_user = NULL,
	.update_user = NULL,
	.delete_user = NULL,
	.editable = passwd_editable,
	.test_connection = passwd_test_connection,
};
