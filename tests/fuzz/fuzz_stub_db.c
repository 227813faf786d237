/*
 * The database as the fuzz targets see it: no MariaDB, only what the
 * handlers under test call.  task_db_create records what it was asked to
 * store (fuzz_created) so that a target can check what the API would have
 * written; every other call answers SX_EDB, which handlers turn into a 503.
 */
#include "fuzz_stub_db.h"
#include "delivery_db.h"
#include "org_db.h"
#include "task_db.h"

struct fuzz_created fuzz_created;

void fuzz_created_reset(void)
{
	free(fuzz_created.idem_key);
	memset(&fuzz_created, 0, sizeof(fuzz_created));
}

enum sx_rc task_db_create(struct sx_db *db, const char *org_id,
			  json_object *request, json_object *run_request, long long max_steps,
			  const char *idem_key, long long ttl_seconds,
			  char id_out[SX_ID_MAX], bool *existing)
{
	fuzz_created.calls++;
	fuzz_created.max_steps = max_steps;
	free(fuzz_created.idem_key);
	fuzz_created.idem_key = idem_key ? xstrdup(idem_key) : NULL;
	fuzz_created.has_request = request != NULL;
	snprintf(id_out, SX_ID_MAX, "tsk_%s", "00000000000000000000000000");
	*existing = false;
	return SX_OK;
}

enum sx_rc task_db_create_by_key(struct sx_db *db, const char *key, size_t keylen,
				 json_object *request, json_object *run_request,
				 long long max_steps, const char *idem_key, long long ttl_seconds,
				 char id_out[SX_ID_MAX], char org_out[SX_ID_MAX], bool *existing)
{
	snprintf(org_out, SX_ID_MAX, "org_%s", "00000000000000000000000000");
	return task_db_create(db, org_out, request, run_request, max_steps, idem_key,
			      ttl_seconds, id_out, existing);
}

enum sx_rc auth_lookup_key(struct sx_db *db, const char *key, size_t keylen,
			   char org_id[SX_ID_MAX])
{
	return SX_EDB;
}

enum sx_rc task_db_get(struct sx_db *db, const char *org_id, const char *task_id,
		       const struct sx_conf *artifact_base, struct task *out)
{
	return SX_EDB;
}

enum sx_rc task_db_get_by_key(struct sx_db *db, const char *key, size_t keylen,
			      const char *task_id, const struct sx_conf *conf, struct task *out)
{
	return SX_EDB;
}

enum sx_rc task_db_list(struct sx_db *db, const char *org_id, const struct task_list_query *q,
			const struct sx_conf *artifact_base, struct task_list_page *out)
{
	return SX_EDB;
}

enum sx_rc task_db_cancel(struct sx_db *db, const char *org_id, const char *task_id,
			  enum task_status *current)
{
	return SX_EDB;
}

enum sx_rc task_db_steps(struct sx_db *db, const char *org_id, const char *task_id,
			 json_object **out)
{
	return SX_EDB;
}

enum sx_rc task_db_owned(struct sx_db *db, const char *org_id, const char *task_id)
{
	return SX_EDB;
}

enum sx_rc delivery_db_queue_again(struct sx_db *db, const char *task_id, char id_out[SX_ID_MAX])
{
	return SX_EDB;
}
