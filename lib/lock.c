/*
 * lock: what every backend shares: the table that finds a backend by
 * URL scheme, the error record of a context, and lock states.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock.h"

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
