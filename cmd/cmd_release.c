/*
 * keylock release [--token T] KEY: let go of a lock taken by acquire,
 * from any process (Redis: any machine) that has its token.
 * keylock release --force KEY: delete a stuck Redis lease.  Its holder,
 * if still alive, then loses the lock and stops its command.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>

#include "cmd.h"
#include "exits.h"

/* Releases key as the holder of token; the exit code. */
static int
release_token(struct options *o, const char *key, const char *token,
    const char *pkey)
{
	struct lock *l;
	int rc = 0;

	l = options_backend(o);
	if (l->be->release_token(l, key, token) == -1) {
		warnx("%s: %s", pkey, lock_error(l));
		rc = options_exit_code(l);
	} else {
		if (o->verbose)
			warnx("released %s", pkey);
		options_warn(o, l, pkey);
	}
	options_free(o, l);
	return rc;
}

int
cmd_release(int argc, char **argv)
{
	struct options o;
	struct lock *l;
	char pkey[256];
	const char *key, *token;
	int rc, deleted;

	key = options_key(&o, argc, argv, options_parse(&o, argc, argv));
	text_printable(key, pkey, sizeof(pkey));
	if (!o.force && (token = options_token(&o)) != NULL)
		return release_token(&o, key, token, pkey);
	if (!o.force)
		usage_error("release: no token (give --token or set "
		    "KEYLOCK_TOKEN); --force takes %s from any holder", pkey);
	l = options_backend(&o);
	if (l->be->force_release(l, key, &deleted) == -1) {
		warnx("%s: %s", pkey, lock_error(l));
		rc = options_exit_code(l);
	} else if (deleted) {
		if (o.verbose)
			warnx("released %s", pkey);
		options_warn(&o, l, pkey);
		rc = 0;
	} else {
		if (!o.quiet)
			warnx("%s is not held", pkey);
		rc = EXIT_FREE;
	}
	options_free(&o, l);
	return rc;
}
