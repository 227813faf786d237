/*
 * The proxy-credentials extension (see proxyauth.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "sx.h"
#include "proxyauth.h"
#include "crypto.h"
#include "log.h"

static const char manifest[] =
	"{\"manifest_version\": 3, \"name\": \"sextant proxy credentials\", \"version\": \"1.0\",\n"
	" \"permissions\": [\"webRequest\", \"webRequestAuthProvider\"],\n"
	" \"host_permissions\": [\"<all_urls>\"],\n"
	" \"background\": {\"service_worker\": \"background.js\"}}\n";

/* Writes text to dir/name, mode 0600, replacing it. */
static enum sx_rc write_private(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	size_t len = strlen(text);
	enum sx_rc rc = SX_OK;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		rc = SX_EIO;
	if (fd >= 0 && close(fd) != 0)
		rc = SX_EIO;
	if (rc)
		log_error("proxyauth", "msg=\"cannot write the extension\" file=%s error=%s",
			  sx_log_quote(name), sx_log_quote(strerror(errno)));
	free(path);
	return rc;
}

enum sx_rc proxyauth_write_extension(const char *dir, const char *user, const char *pass)
{
	json_object *u = json_object_new_string(user), *p = json_object_new_string(pass);
	char *js = NULL;
	enum sx_rc rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("proxyauth", "msg=\"cannot create the extension directory\" error=%s",
			  sx_log_quote(strerror(errno)));
		rc = SX_EIO;
		goto out;
	}
	/* The credentials go in as JSON string literals, so no value can break out of them. */
	js = xasprintf("const credentials = {username: %s, password: %s};\n"
		       "chrome.webRequest.onAuthRequired.addListener(function (details, answer) {\n"
		       "  answer(details.isProxy ? {authCredentials: credentials} : {});\n"
		       "}, {urls: ['<all_urls>']}, ['asyncBlocking']);\n",
		       json_object_to_json_string_ext(u, JSON_C_TO_STRING_PLAIN),
		       json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	rc = write_private(dir, "manifest.json", manifest);
	if (rc == SX_OK)
		rc = write_private(dir, "background.js", js);
out:
	if (js) {
		crypto_wipe(js, strlen(js));
		free(js);
	}
	json_object_put(u);
	json_object_put(p);
	return rc;
}
