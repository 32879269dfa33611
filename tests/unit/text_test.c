/*
 * Unit tests of lib/text.h: printable bytes and strings, JSON strings,
 * well-formed UTF-8 and durations for people.  C1 controls count as
 * control characters both as bytes (0x80-0x9f) and as UTF-8 (U+0080..
 * U+009F), and every byte of malformed UTF-8 prints as '?'.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unit.h"

/* text_printable_byte() of every byte: C0 but tab, DEL and C1, '?'. */
static void
test_byte(void **state)
{
	int c = (int)(uintptr_t)*state;
	int want = (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f) ?
	    '?' : c;

	assert_int_equal(text_printable_byte(c), want);
}

struct str_case {
	const char	*in;
	size_t		 len;	/* buffer size for text_printable() */
	const char	*out;
	const char	*todo;
};

static const struct str_case printable_cases[] = {
	{ "abc", 16, "abc", NULL },
	{ "", 16, "", NULL },
	{ "a\nb", 16, "a?b", NULL },
	{ "a\tb", 16, "a\tb", NULL },
	{ "a\rb", 16, "a?b", NULL },
	{ "\x1b[31mred\x1b[0m", 32, "?[31mred?[0m", NULL },
	{ "\x1b]0;title\x07", 32, "?]0;title?", NULL },
	{ "\x7f", 16, "?", NULL },
	{ "\x01\x02\x1f", 16, "???", NULL },
	{ "b\bs", 16, "b?s", NULL },
	{ "caf\xc3\xa9 \xc3\xb1 \xc3\xbf", 32, "caf\xc3\xa9 \xc3\xb1 \xc3\xbf",
	    NULL },
	{ "\xff\xfe", 16, "??", NULL },
	{ "\x9b" "31m", 16, "?31m", NULL },			/* 8-bit CSI */
	{ "\xc2\x9b" "31m", 16, "?31m", NULL },		/* U+009B */
	{ "\xc2\x80\xc2\x9f", 16, "??", NULL },		/* U+0080, U+009F */
	{ "\xc2\xa0", 16, "\xc2\xa0", NULL },		/* U+00A0 is text */
	{ "\xc0\xaf", 16, "??", NULL },			/* overlong '/' */
	{ "\xed\xa0\x80", 16, "???", NULL },		/* a surrogate */
	{ "\xf4\x90\x80\x80", 16, "????", NULL },	/* past U+10FFFF */
	{ "\xe2\x82", 16, "??", NULL },			/* cut short */
	{ "\xe2\x82\xac", 3, "", NULL },		/* never half of one */
	{ "\xe2\x82\xac", 4, "\xe2\x82\xac", NULL },
	{ "key with \"quotes\" and \\", 64, "key with \"quotes\" and \\",
	    NULL },
	/* Truncation to len - 1 bytes. */
	{ "abcdef", 4, "abc", NULL },
	{ "abcdef", 7, "abcdef", NULL },
	{ "abcdef", 6, "abcde", NULL },
	{ "abcdef", 1, "", NULL },
	{ "\n\n\n\n", 3, "??", NULL },
};

/* One text_printable() row, into an exact-size block. */
static void
test_printable(void **state)
{
	const struct str_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	char *buf = unit_alloc(c->len);

	assert_ptr_equal(text_printable(in, buf, c->len), buf);
	unit_assert_str(buf, c->out);
}

/* With len 0 there is no room even for the NUL: nothing is written. */
static void
test_printable_zero(void **state)
{
	char buf[1] = { 'x' };

	(void)state;
	text_printable("abc", buf, 0);
	assert_int_equal(buf[0], 'x');
}

static const struct str_case fputs_cases[] = {
	{ "abc", 0, "abc", NULL },
	{ "", 0, "", NULL },
	{ "a\nb\tc\x7f", 0, "a?b\tc?", NULL },
	{ "\x1b[2J", 0, "?[2J", NULL },
	{ "caf\xc3\xa9", 0, "caf\xc3\xa9", NULL },
	{ "\x9b" "2J \xc2\x9b" "2J", 0, "?2J ?2J", NULL },
	{ "bad\xff", 0, "bad?", NULL },
};

/* One text_fputs() row, through a memory stream. */
static void
test_fputs(void **state)
{
	const struct str_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	char *out = unit_capture(text_fputs, in);

	unit_assert_str(out, c->out);
}

