/*
 * version: the one table of features a build may have, what --version
 * prints of it, and the check a subcommand makes before using one.
 *
 * An optional feature is one row: configure defines HAVE_X when it is
 * enabled, the row says which option enables it, e.g.
 *
 *	#ifdef HAVE_TLS
 *	#define BUILT_TLS 1
 *	#else
 *	#define BUILT_TLS 0
 *	#endif
 *	{ "tls", "TLS", BUILT_TLS, "--with-tls" },
 *
 * Names and the version are plain ASCII, so they need no JSON escaping.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "exits.h"
#include "version.h"

#ifdef HAVE_TLS
#define BUILT_TLS 1
#else
#define BUILT_TLS 0
#endif

static const struct feature {
	const char	*name;		/* in --version, lower case */
	const char	*label;		/* in messages */
	int		 built;
	const char	*configure;	/* the option that builds it */
} features[] = {
	{ "local",	"local locking",	1,	NULL },
	{ "redis",	"Redis",		1,	NULL },
	{ "tls",	"TLS (rediss://)",	BUILT_TLS, "--with-tls" },
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

/* Prints "keylock VERSION (a, b; without c)". */
static void
version_text(void)
{
	const char *sep = " (";
	size_t i;
	int without = 0;

	printf("%s %s", PACKAGE_NAME, PACKAGE_VERSION);
	for (i = 0; i < NFEATURES; i++)
		if (features[i].built) {
			printf("%s%s", sep, features[i].name);
			sep = ", ";
		}
	for (i = 0; i < NFEATURES; i++)
		if (!features[i].built) {
			printf("%s%s", without++ ? ", " : "; without ",
			    features[i].name);
		}
	puts(")");
}

/* Prints {"name":..,"version":..,"features":{"a":true,"c":false}}. */
static void
version_json(void)
{
	size_t i;

	printf("{\"name\":\"%s\",\"version\":\"%s\",\"features\":{",
	    PACKAGE_NAME, PACKAGE_VERSION);
	for (i = 0; i < NFEATURES; i++)
		printf("%s\"%s\":%s", i ? "," : "", features[i].name,
		    features[i].built ? "true" : "false");
	puts("}}");
}

int
version_main(int argc, char **argv)
{
	if (argc == 1)
		version_text();
	else if (argc == 2 && strcmp(argv[1], "--json") == 0)
		version_json();
	else
		usage_error("%s: unknown option '%s' (only --json)", argv[0],
		    argv[1]);
	return 0;
}

void
feature_require(const char *name)
{
	size_t i;

	for (i = 0; i < NFEATURES; i++)
		if (strcmp(features[i].name, name) == 0)
			break;
	if (i == NFEATURES)
		errx(EXIT_INTERNAL, "unknown feature '%s'", name);
	if (!features[i].built)
		errx(EXIT_USAGE, "%s support is not built in (configure with "
		    "%s)", features[i].label, features[i].configure);
}
