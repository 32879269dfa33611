/*
 * fdio: descriptor I/O that finishes what it starts.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "fdio.h"

/* Writes all len bytes to fd, waiting out EINTR and EAGAIN; 0 or -1. */
int
fdio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		/* A non-blocking stdout we were handed: wait for room. */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, -1);
	}
	return 0;
}