/* text_fputs() writes all of a long string: no buffer limit. */
static void
test_fputs_long(void **state)
{
	char *in = unit_alloc(100001), *out;
	size_t i;

	(void)state;
	for (i = 0; i < 100000; i++)
		in[i] = (char)(i % 10 == 9 ? '\n' : 'a' + i % 10);
	in[100000] = '\0';
	out = unit_capture(text_fputs, in);
	assert_int_equal(strlen(out), 100000);
	assert_null(strchr(out, '\n'));
	assert_int_equal(out[9], '?');
}

static const struct str_case json_cases[] = {
	{ "", 0, "\"\"", NULL },
	{ "abc", 0, "\"abc\"", NULL },
	{ "a\"b", 0, "\"a\\\"b\"", NULL },
	{ "a\\b", 0, "\"a\\\\b\"", NULL },
	{ "\\\"", 0, "\"\\\\\\\"\"", NULL },
	{ "/", 0, "\"/\"", NULL },
	{ "\n", 0, "\"\\u000a\"", NULL },
	{ "\t", 0, "\"\\u0009\"", NULL },
	{ "\r\b\f", 0, "\"\\u000d\\u0008\\u000c\"", NULL },
	{ "\x01\x1f", 0, "\"\\u0001\\u001f\"", NULL },
	{ "\x1b[31m", 0, "\"\\u001b[31m\"", NULL },
	{ "\x7f", 0, "\"\\u007f\"", NULL },
	/* Well-formed UTF-8 passes as it is. */
	{ "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"", NULL },
	{ "\xe2\x82\xac", 0, "\"\xe2\x82\xac\"", NULL },		/* U+20AC */
	{ "\xe6\x97\xa5\xe6\x9c\xac", 0, "\"\xe6\x97\xa5\xe6\x9c\xac\"",
	    NULL },
	{ "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\"", NULL },	/* U+1F600 */
	{ "\xef\xbf\xbd", 0, "\"\xef\xbf\xbd\"", NULL },		/* U+FFFD */
	{ "\xef\xbb\xbf", 0, "\"\xef\xbb\xbf\"", NULL },		/* U+FEFF */
	{ "\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\"", NULL },		/* U+2028 */
	{ "\xed\x9f\xbf", 0, "\"\xed\x9f\xbf\"", NULL },		/* U+D7FF */
	{ "\xee\x80\x80", 0, "\"\xee\x80\x80\"", NULL },		/* U+E000 */
	{ "\xf4\x8f\xbf\xbf", 0, "\"\xf4\x8f\xbf\xbf\"", NULL },	/* U+10FFFF */
	/* Each byte of an ill-formed sequence is one U+FFFD. */
	{ "\xff", 0, "\"\\ufffd\"", NULL },
	{ "\xfe\xff", 0, "\"\\ufffd\\ufffd\"", NULL },
	{ "\x80", 0, "\"\\ufffd\"", NULL },
	{ "\xbf", 0, "\"\\ufffd\"", NULL },
	{ "a\xffz", 0, "\"a\\ufffdz\"", NULL },
	{ "\xc3", 0, "\"\\ufffd\"", NULL },
	{ "\xc3(", 0, "\"\\ufffd(\"", NULL },
	{ "\xc3\"", 0, "\"\\ufffd\\\"\"", NULL },
	{ "\xc0\xaf", 0, "\"\\ufffd\\ufffd\"", NULL },
	{ "\xc1\xbf", 0, "\"\\ufffd\\ufffd\"", NULL },
	{ "\xe0\x80\xaf", 0, "\"\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xe0\x9f\xbf", 0, "\"\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xf0\x80\x80\xaf", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xed\xa0\x80", 0, "\"\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xed\xbf\xbf", 0, "\"\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xed\xa0\xbd\xed\xb8\x80", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\"", NULL },	/* a UTF-16 surrogate pair */
	{ "\xf4\x90\x80\x80", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xf5\x80\x80\x80", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xf8\x88\x80\x80\x80", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"",
	    NULL },
	{ "\xf0\x9f\x98", 0, "\"\\ufffd\\ufffd\\ufffd\"", NULL },
	{ "\xe2\x82", 0, "\"\\ufffd\\ufffd\"", NULL },
	{ "\xe2\x82" "a", 0, "\"\\ufffd\\ufffda\"", NULL },
	{ "\xe2\x28\xa1", 0, "\"\\ufffd(\\ufffd\"", NULL },
	{ "\xf0\x9f\x98\n", 0, "\"\\ufffd\\ufffd\\ufffd\\u000a\"", NULL },
};

/* One text_json_fputs() row, through a memory stream. */
static void
test_json(void **state)
{
	const struct str_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	char *out = unit_capture(text_json_fputs, in);

	unit_assert_str(out, c->out);
}

/* Every byte 1..255 in one key: quotes around text that is valid
   UTF-8 with no raw C0 control, quote or lone backslash. */
static void
test_json_all_bytes(void **state)
{
	char in[256], *out;
	size_t i, n;

	(void)state;
	for (i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	out = unit_capture(text_json_fputs, in);
	n = strlen(out);
	assert_true(n >= 2 && out[0] == '"' && out[n - 1] == '"');
	for (i = 1; i + 1 < n; i += text_utf8_len((unsigned char *)out + i)) {
		assert_true(text_utf8_len((unsigned char *)out + i) != 0);
		assert_true((unsigned char)out[i] >= 0x20);
		assert_true(out[i] != '"');
		if (out[i] == '\\') {
			assert_non_null(strchr("\"\\u", out[i + 1]));
			i++;
		}
	}
}

struct utf8_case {
	const char	*in;
	size_t		 len;
};

static const struct utf8_case utf8_cases[] = {
	{ "A", 1 },
	{ "\x7f", 1 },
	{ "\xc2\x80", 2 },		/* U+0080, the first 2-byte form */
	{ "\xc3\xa9", 2 },
	{ "\xdf\xbf", 2 },		/* U+07FF */
	{ "\xe0\xa0\x80", 3 },		/* U+0800 */
	{ "\xe2\x82\xac", 3 },
	{ "\xed\x9f\xbf", 3 },		/* U+D7FF, below the surrogates */
	{ "\xee\x80\x80", 3 },		/* U+E000, above them */
	{ "\xef\xbf\xbf", 3 },		/* U+FFFF */
	{ "\xf0\x90\x80\x80", 4 },	/* U+10000 */
	{ "\xf3\xbf\xbf\xbf", 4 },
	{ "\xf4\x8f\xbf\xbf", 4 },	/* U+10FFFF */
	{ "\xc3\xa9z", 2 },		/* only the sequence at p */
	/* Continuation bytes alone. */
	{ "\x80", 0 },
	{ "\xbf", 0 },
	/* Overlong forms. */
	{ "\xc0\x80", 0 },
	{ "\xc0\xaf", 0 },
	{ "\xc1\xbf", 0 },
	{ "\xe0\x80\x80", 0 },
	{ "\xe0\x9f\xbf", 0 },
	{ "\xf0\x80\x80\x80", 0 },
	{ "\xf0\x8f\xbf\xbf", 0 },
	/* Surrogates U+D800..U+DFFF. */
	{ "\xed\xa0\x80", 0 },
	{ "\xed\xaf\xbf", 0 },
	{ "\xed\xb0\x80", 0 },
	{ "\xed\xbf\xbf", 0 },
	/* Past U+10FFFF, and bytes never in UTF-8. */
	{ "\xf4\x90\x80\x80", 0 },
	{ "\xf4\xbf\xbf\xbf", 0 },
	{ "\xf5\x80\x80\x80", 0 },
	{ "\xf7\xbf\xbf\xbf", 0 },
	{ "\xf8\x88\x80\x80\x80", 0 },
	{ "\xfc\x84\x80\x80\x80\x80", 0 },
	{ "\xfe", 0 },
	{ "\xff", 0 },
	/* Cut short by the NUL or by a byte that does not continue. */
	{ "\xc2", 0 },
	{ "\xe2\x82", 0 },
	{ "\xe2", 0 },
	{ "\xf0\x9f\x98", 0 },
	{ "\xf0\x9f", 0 },
	{ "\xf0", 0 },
	{ "\xc2" "A", 0 },
	{ "\xc2\xc3\xa9", 0 },
	{ "\xe2\x82" "A", 0 },
	{ "\xe2" "A\x82", 0 },
	{ "\xf0\x9f\x98" "A", 0 },
	{ "\xe1\x80\xc0", 0 },
};

/* One text_utf8_len() row, in an exact-size block so that a read past
   the NUL shows under AddressSanitizer. */
static void
test_utf8(void **state)
{
	const struct utf8_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));

	assert_int_equal(text_utf8_len((unsigned char *)in), c->len);
}

