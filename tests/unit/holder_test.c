/*
 * Unit tests of lib/holder.h: the record's format and parse, the sealed
 * record against torn, corrupted and forged input, and the description.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "holder.h"
#include "unit.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"
#define H64	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
#define H255	H64 H64 H64 "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
_Static_assert(sizeof(H255) == HOLDER_HOST_MAX, "H255 is the longest host");

/* A holder with the given fields (ttl_ms -1, as holder_parse sets it). */
static struct holder
mk(const char *token, const char *host, long pid, int64_t since,
    uint64_t fence)
{
	struct holder h;

	memset(&h, 0, sizeof(h));
	strcpy(h.token, token);
	strcpy(h.host, host);
	h.pid = pid;
	h.since_ms = since;
	h.fence = fence;
	h.ttl_ms = -1;
	return h;
}

/* Fails unless a and b hold the same fields. */
static void
assert_holder_equal(const struct holder *a, const struct holder *b)
{
	unit_assert_str(a->token, b->token);
	unit_assert_str(a->host, b->host);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->since_ms, b->since_ms);
	assert_int_equal(a->fence, b->fence);
	assert_int_equal(a->ttl_ms, b->ttl_ms);
}

struct rec_case {
	struct holder	 h;
	const char	*rec;
};

static const struct rec_case rec_cases[] = {
	{ { "-", "h", 1, 0, 0, -1 }, "- h 1 0 0" },
	{ { TOKEN, "build-7", 4242, 1700000000123, 9, -1 },
	    TOKEN " build-7 4242 1700000000123 9" },
	{ { TOKEN, H255, INT_MAX, INT64_MAX, UINT64_MAX, -1 },
	    TOKEN " " H255 " 2147483647 9223372036854775807 "
	    "18446744073709551615" },
	{ { "-", "x.example.org", 99999, 1, 18446744073709551614ULL, -1 },
	    "- x.example.org 99999 1 18446744073709551614" },
};

/* A note and a hold deadline travel through a record, escaped. */
static void
test_note(void **state)
{
	struct holder h = mk("-", "h", 1, 2, 3), back;
	char buf[HOLDER_RECORD_MAX + 1];
	size_t len;

	(void)state;
	h.until_ms = 1700000000000;
	strcpy(h.note, "deploy #812 by alice 100% \xc3\xa9");
	len = holder_format(&h, buf, sizeof(buf));
	unit_assert_str(buf, "- h 1 2 3 u=1700000000000 "
	    "n=deploy%20#812%20by%20alice%20100%25%20\xc3\xa9");
	assert_int_equal(holder_parse(buf, len, &back), 0);
	unit_assert_str(back.note, h.note);
	assert_int_equal(back.until_ms, h.until_ms);
	/* Fields a later version adds are skipped; malformed ones refused. */
	assert_int_equal(holder_parse("- h 1 2 3 z=9 n=x", 17, &back), 0);
	unit_assert_str(back.note, "x");
	assert_int_equal(holder_parse("- h 1 2 3 n=%00", 15, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 n=%4", 14, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 u=-5", 14, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 u=5x", 14, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 =5", 12, &back), -1);
}

/* Slots, shared and supersede travel through a record; a slot out of
   range, or without slots, is refused. */
