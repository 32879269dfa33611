/*
 * parse: strict parsers for durations, sizes and integers.  Each
 * accepts the whole string or nothing, so "10x" or "5s " is an error the
 * user sees rather than a silent 10 or 5.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

struct unit {
	const char	*name;
	double		 scale;
};

/* Multiplies a non-negative decimal prefix of s by the scale of its unit. */
static int
parse_scaled(const char *s, const struct unit *units, double dflt,
    double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || strspn(s, "0123456789.") == 0 ||
	    strchr(s, 'x') != NULL || strchr(s, 'X') != NULL ||
	    strpbrk(s + strspn(s, "0123456789."), "0123456789.eE+-") != NULL)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0')
		v *= dflt;
	else {
		for (; units->name != NULL; units++)
			if (strcmp(end, units->name) == 0)
				break;
		if (units->name == NULL)
			return -1;
		v *= units->scale;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* DURATION to milliseconds (see parse.h). */
int
parse_duration(const char *s, int64_t *ms)
{
	static const struct unit units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { NULL, 0 }
	};
	double v;

	if (parse_scaled(s, units, 1000, 9.0e15, &v) == -1)
		return -1;
	*ms = (int64_t)(v + 0.5);
	return 0;
}

/* SIZE to bytes; K, M, G are powers of 1024. */
int
parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
		{ "K", 1024.0 }, { "M", 1048576.0 }, { "G", 1073741824.0 },
		{ "k", 1024.0 }, { "KB", 1024.0 }, { "MB", 1048576.0 },
		{ "GB", 1073741824.0 }, { NULL, 0 }
	};
	double v;

	if (parse_scaled(s, units, 1, 9.0e18, &v) == -1)
		return -1;
	*bytes = (uint64_t)(v + 0.5);
	return 0;
}

/* Digits only, in [min, max]: parse_u64 with a signed range. */
int
parse_int(const char *s, long min, long max, long *out)
{
	uint64_t v;

	if (max < 0 || parse_u64(s, (uint64_t)max, &v) == -1 ||
	    (long)v < min)
		return -1;
	*out = (long)v;
	return 0;
}

/* Digits only: strtoull alone would take blanks, a sign, and wrap "-1". */
int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (uint64_t)v;
	return 0;
}
