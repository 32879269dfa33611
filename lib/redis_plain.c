/*
 * redis_plain: the plain transport, bytes straight on the socket.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include "redis_conn.h"

/* Nothing to set up on a plain socket. */
static int
plain_start(struct redis_conn *c, int64_t deadline)
{
	(void)c;
	(void)deadline;
	return 0;
}

static ssize_t
plain_read(struct redis_conn *c, void *buf, size_t len)
{
	ssize_t n = read(c->fd, buf, len);

	if (n == -1 && errno == EAGAIN)
		c->want = POLLIN;
	return n;
}

static ssize_t
plain_write(struct redis_conn *c, const void *buf, size_t len)
{
	/* MSG_NOSIGNAL: a closed connection is an error, not SIGPIPE. */
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

	if (n == -1 && errno == EAGAIN)
		c->want = POLLOUT;
	return n;
}

/* The kernel holds every byte not yet read: poll(2) sees them. */
static int
plain_pending(const struct redis_conn *c)
{
	(void)c;
	return 0;
}

static void
plain_close(struct redis_conn *c)
{
	(void)c;
}

const struct redis_transport redis_transport_plain = {
	.name = "plain",
	.start = plain_start,
	.read = plain_read,
	.write = plain_write,
	.pending = plain_pending,
	.close = plain_close,
};