static void
test_mode(void **state)
{
	struct holder h = mk("-", "h", 1, 2, 3), back;
	char buf[HOLDER_RECORD_MAX + 1];
	size_t len;

	(void)state;
	h.slots = 3;
	h.slot = 2;
	h.supersede = 1;
	len = holder_format(&h, buf, sizeof(buf));
	unit_assert_str(buf, "- h 1 2 3 k=3 i=2 w=1");
	assert_int_equal(holder_parse(buf, len, &back), 0);
	assert_int_equal(back.slots, 3);
	assert_int_equal(back.slot, 2);
	assert_int_equal(back.supersede, 1);
	assert_int_equal(back.shared, 0);
	assert_int_equal(holder_parse("- h 1 2 3 s=1", 13, &back), 0);
	assert_int_equal(back.shared, 1);
	assert_int_equal(holder_parse("- h 1 2 3 k=3 i=3", 17, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 i=1", 13, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 s=2", 13, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 k=-1", 14, &back), -1);
	assert_int_equal(holder_parse("- h 1 2 3 w=1x", 14, &back), -1);
}

/* The longest note, all escaped, fits a record and a lock file slot. */
static void
test_note_longest(void **state)
{
	struct holder h = mk(TOKEN, H255, INT_MAX, INT64_MAX, UINT64_MAX),
	    back;
	char buf[HOLDER_SEALED_MAX];
	size_t len;

	(void)state;
	h.until_ms = INT64_MAX;
	h.cooldown_ms = INT64_MAX;
	h.slots = 999999999u;
	h.slot = 999999998u;
	h.shared = h.supersede = 1;
	memset(h.note, ' ', HOLDER_NOTE_MAX);
	h.note[HOLDER_NOTE_MAX] = '\0';
	len = holder_seal(&h, buf);
	assert_true(len <= HOLDER_SEALED_MAX);
	assert_int_equal(holder_unseal(buf, len, &back), 0);
	unit_assert_str(back.note, h.note);
}

/* holder_format() writes the record, holder_parse() reads it back. */
static void
test_format(void **state)
{
	const struct rec_case *c = *state;
	char buf[HOLDER_RECORD_MAX + 1];
	struct holder back;
	size_t len;

	len = holder_format(&c->h, buf, sizeof(buf));
	unit_assert_str(buf, c->rec);
	assert_int_equal(len, strlen(c->rec));
	assert_int_equal(holder_parse(buf, len, &back), 0);
	assert_holder_equal(&back, &c->h);
}

/* A short buffer gets a cut, NUL-terminated record and its length. */
static void
test_format_cut(void **state)
{
	struct holder h = mk(TOKEN, "h", 1, 2, 3);
	char *buf = unit_alloc(10);

	(void)state;
	assert_int_equal(holder_format(&h, buf, 10), 9);
	unit_assert_str(buf, "012345678");
}

/* Nothing fits in 0 bytes: the length written is 0. */
static void
test_format_zero(void **state)
{
	struct holder h = mk("-", "h", 1, 2, 3);
	char buf[1] = { 'x' };

	(void)state;
	assert_int_equal(holder_format(&h, buf, 0), 0);
	assert_int_equal(buf[0], 'x');
}

struct parse_case {
	const char	*rec;
	size_t		 len;	/* 0: strlen(rec) */
	int		 rc;
	const char	*todo;
};

static const struct parse_case parse_cases[] = {
	{ "- h 1 0 0", 0, 0, NULL },
	{ "- h 1 0 0\n", 0, 0, NULL },
	{ TOKEN " h 1 1700000000123 18446744073709551615", 0, 0, NULL },
	{ "", 0, -1, NULL },
	{ "-", 0, -1, NULL },
	{ "- h", 0, -1, NULL },
	{ "- h 1", 0, -1, NULL },
	{ "- h 1 0", 0, -1, NULL },
	{ "- h 1 0 0 0", 0, -1, NULL },
	{ "- h 1 0 0 ", 0, -1, NULL },
	{ "- h 1 0 0x", 0, -1, NULL },
	{ "- h x 0 0", 0, -1, NULL },
	{ "- h 1 x 0", 0, -1, NULL },
	{ "- h 1 0 x", 0, -1, NULL },
	{ "- h 1.5 0 0", 0, -1, NULL },
	{ "- h 1 0 1e3", 0, -1, NULL },
	{ "- h 1 0 0x10", 0, -1, NULL },
	{ "\n", 0, -1, NULL },
	{ "garbage", 0, -1, NULL },
	{ "\xff\xfe\xfd\xfc", 0, -1, NULL },
	/* The record is "- h 1 0 0"; len cuts it. */
	{ "- h 1 0 0", 7, -1, NULL },
	/* Fields are split by single spaces and taken whole. */
	{ TOKEN "h 1 2 3", 0, -1, NULL },	/* a 33-byte token */
	{ "- " H255 "9 1 2", 0, -1, NULL },	/* a 256-byte host */
	{ "- " H255 " 1 2 3", 0, 0, NULL },	/* the longest host */
	{ "-  h 1 0 0", 0, -1, NULL },
	{ "- h  1 0 0", 0, -1, NULL },
	{ " - h 1 0 0", 0, -1, NULL },
	{ "- h\t1 0 0", 0, -1, NULL },
	/* TOKEN: "-" or 32 lower-case hex digits. */
	{ "zz h 1 0 0", 0, -1, NULL },
	{ "-- h 1 0 0", 0, -1, NULL },
	{ "0123456789ABCDEF0123456789ABCDEF h 1 0 0", 0, -1, NULL },
	{ "0123456789abcdef0123456789abcde h 1 0 0", 0, -1, NULL },
	/* HOST: any bytes but the separators, kept (shown with '?'). */
	{ "- h\x01 1 0 0", 0, 0, NULL },
	{ "- h\x7f 1 0 0", 0, 0, NULL },
	{ "- h\xc3\xa9 1 0 0", 0, 0, NULL },
	/* PID, SINCE_MS, FENCE: digits only, in range. */
	{ "- h 0 0 0", 0, 0, NULL },
	{ "- h -5 0 0", 0, -1, NULL },
	{ "- h +5 0 0", 0, -1, NULL },
	{ "- h 1 -1 0", 0, -1, NULL },
	{ "- h 1 0 -1", 0, -1, NULL },	/* strtoull: 2^64-1 */
	{ "- h 1 0 +0", 0, -1, NULL },
	{ "- h 99999999999999999999 0 0", 0, -1, NULL },
	/* A pid is a pid_t: past INT_MAX it would wrap to -1 (kill(-1)). */
	{ "- h 2147483647 0 0", 0, 0, NULL },
	{ "- h 2147483648 0 0", 0, -1, NULL },
	{ "- h 4294967295 0 0", 0, -1, NULL },
	{ "- h 1 9223372036854775808 0", 0, -1, NULL },
	{ "- h 1 99999999999999999999 0", 0, -1, NULL },
	{ "- h 1 0 18446744073709551616", 0, -1, NULL },
	{ "- h 1 0 99999999999999999999", 0, -1, NULL },
	/* One line: a single trailing '\n', no NUL inside len. */
	{ "- h 1\n0 0", 0, -1, NULL },
	{ "- h 1 0 0\n\n", 0, -1, NULL },
	{ "- h 1 0 0 n=a\nb", 0, -1, NULL },
	{ "- h 1 0 0\0junk", 14, -1, NULL },
	{ "- h 1 0 0\0", 10, -1, NULL },
	/* The fields after FENCE are digits only too. */
	{ "- h 1 0 0 u=5", 0, 0, NULL },
	{ "- h 1 0 0 u=+5", 0, -1, NULL },
	{ "- h 1 0 0 u=0", 0, -1, NULL },
	{ "- h 1 0 0 u=", 0, -1, NULL },
	{ "- h 1 0 0 u=9223372036854775808", 0, -1, NULL },
	{ "- h 1 0 0 c=+5", 0, -1, NULL },
	{ "- h 1 0 0 k=+3 i=1", 0, -1, NULL },
	{ "- h 1 0 0 k=3 i=+1", 0, -1, NULL },
	{ "- h 1 0 0 k=999999999 i=0", 0, 0, NULL },
	{ "- h 1 0 0 k=1000000000 i=0", 0, -1, NULL },
	{ "- h 1 0 0 s=1 ", 0, -1, NULL },
	{ "- h 1 0 0 s=1  w=1", 0, -1, NULL },
	{ "- h 1 0 0 zz=+anything", 0, 0, NULL },	/* a later field */
};

/* One holder_parse() row, its record in an exact-size block. */
static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	size_t len = c->len != 0 ? c->len : strlen(c->rec);
	char *rec = unit_dup(c->rec, len);
	struct holder h;
	int rc;

	rc = holder_parse(rec, len, &h);
	assert_int_equal(rc, c->rc);
	if (rc == 0)
		assert_int_equal(h.ttl_ms, -1);
}

/* A record longer than HOLDER_RECORD_MAX is refused. */
static void
test_parse_long(void **state)
{
	char rec[HOLDER_RECORD_MAX + 2];
	struct holder h;

	(void)state;
	memset(rec, ' ', sizeof(rec));
	memcpy(rec, "- h 1 0 0", 9);
	assert_int_equal(holder_parse(rec, HOLDER_RECORD_MAX, &h), -1);
	assert_int_equal(holder_parse(rec, HOLDER_RECORD_MAX + 1, &h), -1);
	assert_int_equal(holder_parse(rec, 9, &h), 0);
}

static const struct holder seal_holders[] = {
	{ "-", "h", 1, 0, 0, -1 },
	{ TOKEN, "build-7", 4242, 1700000000123, 9, -1 },
	{ TOKEN, H255, INT_MAX, INT64_MAX, UINT64_MAX, -1 },
};

/* Seals h into buf; checks the layout and returns the length. */
static size_t
seal(const struct holder *h, char *buf)
{
	char rec[HOLDER_RECORD_MAX + 1], hex[DIGEST_HEX_LEN + 1];
	size_t len, rlen;

	len = holder_seal(h, buf);
	rlen = holder_format(h, rec, sizeof(rec));
	assert_int_equal(len, HOLDER_SUM_LEN + 1 + rlen + 1);
	assert_true(len <= HOLDER_SEALED_MAX);
	digest_sha256(rec, rlen, hex);
	assert_memory_equal(buf, hex, HOLDER_SUM_LEN);
	assert_int_equal(buf[HOLDER_SUM_LEN], ' ');
	assert_memory_equal(buf + HOLDER_SUM_LEN + 1, rec, rlen);
	assert_int_equal(buf[len - 1], '\n');
	return len;
}

/* A sealed record unseals whole, also with NUL padding behind it. */
static void
test_seal(void **state)
{
	const struct holder *h = *state;
	char buf[384];
	struct holder back;
	size_t len;
	char *exact;

	memset(buf, 0, sizeof(buf));
	len = seal(h, buf);
	exact = unit_dup(buf, len);
	assert_int_equal(holder_unseal(exact, len, &back), 0);
	assert_holder_equal(&back, h);
	assert_int_equal(holder_unseal(buf, sizeof(buf), &back), 0);
	assert_holder_equal(&back, h);
}

/* Every proper prefix of a sealed record is torn. */
static void
test_torn(void **state)
{
	struct holder h = mk(TOKEN, "build-7", 4242, 1700000000123, 9), back;
	char buf[HOLDER_SEALED_MAX], *cut;
	size_t len, n;

	(void)state;
	len = seal(&h, buf);
	for (n = 0; n < len; n++) {
		cut = unit_dup(buf, n);
		cut[n] = 'x';	/* no NUL to stop at */
		assert_int_equal(holder_unseal(cut, n, &back), -1);
	}
}

/* Any one byte changed, any bit of it: refused. */
static void
test_corrupt(void **state)
{
	struct holder h = mk("-", "host-1", 77, 1700000000000, 5), back;
	char buf[HOLDER_SEALED_MAX];
	size_t len, i;
	int bit;

	(void)state;
	len = seal(&h, buf);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			assert_int_equal(holder_unseal(buf, len, &back), -1);
			buf[i] ^= (char)(1 << bit);
		}
	assert_int_equal(holder_unseal(buf, len, &back), 0);
}

