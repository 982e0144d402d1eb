/*
 * local_db.c — the `openssl ca` database of the local CA connector:
 * index.txt (TXT_DB format, tab-separated, tabs inside fields escaped with
 * a backslash), index.txt.attr (unique_subject), the hex serial and
 * crlnumber files with openssl's ".new"/".old" rotation, the revocation
 * info strings, the lock that serialises every writer, and atomic file
 * writes.
 *
 * What it must not do: change the format.  Whatever is written here has
 * to be read back by `openssl ca`/`openssl ocsp -index` unchanged, and a
 * database written by them must load here.  Rows are kept as read and
 * only rows we change are re-serialised.
 *
 * Rotation differs from openssl's in one respect only: instead of
 * renaming "x" to "x.old" and then "x.new" to "x" (which leaves a moment
 * without "x"), "x.old" is made a hard link of "x" and "x.new" is renamed
 * over "x" — the same files in the end, but a reader always finds "x".
 */
#include "local_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

/* ---- files -------------------------------------------------------------- */

int calocal_fid_stat(const char *path, struct calocal_fid *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (!path || stat(path, &st) != 0)
		return -1;
	id->exists = 1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	return 0;
}

int calocal_fid_equal(const struct calocal_fid *a, const struct calocal_fid *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int calocal_read_file(const char *path, size_t max, char **data, size_t *len, struct error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, ERRK_PI, ERR_CA, "%s is not a regular file", path);
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return err_set(err, ERRK_PI, ERR_CA, "%s is too large", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_set(err, ERRK_PI, ERR_CA, "out of memory reading %s", path);
	}
	while (have < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + have, (size_t)st.st_size - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(buf);
			return err_set(err, ERRK_PI, ERR_CA, "cannot read %s: %s", path, strerror(e));
		}
		if (r == 0)
			break; /* shrank meanwhile: take what is there */
		have += (size_t)r;
	}
	close(fd);
	buf[have] = '\0';
	*data = buf;
	if (len)
		*len = have;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

void calocal_fsync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int calocal_write_temp(const char *path, const void *data, size_t len, mode_t mode, int sync,
		     char **tmp, struct error *err)
{
	char *dcopy = strdup(path), *bcopy = strdup(path), *name = NULL;
	unsigned char rnd[8];
	int fd = -1, rc = -1;
	size_t n;

	*tmp = NULL;
	if (!dcopy || !bcopy)
		goto oom;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "no random numbers for a temporary file name");
		goto out;
	}
	n = strlen(path) + 64;
	name = malloc(n);
	if (!name)
		goto oom;
	snprintf(name, n, "%s/.%s.tmp%02x%02x%02x%02x%02x%02x%02x%02x", dirname(dcopy), basename(bcopy),
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set(err, ERRK_PI, ERR_CA, "cannot create a file next to %s: %s", path, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) != 0 || (sync && fsync(fd) != 0)) {
		err_set(err, ERRK_PI, ERR_CA, "cannot write a file next to %s: %s", path, strerror(errno));
		close(fd);
		unlink(name);
		goto out;
	}
	close(fd);
	*tmp = name;
	name = NULL;
	rc = 0;
	goto out;
oom:
	err_set(err, ERRK_PI, ERR_CA, "out of memory");
out:
	free(name);
	free(dcopy);
	free(bcopy);
	return rc;
}

int calocal_write_file(const char *path, const void *data, size_t len, mode_t mode,
		     struct error *err)
{
	char *tmp;
	if (calocal_write_temp(path, data, len, mode, 1, &tmp, err) != 0)
		return -1;
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return err_set(err, ERRK_PI, ERR_CA, "cannot write %s: %s", path, strerror(e));
	}
	free(tmp);
	calocal_fsync_dir(path);
	return 0;
}

/* path.old := path (hard link, or a copy where links are not possible). */
static int keep_old(const char *path, struct error *err)
{
	char old[4096];
	if ((size_t)snprintf(old, sizeof(old), "%s.old", path) >= sizeof(old))
		return err_set(err, ERRK_PI, ERR_CA, "path too long: %s", path);
	if (unlink(old) != 0 && errno != ENOENT)
		return err_set(err, ERRK_PI, ERR_CA, "cannot remove %s: %s", old, strerror(errno));
	if (link(path, old) == 0 || errno == ENOENT)
		return 0;
	char *data;
	size_t len;
	if (calocal_read_file(path, LOCAL_MAX_INDEX, &data, &len, err) != 0)
		return -1;
	int rc = calocal_write_file(old, data, len, 0644, err);
	free(data);
	return rc;
}