struct dur_case {
	int64_t		 ms;
	size_t		 len;
	const char	*out;
	const char	*todo;
};

static const struct dur_case dur_cases[] = {
	{ 0, 32, "0ms", NULL },
	{ 1, 32, "1ms", NULL },
	{ 850, 32, "850ms", NULL },
	{ 999, 32, "999ms", NULL },
	{ 1000, 32, "1.0s", NULL },
	{ 1049, 32, "1.0s", NULL },
	{ 1999, 32, "1.9s", NULL },
	{ 3200, 32, "3.2s", NULL },
	{ 59900, 32, "59.9s", NULL },
	{ 59949, 32, "59.9s", NULL },
	{ 59950, 32, "59.9s", NULL },
	{ 59999, 32, "59.9s", NULL },
	{ 60000, 32, "1m00s", NULL },
	{ 61999, 32, "1m01s", NULL },
	{ 250000, 32, "4m10s", NULL },
	{ 3599999, 32, "59m59s", NULL },
	{ 3600000, 32, "1h00m", NULL },
	{ 7500000, 32, "2h05m", NULL },
	{ 86400000, 32, "24h00m", NULL },
	{ 360000000000, 32, "100000h00m", NULL },
	{ INT64_MAX, 32, "2562047788015h12m", NULL },
	{ -1, 32, "0ms", NULL },
	{ -60000, 32, "0ms", NULL },
	{ INT64_MIN, 32, "0ms", NULL },
	/* Cut to the buffer. */
	{ 850, 4, "850", NULL },
	{ 7500000, 3, "2h", NULL },
	{ 3200, 1, "", NULL },
};