/* Writes "SUM rec\n" with a right checksum of rec; returns its length. */
static size_t
forge(const char *rec, size_t rlen, char *buf, int upper)
{
	char hex[DIGEST_HEX_LEN + 1];
	size_t i;

	digest_sha256(rec, rlen, hex);
	for (i = 0; upper && i < HOLDER_SUM_LEN; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	memcpy(buf, hex, HOLDER_SUM_LEN);
	buf[HOLDER_SUM_LEN] = ' ';
	memcpy(buf + HOLDER_SUM_LEN + 1, rec, rlen);
	buf[HOLDER_SUM_LEN + 1 + rlen] = '\n';
	return HOLDER_SUM_LEN + 1 + rlen + 1;
}

struct forged_case {
	const char	*rec;
	int		 upper;
	int		 rc;
};

static const struct forged_case forged_cases[] = {
	{ "- h 1 0 0", 0, 0 },
	{ "- h 1 0 0", 1, -1 },		/* the sum is lower-case hex */
	{ "", 0, -1 },
	{ "- h", 0, -1 },
	{ "- h 1 0 0 extra", 0, -1 },
	{ "not a record at all", 0, -1 },
};

/* A record with a right checksum is still parsed strictly. */
static void
test_forged(void **state)
{
	const struct forged_case *c = *state;
	char buf[HOLDER_SEALED_MAX + 64];
	struct holder h;
	size_t len;

	len = forge(c->rec, strlen(c->rec), buf, c->upper);
	assert_int_equal(holder_unseal(buf, len, &h), c->rc);
}

/* A right checksum over a record past HOLDER_RECORD_MAX is refused. */
static void
test_forged_long(void **state)
{
	char rec[HOLDER_RECORD_MAX + 20], buf[HOLDER_RECORD_MAX + 64];
	struct holder h;
	size_t len;

	(void)state;
	memset(rec, 'h', sizeof(rec));
	memcpy(rec, "- ", 2);
	memcpy(rec + sizeof(rec) - 6, " 1 0 0", 6);
	len = forge(rec, sizeof(rec), buf, 0);
	assert_int_equal(holder_unseal(buf, len, &h), -1);
}

struct garbage_case {
	const char	*name;
	int		 fill;	/* -1: pseudo-random */
	size_t		 len;
};

static const struct garbage_case garbage_cases[] = {
	{ "empty", 0, 0 },
	{ "1 byte", 'a', 1 },
	{ "17 bytes", '0', 17 },
	{ "384 NULs", 0, 384 },
	{ "384 x 0xff", 0xff, 384 },
	{ "384 newlines", '\n', 384 },
	{ "384 blanks", ' ', 384 },
	{ "384 x '0'", '0', 384 },
	{ "384 pseudo-random bytes, 2000 times", -1, 384 },
};

/* Garbage never unseals. */
static void
test_garbage(void **state)
{
	const struct garbage_case *c = *state;
	uint32_t x = 12345;
	struct holder h;
	char *buf;
	size_t i;
	int round, rounds = c->fill == -1 ? 2000 : 1;

	buf = unit_alloc(c->len + 1);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < c->len; i++) {
			x = x * 1103515245 + 12345;
			buf[i] = (char)(c->fill == -1 ? x >> 16 : (unsigned)c->fill);
		}
		assert_int_equal(holder_unseal(buf, c->len, &h), -1);
	}
}

