/*
 * Unit tests of lib/parse.h: parse_duration, parse_size, parse_int,
 * parse_u64.
 * Each row is one TAP test.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "unit.h"

struct dur_case {
	const char	*in;
	int		 rc;
	int64_t		 ms;
	const char	*todo;
};

static const struct dur_case dur_cases[] = {
	/* The forms of the header, and bare seconds. */
	{ "1.5s", 0, 1500, NULL },
	{ "500ms", 0, 500, NULL },
	{ "10m", 0, 600000, NULL },
	{ "2h", 0, 7200000, NULL },
	{ "1d", 0, 86400000, NULL },
	{ "0", 0, 0, NULL },
	{ "1", 0, 1000, NULL },
	{ "30", 0, 30000, NULL },
	{ "1.5", 0, 1500, NULL },
	{ "0.25", 0, 250, NULL },
	{ "0s", 0, 0, NULL },
	{ "0ms", 0, 0, NULL },
	{ "1ms", 0, 1, NULL },
	{ "007s", 0, 7000, NULL },
	{ "2.5m", 0, 150000, NULL },
	{ "1.5h", 0, 5400000, NULL },
	{ "0.5d", 0, 43200000, NULL },
	{ "0.1s", 0, 100, NULL },
	{ "0.001s", 0, 1, NULL },
	{ "1.005s", 0, 1005, NULL },
	{ "123456789", 0, 123456789000, NULL },
	{ "59m", 0, 3540000, NULL },
	{ "365d", 0, 31536000000, NULL },
	/* The largest value: 9e15 ms, still exact in a double. */
	{ "9000000000000000ms", 0, 9000000000000000, NULL },
	{ "9000000000000s", 0, 9000000000000000, NULL },
	{ "104166666d", 0, 104166666LL * 86400000, NULL },
	/* Empty, blanks, signs. */
	{ "", -1, 0, NULL },
	{ " ", -1, 0, NULL },
	{ " 1s", -1, 0, NULL },
	{ "1s ", -1, 0, NULL },
	{ "1 s", -1, 0, NULL },
	{ "\t1", -1, 0, NULL },
	{ "1\n", -1, 0, NULL },
	{ "-1", -1, 0, NULL },
	{ "-1s", -1, 0, NULL },
	{ "-0", -1, 0, NULL },
	{ "+1", -1, 0, NULL },
	{ "+1s", -1, 0, NULL },
	/* Hex, exponents, words strtod would take. */
	{ "0x10", -1, 0, NULL },
	{ "0X10", -1, 0, NULL },
	{ "0x1p3", -1, 0, NULL },
	{ "1e3", -1, 0, NULL },
	{ "1E3", -1, 0, NULL },
	{ "1e3s", -1, 0, NULL },
	{ "1e-3", -1, 0, NULL },
	{ "1e+3", -1, 0, NULL },
	{ "inf", -1, 0, NULL },
	{ "INF", -1, 0, NULL },
	{ "infinity", -1, 0, NULL },
	{ "nan", -1, 0, NULL },
	{ "NAN(1)", -1, 0, NULL },
	/* Junk, unknown and miscased units, compound forms. */
	{ "s", -1, 0, NULL },
	{ "ms", -1, 0, NULL },
	{ ".", -1, 0, NULL },
	{ "..", -1, 0, NULL },
	{ ".s", -1, 0, NULL },
	{ "1..5", -1, 0, NULL },
	{ "1.5.5s", -1, 0, NULL },
	{ "1,5s", -1, 0, NULL },
	{ "1_000", -1, 0, NULL },
	{ "1x", -1, 0, NULL },
	{ "1S", -1, 0, NULL },
	{ "1MS", -1, 0, NULL },
	{ "1Ms", -1, 0, NULL },
	{ "1H", -1, 0, NULL },
	{ "1D", -1, 0, NULL },
	{ "1sec", -1, 0, NULL },
	{ "1min", -1, 0, NULL },
	{ "1hr", -1, 0, NULL },
	{ "1w", -1, 0, NULL },
	{ "1y", -1, 0, NULL },
	{ "1us", -1, 0, NULL },
	{ "1ns", -1, 0, NULL },
	{ "1ss", -1, 0, NULL },
	{ "1s5", -1, 0, NULL },
	{ "5s5", -1, 0, NULL },
	{ "1ms5", -1, 0, NULL },
	{ "1h30m", -1, 0, NULL },
	{ "1m-1", -1, 0, NULL },
	{ "1s.", -1, 0, NULL },
	{ "\xd9\xa1", -1, 0, NULL },		/* ARABIC-INDIC DIGIT ONE */
	{ "\xef\xbc\x91s", -1, 0, NULL },	/* FULLWIDTH DIGIT ONE */
	{ "1\xc2\xa0s", -1, 0, NULL },		/* NO-BREAK SPACE */
	/* Overflow. */
	{ "9000000000000001ms", -1, 0, NULL },
	{ "9000000000001s", -1, 0, NULL },
	{ "104166667d", -1, 0, NULL },
	{ "99999999999999999999", -1, 0, NULL },
	{ "99999999999999999999999999999999999999999999999999d", -1, 0, NULL },
};

