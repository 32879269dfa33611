/*
 * redis_err: error replies classified by their leading words.  Redis
 * puts an upper-case code first ("LOADING Redis is loading..."), or
 * "ERR" and a message for errors without a code of their own; the
 * messages of the latter are matched as the servers of 6.0 to 7.2 word
 * them.
 */
#include "config.h"

#include <string.h>

#include "redis_err.h"

/* Nonzero if err starts with one of the prefixes in list. */
static int
err_starts(const char *err, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strncmp(err, *list, strlen(*list)) == 0)
			return 1;
	return 0;
}

int
redis_err_final(const char *err)
{
	static const char *const final[] = { "WRONGPASS", "NOAUTH", "NOPERM",
	    "ERR invalid password", "ERR AUTH", "ERR Client sent AUTH",
	    "ERR DB index", "ERR invalid DB index", "ERR SELECT", NULL };

	return err_starts(err, final);
}

int
redis_err_unready(const char *err)
{
	static const char *const unready[] = { "LOADING", "BUSY",
	    "MASTERDOWN", "CLUSTERDOWN", NULL };
	const char *const *p;
	size_t n;

	/* A code is a whole word: BUSYKEY is not BUSY. */
	for (p = unready; *p != NULL; p++) {
		n = strlen(*p);
		if (strncmp(err, *p, n) == 0 && (err[n] == ' ' ||
		    err[n] == '\0'))
			return 1;
	}
	return 0;
}
