/*
 * sextant-admin: database set-up and organization management.
 *
 *   sextant-admin --config FILE migrate
 *   sextant-admin --config FILE org create NAME
 *   sextant-admin --config FILE org secret show|rotate --org ORG_ID
 *   sextant-admin --config FILE org signature-mode --org ORG_ID slack|skyvern
 *   sextant-admin --config FILE key create --org ORG_ID
 *   sextant-admin --config FILE key revoke KEY_ID|KEY
 *   sextant-admin --config FILE gc [--days N]
 *   sextant-admin --config FILE conf get KEY
 *   sextant-admin --config FILE trace list --org ORG_ID
 *   sextant-admin --config FILE trace show|delete --org ORG_ID TRACE_ID
 *
 * Results go to stdout alone (an id, or a key shown once) so scripts can
 * capture them; everything else goes to stderr.
 */
#include "sx.h"
#include "artifact_db.h"
#include "crypto.h"
#include "conf.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "migrate.h"
#include "org_db.h"
#include "sign.h"
#include "trace_db.h"

static void usage(void)
{
	fputs("usage: sextant-admin --config FILE COMMAND\n"
	      "commands:\n"
	      "  migrate                  apply missing database migrations\n"
	      "  org create NAME          create an organization, print its id\n"
	      "  org secret show --org ORG_ID\n"
	      "                           print the webhook signing secret\n"
	      "  org secret rotate --org ORG_ID\n"
	      "                           replace the signing secret, print the new one\n"
	      "  org signature-mode --org ORG_ID slack|skyvern\n"
	      "                           sign webhooks Slack's way (default) or Skyvern's\n"
	      "  key create --org ORG_ID  create an API key, print it (shown once)\n"
	      "  key revoke KEY_ID|KEY    revoke an API key\n"
	      "  gc [--days N]            remove artifacts older than N days (default:\n"
	      "                           retention_days), never a queued or running task's\n"
	      "  conf get KEY             print KEY's value with defaults applied (no secrets)\n"
	      "  trace list --org ORG_ID  the organization's replay traces, as JSON\n"
	      "  trace show --org ORG_ID TRACE_ID\n"
	      "                           one trace with its key and steps, as JSON\n"
	      "  trace delete --org ORG_ID TRACE_ID\n"
	      "                           forget a trace: the next such task asks the model\n", stderr);
}

static int cmd_migrate(struct sx_db *db, const struct sx_conf *c)
{
	int applied = 0;
	enum sx_rc rc = migrate_run(db, c->data_dir, &applied);

	if (rc) {
		fprintf(stderr, "sextant-admin: migrate: %s\n", sx_strerror(rc));
		return 1;
	}
	fprintf(stderr, "migrations applied: %d\n", applied);
	return 0;
}

/*
 * org secret show|rotate --org ID and org signature-mode --org ID MODE.  The
 * secret is printed alone on stdout for scripts (./stack writes it to
 * var/stack.env) and wiped from memory after.
 */
static int cmd_org_signing(struct sx_db *db, int argc, char **argv)
{
	char secret[SX_SIGNING_SECRET_MAX];
	enum sign_mode mode;
	enum sx_rc rc;
	int status = 1;

	secret[0] = '\0';
	if (argc == 4 && strcmp(argv[0], "secret") == 0 && strcmp(argv[2], "--org") == 0 &&
	    (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "rotate") == 0)) {
		if (strcmp(argv[1], "show") == 0)
			rc = org_db_signing_get(db, argv[3], secret, &mode);
		else
			rc = org_db_secret_rotate(db, argv[3], secret);
		if (rc) {
			fprintf(stderr, "sextant-admin: org secret %s: %s\n", argv[1],
				rc == SX_ENOTFOUND ? "no such organization" : sx_strerror(rc));
			goto out;
		}
		printf("%s\n", secret);
		fflush(stdout);
		status = 0;
		goto out;
	}
	if (argc == 4 && strcmp(argv[0], "signature-mode") == 0 && strcmp(argv[1], "--org") == 0 &&
	    sign_mode_parse(argv[3], &mode)) {
		rc = org_db_signature_mode_set(db, argv[2], mode);
		if (rc) {
			fprintf(stderr, "sextant-admin: org signature-mode: %s\n",
				rc == SX_ENOTFOUND ? "no such organization" : sx_strerror(rc));
			goto out;
		}
		fprintf(stderr, "signature mode: %s\n", argv[3]);
		status = 0;
		goto out;
	}
	usage();
	status = 2;
