/*
 * The browser-level CDP client (see browser_cdp.h).  Frames the client
 * sends are masked (the protocol requires it of a client); frames from the
 * browser are not.  Reads go through one buffer of bytes received but not
 * yet consumed, so a frame split across reads, or several in one read,
 * are both handled; every wait is bounded by the connection's deadline
 * per call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sx.h"
#include "browser_cdp.h"
#include "buf.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"

/* The handshake answer is a few headers; a message is an answer or an event. */
#define CDP_HANDSHAKE_MAX 8192u
#define CDP_MESSAGE_MAX (8u << 20)
#define CDP_JSON_DEPTH 64

enum {
	WS_CONT = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xA,
};

struct browser_cdp {
	int fd;
	long timeout_ms;
	int64_t deadline;        /* of the call in progress */
	long long next_id;
	struct sx_buf in;        /* bytes received, not yet consumed, from `pos` */
	size_t pos;
	char err[512];
};

static void cdp_error(struct browser_cdp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cdp_error(struct browser_cdp *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* Writes all of p (a blocking socket: send returns once it is all queued or fails). */
static enum sx_rc cdp_write(struct browser_cdp *c, const void *p, size_t n)
{
	const char *b = p;
	enum sx_rc rc = SX_OK;

	while (rc == SX_OK && n > 0) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			cdp_error(c, "write to the browser failed: %s", strerror(errno));
			rc = SX_ESESSION;
			break;
		}
		b += w;
		n -= (size_t)w;
	}
	return rc;
}

/* Drops the bytes consumed so far, so that the cap bounds what is unread. */
static void cdp_compact(struct browser_cdp *c)
{
	if (c->pos == 0)
		return;
	memmove(c->in.data, c->in.data + c->pos, c->in.len - c->pos);
	c->in.len -= c->pos;
	c->in.data[c->in.len] = '\0';
	c->pos = 0;
}

/* Reads more bytes into c->in, waiting until the deadline. */
static enum sx_rc cdp_fill(struct browser_cdp *c)
{
	char chunk[16384];
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	enum sx_rc rc = SX_OK;
	ssize_t r = -1;

	while (r < 0) {
		int64_t left = c->deadline - sx_mono_ms();

		if (left <= 0) {
			cdp_error(c, "the browser did not answer in time");
			rc = SX_ETIMEOUT;
			goto out;
		}
		if (poll(&pfd, 1, (int)(left > 60000 ? 60000 : left)) <= 0)
			continue;
		r = recv(c->fd, chunk, sizeof(chunk), 0);
		if (r < 0 && errno != EINTR && errno != EAGAIN)
			r = 0;
	}
	if (r == 0) {
		cdp_error(c, "the browser closed the connection");
		rc = SX_ESESSION;
		goto out;
	}
	cdp_compact(c);
	if (sx_buf_append(&c->in, chunk, (size_t)r) != SX_OK) {
		cdp_error(c, "a message from the browser exceeds %u bytes", CDP_MESSAGE_MAX);
		rc = SX_ETOOBIG;
	}
out:
	return rc;
}

/* Makes n unread bytes available at c->in.data + c->pos. */
static enum sx_rc cdp_need(struct browser_cdp *c, size_t n)
{
	enum sx_rc rc = SX_OK;

	while (rc == SX_OK && c->in.len - c->pos < n)
		rc = cdp_fill(c);
	return rc;
}

/* Sends one frame of opcode with payload p (masked, as a client must). */
static enum sx_rc cdp_send_frame(struct browser_cdp *c, int opcode, const void *p, size_t n)
{
	unsigned char hdr[14], mask[4];
	const unsigned char *src = p;
	unsigned char *frame;
	size_t h = 0;
	enum sx_rc rc;

	hdr[h++] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		hdr[h++] = (unsigned char)(0x80 | n);
	} else if (n <= 0xFFFF) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(n >> 8);
		hdr[h++] = (unsigned char)n;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)((uint64_t)n >> (8 * i));
	}
	crypto_random_bytes(mask, sizeof(mask));
	memcpy(hdr + h, mask, sizeof(mask));
	h += sizeof(mask);
	frame = xmalloc(h + n);
	memcpy(frame, hdr, h);
	for (size_t i = 0; i < n; i++)
		frame[h + i] = src[i] ^ mask[i % 4];
	rc = cdp_write(c, frame, h + n);
	free(frame);
	return rc;
}

/*
 * Reads one whole message (fragments joined, pings answered) into msg.
 * SX_ESESSION on a close frame.
 */
static enum sx_rc cdp_read_message(struct browser_cdp *c, struct sx_buf *msg)
{
	enum sx_rc rc = SX_OK;
	bool fin = false;

	sx_buf_reset(msg);
	while (!fin) {
		const unsigned char *b;
		uint64_t len;
		size_t h = 2;
		int opcode;

		rc = cdp_need(c, 2);
		if (rc)
			break;
		b = (const unsigned char *)c->in.data + c->pos;
		fin = b[0] & 0x80;
		opcode = b[0] & 0x0F;
		len = b[1] & 0x7F;
		if (b[1] & 0x80) {
			cdp_error(c, "the browser sent a masked frame");
			rc = SX_EPARSE;
			break;
		}
		h += len == 126 ? 2 : len == 127 ? 8 : 0;
		rc = cdp_need(c, h);
		if (rc)
			break;
		b = (const unsigned char *)c->in.data + c->pos;
		if (len >= 126) {
			len = 0;
			for (size_t i = 2; i < h; i++)
				len = len << 8 | b[i];
		}
		if (len > CDP_MESSAGE_MAX) {
			cdp_error(c, "a message from the browser exceeds %u bytes", CDP_MESSAGE_MAX);
			rc = SX_ETOOBIG;
			break;
		}
		rc = cdp_need(c, h + (size_t)len);
		if (rc)
			break;
		b = (const unsigned char *)c->in.data + c->pos + h;
		c->pos += h + (size_t)len;
		if (opcode == WS_CLOSE) {
			cdp_error(c, "the browser closed the connection");
			rc = SX_ESESSION;
			break;
		}
		if (opcode == WS_PING) {
			rc = cdp_send_frame(c, WS_PONG, b, (size_t)len);
			fin = false;
		} else if (opcode == WS_TEXT || opcode == WS_CONT || opcode == WS_BINARY) {
			rc = sx_buf_append(msg, b, (size_t)len);
			if (rc)
				cdp_error(c, "a message from the browser exceeds %u bytes", CDP_MESSAGE_MAX);
		} else {
			fin = false;   /* a pong: nothing to do */
		}
		if (rc)
			break;
	}
	return rc;
}