struct describe_case {
	struct holder	 h;
	size_t		 len;
	const char	*want;
	const char	*todo;
};

static const struct describe_case describe_cases[] = {
	{ { "-", "h", 0, 0, 0, -1 }, 100, "an unknown process", NULL },
	{ { "-", "h", 123, 0, 0, -1 }, 100,
	    "pid 123 on h since 1970-01-01T00:00:00.000Z", NULL },
	{ { TOKEN, "build-7", 42, 1700000000123, 9, -1 }, 100,
	    "pid 42 on build-7 since 2023-11-14T22:13:20.123Z", NULL },
	{ { "-", "h", 1, -1000, 0, -1 }, 100,
	    "pid 1 on h since 1969-12-31T23:59:59.000Z", NULL },
	{ { "-", "h", 1, -1, 0, -1 }, 100,
	    "pid 1 on h since 1969-12-31T23:59:59.999Z", NULL },
	{ { "-", "h", 1, -1001, 0, -1 }, 100,
	    "pid 1 on h since 1969-12-31T23:59:58.999Z", NULL },
	{ { "-", "h", 123, 0, 0, -1 }, 10, "pid 123 o", NULL },
	{ { "-", "h", 0, 0, 0, -1 }, 4, "an ", NULL },
};

/* One holder_describe() row, into an exact-size block. */
static void
test_describe(void **state)
{
	const struct describe_case *c = *state;
	char *buf = unit_alloc(c->len);

	holder_describe(&c->h, buf, c->len);
	unit_assert_str(buf, c->want);
}

