#include "s3.h"
#include "conf.h"

#include <stdlib.h>
#include <criterion/criterion.h>

/*
 * AWS's published example of a presigned GET (Signature Version 4, query
 * string authentication): examplebucket/test.txt, us-east-1, 24 May 2013
 * 00:00:00 UTC, valid 86400 seconds, with the documentation's example
 * credentials.
 */
Test(s3, presign_matches_the_published_aws_example)
{
	char *url = s3_presign_url("https://examplebucket.s3.amazonaws.com", "/test.txt", "us-east-1",
				   "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
				   1369353600, 86400);

	cr_assert_str_eq(url, "https://examplebucket.s3.amazonaws.com/test.txt"
			 "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
			 "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
			 "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
			 "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	free(url);
}

Test(s3, presign_of_an_artifact_is_path_style_and_refuses_unsafe_keys)
{
	struct sx_conf c;
	char *url;

	sx_conf_defaults(&c);
	free(c.s3_endpoint);
	c.s3_endpoint = strdup("http://127.0.0.1:9000/");
	free(c.s3_bucket);
	c.s3_bucket = strdup("arts");
	setenv("SX_TEST_S3_KEY", "AK", 1);
	setenv("SX_TEST_S3_SECRET", "SK", 1);
	free(c.s3_access_key_env);
	c.s3_access_key_env = strdup("SX_TEST_S3_KEY");
	free(c.s3_secret_key_env);
	c.s3_secret_key_env = strdup("SX_TEST_S3_SECRET");
	url = s3_presign_get(&c, "org_1/tsk_2/a_screenshot.png", 1369353600, 300);
	cr_assert_not_null(url);
	cr_assert(strncmp(url, "http://127.0.0.1:9000/arts/org_1/tsk_2/a_screenshot.png?X-Amz-", 61) == 0, "%s", url);
	cr_assert(strstr(url, "X-Amz-Expires=300&"), "%s", url);
	free(url);
	cr_assert_null(s3_presign_get(&c, "../etc/passwd", 1369353600, 300));
	unsetenv("SX_TEST_S3_SECRET");
	cr_assert_null(s3_presign_get(&c, "org_1/tsk_2/a.png", 1369353600, 300));
	sx_conf_release(&c);
}
