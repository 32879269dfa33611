/*
 * redis_sock: the socket under a Redis connection: resolving a host once
 * (getaddrinfo(3) has no deadline, so never again, and never in a forked
 * heartbeat), connecting without blocking past a deadline, waiting in
 * poll(2).  Every socket is non-blocking and close-on-exec from birth.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "clock.h"
#include "redis_conn.h"
#include "redis_url.h"

int
redis_sock_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		n = poll(&pfd, 1, clock_poll_timeout(deadline));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 && clock_mono_ms() < deadline)
			continue;
		return n;
	}
}

/* Connects a new non-blocking socket to sa by deadline; fd, or -1. */
static int
conn_socket(int family, const struct sockaddr *sa, socklen_t salen,
    int64_t deadline)
{
	socklen_t len;
	int fd, error = 0, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, sa, salen) == -1) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		switch (redis_sock_wait(fd, POLLOUT, deadline)) {
		case -1:
			goto fail;
		case 0:
			errno = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(error);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			goto fail;
		if (error != 0) {
			errno = error;
			goto fail;
		}
	}
	if (family != AF_UNIX) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
	return fd;
fail:
	error = errno;
	close(fd);
	errno = error;
	return -1;
}

/* Fills c->addr from c->url's host, once; 0, or -1 with c->err. */
int
redis_sock_resolve(struct redis_conn *c)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct redis_addr *a = c->addr;
	char port[16];
	int gai;

	if (a->n > 0)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->url->port);
	if ((gai = getaddrinfo(c->url->host, port, &hints, &res)) != 0)
		return redis_conn_seterr(c, "%s", gai == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(gai));
	for (ai = res; ai != NULL && a->n < REDIS_ADDR_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(a->sa[0]))
			continue;
		memcpy(&a->sa[a->n], ai->ai_addr, ai->ai_addrlen);
		a->len[a->n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (a->n == 0)
		return redis_conn_seterr(c, "no usable address");
	return 0;
}

/* Waits until the socket is ready for c->want, or deadline. */
int
redis_redis_sock_wait(struct redis_conn *c, int64_t deadline)
{
	return redis_sock_wait(c->fd, c->want, deadline);
}

int
redis_sock_tcp(struct redis_conn *c, int64_t deadline)
{
	const struct redis_addr *a = c->addr;
	int i, fd = -1, error = ECONNREFUSED;

	if (redis_sock_resolve(c) == -1)
		return -1;
	for (i = 0; i < a->n; i++) {
		fd = conn_socket(a->sa[i].ss_family,
		    (const struct sockaddr *)&a->sa[i], a->len[i], deadline);
		if (fd != -1)
			break;
		error = errno;
		if (clock_mono_ms() >= deadline)
			break;
	}
	if (fd == -1)
		redis_conn_seterr(c, "%s", error == ETIMEDOUT ?
		    "connect timed out" : strerror(error));
	return fd;
}

int
redis_sock_unix(struct redis_conn *c, int64_t deadline)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(c->url->path) >= sizeof(sun.sun_path)) {
		redis_conn_seterr(c, "socket path too long");
		return -1;
	}
	strcpy(sun.sun_path, c->url->path);
	fd = conn_socket(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun),
	    deadline);
	if (fd == -1)
		redis_conn_seterr(c, "%s", errno == ETIMEDOUT ?
		    "connect timed out" : strerror(errno));
	return fd;
}
