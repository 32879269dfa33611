/*
 * Unit tests of lib/digest.h: SHA-256 against published vectors (FIPS
 * 180-4 examples, block-boundary lengths checked with sha256sum), piece
 * by piece feeding, and the length prefixes of digest_str/digest_u64.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "unit.h"

#define ABC448	"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define ABC896	"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn" \
	"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"

struct vec_case {
	const char	*name;
	const char	*in;	/* NULL: fill bytes of fill */
	int		 fill;	/* -1: the bytes 0, 1, ..., len - 1 */
	size_t		 len;
	const char	*hex;
};

static const struct vec_case vec_cases[] = {
	{ "\"\"", "", 0, 0,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "\"abc\"", "abc", 0, 3,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "the 448-bit message", ABC448, 0, 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "the 896-bit message", ABC896, 0, 112,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "55 x a", NULL, 'a', 55,
	    "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ "56 x a", NULL, 'a', 56,
	    "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ "63 x a", NULL, 'a', 63,
	    "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ "64 x a", NULL, 'a', 64,
	    "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ "65 x a", NULL, 'a', 65,
	    "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	{ "119 x a", NULL, 'a', 119,
	    "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	{ "120 x a", NULL, 'a', 120,
	    "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	{ "the bytes 0..255", NULL, -1, 256,
	    "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880" },
	{ "1000000 x a", NULL, 'a', 1000000,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

/* The input of a vector in an exact-size block. */
static unsigned char *
vec_input(const struct vec_case *c)
{
	unsigned char *p = unit_alloc(c->len == 0 ? 1 : c->len);
	size_t i;

	for (i = 0; i < c->len; i++)
		p[i] = c->in != NULL ? (unsigned char)c->in[i] :
		    c->fill == -1 ? (unsigned char)i : (unsigned char)c->fill;
	return p;
}

/* digest_sha256() of one vector, and its hex NUL-terminated in place. */
static void
test_vector(void **state)
{
	const struct vec_case *c = *state;
	unsigned char *p = vec_input(c);
	char hex[DIGEST_HEX_LEN + 2];

	memset(hex, 'X', sizeof(hex));
	digest_sha256(p, c->len, hex);
	assert_int_equal(hex[DIGEST_HEX_LEN], '\0');
	assert_int_equal(hex[DIGEST_HEX_LEN + 1], 'X');
	unit_assert_str(hex, c->hex);
}

/* The same vector fed piece by piece through digest_bytes(). */
static void
test_vector_pieces(void **state)
{
	const struct vec_case *c = *state;
	unsigned char *p = vec_input(c);
	struct digest d;
	char hex[DIGEST_HEX_LEN + 1];
	size_t off, n, step = 1;

	digest_init(&d);
	for (off = 0; off < c->len; off += n) {
		n = c->len - off < step ? c->len - off : step;
		digest_bytes(&d, p + off, n);
		step = step * 3 + 1;	/* 1, 4, 13, 40, ...: odd splits */
	}
	digest_end(&d, hex);
	unit_assert_str(hex, c->hex);
}

/* The hex of a digest fed by fn. */
static void
run(void (*fn)(struct digest *), char hex[DIGEST_HEX_LEN + 1])
{
	struct digest d;

	digest_init(&d);
	fn(&d);
	digest_end(&d, hex);
}

/* Feeders for test_pair(): each feeds one list of pieces. */
static void feed_str_ab_c(struct digest *d)
{ digest_str(d, "ab"); digest_str(d, "c"); }
static void feed_str_a_bc(struct digest *d)
{ digest_str(d, "a"); digest_str(d, "bc"); }
static void feed_raw_ab_c(struct digest *d)
{ digest_bytes(d, "ab", 2); digest_bytes(d, "c", 1); }
static void feed_raw_a_bc(struct digest *d)
{ digest_bytes(d, "a", 1); digest_bytes(d, "bc", 2); }
static void feed_str_empty_a(struct digest *d)
{ digest_str(d, ""); digest_str(d, "a"); }
static void feed_str_a_empty(struct digest *d)
{ digest_str(d, "a"); digest_str(d, ""); }
static void feed_str_a(struct digest *d)
{ digest_str(d, "a"); }
static void feed_str_abc(struct digest *d)
{ digest_str(d, "abc"); }
static void feed_prefix_abc(struct digest *d)
{ digest_bytes(d, "\0\0\0\0\0\0\0\3abc", 11); }
static void feed_u64_3_abc(struct digest *d)
{ digest_u64(d, 3); digest_bytes(d, "abc", 3); }
static void feed_str_empty(struct digest *d)
{ digest_str(d, ""); }
static void feed_zero8(struct digest *d)
{ digest_bytes(d, "\0\0\0\0\0\0\0\0", 8); }
static void feed_u64_0(struct digest *d)
{ digest_u64(d, 0); }
static void feed_u64_big(struct digest *d)
{ digest_u64(d, 0x0102030405060708ULL); }
static void feed_be8(struct digest *d)
{ digest_bytes(d, "\1\2\3\4\5\6\7\10", 8); }
static void feed_le8(struct digest *d)
{ digest_bytes(d, "\10\7\6\5\4\3\2\1", 8); }
static void feed_u64_max(struct digest *d)
{ digest_u64(d, UINT64_MAX); }
static void feed_ff8(struct digest *d)
{ digest_bytes(d, "\377\377\377\377\377\377\377\377", 8); }

struct pair_case {
	const char	*name;
	void		(*a)(struct digest *);
	void		(*b)(struct digest *);
	int		 same;
};

static const struct pair_case pair_cases[] = {
	{ "digest_str: [\"ab\",\"c\"] differs from [\"a\",\"bc\"]",
	    feed_str_ab_c, feed_str_a_bc, 0 },
	{ "digest_bytes: [\"ab\",\"c\"] equals [\"a\",\"bc\"] (why prefixes)",
	    feed_raw_ab_c, feed_raw_a_bc, 1 },
	{ "digest_str: [\"\",\"a\"] differs from [\"a\",\"\"]",
	    feed_str_empty_a, feed_str_a_empty, 0 },
	{ "digest_str: [\"a\"] differs from [\"a\",\"\"]",
	    feed_str_a, feed_str_a_empty, 0 },
	{ "digest_str(\"abc\") is 8 bytes big-endian 3, then abc",
	    feed_str_abc, feed_prefix_abc, 1 },
	{ "digest_str(\"abc\") is digest_u64(3), then abc",
	    feed_str_abc, feed_u64_3_abc, 1 },
	{ "digest_str(\"\") is 8 zero bytes",
	    feed_str_empty, feed_zero8, 1 },
	{ "digest_u64(0) is 8 zero bytes", feed_u64_0, feed_zero8, 1 },
	{ "digest_u64(0x0102030405060708) is big-endian",
	    feed_u64_big, feed_be8, 1 },
	{ "digest_u64(0x0102030405060708) is not little-endian",
	    feed_u64_big, feed_le8, 0 },
	{ "digest_u64(UINT64_MAX) is 8 x 0xff", feed_u64_max, feed_ff8, 1 },
};

/* Two feedings give the same digest, or different ones. */
static void
test_pair(void **state)
{
	const struct pair_case *c = *state;
	char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];

	run(c->a, a);
	run(c->b, b);
	if (c->same)
		unit_assert_str(a, b);
	else
		assert_true(strcmp(a, b) != 0);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 0; i < UNIT_NROWS(vec_cases); i++)
		unit_add(&s, test_vector, &vec_cases[i], NULL,
		    "digest_sha256 of %s", vec_cases[i].name);
	for (i = 0; i < UNIT_NROWS(vec_cases); i++)
		unit_add(&s, test_vector_pieces, &vec_cases[i], NULL,
		    "digest_bytes of %s in pieces", vec_cases[i].name);
	for (i = 0; i < UNIT_NROWS(pair_cases); i++)
		unit_add(&s, test_pair, &pair_cases[i], NULL, "%s",
		    pair_cases[i].name);
	return unit_run(&s);
}
