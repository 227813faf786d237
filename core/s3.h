#ifndef SX_S3_H
#define SX_S3_H
/*
 * Artifacts in S3-compatible object storage (artifacts_backend = s3): the
 * object of an artifact is <s3_bucket>/<relative artifact path> at
 * s3_endpoint, addressed path-style (https://endpoint/bucket/key), which
 * AWS, MinIO, Ceph RGW, Garage and the other S3-compatible servers answer.
 * Credentials are read from the environment variables the config names
 * (s3_access_key_env, s3_secret_key_env: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY by default) at each use, and never logged.
 *
 * Writes are signed by libcurl itself (CURLOPT_AWS_SIGV4, through
 * core/http.c).  Reads are not made by Sextant at all: sextant-api answers a
 * valid signed artifact URL of ours with a redirect to a presigned GET URL
 * of the object (AWS Signature Version 4 in the query string, which libcurl
 * has no call for, so it is computed here), valid for S3_PRESIGN_SECONDS.
 */
#include "sx.h"

struct sx_conf;
struct http_client;

/* How long the presigned URL a redirect points at stays valid. */
#define S3_PRESIGN_SECONDS 300

/* True when the config stores artifacts in object storage. */
bool s3_enabled(const struct sx_conf *c);

/*
 * Stores len bytes of data as the object key (a relative artifact path,
 * arturl_path_safe()), with content_type.  SX_OK once the server answered
 * 2xx; SX_EIO for any other answer (logged with its status), SX_EHTTP /
 * SX_ETIMEOUT when none came, SX_ECONFIG when the credentials' variables
 * are not set.
 */
enum sx_rc s3_put(struct http_client *hc, const struct sx_conf *c, const char *key,
		  const void *data, size_t len, const char *content_type);

/* Deletes the object key; SX_OK also when it did not exist. */
enum sx_rc s3_delete(struct http_client *hc, const struct sx_conf *c, const char *key);

/*
 * The presigned GET URL of the object key, valid from now (unix seconds)
 * for ttl seconds; NULL when the credentials are not set or key is not a
 * safe artifact path.  Caller frees.
 */
char *s3_presign_get(const struct sx_conf *c, const char *key, long long now, long long ttl);

/*
 * The presigned GET URL of path (already URI-encoded, starting with '/')
 * at endpoint: the signing itself, for s3_presign_get() and the unit tests'
 * published AWS example.  Caller frees.
 */
char *s3_presign_url(const char *endpoint, const char *path, const char *region,
		     const char *akey, const char *secret, long long now, long long ttl);
#endif
