/*
 * paths: the default lock and cache directories.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "paths.h"

/* The directory env names plus "/keylock", if env holds an absolute
   path; *p malloc'd (NULL when out of memory); nonzero if env served. */
static int
paths_env(const char *env, char **p)
{
	const char *base = getenv(env);

	if (base == NULL || *base != '/')
		return 0;
	if (asprintf(p, "%s/keylock", base) == -1)
		*p = NULL;
	return 1;
}

char *
paths_lock_dir(void)
{
	const char *base;
	char *p;

	if (paths_env("XDG_RUNTIME_DIR", &p))
		return p;
	if ((base = getenv("TMPDIR")) == NULL || *base != '/')
		base = "/tmp";
	if (asprintf(&p, "%s/keylock-%lu", base, (unsigned long)geteuid()) == -1)
		return NULL;
	return p;
}

char *
paths_cache_dir(void)
{
	const char *base;
	struct passwd *pw;
	char *p;

	if (paths_env("XDG_CACHE_HOME", &p))
		return p;
	if ((base = getenv("HOME")) == NULL || *base != '/') {
		if ((pw = getpwuid(geteuid())) == NULL)
			return NULL;
		base = pw->pw_dir;
	}
	if (asprintf(&p, "%s/.cache/keylock", base) == -1)
		return NULL;
	return p;
}