/* openssl's rotate: path → path.old, path.new → path.  newpath is written. */
static int rotate(const char *path, const char *newpath, struct error *err)
{
	if (keep_old(path, err) != 0)
		return -1;
	if (rename(newpath, path) != 0) {
		int e = errno;
		unlink(newpath);
		return err_set(err, ERRK_PI, ERR_CA, "cannot rename %s to %s: %s", newpath, path,
			       strerror(e));
	}
	calocal_fsync_dir(path);
	return 0;
}

/* Write path.new (as openssl names it), synced, then rotate. */
static int write_rotated(const char *path, const void *data, size_t len, struct error *err)
{
	char newp[4096];
	int fd;
	if ((size_t)snprintf(newp, sizeof(newp), "%s.new", path) >= sizeof(newp))
		return err_set(err, ERRK_PI, ERR_CA, "path too long: %s", path);
	fd = open(newp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot create %s: %s", newp, strerror(errno));
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlink(newp);
		return err_set(err, ERRK_PI, ERR_CA, "cannot write %s: %s", newp, strerror(e));
	}
	close(fd);
	return rotate(path, newp, err);
}

/* ---- the lock ----------------------------------------------------------- */

/* flock() on a file beside index.txt.  Each call opens the file anew, so
 * the lock excludes other threads of this process (own open file
 * description) as well as other processes. */
int calocal_lock(const char *lockfile, int exclusive, struct error *err)
{
	int fd = open(lockfile, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	/* a reader (OCSP) may run where it cannot write the CA directory */
	if (fd < 0 && !exclusive && (errno == EACCES || errno == EROFS))
		fd = open(lockfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERRK_PI, ERR_CA, "cannot open the CA lock %s: %s", lockfile,
			       strerror(errno));
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return err_set(err, ERRK_PI, ERR_CA, "cannot lock %s: %s", lockfile, strerror(e));
	}
	return fd;
}

void calocal_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

/* ---- index.txt ---------------------------------------------------------- */

static void row_clear(struct calocal_row *r)
{
	for (int i = 0; i < 6; i++)
		free(r->f[i]);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

void calocal_db_free(struct calocal_db *db)
{
	for (size_t i = 0; i < db->n; i++)
		row_clear(&db->rows[i]);
	free(db->rows);
	memset(db, 0, sizeof(*db));
}

static struct calocal_row *db_new_row(struct calocal_db *db)
{
	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 64;
		struct calocal_row *r = reallocarray(db->rows, cap, sizeof(*r));
		if (!r)
			return NULL;
		db->rows = r;
		db->cap = cap;
	}
	memset(&db->rows[db->n], 0, sizeof(db->rows[0]));
	return &db->rows[db->n++];
}

/* Split one line into 6 fields exactly as TXT_DB_read does (a backslash
 * before a tab makes the tab part of the field and is dropped). */