out:
	crypto_wipe(secret, sizeof(secret));
	return status;
}

static int cmd_org(struct sx_db *db, int argc, char **argv)
{
	char id[SX_ID_MAX];
	enum sx_rc rc;

	if (argc >= 1 && (strcmp(argv[0], "secret") == 0 || strcmp(argv[0], "signature-mode") == 0))
		return cmd_org_signing(db, argc, argv);
	if (argc != 2 || strcmp(argv[0], "create") != 0 || !*argv[1] || strlen(argv[1]) > 255) {
		usage();
		return 2;
	}
	rc = org_db_create(db, argv[1], id);
	if (rc) {
		fprintf(stderr, "sextant-admin: org create: %s\n", sx_strerror(rc));
		return 1;
	}
	printf("%s\n", id);
	return 0;
}

static int cmd_key(struct sx_db *db, int argc, char **argv)
{
	enum sx_rc rc;

	if (argc == 3 && strcmp(argv[0], "create") == 0 && strcmp(argv[1], "--org") == 0) {
		char key[SX_API_KEY_LEN + 1], key_id[SX_ID_MAX];

		rc = org_db_key_create(db, argv[2], key, key_id);
		if (rc) {
			fprintf(stderr, "sextant-admin: key create: %s\n",
				rc == SX_ENOTFOUND ? "no such organization" : sx_strerror(rc));
			return 1;
		}
		printf("%s\n", key);
		fflush(stdout);
		crypto_wipe(key, sizeof(key));
		fprintf(stderr, "key id: %s (the key is shown once; store it now)\n", key_id);
		return 0;
	}
	if (argc == 2 && strcmp(argv[0], "revoke") == 0) {
		rc = org_db_key_revoke(db, argv[1]);
		if (rc) {
			fprintf(stderr, "sextant-admin: key revoke: %s\n",
				rc == SX_ENOTFOUND ? "no such active key" : sx_strerror(rc));
			return 1;
		}
		fprintf(stderr, "revoked\n");
		return 0;
	}
	usage();
	return 2;
}

/* Prints o to stdout as pretty JSON and puts it. */
static void print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/*
 * trace list|show|delete --org ORG_ID [TRACE_ID]: an organization's replay
 * traces (agent/replay.h).  A trace holds no secret value, so show prints
 * it whole.
 */
static int cmd_trace(struct sx_db *db, int argc, char **argv)
{
	struct trace_row t;
	json_object *list = NULL;
	enum sx_rc rc;

	if (argc < 3 || strcmp(argv[1], "--org") != 0) {
		usage();
		return 2;
	}
	if (argc == 3 && strcmp(argv[0], "list") == 0) {
		rc = trace_db_list(db, argv[2], &list);
		if (rc == SX_OK)
			print_json(list);
	} else if (argc == 4 && strcmp(argv[0], "show") == 0) {
		rc = trace_db_find(db, argv[2], argv[3], &t);
		if (rc == SX_OK)
			print_json(trace_row_to_json(&t, true));
		trace_row_release(&t);
	} else if (argc == 4 && strcmp(argv[0], "delete") == 0) {
		rc = trace_db_delete(db, argv[2], argv[3]);
		if (rc == SX_OK)
			fprintf(stderr, "deleted\n");
	} else {
		usage();
		return 2;
	}
	if (rc)
		fprintf(stderr, "sextant-admin: trace %s: %s\n", argv[0],
			rc == SX_ENOTFOUND ? "no such trace in this organization" : sx_strerror(rc));
	return rc ? 1 : 0;
}

