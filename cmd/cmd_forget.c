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
	const char *key;
	long n;
	int rc = 0;

	key = options_key(&o, argc, argv, options_parse(&o, argc, argv));
	l = options_backend(&o);
	text_printable(key, pkey, sizeof(pkey));
	if (l->be->memo == NULL)
		n = 0;		/* nothing can have been cached */
	else if ((n = l->be->memo->forget(l, key)) == -1) {
		warnx("%s: %s", pkey, lock_error(l));
		rc = options_exit_code(l);
	} else if (o.verbose)
		warnx("%s: dropped %ld cached result%s", pkey, n,
		    n == 1 ? "" : "s");
	options_free(&o, l);
	return rc;
}
