/*
 * paths: the default lock and cache directories.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "paths.h"

char *
paths_lock_dir(void)
{
	const char *base;
	char *p;

	if ((base = getenv("XDG_RUNTIME_DIR")) != NULL && *base == '/') {
		if (asprintf(&p, "%s/keylock", base) == -1)
			return NULL;
		return p;
	}
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

	if ((base = getenv("XDG_CACHE_HOME")) != NULL && *base == '/') {
		if (asprintf(&p, "%s/keylock", base) == -1)
			return NULL;
		return p;
	}
	if ((base = getenv("HOME")) == NULL || *base != '/') {
		if ((pw = getpwuid(geteuid())) == NULL)
			return NULL;
		base = pw->pw_dir;
	}
	if (asprintf(&p, "%s/.cache/keylock", base) == -1)
		return NULL;
	return p;
}