/* The extreme stamps of a parsed record describe without a crash. */
static void
test_describe_extremes(void **state)
{
	struct holder h = mk("-", "h", 1, INT64_MAX, 0);
	char buf[200];

	(void)state;
	holder_describe(&h, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "pid 1 on h since ", 17), 0);
	h.since_ms = INT64_MIN;
	holder_describe(&h, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "pid 1 on h since ", 17), 0);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 0; i < UNIT_NROWS(rec_cases); i++)
		unit_add(&s, test_format, &rec_cases[i], NULL,
		    "holder_format -> %s, and back", unit_q(rec_cases[i].rec));
	unit_add(&s, test_note, NULL, NULL,
	    "a note and a hold deadline round-trip; extra fields skipped");
	unit_add(&s, test_note_longest, NULL, NULL,
	    "the longest note, all escaped, fits a sealed record");
	unit_add(&s, test_mode, NULL, NULL,
	    "holder_format and holder_parse keep slots, shared, supersede");
	unit_add(&s, test_format_cut, NULL, NULL,
	    "holder_format cuts to a 10-byte buffer");
	unit_add(&s, test_format_zero, NULL,
	    NULL,
	    "holder_format into 0 bytes returns 0");
	for (i = 0; i < UNIT_NROWS(parse_cases); i++)
		unit_add(&s, test_parse, &parse_cases[i], parse_cases[i].todo,
		    "holder_parse(%s) %s", unit_qn(parse_cases[i].rec,
		    parse_cases[i].len != 0 ? parse_cases[i].len :
		    strlen(parse_cases[i].rec)),
		    parse_cases[i].rc == 0 ? "is accepted" : "is refused");
	unit_add(&s, test_parse_long, NULL, NULL,
	    "holder_parse refuses a record past HOLDER_RECORD_MAX");
	for (i = 0; i < UNIT_NROWS(seal_holders); i++)
		unit_add(&s, test_seal, &seal_holders[i], NULL,
		    "holder_seal of pid %ld on %.20s unseals",
		    seal_holders[i].pid, seal_holders[i].host);
	unit_add(&s, test_torn, NULL, NULL,
	    "holder_unseal refuses every torn prefix");
	unit_add(&s, test_corrupt, NULL, NULL,
	    "holder_unseal refuses every one-bit corruption");
	for (i = 0; i < UNIT_NROWS(forged_cases); i++)
		unit_add(&s, test_forged, &forged_cases[i], NULL,
		    "holder_unseal of %s with a %s checksum %s",
		    unit_q(forged_cases[i].rec),
		    forged_cases[i].upper ? "right upper-case" : "right",
		    forged_cases[i].rc == 0 ? "is accepted" : "is refused");
	unit_add(&s, test_forged_long, NULL, NULL,
	    "holder_unseal refuses a checksummed record past the maximum");
	for (i = 0; i < UNIT_NROWS(garbage_cases); i++)
		unit_add(&s, test_garbage, &garbage_cases[i], NULL,
		    "holder_unseal refuses %s", garbage_cases[i].name);
	for (i = 0; i < UNIT_NROWS(describe_cases); i++)
		unit_add(&s, test_describe, &describe_cases[i],
		    describe_cases[i].todo, "holder_describe -> %s",
		    unit_q(describe_cases[i].want));
	unit_add(&s, test_describe_extremes, NULL, NULL,
	    "holder_describe of since INT64_MAX and INT64_MIN");
	return unit_run(&s);
}
