/*
 * keylock forget KEY: drop every cached --memo result of KEY.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>

#include "cmd.h"
#include "exits.h"

int
cmd_forget(int argc, char **argv)
{
	struct options o;
	struct lock *l;
	char pkey[256];
	long n;
	int i, rc = 0;

	i = options_parse(&o, argc, argv);
	if (i != argc - 1)
		usage_error("forget: %s", i >= argc ? "missing KEY" :
		    "too many operands");
	if (*argv[i] == '\0')
		usage_error("forget: KEY must not be empty");
	l = options_backend(&o);
	printable(argv[i], pkey, sizeof(pkey));
	if ((n = l->be->memo_forget(l, argv[i])) == -1) {
		warnx("%s: %s", pkey, lock_error(l));
		rc = options_exit_code(l);
	} else if (o.verbose)
		warnx("%s: dropped %ld cached result%s", pkey, n,
		    n == 1 ? "" : "s");
	options_free(&o, l);
	return rc;
}
