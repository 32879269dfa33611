/*
 * Unit tests of lib/keyname.h: file names (escapes, a leading '.', long
 * keys hashed behind '#') and Redis key parts ('%', '{', '}'), and that
 * both round trip for every byte 1..255.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "keyname.h"
#include "unit.h"

#define FILE_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-%"

/* keyname_file() of key into an exact-size block kept for the test;
   fails the test on -1. */
static char *
file_name(const char *key)
{
	char *buf = unit_alloc(KEYNAME_FILE_MAX + 1);

	if (keyname_file(key, buf, KEYNAME_FILE_MAX + 1) != 0) {
		print_error("keyname_file(%s) failed\n", unit_q(key));
		fail();
	}
	return buf;
}

/* Fails unless name is a name keyname_file() may write for any key. */
static void
assert_safe_name(const char *name)
{
	if (name[0] == '#') {
		assert_int_equal(strlen(name), 1 + DIGEST_HEX_LEN);
		assert_int_equal(strspn(name + 1, "0123456789abcdef"),
		    DIGEST_HEX_LEN);
		return;
	}
	assert_true(name[0] != '\0' && name[0] != '.');
	assert_int_equal(strspn(name, FILE_CHARS), strlen(name));
	assert_true(strlen(name) <= KEYNAME_FILE_MAX);
}

/* Fails unless key's Redis part round trips and has no '{' or '}'. */
static void
assert_redis_round_trip(const char *key)
{
	char *esc, *back, *exact;

	esc = unit_keep(keyname_redis(key));
	assert_non_null(esc);
	assert_null(strpbrk(esc, "{}"));
	exact = unit_dup(esc, strlen(esc));
	back = unit_keep(keyname_unredis(exact, strlen(exact)));
	unit_assert_str(back, key);
}

/* Byte b alone, in the middle and leading: both names round trip. */
static void
test_byte(void **state)
{
	unsigned b = (unsigned)(uintptr_t)*state;
	char keys[3][4] = { { (char)b }, { 'a', (char)b, 'z' },
	    { (char)b, (char)b, 'x' } };
	char *name, *back;
	size_t i;

	for (i = 0; i < 3; i++) {
		name = file_name(keys[i]);
		assert_safe_name(name);
		assert_true(name[0] != '#');
		back = unit_keep(keyname_unfile(name));
		unit_assert_str(back, keys[i]);
		assert_redis_round_trip(keys[i]);
	}
}

struct map_case {
	const char	*in;
	const char	*out;	/* NULL: refused */
	const char	*todo;
};

static const struct map_case file_cases[] = {
	{ "abc", "abc", NULL },
	{ "Build-42_x.y", "Build-42_x.y", NULL },
	{ "a.b", "a.b", NULL },
	{ ".", "%2E", NULL },
	{ "..", "%2E.", NULL },
	{ "...", "%2E..", NULL },
	{ ".hidden", "%2Ehidden", NULL },
	{ "a/b", "a%2Fb", NULL },
	{ "/", "%2F", NULL },
	{ "../etc/passwd", "%2E.%2Fetc%2Fpasswd", NULL },
	{ "%", "%25", NULL },
	{ "%2F", "%252F", NULL },
	{ "#abc", "%23abc", NULL },
	{ " ", "%20", NULL },
	{ "a b", "a%20b", NULL },
	{ "a\nb", "a%0Ab", NULL },
	{ "\x7f", "%7F", NULL },
	{ "~user", "%7Euser", NULL },
	{ "\xc3\xa9t\xc3\xa9", "%C3%A9t%C3%A9", NULL },
	{ "\xff", "%FF", NULL },
	{ "-", "-", NULL },
	{ "_", "_", NULL },
	{ "a:b*c?", "a%3Ab%2Ac%3F", NULL },
	{ "", NULL, NULL },
};

/* One keyname_file() row. */
static void
test_file(void **state)
{
	const struct map_case *c = *state;
	char *key = unit_dup(c->in, strlen(c->in));
	char buf[KEYNAME_FILE_MAX + 1];
	int rc;

	rc = keyname_file(key, buf, sizeof(buf));
	if (c->out == NULL) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	unit_assert_str(buf, c->out);
}

