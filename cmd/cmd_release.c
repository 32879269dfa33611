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
	int i, rc;

	i = options_parse(&o, argc, argv);
	if (i != argc - 1)
		usage_error("release: %s", i >= argc ? "missing KEY" :
		    "too many operands");
	if (*argv[i] == '\0')
		usage_error("release: KEY must not be empty");
	if (!o.force)
		usage_error("release: refusing without --force (it takes %s "
		    "from its holder)", printable(argv[i], pkey, sizeof(pkey)));
	l = options_backend(&o);
	printable(argv[i], pkey, sizeof(pkey));
	switch (l->be->force_release(l, argv[i])) {
	case 1:
		if (o.verbose)
			warnx("released %s", pkey);
		rc = 0;
		break;
	case 0:
		if (!o.quiet)
			warnx("%s is not held", pkey);
		rc = EXIT_FREE;
		break;
	default:
		warnx("%s: %s", pkey, lock_error(l));
		rc = options_exit_code(l);
	}
	options_free(&o, l);
	return rc;
}