static int split_line(const char *line, struct calocal_row *r)
{
	size_t len = strlen(line);
	char *buf = malloc(len + 1), *p = buf;
	const char *f = line;
	char *start[6];
	int n = 0, esc = 0;

	if (!buf)
		return -1;
	start[n++] = p;
	while (*f) {
		if (*f == '\t') {
			if (esc) {
				p--;
			} else {
				*p++ = '\0';
				f++;
				if (n >= 6) {
					free(buf);
					return -1;
				}
				start[n++] = p;
				continue;
			}
		}
		esc = (*f == '\\');
		*p++ = *f++;
	}
	*p = '\0';
	if (n != 6) {
		free(buf);
		return -1;
	}
	for (int i = 0; i < 6; i++) {
		r->f[i] = strdup(start[i]);
		if (!r->f[i]) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

int calocal_db_load(const char *path, struct calocal_db *db, struct error *err)
{
	char *data, *line, *next;
	size_t lineno = 0;

	memset(db, 0, sizeof(*db));
	if (calocal_read_file(path, LOCAL_MAX_INDEX, &data, NULL, err) != 0)
		return -1;
	for (line = data; *line; line = next) {
		struct calocal_row *r;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		lineno++;
		if (*line == '\0')
			continue; /* openssl rejects blank lines; we drop them */
		r = db_new_row(db);
		if (!r || !(r->raw = strdup(line)))
			goto oom;
		if (*line == '#') {
			r->comment = 1;
			continue;
		}
		if (split_line(line, r) != 0) {
			free(data);
			calocal_db_free(db);
			return err_set(err, ERRK_PI, ERR_CA, "%s line %zu: wrong number of fields", path,
				       lineno);
		}
		if (r->f[DB_TYPE][0] == '\0' || r->f[DB_SERIAL][0] == '\0') {
			free(data);
			calocal_db_free(db);
			return err_set(err, ERRK_PI, ERR_CA, "%s line %zu: empty type or serial", path,
				       lineno);
		}
	}
	free(data);
	return 0;
oom:
	free(data);
	calocal_db_free(db);
	return err_set(err, ERRK_PI, ERR_CA, "out of memory loading %s", path);
}

/* openssl compares serials as strings after skipping leading zeros. */
static int serial_cmp(const char *a, const char *b)
{
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	return strcasecmp(a, b);
}

struct calocal_row *calocal_db_find_serial(struct calocal_db *db, const char *hex)
{
	for (size_t i = 0; i < db->n; i++)
		if (!db->rows[i].comment && serial_cmp(db->rows[i].f[DB_SERIAL], hex) == 0)
			return &db->rows[i];
	return NULL;
}

int calocal_db_has_valid_name(const struct calocal_db *db, const char *name)
{
	for (size_t i = 0; i < db->n; i++) {
		const struct calocal_row *r = &db->rows[i];
		if (!r->comment && r->f[DB_TYPE][0] == 'V' && strcmp(r->f[DB_NAME], name) == 0)
			return 1;
	}
	return 0;
}

int calocal_db_add(struct calocal_db *db, const char *type, const char *exp, const char *rev,
		 const char *serial, const char *name)
{
	struct calocal_row *r = db_new_row(db);
	const char *v[6] = { type, exp, rev ? rev : "", serial, "unknown", name };
	if (!r)
		return -1;
	r->dirty = 1;
	for (int i = 0; i < 6; i++)
		if (!(r->f[i] = strdup(v[i]))) {
			row_clear(r);
			db->n--;
			return -1;
		}
	return 0;
}

/* One row as TXT_DB_write writes it: fields joined by tabs, tabs inside
 * escaped with a backslash, "\n" at the end.  Appends to *buf. */
static int row_format(const struct calocal_row *r, char **buf, size_t *len, size_t *cap)
{
	size_t need = 2;
	if (r->comment || (!r->dirty && r->raw)) {
		need += strlen(r->raw);
	} else {
		for (int i = 0; i < 6; i++)
			need += 2 * strlen(r->f[i]) + 1;
	}
	if (*len + need > *cap) {
		size_t ncap = (*cap ? *cap : 4096);
		while (ncap < *len + need)
			ncap *= 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	char *p = *buf + *len;
	if (r->comment || (!r->dirty && r->raw)) {
		size_t l = strlen(r->raw);
		memcpy(p, r->raw, l);
		p += l;
	} else {
		for (int i = 0; i < 6; i++) {
			for (const char *s = r->f[i]; *s; s++) {
				if (*s == '\t')
					*p++ = '\\';
				*p++ = *s;
			}
			if (i < 5)
				*p++ = '\t';
		}
	}
	*p++ = '\n';
	*len = (size_t)(p - *buf);
	return 0;
}

int calocal_db_append(const char *path, const struct calocal_row *row, struct error *err)
{
	char *buf = NULL;
	size_t len = 1, cap = 0;
	struct stat st;
	int rc = -1, fd;

	if (row_format(row, &buf, &len, &cap) != 0)
		return err_set(err, ERRK_PI, ERR_CA, "out of memory");
	fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, ERRK_PI, ERR_CA, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		err_set(err, ERRK_PI, ERR_CA, "cannot stat %s: %s", path, strerror(errno));
		goto close_out;
	}
	/* A last line without "\n" (hand-edited file) must not swallow ours. */
	const char *start = buf + 1;
	if (st.st_size > 0) {
		char last;
		if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
			buf[0] = '\n';
			start = buf;
		}
	}
	size_t n = len - (size_t)(start - buf);
	ssize_t w = write(fd, start, n);
	if (w != (ssize_t)n || fdatasync(fd) != 0) {
		int e = errno;
		/* never leave half a line: cut back to where we started */
		if (ftruncate(fd, st.st_size) != 0)
			e = errno;
		err_set(err, ERRK_PI, ERR_CA, "cannot append to %s: %s", path, strerror(e));
		goto close_out;
	}
	rc = 0;
close_out:
	close(fd);
out:
	free(buf);
	return rc;
}

int calocal_db_save(const char *path, const struct calocal_db *db, struct error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;
	for (size_t i = 0; i < db->n; i++)
		if (row_format(&db->rows[i], &buf, &len, &cap) != 0) {
			free(buf);
			return err_set(err, ERRK_PI, ERR_CA, "out of memory");
		}
	rc = write_rotated(path, buf ? buf : "", len, err);
	free(buf);
	return rc;
}

/* apps.c parse_yesno */
static int yesno(const char *s, int def)
{
	switch (s ? *s : 0) {
	case 'f': case 'F': case 'n': case 'N': case '0':
		return 0;
	case 't': case 'T': case 'y': case 'Y': case '1':
		return 1;
	default:
		return def;
	}
}

int calocal_db_attr_read(const char *dbpath, int *unique)
{
	char path[4096], *data, *line, *next;
	int found = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s.attr", dbpath) >= sizeof(path))
		return 0;
	if (calocal_read_file(path, 65536, &data, NULL, NULL) != 0)
		return 0;
	for (line = data; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "unique_subject", 14) != 0)
			continue;
		p += 14;
		p += strspn(p, " \t");
		if (*p != '=')
			continue;
		p++;
		p += strspn(p, " \t");
		*unique = yesno(p, 1);
		found = 1;
	}
	free(data);
	return found;
}

