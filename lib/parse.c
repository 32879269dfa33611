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

/* The largest SIZE: 9e18 bytes, under INT64_MAX for callers that sign it. */
#define PARSE_SIZE_MAX	9000000000000000000ULL

struct unit {
	const char	*name;
	uint64_t	 scale;
};

/* The scale of the unit named s, dflt for no unit, 0 for an unknown one. */
static uint64_t
parse_unit(const char *s, const struct unit *units, uint64_t dflt)
{
	if (*s == '\0')
		return dflt;
	for (; units->name != NULL; units++)
		if (strcmp(s, units->name) == 0)
			return units->scale;
	return 0;
}

/* Multiplies a non-negative decimal prefix of s by the scale of its unit. */
static int
parse_scaled(const char *s, const struct unit *units, uint64_t dflt,
    double max, double *out)
{
	uint64_t scale;
	char *end;
	double v;

	if (s == NULL || strspn(s, "0123456789.") == 0 ||
	    strchr(s, 'x') != NULL || strchr(s, 'X') != NULL ||
	    strpbrk(s + strspn(s, "0123456789."), "0123456789.eE+-") != NULL)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v < 0 ||
	    (scale = parse_unit(end, units, dflt)) == 0)
		return -1;
	v *= (double)scale;
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Digits then a unit or none, multiplied in integers: exact up to max. */
static int
parse_scaled_u64(const char *s, const struct unit *units, uint64_t dflt,
    uint64_t max, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");
	uint64_t scale = parse_unit(s + n, units, dflt), v;
	char *digits;
	int rc;

	if (n == 0 || scale == 0 || (digits = strndup(s, n)) == NULL)
		return -1;
	rc = parse_u64(digits, max / scale, &v);
	free(digits);
	if (rc == 0)
		*out = v * scale;
	return rc;
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

/* SIZE to bytes: a whole number in integers, since a double holds only
   53 bits and would round "9007199254740993"; a fraction, rounded to a
   byte anyway, through strtod. */
int
parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
		{ "K", 1ULL << 10 }, { "M", 1ULL << 20 }, { "G", 1ULL << 30 },
		{ "k", 1ULL << 10 }, { "KB", 1ULL << 10 }, { "MB", 1ULL << 20 },
		{ "GB", 1ULL << 30 }, { NULL, 0 }
	};
	double v;

	if (s != NULL && s[strspn(s, "0123456789")] != '.')
		return parse_scaled_u64(s, units, 1, PARSE_SIZE_MAX, bytes);
	if (parse_scaled(s, units, 1, (double)PARSE_SIZE_MAX, &v) == -1)
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