/* One parse_duration() row. */
static void
test_duration(void **state)
{
	const struct dur_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	int64_t ms = -42;
	int rc;

	rc = parse_duration(in, &ms);
	assert_int_equal(rc, c->rc);
	if (c->rc == 0)
		assert_int_equal(ms, c->ms);
}

/* A string of 400 digits: far past every limit, and no crash. */
static void
test_duration_long(void **state)
{
	char s[401];
	int64_t ms;

	(void)state;
	memset(s, '9', 400);
	s[400] = '\0';
	assert_int_equal(parse_duration(s, &ms), -1);
	memset(s, '0', 399);
	s[399] = '1';
	assert_int_equal(parse_duration(s, &ms), 0);
	assert_int_equal(ms, 1000);
}

/* NULL is refused, not dereferenced. */
static void
test_duration_null(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(parse_duration(NULL, &ms), -1);
}

struct size_case {
	const char	*in;
	int		 rc;
	uint64_t	 bytes;
	const char	*todo;
};

static const struct size_case size_cases[] = {
	{ "0", 0, 0, NULL },
	{ "1", 0, 1, NULL },
	{ "100", 0, 100, NULL },
	{ "1K", 0, 1024, NULL },
	{ "512K", 0, 524288, NULL },
	{ "64M", 0, 67108864, NULL },
	{ "1G", 0, 1073741824, NULL },
	{ "1k", 0, 1024, NULL },
	{ "1KB", 0, 1024, NULL },
	{ "1MB", 0, 1048576, NULL },
	{ "1GB", 0, 1073741824, NULL },
	{ "1.5K", 0, 1536, NULL },
	{ "0.5M", 0, 524288, NULL },
	{ "0.5G", 0, 536870912, NULL },
	{ "0K", 0, 0, NULL },
	{ "0010K", 0, 10240, NULL },
	{ "8000000000G", 0, 8589934592000000000ULL, NULL },
	{ "9000000000000000000", 0, 9000000000000000000ULL, NULL },
	{ "9007199254740993", 0, 9007199254740993ULL, NULL },
	{ "123456789012345678", 0, 123456789012345678ULL, NULL },
	{ "8381903171G", 0, 8999999999420923904ULL, NULL },
	{ "8789062500000000K", 0, 9000000000000000000ULL, NULL },
	{ "0000000000000000000000000001K", 0, 1024, NULL },
	{ ".5K", 0, 512, NULL },
	{ "5.K", 0, 5120, NULL },
	/* Units not in the list, case matters. */
	{ "1T", -1, 0, NULL },
	{ "1TB", -1, 0, NULL },
	{ "1m", -1, 0, NULL },
	{ "1g", -1, 0, NULL },
	{ "1kb", -1, 0, NULL },
	{ "1Kb", -1, 0, NULL },
	{ "1mb", -1, 0, NULL },
	{ "1KiB", -1, 0, NULL },
	{ "1B", -1, 0, NULL },
	{ "1KK", -1, 0, NULL },
	{ "1 K", -1, 0, NULL },
	{ "1K ", -1, 0, NULL },
	{ "K", -1, 0, NULL },
	{ "KB", -1, 0, NULL },
	{ "1s", -1, 0, NULL },
	/* Empty, signs, hex, exponents, junk. */
	{ "", -1, 0, NULL },
	{ " 1", -1, 0, NULL },
	{ "-1", -1, 0, NULL },
	{ "-1K", -1, 0, NULL },
	{ "+1", -1, 0, NULL },
	{ "0x10", -1, 0, NULL },
	{ "1e3", -1, 0, NULL },
	{ "1E3K", -1, 0, NULL },
	{ "inf", -1, 0, NULL },
	{ "nan", -1, 0, NULL },
	{ "1.5.5K", -1, 0, NULL },
	{ "1K1", -1, 0, NULL },
	{ "1,024", -1, 0, NULL },
	/* Overflow: the limit is 9e18 bytes. */
	{ "9000000000000000001", -1, 0, NULL },
	{ "9000000000000001000", -1, 0, NULL },
	{ "18446744073709551616", -1, 0, NULL },
	{ "8381903172G", -1, 0, NULL },
	{ "8789062500000001K", -1, 0, NULL },
	{ "8589934592G", -1, 0, NULL },
	{ "99999999999999999999999G", -1, 0, NULL },
};

/* One parse_size() row. */
static void
test_size(void **state)
{
	const struct size_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	uint64_t bytes = 42;
	int rc;

	rc = parse_size(in, &bytes);
	assert_int_equal(rc, c->rc);
	if (c->rc == 0)
		assert_int_equal(bytes, c->bytes);
}

struct int_case {
	const char	*in;
	long		 min, max;
	int		 rc;
	long		 v;
};

