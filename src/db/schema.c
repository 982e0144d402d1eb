/*
 * schema.c — the database schema and its versioned migrations.
 *
 * Table and column names are privacyIDEA 3.8's (models.py), plus the
 * audit columns of 3.12 (authentication, user_agent, user_agent_version,
 * container_serial, container_type), so a privacyIDEA administrator finds
 * what they expect.  Column TYPES are chosen to behave identically on
 * SQLite and PostgreSQL:
 *  - text is TEXT (no VARCHAR(n): PostgreSQL would reject long values that
 *    SQLite keeps; privacyIDEA's lengths are enforced by the code);
 *  - booleans are INTEGER 0/1;
 *  - timestamps are TEXT "YYYY-MM-DD HH:MM:SS.ffffff" UTC (db.h DB_TS_LEN),
 *    sortable as text; the audit duration is DOUBLE PRECISION seconds;
 *  - ids are @PK@ (SQLite INTEGER PRIMARY KEY AUTOINCREMENT — ids are never
 *    reused, like PostgreSQL's BIGSERIAL PRIMARY KEY); references BIGINT;
 *  - privacyIDEA's mixed-case columns ("Key", "Value", "Type",
 *    "Description") and reserved words ("user", "default", ...) are quoted
 *    here and must be quoted the same way in queries.
 * Child rows (tokeninfo, tokenowner, tokenrealm, *config, *option, ...)
 * are deleted with their parent (ON DELETE CASCADE); a realm still used by
 * a token owner cannot be deleted.
 *
 * Migrations are append-only: never edit a released one, add the next.
 * This file must not hold queries of the application; those live in the
 * store_*.c files.
 */
#include "db_impl.h"

#include <stdlib.h>
#include <string.h>

/* Key of the PostgreSQL advisory lock that serialises concurrent migrators. */
#define SCHEMA_LOCK_KEY 0x7e55e7a5c4e3a001LL

