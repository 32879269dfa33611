/*
 * redis_conn: a Redis connection that never blocks past a deadline.
 *
 * The socket is non-blocking and close-on-exec from birth; every wait is
 * a poll(2) on it bounded by the caller's monotonic deadline.  Bytes
 * cross the socket through a transport table (redis_conn.h), so TLS
 * plugs in under the same deadlines.  hiredis
 * formats the commands and parses the replies, nothing more, so a timed
 * out read never corrupts a context: the connection is simply closed and
 * the caller connects again.  Nothing here prints; the reason of the last
 * failure is in c->err and names the server, never the password.
 * getaddrinfo(3) cannot be bounded by a deadline, so a host is resolved
 * only while c->addr is still empty: by the first connect, in keylock
 * itself; reconnects and the forked heartbeat reuse the addresses.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sha1.h>

#include "clock.h"
#include "redis_conn.h"
#include "redis_err.h"
#include "redis_url.h"

#define CONN_READ_CHUNK		(64 * 1024)
#define CONN_MAX_ARGS		32

/* Sets up an unconnected c for url, sharing the resolved addr. */
void
redis_conn_init(struct redis_conn *c, const struct redis_url *url,
    struct redis_addr *addr)
{
	memset(c, 0, sizeof(*c));
	c->conf = c->url = url;
	c->addr = addr;
	c->tp = &redis_transport_plain;
	c->fd = -1;
	c->cluster = -1;
}

/* Records "redis ADDR: reason" in c->err; returns -1. */
int
redis_conn_seterr(struct redis_conn *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, sizeof(c->err), "redis %s: %s", c->url->display,
	    msg);
	return -1;
}

/* Records a failure and closes the connection; returns -1. */
static int
conn_fail(struct redis_conn *c, const char *what, int error)
{
	if (error == EPROTO && c->err[0] != '\0')
		;	/* the transport's own reason */
	else if (what != NULL)
		redis_conn_seterr(c, "%s: %s", what, strerror(error));
	else
		redis_conn_seterr(c, "%s", strerror(error));
	redis_conn_close(c);
	return -1;
}

/* Closes the socket and drops buffered input; c may connect again. */
void
redis_conn_close(struct redis_conn *c)
{
	if (c->fd != -1) {
		c->tp->close(c);
		close(c->fd);
	}
	c->fd = -1;
	if (c->reader != NULL)
		redisReaderFree(c->reader);
	c->reader = NULL;
	free(c->hsbuf);
	c->hsbuf = NULL;
	c->hslen = 0;
}

/* Nonzero if c is connected and not known to be dead. */
int
redis_conn_alive(const struct redis_conn *c)
{
	return c->fd != -1;
}

/* The socket, for poll(2), or -1. */
int
redis_conn_fd(const struct redis_conn *c)
{
	return c->fd;
}

int
redis_conn_pending(const struct redis_conn *c)
{
	return c->fd != -1 && c->tp->pending(c);
}

/* Waits until the socket is ready for c->want, or deadline. */
int
redis_conn_wait(struct redis_conn *c, int64_t deadline)
{
	return redis_sock_wait(c->fd, c->want, deadline);
}

/* Frees what connects stored in addr (the TLS context). */
void
redis_addr_free(struct redis_addr *addr)
{
#ifdef HAVE_TLS
	if (addr->tls_ctx != NULL)
		redis_tls_ctx_free(addr->tls_ctx);
#endif
	addr->tls_ctx = NULL;
	redis_sentinel_free(addr);
}

/* Checks the reply of a handshake command; 0, or -1 with c->err (and
   c->refused if the refusal is final). */