static const struct int_case int_cases[] = {
	{ "0", 0, 10, 0, 0 },
	{ "10", 0, 10, 0, 10 },
	{ "5", 5, 5, 0, 5 },
	{ "007", 0, 10, 0, 7 },
	{ "1", 1, LONG_MAX, 0, 1 },
	{ "9223372036854775807", 0, LONG_MAX, 0, LONG_MAX },
	{ "65535", 1, 65535, 0, 65535 },
	{ "11", 0, 10, -1, 0 },
	{ "4", 5, 10, -1, 0 },
	{ "0", 1, 10, -1, 0 },
	{ "5", 10, 0, -1, 0 },
	{ "65536", 1, 65535, -1, 0 },
	{ "9223372036854775808", 0, LONG_MAX, -1, 0 },
	{ "99999999999999999999999999", 0, LONG_MAX, -1, 0 },
	{ "", 0, 10, -1, 0 },
	{ "-1", -10, 10, -1, 0 },
	{ "-0", 0, 10, -1, 0 },
	{ "+1", 0, 10, -1, 0 },
	{ " 1", 0, 10, -1, 0 },
	{ "1 ", 0, 10, -1, 0 },
	{ "\n1", 0, 10, -1, 0 },
	{ "1\n", 0, 10, -1, 0 },
	{ "1a", 0, 10, -1, 0 },
	{ "a", 0, 10, -1, 0 },
	{ "0x1", 0, 10, -1, 0 },
	{ "1e1", 0, 100, -1, 0 },
	{ "1.0", 0, 10, -1, 0 },
	{ "1_0", 0, 100, -1, 0 },
	{ "\xef\xbc\x91", 0, 10, -1, 0 },	/* FULLWIDTH DIGIT ONE */
};

/* One parse_int() row. */
static void
test_int(void **state)
{
	const struct int_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	long v = -42;
	int rc;

	rc = parse_int(in, c->min, c->max, &v);
	assert_int_equal(rc, c->rc);
	if (c->rc == 0)
		assert_int_equal(v, c->v);
}

/* NULL is refused, not dereferenced. */
static void
test_int_null(void **state)
{
	long v;

	(void)state;
	assert_int_equal(parse_int(NULL, 0, 10, &v), -1);
}

struct u64_case {
	const char	*in;
	uint64_t	 max;
	int		 rc;
	uint64_t	 v;
};

static const struct u64_case u64_cases[] = {
	{ "0", 0, 0, 0 },
	{ "007", 10, 0, 7 },
	{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
	{ "9223372036854775807", INT64_MAX, 0, INT64_MAX },
	{ "9223372036854775808", INT64_MAX, -1, 0 },
	{ "18446744073709551616", UINT64_MAX, -1, 0 },
	{ "99999999999999999999999999", UINT64_MAX, -1, 0 },
	{ "11", 10, -1, 0 },
	{ "", UINT64_MAX, -1, 0 },
	{ "-1", UINT64_MAX, -1, 0 },	/* strtoull: 2^64-1 */
	{ "-0", UINT64_MAX, -1, 0 },
	{ "+1", UINT64_MAX, -1, 0 },
	{ " 1", UINT64_MAX, -1, 0 },
	{ "1 ", UINT64_MAX, -1, 0 },
	{ "1\n", UINT64_MAX, -1, 0 },
	{ "0x1", UINT64_MAX, -1, 0 },
	{ "1e1", UINT64_MAX, -1, 0 },
};

/* One parse_u64() row. */
static void
test_u64(void **state)
{
	const struct u64_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	uint64_t v = 42;
	int rc;

	rc = parse_u64(in, c->max, &v);
	assert_int_equal(rc, c->rc);
	if (c->rc == 0)
		assert_int_equal(v, c->v);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 0; i < UNIT_NROWS(dur_cases); i++)
		unit_add(&s, test_duration, &dur_cases[i], dur_cases[i].todo,
		    "parse_duration(%s) %s", unit_q(dur_cases[i].in),
		    dur_cases[i].rc == 0 ? "is accepted" : "is refused");
	unit_add(&s, test_duration_long, NULL, NULL,
	    "parse_duration of 400 digits");
	unit_add(&s, test_duration_null, NULL, NULL, "parse_duration(NULL)");
	for (i = 0; i < UNIT_NROWS(size_cases); i++)
		unit_add(&s, test_size, &size_cases[i], size_cases[i].todo,
		    "parse_size(%s) %s", unit_q(size_cases[i].in),
		    size_cases[i].rc == 0 ? "is accepted" : "is refused");
	for (i = 0; i < UNIT_NROWS(int_cases); i++)
		unit_add(&s, test_int, &int_cases[i], NULL,
		    "parse_int(%s, %ld, %ld) %s", unit_q(int_cases[i].in),
		    int_cases[i].min, int_cases[i].max,
		    int_cases[i].rc == 0 ? "is accepted" : "is refused");
	unit_add(&s, test_int_null, NULL, NULL, "parse_int(NULL)");
	for (i = 0; i < UNIT_NROWS(u64_cases); i++)
		unit_add(&s, test_u64, &u64_cases[i], NULL,
		    "parse_u64(%s, %" PRIu64 ") %s", unit_q(u64_cases[i].in),
		    u64_cases[i].max,
		    u64_cases[i].rc == 0 ? "is accepted" : "is refused");
	return unit_run(&s);
}