static const struct map_case unfile_cases[] = {
	{ "abc", "abc", NULL },
	{ "%2Fetc%2Fpasswd", "/etc/passwd", NULL },
	{ "%2E", ".", NULL },
	{ "%2E.", "..", NULL },
	{ "%25", "%", NULL },
	{ "%252F", "%2F", NULL },
	{ "%C3%A9", "\xc3\xa9", NULL },
	{ "%23abc", "#abc", NULL },
	{ "%FF", "\xff", NULL },
	{ "-", "-", NULL },
	/* Hashed, hidden or broken: not a name it can decode. */
	{ "#abc", NULL, NULL },
	{ "#e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    NULL, NULL },
	{ ".hidden", NULL, NULL },
	{ ".", NULL, NULL },
	{ "..", NULL, NULL },
	{ "", NULL, NULL },
	{ "%", NULL, NULL },
	{ "%2", NULL, NULL },
	{ "a%", NULL, NULL },
	{ "a%4", NULL, NULL },
	{ "%zz", NULL, NULL },
	{ "%2g", NULL, NULL },
	{ "%g2", NULL, NULL },
	{ "%%41", NULL, NULL },
	{ "%00", NULL, NULL },
	{ "a%00b", NULL, NULL },
	/* Names keyname_file() never writes are "not one of ours". */
	{ "a%41", NULL, NULL },
	{ "%41", NULL, NULL },
	{ "%2f", NULL, NULL },
	{ "%2e", NULL, NULL },
	{ "%2E%2E", NULL, NULL },
	{ "a%2E", NULL, NULL },
	{ "%c3%a9", NULL, NULL },
	{ "a b", NULL, NULL },
	{ "a/b", NULL, NULL },
	{ "a#b", NULL, NULL },
};

/* One keyname_unfile() row. */
static void
test_unfile(void **state)
{
	const struct map_case *c = *state;
	char *name = unit_dup(c->in, strlen(c->in));
	char *key;

	key = unit_keep(keyname_unfile(name));
	if (c->out == NULL) {
		if (key != NULL)
			print_error("got %s\n", unit_q(key));
		assert_null(key);
		return;
	}
	unit_assert_str(key, c->out);
}

static const struct map_case redis_cases[] = {
	{ "abc", "abc", NULL },
	{ "%", "%25", NULL },
	{ "{", "%7B", NULL },
	{ "}", "%7D", NULL },
	{ "{a}", "%7Ba%7D", NULL },
	{ "a%7B", "a%257B", NULL },
	{ "%25", "%2525", NULL },
	{ "a b/c:d.e", "a b/c:d.e", NULL },
	{ "\x01\n\xff", "\x01\n\xff", NULL },
	{ "\xc3\xa9", "\xc3\xa9", NULL },
	{ "", "", NULL },
};

/* One keyname_redis() row, and its way back. */
static void
test_redis(void **state)
{
	const struct map_case *c = *state;
	char *key = unit_dup(c->in, strlen(c->in));
	char *esc;

	esc = unit_keep(keyname_redis(key));
	unit_assert_str(esc, c->out);
	if (key[0] != '\0')
		assert_redis_round_trip(key);
}

static const struct map_case unredis_cases[] = {
	{ "%7Ba%7D", "{a}", NULL },
	{ "%25", "%", NULL },
	{ "%7b", "{", NULL },
	{ "plain", "plain", NULL },
	{ "", NULL, NULL },
	{ "%", NULL, NULL },
	{ "%7", NULL, NULL },
	{ "a%7", NULL, NULL },
	{ "%zz", NULL, NULL },
	{ "%00", NULL, NULL },
	{ "x%00", NULL, NULL },
};

/* One keyname_unredis() row, its input in a block without a NUL. */
static void
test_unredis(void **state)
{
	const struct map_case *c = *state;
	size_t len = strlen(c->in);
	char *in = unit_alloc(len + 1), *key;

	memcpy(in, c->in, len);	/* exactly len bytes are read */
	key = unit_keep(keyname_unredis(in, len));
	if (c->out == NULL) {
		assert_null(key);
		return;
	}
	unit_assert_str(key, c->out);
}

/* keyname_unredis() reads len bytes, not up to a NUL. */
static void
test_unredis_len(void **state)
{
	char *in = unit_alloc(3), *key;

	(void)state;
	memcpy(in, "abc", 3);
	key = unit_keep(keyname_unredis(in, 2));
	unit_assert_str(key, "ab");
	key = unit_keep(keyname_unredis(in, 3));	/* no NUL in the block */
	unit_assert_str(key, "abc");
}

/* A key of n copies of c, kept for the test. */
static char *
repeat(int c, size_t n)
{
	char *s = unit_alloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

struct long_case {
	int		 c;
	size_t		 n;
	int		 hashed;
	const char	*todo;
};

static const struct long_case long_cases[] = {
	{ 'a', 197, 0, NULL },
	/* Hashed, as 0.1 names them: no byte may start past offset 196. */
	{ 'a', 198, 1, NULL },
	{ 'a', 200, 1, NULL },
	{ 'a', 201, 1, NULL },
	{ 'a', 1000, 1, NULL },
	{ '/', 66, 0, NULL },	/* 198 bytes of %2F */
	{ '/', 67, 1, NULL },	/* 201 bytes: hashed */
	{ '.', 201, 1, NULL },
	{ '\xff', 4096, 1, NULL },
};

/* A long key: escaped as itself while no byte starts past offset 196,
   else hashed; the escape of a hashed key's bytes is not a name. */
static void
test_long(void **state)
{
	const struct long_case *c = *state;
	char *key = repeat(c->c, c->n), *name, *back;
	char hex[DIGEST_HEX_LEN + 1];

	name = file_name(key);
	assert_safe_name(name);
	if (c->hashed) {
		digest_sha256(key, c->n, hex);
		assert_int_equal(name[0], '#');
		unit_assert_str(name + 1, hex);
		assert_null(unit_keep(keyname_unfile(name)));
		if (c->n <= KEYNAME_FILE_MAX && c->c == 'a')
			assert_null(unit_keep(keyname_unfile(key)));
	} else {
		back = unit_keep(keyname_unfile(name));
		unit_assert_str(back, key);
	}
}

/* Keys of every length 1..400 over all bytes: a name that fits or the
   hash, and distinct keys get distinct names. */
static void
test_lengths(void **state)
{
	char key[401], prev[KEYNAME_FILE_MAX + 1] = "", *name, *back;
	size_t n;

	(void)state;
	for (n = 1; n <= 400; n++) {
		key[n - 1] = (char)(1 + (n * 37) % 255);
		key[n] = '\0';
		name = file_name(key);
		assert_safe_name(name);
		assert_true(strcmp(name, prev) != 0);
		if (name[0] != '#') {
			back = unit_keep(keyname_unfile(name));
			unit_assert_str(back, key);
		}
		strcpy(prev, name);
	}
}

/* Two long keys that differ in their last byte get different names. */
static void
test_long_distinct(void **state)
{
	char *a = repeat('k', 300), *b = repeat('k', 300), *na, *nb;

	(void)state;
	b[299] = 'K';
	na = file_name(a);
	nb = file_name(b);
	assert_true(strcmp(na, nb) != 0);
}

/* A buffer below KEYNAME_FILE_MAX + 1 is refused, even for short keys. */
static void
test_small_buf(void **state)
{
	char buf[KEYNAME_FILE_MAX];

	(void)state;
	assert_int_equal(keyname_file("a", buf, sizeof(buf)), -1);
}

/* Keys that look alike get different file and Redis names. */
static void
test_injective(void **state)
{
	static const char *keys[] = {
		"a/b", "a%2Fb", "a%252Fb", ".a", "%2Ea", "%2Ea.", "{a}",
		"%7Ba%7D", "%257Ba%257D", "#a", "%23a", "a", "A", "a ",
		"a\t", "a.", "a..",
	};
	size_t n = UNIT_NROWS(keys), i, j;
	char *f[UNIT_NROWS(keys)];
	char *r[UNIT_NROWS(keys)];

	(void)state;
	for (i = 0; i < n; i++) {
		f[i] = file_name(keys[i]);
		r[i] = unit_keep(keyname_redis(keys[i]));
		assert_non_null(r[i]);
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			assert_true(strcmp(f[i], f[j]) != 0);
			assert_true(strcmp(r[i], r[j]) != 0);
		}
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 1; i <= 255; i++)
		unit_add(&s, test_byte, (void *)(uintptr_t)i, NULL,
		    "keyname byte 0x%02zx: file and Redis names round trip", i);
	for (i = 0; i < UNIT_NROWS(file_cases); i++)
		unit_add(&s, test_file, &file_cases[i], file_cases[i].todo,
		    "keyname_file(%s) -> %s", unit_q(file_cases[i].in),
		    unit_q(file_cases[i].out));
	for (i = 0; i < UNIT_NROWS(unfile_cases); i++)
		unit_add(&s, test_unfile, &unfile_cases[i],
		    unfile_cases[i].todo, "keyname_unfile(%s) -> %s",
		    unit_q(unfile_cases[i].in), unit_q(unfile_cases[i].out));
	for (i = 0; i < UNIT_NROWS(redis_cases); i++)
		unit_add(&s, test_redis, &redis_cases[i], redis_cases[i].todo,
		    "keyname_redis(%s) -> %s", unit_q(redis_cases[i].in),
		    unit_q(redis_cases[i].out));
	for (i = 0; i < UNIT_NROWS(unredis_cases); i++)
		unit_add(&s, test_unredis, &unredis_cases[i],
		    unredis_cases[i].todo, "keyname_unredis(%s) -> %s",
		    unit_q(unredis_cases[i].in), unit_q(unredis_cases[i].out));
	unit_add(&s, test_unredis_len, NULL, NULL,
	    "keyname_unredis reads len bytes, not to a NUL");
	for (i = 0; i < UNIT_NROWS(long_cases); i++)
		unit_add(&s, test_long, &long_cases[i], long_cases[i].todo,
		    "keyname_file of %zu x %s is %s", long_cases[i].n,
		    unit_qn(&long_cases[i].c, 1),
		    long_cases[i].hashed ? "hashed" : "not hashed");
	unit_add(&s, test_lengths, NULL, NULL,
	    "keyname_file of keys of 1..400 bytes: fits or hashed, distinct");
	unit_add(&s, test_long_distinct, NULL, NULL,
	    "keyname_file: long keys differing at the end get distinct names");
	unit_add(&s, test_small_buf, NULL, NULL,
	    "keyname_file refuses a buffer under KEYNAME_FILE_MAX + 1");
	unit_add(&s, test_injective, NULL, NULL,
	    "keyname: look-alike keys get distinct file and Redis names");
	return unit_run(&s);
}