static const char MIGRATION_1[] =
	/* ---- system configuration ---- */
	"CREATE TABLE config ("
	" \"Key\" TEXT NOT NULL PRIMARY KEY,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '',"
	" \"Description\" TEXT DEFAULT '');\n"
	"CREATE TABLE admin ("
	" username TEXT NOT NULL PRIMARY KEY,"
	" password TEXT,"
	" email TEXT);\n"
	/* ---- realms and resolvers ---- */
	"CREATE TABLE realm ("
	" id @PK@,"
	" name TEXT NOT NULL DEFAULT '' UNIQUE,"
	" \"default\" INTEGER DEFAULT 0,"
	" \"option\" TEXT DEFAULT '');\n"
	"CREATE TABLE resolver ("
	" id @PK@,"
	" name TEXT NOT NULL DEFAULT '' UNIQUE,"
	" rtype TEXT NOT NULL DEFAULT '');\n"
	"CREATE TABLE resolverconfig ("
	" id @PK@,"
	" resolver_id BIGINT REFERENCES resolver (id) ON DELETE CASCADE,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '',"
	" \"Description\" TEXT DEFAULT '',"
	" CONSTRAINT rcix_2 UNIQUE (resolver_id, \"Key\"));\n"
	"CREATE TABLE resolverrealm ("
	" id @PK@,"
	" resolver_id BIGINT REFERENCES resolver (id) ON DELETE CASCADE,"
	" realm_id BIGINT REFERENCES realm (id) ON DELETE CASCADE,"
	" priority INTEGER,"
	" CONSTRAINT rrix_2 UNIQUE (resolver_id, realm_id));\n"
	"CREATE INDEX ix_resolverrealm_realm_id ON resolverrealm (realm_id);\n"
	/* ---- tokens ---- */
	"CREATE TABLE token ("
	" id @PK@,"
	" description TEXT DEFAULT '',"
	" serial TEXT NOT NULL DEFAULT '',"
	" tokentype TEXT DEFAULT 'HOTP',"
	" user_pin TEXT DEFAULT '',"
	" user_pin_iv TEXT DEFAULT '',"
	" so_pin TEXT DEFAULT '',"
	" so_pin_iv TEXT DEFAULT '',"
	" pin_seed TEXT DEFAULT '',"
	" otplen INTEGER DEFAULT 6,"
	" pin_hash TEXT DEFAULT '',"
	" key_enc TEXT DEFAULT '',"
	" key_iv TEXT DEFAULT '',"
	" maxfail INTEGER DEFAULT 10,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" revoked INTEGER DEFAULT 0,"
	" locked INTEGER DEFAULT 0,"
	" failcount INTEGER DEFAULT 0,"
	" \"count\" BIGINT DEFAULT 0,"
	" count_window INTEGER DEFAULT 10,"
	" sync_window INTEGER DEFAULT 1000,"
	" rollout_state TEXT DEFAULT '');\n"
	"CREATE UNIQUE INDEX ix_token_serial ON token (serial);\n"
	"CREATE INDEX ix_token_tokentype ON token (tokentype);\n"
	"CREATE TABLE tokeninfo ("
	" id @PK@,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '',"
	" \"Description\" TEXT DEFAULT '',"
	" token_id BIGINT REFERENCES token (id) ON DELETE CASCADE,"
	" CONSTRAINT tiix_2 UNIQUE (token_id, \"Key\"));\n"
	"CREATE TABLE tokenowner ("
	" id @PK@,"
	" token_id BIGINT REFERENCES token (id) ON DELETE CASCADE,"
	" resolver TEXT DEFAULT '',"
	" user_id TEXT DEFAULT '',"
	" realm_id BIGINT REFERENCES realm (id));\n"
	"CREATE INDEX ix_tokenowner_user_id_resolver ON tokenowner (user_id, resolver);\n"
	"CREATE INDEX ix_tokenowner_resolver ON tokenowner (resolver);\n"
	"CREATE INDEX ix_tokenowner_token_id ON tokenowner (token_id);\n"
	"CREATE INDEX ix_tokenowner_realm_id ON tokenowner (realm_id);\n"
	"CREATE TABLE tokenrealm ("
	" id @PK@,"
	" token_id BIGINT REFERENCES token (id) ON DELETE CASCADE,"
	" realm_id BIGINT REFERENCES realm (id) ON DELETE CASCADE,"
	" CONSTRAINT trix_2 UNIQUE (token_id, realm_id));\n"
	"CREATE INDEX ix_tokenrealm_realm_id ON tokenrealm (realm_id);\n"
	"CREATE TABLE tokengroup ("
	" id @PK@,"
	" name TEXT NOT NULL DEFAULT '' UNIQUE,"
	" \"Description\" TEXT DEFAULT '');\n"
	"CREATE TABLE tokentokengroup ("
	" id @PK@,"
	" token_id BIGINT REFERENCES token (id) ON DELETE CASCADE,"
	" tokengroup_id BIGINT REFERENCES tokengroup (id) ON DELETE CASCADE,"
	" CONSTRAINT ttgix_2 UNIQUE (token_id, tokengroup_id));\n"
	"CREATE INDEX ix_tokentokengroup_tokengroup_id ON tokentokengroup (tokengroup_id);\n"
	"CREATE TABLE challenge ("
	" id @PK@,"
	" transaction_id TEXT NOT NULL,"
	" data TEXT DEFAULT '',"
	" challenge TEXT DEFAULT '',"
	" \"session\" TEXT DEFAULT '',"
	" serial TEXT DEFAULT '',"
	" \"timestamp\" TEXT,"
	" expiration TEXT,"
	" received_count INTEGER DEFAULT 0,"
	" otp_valid INTEGER DEFAULT 0);\n"
	"CREATE INDEX ix_challenge_transaction_id ON challenge (transaction_id);\n"
	"CREATE INDEX ix_challenge_serial ON challenge (serial);\n"
	"CREATE INDEX ix_challenge_expiration ON challenge (expiration);\n"
	/* ---- policies and events ---- */
	"CREATE TABLE policy ("
	" id @PK@,"
	" active INTEGER DEFAULT 1,"
	" check_all_resolvers INTEGER DEFAULT 0,"
	" name TEXT NOT NULL UNIQUE,"
	" scope TEXT NOT NULL,"
	" \"action\" TEXT DEFAULT '',"
	" realm TEXT DEFAULT '',"
	" adminrealm TEXT DEFAULT '',"
	" adminuser TEXT DEFAULT '',"
	" resolver TEXT DEFAULT '',"
	" pinode TEXT DEFAULT '',"
	" \"user\" TEXT DEFAULT '',"
	" client TEXT DEFAULT '',"
	" \"time\" TEXT DEFAULT '',"
	" priority INTEGER NOT NULL DEFAULT 1);\n"
	"CREATE TABLE policycondition ("
	" id @PK@,"
	" policy_id BIGINT NOT NULL REFERENCES policy (id) ON DELETE CASCADE,"
	" section TEXT NOT NULL,"
	" \"Key\" TEXT NOT NULL,"
	" comparator TEXT NOT NULL DEFAULT 'equals',"
	" \"Value\" TEXT NOT NULL DEFAULT '',"
	" active INTEGER NOT NULL DEFAULT 1);\n"
	"CREATE INDEX ix_policycondition_policy_id ON policycondition (policy_id);\n"
	"CREATE TABLE eventhandler ("
	" id @PK@,"
	" name TEXT,"
	" active INTEGER DEFAULT 1,"
	" ordering INTEGER NOT NULL DEFAULT 0,"
	" \"position\" TEXT DEFAULT 'post',"
	" event TEXT NOT NULL,"
	" handlermodule TEXT NOT NULL,"
	" \"condition\" TEXT DEFAULT '',"
	" \"action\" TEXT DEFAULT '');\n"
	"CREATE TABLE eventhandleroption ("
	" id @PK@,"
	" eventhandler_id BIGINT REFERENCES eventhandler (id) ON DELETE CASCADE,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '',"
	" \"Description\" TEXT DEFAULT '',"
	" CONSTRAINT ehoix_1 UNIQUE (eventhandler_id, \"Key\"));\n"
	"CREATE TABLE eventhandlercondition ("
	" id @PK@,"
	" eventhandler_id BIGINT REFERENCES eventhandler (id) ON DELETE CASCADE,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" comparator TEXT DEFAULT 'equal',"
	" CONSTRAINT ehcix_1 UNIQUE (eventhandler_id, \"Key\"));\n"
	"CREATE TABLE eventcounter ("
	" id @PK@,"
	" counter_name TEXT NOT NULL,"
	" counter_value BIGINT DEFAULT 0,"
	" node TEXT NOT NULL,"
	" CONSTRAINT evctr_1 UNIQUE (counter_name, node));\n"
	"CREATE TABLE periodictask ("
	" id @PK@,"
	" name TEXT NOT NULL UNIQUE,"
	" active INTEGER NOT NULL DEFAULT 1,"
	" retry_if_failed INTEGER NOT NULL DEFAULT 1,"
	" \"interval\" TEXT NOT NULL,"
	" nodes TEXT NOT NULL,"
	" taskmodule TEXT NOT NULL,"
	" ordering INTEGER NOT NULL DEFAULT 0,"
	" last_update TEXT NOT NULL);\n"
	"CREATE TABLE periodictaskoption ("
	" id @PK@,"
	" periodictask_id BIGINT REFERENCES periodictask (id) ON DELETE CASCADE,"
	" \"key\" TEXT NOT NULL,"
	" \"value\" TEXT DEFAULT '',"
	" CONSTRAINT ptoix_1 UNIQUE (periodictask_id, \"key\"));\n"
	"CREATE TABLE periodictasklastrun ("
	" id @PK@,"
	" periodictask_id BIGINT REFERENCES periodictask (id) ON DELETE CASCADE,"
	" node TEXT NOT NULL,"
	" \"timestamp\" TEXT NOT NULL,"
	" CONSTRAINT ptlrix_1 UNIQUE (periodictask_id, node));\n"
	/* ---- audit ---- */
	"CREATE TABLE pidea_audit ("
	" id @PK@,"
	" \"date\" TEXT,"
	" startdate TEXT,"
	" duration DOUBLE PRECISION,"
	" signature TEXT,"
	" \"action\" TEXT,"
	" success INTEGER,"
	" authentication TEXT,"
	" serial TEXT,"
	" token_type TEXT,"
	" container_serial TEXT,"
	" container_type TEXT,"
	" \"user\" TEXT,"
	" realm TEXT,"
	" resolver TEXT,"
	" administrator TEXT,"
	" action_detail TEXT,"
	" info TEXT,"
	" privacyidea_server TEXT,"
	" client TEXT,"
	" user_agent TEXT,"
	" user_agent_version TEXT,"
	" loglevel TEXT,"
	" clearance_level TEXT,"
	" thread_id TEXT,"
	" policies TEXT);\n"
	"CREATE INDEX ix_pidea_audit_date ON pidea_audit (\"date\");\n"
	"CREATE INDEX ix_pidea_audit_serial ON pidea_audit (serial);\n"
	"CREATE INDEX ix_pidea_audit_user ON pidea_audit (\"user\");\n"
	/* ---- CA connectors, servers, gateways ---- */
	"CREATE TABLE caconnector ("
	" id @PK@,"
	" name TEXT NOT NULL DEFAULT '' UNIQUE,"
	" catype TEXT NOT NULL DEFAULT '');\n"
	"CREATE TABLE caconnectorconfig ("
	" id @PK@,"
	" caconnector_id BIGINT REFERENCES caconnector (id) ON DELETE CASCADE,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '',"
	" \"Description\" TEXT DEFAULT '',"
	" CONSTRAINT ccix_2 UNIQUE (caconnector_id, \"Key\"));\n"
	"CREATE TABLE smtpserver ("
	" id @PK@,"
	" identifier TEXT NOT NULL UNIQUE,"
	" server TEXT NOT NULL,"
	" port INTEGER DEFAULT 25,"
	" username TEXT DEFAULT '',"
	" password TEXT DEFAULT '',"
	" sender TEXT DEFAULT '',"
	" tls INTEGER DEFAULT 0,"
	" description TEXT DEFAULT '',"
	" timeout INTEGER DEFAULT 10,"
	" enqueue_job INTEGER NOT NULL DEFAULT 0);\n"
	"CREATE TABLE smsgateway ("
	" id @PK@,"
	" identifier TEXT NOT NULL UNIQUE,"
	" description TEXT DEFAULT '',"
	" providermodule TEXT NOT NULL);\n"
	"CREATE TABLE smsgatewayoption ("
	" id @PK@,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT 'option',"
	" gateway_id BIGINT REFERENCES smsgateway (id) ON DELETE CASCADE,"
	" CONSTRAINT sgix_1 UNIQUE (gateway_id, \"Key\", \"Type\"));\n"
	"CREATE TABLE radiusserver ("
	" id @PK@,"
	" identifier TEXT NOT NULL UNIQUE,"
	" server TEXT NOT NULL,"
	" port INTEGER DEFAULT 1812,"
	" secret TEXT DEFAULT '',"
	" dictionary TEXT DEFAULT '/etc/privacyidea/dictionary',"
	" description TEXT DEFAULT '',"
	" timeout INTEGER DEFAULT 5,"
	" retries INTEGER DEFAULT 3);\n"
	"CREATE TABLE privacyideaserver ("
	" id @PK@,"
	" identifier TEXT NOT NULL UNIQUE,"
	" url TEXT NOT NULL,"
	" tls INTEGER DEFAULT 0,"
	" description TEXT DEFAULT '');\n"
	/* ---- machines ---- */
	"CREATE TABLE machineresolver ("
	" id @PK@,"
	" name TEXT NOT NULL DEFAULT '' UNIQUE,"
	" rtype TEXT NOT NULL DEFAULT '');\n"
	"CREATE TABLE machineresolverconfig ("
	" id @PK@,"
	" resolver_id BIGINT REFERENCES machineresolver (id) ON DELETE CASCADE,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '',"
	" \"Description\" TEXT DEFAULT '',"
	" CONSTRAINT mrcix_2 UNIQUE (resolver_id, \"Key\"));\n"
	"CREATE TABLE machinetoken ("
	" id @PK@,"
	" token_id BIGINT REFERENCES token (id) ON DELETE CASCADE,"
	" machineresolver_id BIGINT,"
	" machine_id TEXT,"
	" application TEXT);\n"
	"CREATE INDEX ix_machinetoken_token_id ON machinetoken (token_id);\n"
	"CREATE TABLE machinetokenoptions ("
	" id @PK@,"
	" machinetoken_id BIGINT REFERENCES machinetoken (id) ON DELETE CASCADE,"
	" mt_key TEXT NOT NULL,"
	" mt_value TEXT NOT NULL);\n"
	"CREATE INDEX ix_machinetokenoptions_machinetoken_id ON machinetokenoptions (machinetoken_id);\n"
	/* ---- users: caches, attributes, password reset ---- */
	"CREATE TABLE customuserattribute ("
	" id @PK@,"
	" user_id TEXT DEFAULT '',"
	" resolver TEXT DEFAULT '',"
	" realm_id BIGINT REFERENCES realm (id) ON DELETE CASCADE,"
	" \"Key\" TEXT NOT NULL,"
	" \"Value\" TEXT DEFAULT '',"
	" \"Type\" TEXT DEFAULT '');\n"
	"CREATE INDEX ix_customuserattribute_user ON customuserattribute (user_id, resolver);\n"
	"CREATE INDEX ix_customuserattribute_realm_id ON customuserattribute (realm_id);\n"
	"CREATE TABLE usercache ("
	" id @PK@,"
	" username TEXT DEFAULT '',"
	" used_login TEXT DEFAULT '',"
	" resolver TEXT DEFAULT '',"
	" user_id TEXT DEFAULT '',"
	" \"timestamp\" TEXT);\n"
	"CREATE INDEX ix_usercache_used_login ON usercache (used_login, resolver);\n"
	"CREATE INDEX ix_usercache_username ON usercache (username);\n"
	"CREATE INDEX ix_usercache_user_id ON usercache (user_id, resolver);\n"
	"CREATE INDEX ix_usercache_timestamp ON usercache (\"timestamp\");\n"
	"CREATE TABLE authcache ("
	" id @PK@,"
	" first_auth TEXT,"
	" last_auth TEXT,"
	" username TEXT DEFAULT '',"
	" resolver TEXT DEFAULT '',"
	" realm TEXT DEFAULT '',"
	" client_ip TEXT DEFAULT '',"
	" user_agent TEXT DEFAULT '',"
	" auth_count INTEGER DEFAULT 0,"
	" authentication TEXT DEFAULT '');\n"
	"CREATE INDEX ix_authcache_user ON authcache (username, realm, resolver);\n"
	"CREATE INDEX ix_authcache_last_auth ON authcache (last_auth);\n"
	"CREATE TABLE passwordreset ("
	" id @PK@,"
	" recoverycode TEXT NOT NULL,"
	" username TEXT NOT NULL,"
	" realm TEXT NOT NULL,"
	" resolver TEXT,"
	" email TEXT,"
	" \"timestamp\" TEXT,"
	" expiration TEXT);\n"
	"CREATE INDEX ix_passwordreset_user ON passwordreset (username, realm);\n"
	/* ---- bookkeeping ---- */
	"CREATE TABLE subscription ("
	" id @PK@,"
	" application TEXT,"
	" for_name TEXT NOT NULL,"
	" for_address TEXT,"
	" for_email TEXT NOT NULL,"
	" for_phone TEXT NOT NULL,"
	" for_url TEXT,"
	" for_comment TEXT,"
	" by_name TEXT NOT NULL,"
	" by_email TEXT NOT NULL,"
	" by_address TEXT,"
	" by_phone TEXT,"
	" by_url TEXT,"
	" date_from TEXT,"
	" date_till TEXT,"
	" num_users INTEGER,"
	" num_tokens INTEGER,"
	" num_clients INTEGER,"
	" level TEXT,"
	" signature TEXT);\n"
	"CREATE INDEX ix_subscription_application ON subscription (application);\n"
	"CREATE TABLE clientapplication ("
	" id @PK@,"
	" ip TEXT NOT NULL,"
	" hostname TEXT,"
	" clienttype TEXT NOT NULL,"
	" lastseen TEXT,"
	" node TEXT NOT NULL,"
	" CONSTRAINT caix UNIQUE (ip, clienttype, node));\n"
	"CREATE INDEX ix_clientapplication_clienttype ON clientapplication (clienttype);\n"
	"CREATE INDEX ix_clientapplication_lastseen ON clientapplication (lastseen);\n"
	"CREATE TABLE monitoringstats ("
	" id @PK@,"
	" \"timestamp\" TEXT NOT NULL,"
	" stats_key TEXT NOT NULL,"
	" stats_value BIGINT NOT NULL DEFAULT 0,"
	" CONSTRAINT msix_1 UNIQUE (\"timestamp\", stats_key));\n"
	"CREATE INDEX ix_monitoringstats_key ON monitoringstats (stats_key, \"timestamp\");\n";