int calocal_db_attr_write(const char *dbpath, int unique, struct error *err)
{
	char path[4096];
	const char *text = unique ? "unique_subject = yes\n" : "unique_subject = no\n";
	if ((size_t)snprintf(path, sizeof(path), "%s.attr", dbpath) >= sizeof(path))
		return err_set(err, ERRK_PI, ERR_CA, "path too long: %s", dbpath);
	return write_rotated(path, text, strlen(text), err);
}

int calocal_db_unique_subject(const struct calocal_conf *c)
{
	int u;
	if (calocal_db_attr_read(c->database, &u))
		return u;
	return c->unique_subject;
}

/* ---- serial / crlnumber ----------------------------------------------- */

BIGNUM *calocal_serial_load(const char *path, struct error *err)
{
	char *data, *hex, *q;
	BIGNUM *bn = NULL;
	if (calocal_read_file(path, 65536, &data, NULL, err) != 0)
		return NULL;
	/* i2a_ASN1_INTEGER's format: hex digits, "\\\n" continuations. */
	hex = malloc(strlen(data) + 1);
	if (!hex) {
		free(data);
		err_set(err, ERRK_PI, ERR_CA, "out of memory");
		return NULL;
	}
	q = hex;
	for (const char *p = data; *p; p++) {
		if (strchr("0123456789abcdefABCDEF", *p))
			*q++ = *p;
		else if (!strchr(" \t\r\n\\", *p))
			break;
	}
	*q = '\0';
	if (!*hex || BN_hex2bn(&bn, hex) == 0) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "unable to load number from %s", path);
		bn = NULL;
	}
	free(hex);
	free(data);
	return bn;
}

int calocal_serial_save(const char *path, const BIGNUM *bn, struct error *err)
{
	ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
	BIO *mem = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;
	if (!ai || !mem || i2a_ASN1_INTEGER(mem, ai) <= 0 || BIO_write(mem, "\n", 1) != 1) {
		ERR_clear_error();
		err_set(err, ERRK_PI, ERR_CA, "cannot format the number for %s", path);
		goto out;
	}
	n = BIO_get_mem_data(mem, &data);
	rc = write_rotated(path, data, (size_t)n, err);
out:
	ASN1_INTEGER_free(ai);
	BIO_free(mem);
	return rc;
}

