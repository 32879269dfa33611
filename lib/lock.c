/*
 * lock: what every backend shares: the table that finds a backend by
 * URL scheme, the error record of a context, and lock states.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"
#include "text.h"

/* Every backend; the one without schemes serves calls without a URL. */
static const struct lock_backend *const lock_backends[] = {
	&lock_local_backend,
	&lock_redis_backend,
};

/* Nonzero if url starts with "SCHEME:". */
static int
lock_scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncmp(url, scheme, n) == 0 && url[n] == ':';
}

const struct lock_backend *
lock_backend_find(const char *url, char *err, size_t errlen)
{
	const char *const *s;
	size_t i;

	for (i = 0; i < sizeof(lock_backends) / sizeof(lock_backends[0]);
	    i++) {
		s = lock_backends[i]->schemes;
		if (url == NULL && s[0] == NULL)
			return lock_backends[i];
		for (; url != NULL && *s != NULL; s++)
			if (lock_scheme_is(url, *s))
				return lock_backends[i];
	}
	snprintf(err, errlen, "bad Redis URL: expected redis:// or unix://");
	return NULL;
}

int
lock_seterr(struct lock *l, enum lock_errclass c, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	l->errclass = c;
	va_start(ap, fmt);
	vsnprintf(l->errmsg, sizeof(l->errmsg), fmt, ap);
	va_end(ap);
	errno = saved;		/* callers may still look at it */
	return -1;
}

enum lock_errclass
lock_errno_class(int error, enum lock_errclass dflt)
{
	switch (error) {
	case EMFILE: case ENFILE: case ENOMEM: case EAGAIN: case ENOBUFS:
		return LOCK_EOSERR;
	case ENOSPC: case EDQUOT: case EROFS:
		return LOCK_ECANTCREAT;
	case EIO:
		return LOCK_EIOERR;
	}
	return dflt;
}

const char *
lock_error(const struct lock *l)
{
	return l->errmsg;
}

int
lock_note_ok(const char *note)
{
	char buf[HOLDER_NOTE_MAX + 1];

	if (strlen(note) > HOLDER_NOTE_MAX)
		return 0;
	/* text_printable() keeps exactly the printable text as it is. */
	return strcmp(text_printable(note, buf, sizeof(buf)), note) == 0;
}

int
lock_cooldown_parse(const char *s, size_t len, struct lock_cooldown *c)
{
	char buf[HOLDER_HOST_MAX + 64];
	long long since, until;
	int end = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(c, 0, sizeof(*c));
	if (sscanf(buf, "%19lld %19lld %255s%n", &since, &until, c->host,
	    &end) != 3 || (buf[end] != '\0' && buf[end] != '\n') ||
	    since < 0 || until < since) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->since_ms = since;
	c->until_ms = until;
	return 0;
}

int
lock_stop_process(pid_t pid, int ms)
{
	static const struct timespec tick = { 0, 10000000 };
	struct pollfd pfd;
	int i, fd, n;

	/* The pidfd first: the signal cannot reach a reused pid. */
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) != -1) {
		if (syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) == -1) {
			close(fd);
			return -1;
		}
		pfd = (struct pollfd){ fd, POLLIN, 0 };
		while ((n = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
			;
		close(fd);
		return n > 0;
	}
	if (errno != ENOSYS || kill(pid, SIGTERM) == -1)
		return -1;
	/* Kernels without pidfd_open(2). */
	for (i = 0; i < ms / 10 && kill(pid, 0) == 0; i++)
		nanosleep(&tick, NULL);
	return kill(pid, 0) == -1;
}

int
lock_state_one(struct lock_state *st, const struct holder *h)
{
	memset(st, 0, sizeof(*st));
	if ((st->holders = malloc(sizeof(*h))) == NULL)
		return -1;
	st->holders[0] = *h;
	st->nholders = 1;
	return 0;
}

void
lock_state_free(struct lock_state *st)
{
	free(st->holders);
	free(st->waiters);
	memset(st, 0, sizeof(*st));
}