struct migration {
	int version;
	const char *ddl;
};

/* Append-only. */
static const struct migration migrations[] = {
	{ 1, MIGRATION_1 },
};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int db_schema_expected(void)
{
	return migrations[NMIGRATIONS - 1].version;
}

/* The dialect placeholders of the DDL and their spelling per back end. */
static const struct {
	const char *mark, *sqlite, *pg;
} dialect[] = {
	{ "@PK@", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY" },
	{ "@BLOB@", "BLOB", "BYTEA" },
};
#define NDIALECT (sizeof(dialect) / sizeof(dialect[0]))

/* Length of the replacement for a placeholder at s, or -1 if none is there. */
static int dialect_at(const char *s, enum db_backend b, const char **repl)
{
	for (size_t i = 0; i < NDIALECT; i++) {
		size_t n = strlen(dialect[i].mark);
		if (strncmp(s, dialect[i].mark, n) == 0) {
			*repl = b == DB_SQLITE ? dialect[i].sqlite : dialect[i].pg;
			return (int)n;
		}
	}
	return -1;
}

/* The DDL with placeholders substituted for back end b (malloc'd). */
static char *schema_render(const char *ddl, enum db_backend b, struct error *err)
{
	size_t cap = strlen(ddl) + 1, marks = 0;
	for (const char *p = ddl; (p = strchr(p, '@')); p++)
		marks++;
	cap += marks * 40; /* longer than any replacement */
	char *out = malloc(cap);
	if (!out) {
		err_internal(err, "out of memory");
		return NULL;
	}
	size_t o = 0;
	for (const char *p = ddl; *p;) {
		const char *repl;
		int n = *p == '@' ? dialect_at(p, b, &repl) : -1;
		if (n > 0) {
			size_t rl = strlen(repl);
			memcpy(out + o, repl, rl);
			o += rl;
			p += n;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

static int schema_table_exists(struct db_conn *c, int *exists, struct error *err)
{
	int64_t n = 0;
	int rc;
	if (db_backend(c->db) == DB_SQLITE)
		rc = db_query_int(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tessera_schema'",
				  NULL, 0, &n, NULL, err);
	else
		rc = db_query_int(c, "SELECT CASE WHEN to_regclass('tessera_schema') IS NULL THEN 0 ELSE 1 END",
				  NULL, 0, &n, NULL, err);
	*exists = n > 0;
	return rc;
}

static int schema_read_version(struct db_conn *c, int *version, struct error *err)
{
	int exists;
	int64_t v = 0;
	*version = 0;
	if (schema_table_exists(c, &exists, err) < 0)
		return -1;
	if (exists && db_query_int(c, "SELECT max(version) FROM tessera_schema", NULL, 0, &v, NULL, err) < 0)
		return -1;
	*version = (int)v;
	return 0;
}

/* Lock out other migrators, then (re)read the version inside the
 * transaction: another process may have migrated while we waited. */
static int schema_lock_and_read(struct db_conn *c, int *version, struct error *err)
{
	if (db_begin_write(c, err) < 0)
		return -1;
	if (db_lock_xact(c, SCHEMA_LOCK_KEY, err) < 0)
		return -1;
	if (db_exec(c, "CREATE TABLE IF NOT EXISTS tessera_schema (version INTEGER NOT NULL)", NULL, 0, NULL,
		    err) < 0)
		return -1;
	return schema_read_version(c, version, err);
}

static int schema_apply(struct db_conn *c, const struct migration *m, struct error *err)
{
	int current;
	if (schema_lock_and_read(c, &current, err) < 0)
		goto fail;
	if (current < m->version) {
		char *ddl = schema_render(m->ddl, db_backend(c->db), err);
		if (!ddl)
			goto fail;
		int rc = db_exec_script(c, ddl, err);
		free(ddl);
		struct db_param p[] = { DB_INT(m->version) };
		if (rc < 0 || db_exec(c, "INSERT INTO tessera_schema (version) VALUES (?)", p, 1, NULL, err) < 0)
			goto fail;
	}
	if (db_commit(c, err) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(c);
	return -1;
}

int db_migrate(struct db *db, struct error *err)
{
	struct db_conn *c = db_acquire(db, err);
	if (!c)
		return -1;
	int current, rc = schema_read_version(c, &current, err);
	if (rc == 0 && current > db_schema_expected())
		rc = err_internal(err, "the database schema (version %d) is newer than this Tessera expects (%d)",
				  current, db_schema_expected());
	for (int i = 0; rc == 0 && i < NMIGRATIONS; i++)
		if (migrations[i].version > current && schema_apply(c, &migrations[i], err) < 0)
			rc = -1;
	db_release(c);
	return rc;
}

int db_schema_version(struct db *db, int *version, struct error *err)
{
	struct db_conn *c = db_acquire(db, err);
	if (!c)
		return -1;
	int rc = schema_read_version(c, version, err);
	db_release(c);
	return rc;
}