/* One text_duration() row, into an exact-size block. */
static void
test_duration(void **state)
{
	const struct dur_case *c = *state;
	char *buf = unit_alloc(c->len);

	text_duration(c->ms, buf, c->len);
	unit_assert_str(buf, c->out);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 0; i < 0x100; i++)
		unit_add(&s, test_byte, (void *)(uintptr_t)i, NULL,
		    "text_printable_byte(0x%02zx)", i);
	for (i = 0; i < UNIT_NROWS(printable_cases); i++)
		unit_add(&s, test_printable, &printable_cases[i],
		    printable_cases[i].todo, "text_printable(%s, %zu) -> %s",
		    unit_q(printable_cases[i].in), printable_cases[i].len,
		    unit_q(printable_cases[i].out));
	unit_add(&s, test_printable_zero, NULL, NULL,
	    "text_printable with len 0 writes nothing");
	for (i = 0; i < UNIT_NROWS(fputs_cases); i++)
		unit_add(&s, test_fputs, &fputs_cases[i], fputs_cases[i].todo,
		    "text_fputs(%s) -> %s", unit_q(fputs_cases[i].in),
		    unit_q(fputs_cases[i].out));
	unit_add(&s, test_fputs_long, NULL, NULL,
	    "text_fputs writes all of 100000 bytes");
	for (i = 0; i < UNIT_NROWS(json_cases); i++)
		unit_add(&s, test_json, &json_cases[i], json_cases[i].todo,
		    "text_json_fputs(%s) -> %s", unit_q(json_cases[i].in),
		    unit_q(json_cases[i].out));
	unit_add(&s, test_json_all_bytes, NULL, NULL,
	    "text_json_fputs of bytes 1..255 is a valid JSON string");
	for (i = 0; i < UNIT_NROWS(utf8_cases); i++)
		unit_add(&s, test_utf8, &utf8_cases[i], NULL,
		    "text_utf8_len(%s) == %zu", unit_q(utf8_cases[i].in),
		    utf8_cases[i].len);
	for (i = 0; i < UNIT_NROWS(dur_cases); i++)
		unit_add(&s, test_duration, &dur_cases[i], dur_cases[i].todo,
		    "text_duration(%lld, %zu) -> %s",
		    (long long)dur_cases[i].ms, dur_cases[i].len,
		    unit_q(dur_cases[i].out));
	return unit_run(&s);
}