static int
conn_check(struct redis_conn *c, redisReply *r, const char *what,
    int optional)
{
	int rc = 0;

	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR && (!optional ||
	    strncmp(r->str, "NOAUTH", 6) == 0)) {
		redis_conn_seterr(c, "%s%s%.200s", what, *what != '\0' ?
		    " failed: " : "", r->str);
		c->refused = redis_err_final(r->str);
		c->unready = redis_err_unready(r->str);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

/* The handshake entry of CLUSTER MYID: its answer, not a check. */
static const char conn_cluster_probe[] = "CLUSTER MYID";

/* Queues a command to go out in front of the next one sent; 0 or -1. */
static int
conn_queue(struct redis_conn *c, int argc, const char **argv)
{
	char *cmd = NULL, *p;
	int len;

	if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0)
		return conn_fail(c, NULL, ENOMEM);
	if ((p = realloc(c->hsbuf, c->hslen + (size_t)len)) == NULL) {
		redisFreeCommand(cmd);
		return conn_fail(c, NULL, ENOMEM);
	}
	memcpy(p + c->hslen, cmd, (size_t)len);
	c->hsbuf = p;
	c->hslen += (size_t)len;
	redisFreeCommand(cmd);
	return 0;
}

/* Sends the queued handshake with a PING and reads their replies: a
   command sent behind a SELECT the server refuses (no such database)
   would run in database 0.  0, or -1 with c->err. */