/*
 * gc [--days N]: removes old artifacts (see artifact_db_gc) and prints what
 * it did on one line of stdout, for cron logs and scripts.
 */
static int cmd_gc(struct sx_db *db, const struct sx_conf *c, int argc, char **argv)
{
	struct artifact_gc_stats st;
	long long days = c->retention_days;
	enum sx_rc rc;

	if (argc == 2 && strcmp(argv[0], "--days") == 0) {
		if (!sx_parse_ll(argv[1], 0, 36500, &days)) {
			fprintf(stderr, "sextant-admin: gc: --days takes a number of days (0-36500)\n");
			return 2;
		}
	} else if (argc != 0) {
		usage();
		return 2;
	}
	rc = artifact_db_gc(db, c, days, &st);
	printf("artifacts_removed=%lld files_removed=%lld bytes_removed=%lld tasks_updated=%lld "
	       "artifacts_kept=%lld\n", st.rows, st.files, st.bytes, st.tasks, st.kept);
	if (rc) {
		fprintf(stderr, "sextant-admin: gc: %s\n", sx_strerror(rc));
		return 1;
	}
	return 0;
}

/*
 * conf get KEY: prints the value the programs would use for KEY, defaults
 * applied, alone on stdout (./stack reads the LLM settings this way).  Needs
 * no database.  Secret keys are refused.
 */
static int cmd_conf(const struct sx_conf *c, int argc, char **argv)
{
	char value[4096];
	enum sx_rc rc;

	if (argc != 2 || strcmp(argv[0], "get") != 0) {
		usage();
		return 2;
	}
	rc = sx_conf_get(c, argv[1], value, sizeof(value));
	if (rc) {
		fprintf(stderr, "sextant-admin: conf get %s: %s\n", argv[1],
			rc == SX_ENOTFOUND ? "no such key" :
			rc == SX_EBLOCKED ? "a secret, never printed" : sx_strerror(rc));
		return 1;
	}
	printf("%s\n", value);
	return 0;
}

int main(int argc, char **argv)
{
	struct sx_conf conf;
	struct sx_db *db = NULL;
	const char *path = NULL;
	char err[512];
	enum sx_log_level lvl = SX_LOG_WARN;
	int i = 1, status = 2;

	memset(&conf, 0, sizeof(conf));
	if (argc >= 3 && strcmp(argv[1], "--config") == 0) {
		path = argv[2];
		i = 3;
	}
	if (!path || i >= argc) {
		usage();
		goto out;
	}
	if (sx_conf_load(&conf, path, err, sizeof(err)) != SX_OK) {
		fprintf(stderr, "%s\n", err);
		status = 1;
		goto out;
	}
	sx_log_level_parse(conf.log_level, &lvl);
	sx_log_init("sextant-admin", lvl > SX_LOG_WARN ? lvl : SX_LOG_WARN);
	if (strcmp(argv[i], "conf") == 0) {
		status = cmd_conf(&conf, argc - i - 1, argv + i + 1);
		goto out;
	}
	if (sx_db_open(&db, &conf) != SX_OK) {
		fprintf(stderr, "sextant-admin: cannot connect to the database: %s\n", sx_db_error(db));
		status = 1;
		goto out;
	}
	if (strcmp(argv[i], "migrate") == 0 && argc == i + 1)
		status = cmd_migrate(db, &conf);
	else if (strcmp(argv[i], "org") == 0)
		status = cmd_org(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "key") == 0)
		status = cmd_key(db, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "gc") == 0)
		status = cmd_gc(db, &conf, argc - i - 1, argv + i + 1);
	else if (strcmp(argv[i], "trace") == 0)
		status = cmd_trace(db, argc - i - 1, argv + i + 1);
	else
		usage();
out:
	sx_db_free(db);
	sx_conf_release(&conf);
	return status;
}