/* The opening handshake: a GET with Upgrade, answered 101. */
static enum sx_rc cdp_handshake(struct browser_cdp *c, int port, const char *path)
{
	unsigned char nonce[16];
	char key[32], *req;
	const char *end;
	enum sx_rc rc;

	crypto_random_bytes(nonce, sizeof(nonce));
	crypto_base64_encode(nonce, sizeof(nonce), CRYPTO_B64_STD, key, sizeof(key));
	req = xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
			path, port, key);
	rc = cdp_write(c, req, strlen(req));
	while (rc == SX_OK && !strstr(sx_buf_str(&c->in), "\r\n\r\n")) {
		rc = cdp_fill(c);
		if (rc == SX_OK && c->in.len > CDP_HANDSHAKE_MAX)
			rc = SX_ETOOBIG;
	}
	if (rc)
		goto out;
	if (strncmp(c->in.data, "HTTP/1.1 101", 12) != 0) {
		cdp_error(c, "the browser refused the connection: %.60s", c->in.data);
		rc = SX_ESESSION;
		goto out;
	}
	end = strstr(c->in.data, "\r\n\r\n");
	c->pos = (size_t)(end + 4 - c->in.data);
out:
	free(req);
	return rc;
}

enum sx_rc browser_cdp_open(int port, const char *path, long timeout_ms, struct browser_cdp **out)
{
	struct browser_cdp *c = xcalloc(1, sizeof(*c));
	struct sockaddr_in sa;
	enum sx_rc rc = SX_OK;

	*out = NULL;
	c->timeout_ms = timeout_ms;
	c->deadline = sx_mono_ms() + timeout_ms;
	sx_buf_init(&c->in, CDP_MESSAGE_MAX + 16);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		cdp_error(c, "cannot connect to the browser on port %d: %s", port, strerror(errno));
		rc = SX_ESESSION;
		goto out;
	}
	rc = cdp_handshake(c, port, path);
out:
	if (rc) {
		log_warn("cdp", "msg=\"cannot connect to the browser\" port=%d error=%s", port, sx_log_quote(c->err));
		browser_cdp_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

/* The answer's result, or its error as SX_EWEBDRIVER with the message kept. */
static enum sx_rc cdp_answer(struct browser_cdp *c, const char *method, json_object *msg, json_object **result)
{
	json_object *e = sx_json_member(msg, "error");

	if (e) {
		const char *m = sx_json_string(e, "message");

		cdp_error(c, "%s: %s", method, m ? m : "error");
		log_warn("cdp", "msg=\"command failed\" method=%s error=%s", method, sx_log_quote(c->err));
		return SX_EWEBDRIVER;
	}
	*result = json_object_get(sx_json_member(msg, "result"));
	return SX_OK;
}

enum sx_rc browser_cdp_call(struct browser_cdp *c, const char *method, json_object *params,
			    json_object **result)
{
	return browser_cdp_call_session(c, NULL, method, params, result);
}

enum sx_rc browser_cdp_call_session(struct browser_cdp *c, const char *session_id, const char *method,
				    json_object *params, json_object **result)
{
	json_object *req = json_object_new_object(), *msg = NULL, *discard = NULL;
	struct sx_buf in;
	long long id = ++c->next_id;
	const char *text;
	enum sx_rc rc;

	if (!result)
		result = &discard;
	*result = NULL;
	c->err[0] = '\0';
	c->deadline = sx_mono_ms() + c->timeout_ms;
	sx_buf_init(&in, CDP_MESSAGE_MAX);
	json_object_object_add(req, "id", json_object_new_int64(id));
	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params", params ? json_object_get(params) : json_object_new_object());
	if (session_id)
		json_object_object_add(req, "sessionId", json_object_new_string(session_id));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = cdp_send_frame(c, WS_TEXT, text, strlen(text));
	while (rc == SX_OK) {
		rc = cdp_read_message(c, &in);
		if (rc)
			break;
		json_object_put(msg);
		msg = sx_json_parse(sx_buf_str(&in), in.len, CDP_JSON_DEPTH, NULL, 0);
		/* Events carry no id; an answer to an abandoned call has an older one. */
		if (sx_json_int(msg, "id", -1) != id)
			continue;
		rc = cdp_answer(c, method, msg, result);
		break;
	}
	if (rc && rc != SX_EWEBDRIVER)
		log_warn("cdp", "msg=\"call failed\" method=%s error=%s", method, sx_log_quote(c->err));
	json_object_put(discard);
	json_object_put(msg);
	json_object_put(req);
	sx_buf_release(&in);
	return rc;
}

const char *browser_cdp_last_error(const struct browser_cdp *c)
{
	return c ? c->err : "";
}

void browser_cdp_free(struct browser_cdp *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	sx_buf_release(&c->in);
	free(c);
}