char *calocal_bn_hex(const BIGNUM *bn)
{
	char *h, *out;
	if (BN_is_zero(bn))
		return strdup("00");
	h = BN_bn2hex(bn);
	if (!h)
		return NULL;
	out = strdup(h);
	OPENSSL_free(h);
	return out;
}

/* ---- revocation info ---------------------------------------------------- */

/* apps/ca.c crl_reasons[]: the first eight are CRL reasons, the last
 * three openssl's pseudo reasons carrying an argument. */
static const char *const crl_reasons[] = {
	"unspecified", "keyCompromise", "CACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "removeFromCRL",
	"holdInstruction", "keyTime", "CAkeyTime",
};
#define NUM_REASONS (sizeof(crl_reasons) / sizeof(crl_reasons[0]))

const char *calocal_reason_canonical(const char *reason)
{
	/* privacyIDEA's CRL_REASONS plus certificateHold; removeFromCRL only
	 * makes sense in delta CRLs, which `openssl ca` does not write. */
	if (!reason || !*reason)
		return crl_reasons[0];
	for (size_t i = 0; i < 7; i++)
		if (strcasecmp(reason, crl_reasons[i]) == 0)
			return crl_reasons[i];
	return NULL;
}

char *calocal_revinfo_make(const char *reason)
{
	ASN1_TIME *t = X509_gmtime_adj(NULL, 0);
	char *s;
	size_t n;
	if (!t)
		return NULL;
	n = (size_t)t->length + strlen(reason) + 2;
	s = malloc(n);
	if (s)
		snprintf(s, n, "%.*s,%s", t->length, (const char *)t->data, reason);
	ASN1_TIME_free(t);
	return s;
}

int calocal_revinfo_parse(const char *str, ASN1_TIME **revtm, int *reason, ASN1_OBJECT **hold,
			ASN1_GENERALIZEDTIME **invtm)
{
	char *tmp = strdup(str), *rs = NULL, *arg = NULL, *p;
	int code = OCSP_REVOKED_STATUS_NOSTATUS, rc = -1;
	ASN1_TIME *t = NULL;
	ASN1_OBJECT *h = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;

	if (revtm)
		*revtm = NULL;
	if (hold)
		*hold = NULL;
	if (invtm)
		*invtm = NULL;
	if (!tmp)
		return -1;
	if ((p = strchr(tmp, ',')) != NULL) {
		*p++ = '\0';
		rs = p;
		if ((p = strchr(p, ',')) != NULL) {
			*p++ = '\0';
			arg = p;
		}
	}
	t = ASN1_TIME_new();
	if (!t || !ASN1_TIME_set_string(t, tmp))
		goto out;
	if (rs) {
		for (size_t i = 0; i < NUM_REASONS; i++)
			if (strcasecmp(rs, crl_reasons[i]) == 0) {
				code = (int)i;
				break;
			}
		if (code == OCSP_REVOKED_STATUS_NOSTATUS)
			goto out;
		if (code == 7) {
			code = OCSP_REVOKED_STATUS_REMOVEFROMCRL;
		} else if (code == 8) {
			if (!arg || !(h = OBJ_txt2obj(arg, 0)))
				goto out;
			code = OCSP_REVOKED_STATUS_CERTIFICATEHOLD;
		} else if (code == 9 || code == 10) {
			inv = ASN1_GENERALIZEDTIME_new();
			if (!arg || !inv || !ASN1_GENERALIZEDTIME_set_string(inv, arg))
				goto out;
			code = code == 9 ? OCSP_REVOKED_STATUS_KEYCOMPROMISE
					 : OCSP_REVOKED_STATUS_CACOMPROMISE;
		}
	}
	if (reason)
		*reason = code;
	if (revtm) {
		*revtm = t;
		t = NULL;
	}
	if (hold) {
		*hold = h;
		h = NULL;
	}
	if (invtm) {
		*invtm = inv;
		inv = NULL;
	}
	rc = 0;
out:
	ERR_clear_error();
	ASN1_TIME_free(t);
	ASN1_OBJECT_free(h);
	ASN1_GENERALIZEDTIME_free(inv);
	free(tmp);
	return rc;
}