static int
conn_handshake_now(struct redis_conn *c, int64_t deadline)
{
	const char *argv[] = { "PING" };
	redisReply *r;

	if ((r = redis_conn_command(c, 1, argv, NULL, deadline)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* Queues AUTH, SELECT, CLIENT SETNAME (and CLUSTER MYID if asked): they
   go out in one write with the first command, and their replies are
   checked before the first reply a caller takes (conn_take()), so the
   handshake costs no round trip of its own, unless there is a database
   to SELECT; 0 or -1. */
static int
conn_handshake(struct redis_conn *c, int64_t deadline)
{
	const char *argv[4];
	char db[16];

	c->hs_next = c->hs_n = 0;
	if (c->url->password != NULL) {
		argv[0] = "AUTH";
		argv[1] = c->url->user != NULL ? c->url->user :
		    c->url->password;
		argv[2] = c->url->password;
		if (conn_queue(c, c->url->user != NULL ? 3 : 2, argv) == -1)
			return -1;
		c->hs[c->hs_n++] = "AUTH";
	}
	if (c->url->db != 0) {
		snprintf(db, sizeof(db), "%d", c->url->db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (conn_queue(c, 2, argv) == -1)
			return -1;
		c->hs[c->hs_n++] = "SELECT";
	}
	argv[0] = "CLIENT";
	argv[1] = "SETNAME";
	argv[2] = "keylock";
	if (conn_queue(c, 3, argv) == -1)
		return -1;
	c->hs[c->hs_n++] = "";		/* optional: an old server may refuse */
	if (c->ask_cluster) {
		argv[0] = "CLUSTER";
		argv[1] = "MYID";
		if (conn_queue(c, 2, argv) == -1)
			return -1;
		c->hs[c->hs_n++] = conn_cluster_probe;
	}
	return c->url->db != 0 ? conn_handshake_now(c, deadline) : 0;
}

/* A TLS server hangs up on the plain first command, or answers it with
   an alert: says so after such a failure of a plain TCP connect. */
static void
conn_hint_tls(struct redis_conn *c)
{
	size_t len = strlen(c->err);

	if (c->url->is_tls || c->url->is_unix ||
	    (strstr(c->err, "reset by peer") == NULL &&
	    strstr(c->err, "closed by server") == NULL &&
	    strstr(c->err, "protocol error") == NULL))
		return;
	snprintf(c->err + len, sizeof(c->err) - len, " (is it a TLS port? "
	    "use rediss://)");
}

/* Connects (through the sentinels of a Sentinel URL) by deadline. */
int
redis_conn_connect(struct redis_conn *c, int64_t deadline)
{
	if (c->conf->nsentinels > 0)
		return redis_sentinel_connect(c, deadline);
	return redis_conn_open(c, deadline);
}

/* Connects, AUTHs and SELECTs c->url by deadline; 0, or -1 with c->err. */
int
redis_conn_open(struct redis_conn *c, int64_t deadline)
{
	redis_conn_close(c);
	c->err[0] = '\0';
	c->refused = 0;
	c->unready = 0;
	c->tp = &redis_transport_plain;
	if (c->url->is_tls) {
#ifdef HAVE_TLS
		c->tp = &redis_transport_tls;
#else
		return redis_conn_seterr(c, "TLS support is not built in");
#endif
	}
	c->fd = c->url->is_unix ? redis_sock_unix(c, deadline) :
	    redis_sock_tcp(c, deadline);
	if (c->fd == -1)
		return -1;
	if ((c->reader = redisReaderCreate()) == NULL)
		return conn_fail(c, NULL, ENOMEM);
	if (c->tp->start(c, deadline) == -1) {
		redis_conn_close(c);
		return -1;
	}
	if (conn_handshake(c, deadline) == -1) {
		conn_hint_tls(c);
		return -1;
	}
	c->used = clock_mono_ms();
	return 0;
}

/* Nonzero if c is connected and the server has not hung up meanwhile. */
int
redis_conn_idle_ok(struct redis_conn *c)
{
	struct pollfd pfd;

	if (c->fd == -1)
		return 0;
	/* Just connected: the handshake's replies are still due. */
	if (c->hs_next < c->hs_n)
		return 1;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 0)
		return 1;
	/* An idle connection has nothing to say but EOF or an error. */
	redis_conn_seterr(c, "connection closed by server");
	redis_conn_close(c);
	return 0;
}

/* Writes len bytes of buf by deadline; 0, or -1 (closed). */
static int
conn_write(struct redis_conn *c, const char *buf, size_t len,
    int64_t deadline)
{
	ssize_t n;

	while (len > 0) {
		n = c->tp->write(c, buf, len);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return conn_fail(c, "write", errno);
		switch (redis_sock_wait(c->fd, c->want, deadline)) {
		case -1:
			return conn_fail(c, "poll", errno);
		case 0:
			redis_conn_seterr(c, "write timed out");
			redis_conn_close(c);
			return -1;
		}
	}
	return 0;
}

/* Sends one command; 0, or -1 (dead) with c->err. */
int
redis_conn_send(struct redis_conn *c, int argc, const char **argv,
    const size_t *argvlen, int64_t deadline)
{
	char *cmd = NULL, *p;
	int len, rc;

	if (c->fd == -1) {
		if (c->err[0] == '\0')
			redis_conn_seterr(c, "not connected");
		return -1;
	}
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0)
		return conn_fail(c, NULL, ENOMEM);
	if (c->hslen > 0) {
		/* The queued handshake first, in the same write. */
		if ((p = realloc(c->hsbuf, c->hslen + (size_t)len)) == NULL) {
			redisFreeCommand(cmd);
			return conn_fail(c, NULL, ENOMEM);
		}
		memcpy(p + c->hslen, cmd, (size_t)len);
		redisFreeCommand(cmd);
		cmd = p;
		len += (int)c->hslen;
		c->hsbuf = NULL;
		c->hslen = 0;
		rc = conn_write(c, cmd, (size_t)len, deadline);
		free(cmd);
		return rc;
	}
	rc = conn_write(c, cmd, (size_t)len, deadline);
	redisFreeCommand(cmd);
	return rc;
}

/* Takes a whole reply from the reader: 1, 0 none yet, -1 protocol. */
static int
conn_take_raw(struct redis_conn *c, redisReply **rp)
{
	void *r = NULL;

	if (redisReaderGetReply(c->reader, &r) != REDIS_OK) {
		redis_conn_seterr(c, "protocol error: %s", c->reader->errstr);
		redis_conn_close(c);
		return -1;
	}
	*rp = r;
	return r != NULL;
}

/* Takes a whole reply for a caller, checking the handshake's replies
   that come first: 1, 0 none yet, -1 (a failed handshake closes). */
static int
conn_take(struct redis_conn *c, redisReply **rp)
{
	const char *what;
	int rc;

	while ((rc = conn_take_raw(c, rp)) == 1 && c->hs_next < c->hs_n) {
		what = c->hs[c->hs_next++];
		if (what == conn_cluster_probe) {
			/* A node ID, or an error of a server without cluster
			   support (or an ACL that hides it); one that is not
			   ready has not said yet. */
			if ((*rp)->type != REDIS_REPLY_ERROR ||
			    !redis_err_unready((*rp)->str))
				c->cluster = (*rp)->type == REDIS_REPLY_STRING;
			freeReplyObject(*rp);
			continue;
		}
		if (conn_check(c, *rp, what, *what == '\0') == -1) {
			redis_conn_close(c);
			*rp = NULL;
			return -1;
		}
	}
	return rc;
}

/* Reads what the socket holds into the reader: 1 some, 0 none, -1. */
static int
conn_fill(struct redis_conn *c)
{
	char buf[CONN_READ_CHUNK];
	ssize_t n;

	for (;;) {
		n = c->tp->read(c, buf, sizeof(buf));
		if (n > 0) {
			if (redisReaderFeed(c->reader, buf, (size_t)n) !=
			    REDIS_OK)
				return conn_fail(c, NULL, ENOMEM);
			c->want = POLLIN;
			return 1;
		}
		if (n == 0) {
			redis_conn_seterr(c, "connection closed by server");
			redis_conn_close(c);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return conn_fail(c, "read", errno);
	}
}

/* Reads one reply by deadline; NULL (dead) with c->err. */
redisReply *
redis_conn_read(struct redis_conn *c, int64_t deadline)
{
	redisReply *r = NULL;

	if (c->fd == -1) {
		if (c->err[0] == '\0')
			redis_conn_seterr(c, "not connected");
		return NULL;
	}
	c->want = POLLIN;
	for (;;) {
		switch (conn_take(c, &r)) {
		case 1:
			c->used = clock_mono_ms();
			return r;
		case -1:
			return NULL;
		}
		if (c->tp->pending(c))
			goto fill;	/* poll(2) cannot see these bytes */
		switch (redis_sock_wait(c->fd, c->want, deadline)) {
		case -1:
			conn_fail(c, "poll", errno);
			return NULL;
		case 0:
			redis_conn_seterr(c, "no reply in time");
			redis_conn_close(c);
			return NULL;
		}
fill:
		if (conn_fill(c) == -1)
			return NULL;
	}
}

/* Reads what has arrived: 1 with *rp set, 0 nothing whole yet, -1 dead. */
int
redis_conn_poll_reply(struct redis_conn *c, redisReply **rp)
{
	int rc;

	*rp = NULL;
	if (c->fd == -1)
		return -1;
	if ((rc = conn_take(c, rp)) != 0)
		return rc;
	if ((rc = conn_fill(c)) <= 0)
		return rc;
	return conn_take(c, rp);
}

/* Sends a command and reads its reply (maybe an error reply); or NULL. */
redisReply *
redis_conn_command(struct redis_conn *c, int argc, const char **argv,
    const size_t *argvlen, int64_t deadline)
{
	if (redis_conn_send(c, argc, argv, argvlen, deadline) == -1)
		return NULL;
	return redis_conn_read(c, deadline);
}

/* Fills s->sha with the hex SHA-1 of the script, once. */
static void
conn_script_sha(struct redis_script *s)
{
	if (s->sha[0] == '\0')
		SHA1Data((const uint8_t *)s->src, strlen(s->src), s->sha);
}

/* Runs script with nkeys of the argc arguments as KEYS; reply or NULL. */
redisReply *
redis_conn_eval(struct redis_conn *c, struct redis_script *s, int nkeys,
    int argc, const char **argv, const size_t *argvlen, int64_t deadline)
{
	const char *av[CONN_MAX_ARGS + 3];
	size_t avlen[CONN_MAX_ARGS + 3];
	char nk[16];
	redisReply *r;
	int i;

	if (argc > CONN_MAX_ARGS) {
		redis_conn_seterr(c, "too many script arguments");
		return NULL;
	}
	conn_script_sha(s);
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVALSHA";
	av[1] = s->sha;
	av[2] = nk;
	for (i = 0; i < 3; i++)
		avlen[i] = strlen(av[i]);
	for (i = 0; i < argc; i++) {
		av[i + 3] = argv[i];
		avlen[i + 3] = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
	}
	r = redis_conn_command(c, argc + 3, av, avlen, deadline);
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* The script cache is empty after a restart or failover. */
		freeReplyObject(r);
		av[0] = "EVAL";
		av[1] = s->src;
		avlen[0] = 4;
		avlen[1] = strlen(s->src);
		r = redis_conn_command(c, argc + 3, av, avlen, deadline);
	}
	return r;
}
