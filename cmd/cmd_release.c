/*
 * keylock release --force KEY: delete a stuck Redis lease.  Its holder,
 * if still alive, then loses the lock and stops its command.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>

#include "cmd.h"
#include "exits.h"

int
cmd_release(int argc, char **argv)
{
	struct options o;
	struct lock *l;
	char pkey[256];
	const char *key;
	int rc, deleted;

	key = options_key(&o, argc, argv, options_parse(&o, argc, argv));
	text_printable(key, pkey, sizeof(pkey));
	if (!o.force)
		usage_error("release: refusing without --force (it takes %s "
		    "from its holder)", pkey);
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
