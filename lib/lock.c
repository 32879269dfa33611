/*
 * lock: what every backend shares: the error record of a context.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "lock.h"

/* Records a printf-style reason and class in l, keeping errno; -1. */
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

/* The last reason recorded in l, or "" if none. */
const char *
lock_error(const struct lock *l)
{
	return l->errmsg;
}
