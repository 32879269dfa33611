/*
 * Unit tests of lib/redis_slot.h: CRC16 and key slots against values
 * Redis itself gives (CLUSTER KEYSLOT of a 7.0 server), the one slot of
 * a SCAN pattern, and MOVED/ASK error strings.  Each row is one TAP test.
 */
#include "config.h"

#include <string.h>

#include "redis_slot.h"
#include "unit.h"

struct slot_case {
	const char	*key;
	int		 slot;
};

static const struct slot_case slot_cases[] = {
	/* CLUSTER KEYSLOT of Redis 7.0.15. */
	{ "foo", 12182 },
	{ "bar", 5061 },
	{ "user1000", 3443 },
	{ "{user1000}.following", 3443 },
	{ "{user1000}.followers", 3443 },
	{ "foo{}{bar}", 8363 },		/* an empty tag: the whole key */
	{ "foo{{bar}}zap", 4015 },	/* the tag is "{bar" */
	{ "foo{bar}{zap}", 5061 },	/* the first tag only */
	{ "123456789", 12739 },
	{ "keylock:{job}:lock", 2906 },
	{ "keylock:{job}:fence", 2906 },
	{ "keylock:{job}:ch", 2906 },
	{ "", 0 },
	{ "{", 4092 },
	{ "}{", 12793 },
};

struct pattern_case {
	const char	*pattern;
	int		 slot;		/* -1: any */
};

static const struct pattern_case pattern_cases[] = {
	{ "keylock:{job}:memo:*", 2906 },
	{ "keylock:{job}:*", 2906 },
	{ "keylock:{*}:lock", -1 },
	{ "keylock:*", -1 },
	{ "*{job}", -1 },		/* a '{' may come before */
	{ "k?:{job}:x", -1 },
	{ "k[ab]:{job}", -1 },
	{ "keylock:{jo*}:lock", -1 },
	{ "keylock:{}:*", -1 },		/* an empty tag: the whole key */
	{ "keylock:{job}:lock", 2906 },	/* no glob: one key */
	{ "{user1000}*", 3443 },
	{ "\\{user1000}*", 3443 },	/* an escaped '{' is still a '{' */
	{ "x:{user\\1000}*", 3443 },	/* an escaped plain character */
	{ "x:{a\\*b}*", -1 },		/* checked below */
	{ "foo", 12182 },
	{ "", 0 },
};

struct redirect_case {
	const char	*err;
	enum redis_redirect_kind kind;
	int		 slot;
	const char	*host;
	int		 port;
};

static const struct redirect_case redirect_cases[] = {
	{ "MOVED 3999 127.0.0.1:6381", REDIS_REDIRECT_MOVED, 3999,
	    "127.0.0.1", 6381 },
	{ "ASK 3999 127.0.0.1:6381", REDIS_REDIRECT_ASK, 3999, "127.0.0.1",
	    6381 },
	{ "MOVED 0 10.0.0.2:7000", REDIS_REDIRECT_MOVED, 0, "10.0.0.2", 7000 },
	{ "MOVED 16383 redis-2.example:6379", REDIS_REDIRECT_MOVED, 16383,
	    "redis-2.example", 6379 },
	{ "MOVED 12 ::1:7001", REDIS_REDIRECT_MOVED, 12, "::1", 7001 },
	{ "MOVED 12 [::1]:7001", REDIS_REDIRECT_MOVED, 12, "::1", 7001 },
	{ "MOVED 12 :7001", REDIS_REDIRECT_MOVED, 12, "", 7001 },
	{ "MOVED 16384 127.0.0.1:6381", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED -1 127.0.0.1:6381", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED 1 127.0.0.1:0", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED 1 127.0.0.1:65536", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED 1 127.0.0.1", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED 1 127.0.0.1:", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED 1 127.0.0.1:80 x", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED  127.0.0.1:80", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "MOVED", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "moved 1 127.0.0.1:80", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "ASKING", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "ERR unknown command", REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "CROSSSLOT Keys in request don't hash to the same slot",
	    REDIS_REDIRECT_NONE, 0, "", 0 },
	{ "", REDIS_REDIRECT_NONE, 0, "", 0 },
};

static void
test_slot(void **state)
{
	const struct slot_case *c = *state;

	assert_int_equal(redis_slot_of(c->key, strlen(c->key)), c->slot);
}

static void
test_crc16(void **state)
{
	(void)state;
	/* The check value of CRC-16/XMODEM. */
	assert_int_equal(redis_slot_crc16("123456789", 9), 0x31c3);
	assert_int_equal(redis_slot_crc16("", 0), 0);
	/* Bytes above 0x7f are not sign-extended. */
	assert_int_equal(redis_slot_crc16("\xff", 1), 0x1ef0);
}

static void
test_pattern(void **state)
{
	const struct pattern_case *c = *state;
	int want = c->slot;

	/* The tag "a*b" (escaped star) is a literal one. */
	if (strcmp(c->pattern, "x:{a\\*b}*") == 0)
		want = redis_slot_of("a*b", 3);
	assert_int_equal(redis_slot_of_pattern(c->pattern), want);
}

static void
test_redirect(void **state)
{
	const struct redirect_case *c = *state;
	struct redis_redirect rd;

	assert_int_equal(redis_redirect_parse(c->err, &rd), c->kind);
	assert_int_equal(rd.kind, c->kind);
	assert_int_equal(rd.slot, c->slot);
	unit_assert_str(rd.host, c->host);
	assert_int_equal(rd.port, c->port);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	unit_add(&s, test_crc16, NULL, NULL, "redis_slot_crc16 check values");
	for (i = 0; i < UNIT_NROWS(slot_cases); i++)
		unit_add(&s, test_slot, &slot_cases[i], NULL,
		    "redis_slot_of(%s) is %d", unit_q(slot_cases[i].key),
		    slot_cases[i].slot);
	for (i = 0; i < UNIT_NROWS(pattern_cases); i++)
		unit_add(&s, test_pattern, &pattern_cases[i], NULL,
		    "redis_slot_of_pattern(%s)", unit_q(pattern_cases[i].pattern));
	for (i = 0; i < UNIT_NROWS(redirect_cases); i++)
		unit_add(&s, test_redirect, &redirect_cases[i], NULL,
		    "redis_redirect_parse(%s)", unit_q(redirect_cases[i].err));
	return unit_run(&s);
}
