/*
 * Unit tests for agent/browser_cdp.c's WebSocket framing, against a fake
 * browser endpoint on loopback (a thread of the test): what the browser
 * sends is outside input, so fragments, a ping between them, the 64-bit
 * length, the cap and frames a browser must not send are each tried.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sx.h"
#include "browser_cdp.h"
#include "json.h"

#define TIMEOUT_MS 5000

/* What the fake endpoint sends after the handshake and the client's first frame. */
enum script {
	FRAGMENTS_AND_PING,   /* an event, then the answer in three fragments with a ping inside */
	LONG_ANSWER,          /* the answer in one frame with a 64-bit length */
	OVER_THE_CAP,         /* a frame header announcing more than the cap */
	FRAGMENTS_OVER_CAP,   /* fragments that only together pass the cap */
	MASKED,               /* a masked frame, which only clients send */
	CLOSE,                /* a close frame */
};

struct endpoint {
	int listen_fd;
	int port;
	enum script script;
	pthread_t thread;
	/* What the client sent back after the script (the pong). */
	int reply_opcode;
	char reply[64];
};

static void write_all(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static bool read_all(int fd, void *p, size_t n)
{
	char *b = p;

	while (n > 0) {
		ssize_t r = recv(fd, b, n, 0);

		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
	}
	return true;
}

/* Sends a server frame (unmasked unless masked) announcing len, with the first `have` bytes of p. */
static void send_frame_n(int fd, bool fin, int opcode, const void *p, uint64_t len, size_t have, bool masked)
{
	unsigned char h[14];
	size_t n = 0;

	h[n++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		h[n++] = (unsigned char)((masked ? 0x80 : 0) | len);
	} else if (len <= 0xFFFF) {
		h[n++] = (unsigned char)((masked ? 0x80 : 0) | 126);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = (unsigned char)((masked ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			h[n++] = (unsigned char)(len >> (8 * i));
	}
	if (masked) {
		memset(h + n, 0, 4);   /* a zero mask leaves the payload as it is */
		n += 4;
	}
	write_all(fd, h, n);
	write_all(fd, p, have);
}

static void send_frame(int fd, bool fin, int opcode, const char *s)
{
	send_frame_n(fd, fin, opcode, s, strlen(s), strlen(s), false);
}

/* Reads one client frame (masked, as the client must send) into out; its opcode, or -1. */
static int read_client_frame(int fd, char *out, size_t outlen)
{
	unsigned char h[2], ext[8], mask[4];
	uint64_t len;
	char *payload;
	int opcode;

	if (!read_all(fd, h, 2) || !(h[1] & 0x80))
		return -1;
	opcode = h[0] & 0x0F;
	len = h[1] & 0x7F;
	if (len >= 126) {
		size_t m = len == 126 ? 2 : 8;

		if (!read_all(fd, ext, m))
			return -1;
		len = 0;
		for (size_t i = 0; i < m; i++)
			len = len << 8 | ext[i];
	}
	if (!read_all(fd, mask, 4) || len > (1u << 20))
		return -1;
	payload = xmalloc((size_t)len + 1);
	if (!read_all(fd, payload, (size_t)len)) {
		free(payload);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		payload[i] ^= (char)mask[i % 4];
	payload[len] = '\0';
	snprintf(out, outlen, "%s", payload);
	free(payload);
	return opcode;
}

/* The answer to call 1 holding a string of n 'x's. */
static char *long_answer(size_t n)
{
	char *s = xmalloc(n + 64);
	size_t h = (size_t)snprintf(s, 64, "{\"id\":1,\"result\":{\"s\":\"");

	memset(s + h, 'x', n);
	memcpy(s + h + n, "\"}}", 4);
	return s;
}

static void run_script(struct endpoint *e, int fd)
{
	char *big;

	switch (e->script) {
	case FRAGMENTS_AND_PING:
		send_frame(fd, true, 0x1, "{\"method\":\"Target.targetCreated\",\"params\":{}}");
		send_frame(fd, false, 0x1, "{\"id\":1,\"res");
		send_frame(fd, true, 0x9, "are you there");
		send_frame(fd, false, 0x0, "ult\":{\"answer\":");
		send_frame(fd, true, 0x0, "42}}");
		e->reply_opcode = read_client_frame(fd, e->reply, sizeof(e->reply));
		break;
	case LONG_ANSWER:
		big = long_answer(70000);
		send_frame_n(fd, true, 0x1, big, strlen(big), strlen(big), false);
		free(big);
		break;
	case OVER_THE_CAP:
		send_frame_n(fd, true, 0x1, "", (8u << 20) + 1, 0, false);
		break;
	case FRAGMENTS_OVER_CAP:
		big = xcalloc(1, 5u << 20);
		memset(big, ' ', 5u << 20);
		send_frame_n(fd, false, 0x1, big, 5u << 20, 5u << 20, false);
		send_frame_n(fd, true, 0x0, big, 5u << 20, 5u << 20, false);
		free(big);
		break;
	case MASKED:
		send_frame_n(fd, true, 0x1, "{\"id\":1,\"result\":{}}", 20, 20, true);
		break;
	case CLOSE:
		send_frame_n(fd, true, 0x8, "", 0, 0, false);
		break;
	}
}

static void *serve(void *arg)
{
	struct endpoint *e = arg;
	char req[4096], frame[256];
	size_t n = 0;
	int fd = accept(e->listen_fd, NULL, NULL);
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\n\r\n";

	if (fd < 0)
		return NULL;
	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	write_all(fd, ok, sizeof(ok) - 1);
	if (read_client_frame(fd, frame, sizeof(frame)) == 0x1)
		run_script(e, fd);
	/* Let the client read what was sent before the connection goes. */
	shutdown(fd, SHUT_WR);
	while (recv(fd, req, sizeof(req), 0) > 0)
		;
	close(fd);
	return NULL;
}

static void endpoint_start(struct endpoint *e, enum script script)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(e, 0, sizeof(*e));
	e->script = script;
	e->reply_opcode = -1;
	e->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(e->listen_fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(e->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(e->listen_fd, 1), 0);
	cr_assert_eq(getsockname(e->listen_fd, (struct sockaddr *)&sa, &len), 0);
	e->port = ntohs(sa.sin_port);
	cr_assert_eq(pthread_create(&e->thread, NULL, serve, e), 0);
}

/* Opens a client on e, makes one call and closes; the call's result code, *result its result. */
static enum sx_rc call_once(struct endpoint *e, json_object **result, char *err, size_t errlen)
{
	struct browser_cdp *c = NULL;
	enum sx_rc rc;

	cr_assert_eq(browser_cdp_open(e->port, "/devtools/browser/test", TIMEOUT_MS, &c), SX_OK);
	rc = browser_cdp_call(c, "Browser.getVersion", NULL, result);
	snprintf(err, errlen, "%s", browser_cdp_last_error(c));
	browser_cdp_free(c);
	pthread_join(e->thread, NULL);
	close(e->listen_fd);
	return rc;
}

Test(browser_cdp, fragments_are_joined_and_a_ping_between_them_answered)
{
	struct endpoint e;
	json_object *r = NULL;
	char err[256];

	endpoint_start(&e, FRAGMENTS_AND_PING);
	cr_assert_eq(call_once(&e, &r, err, sizeof(err)), SX_OK, "%s", err);
	cr_assert_eq(sx_json_int(r, "answer", 0), 42, "%s", json_object_to_json_string(r));
	cr_assert_eq(e.reply_opcode, 0xA, "the ping got no pong");
	cr_assert_str_eq(e.reply, "are you there");
	json_object_put(r);
}

Test(browser_cdp, a_64_bit_length_is_read)
{
	struct endpoint e;
	json_object *r = NULL;
	char err[256];

	endpoint_start(&e, LONG_ANSWER);
	cr_assert_eq(call_once(&e, &r, err, sizeof(err)), SX_OK, "%s", err);
	cr_assert_eq(strlen(sx_json_string(r, "s")), 70000);
	json_object_put(r);
}

/*
 * What a browser must not send ends the call with its own code: a frame
 * announcing more than the cap (refused before it is read), fragments over
 * the cap together, a masked frame, a close frame.
 */
Test(browser_cdp, frames_a_browser_must_not_send_are_refused)
{
	static const struct { enum script script; enum sx_rc want; } cases[] = {
		{ OVER_THE_CAP, SX_ETOOBIG }, { FRAGMENTS_OVER_CAP, SX_ETOOBIG },
		{ MASKED, SX_EPARSE }, { CLOSE, SX_ESESSION },
	};

	for (size_t i = 0; i < SX_ARRAY_LEN(cases); i++) {
		struct endpoint e;
		json_object *r = NULL;
		char err[256];
		enum sx_rc rc;

		endpoint_start(&e, cases[i].script);
		rc = call_once(&e, &r, err, sizeof(err));
		cr_assert_eq(rc, cases[i].want, "case %zu: %s (%s)", i, sx_strerror(rc), err);
		cr_assert_null(r);
	}
}
