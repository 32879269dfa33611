/*
 * unit: one cmocka test per table row, names safe for TAP, helpers that
 * let AddressSanitizer see over-reads.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"

static void	**kept;		/* what unit_keep() frees after the test */
static size_t	  nkept, capkept;

/* Frees what the test kept; cmocka runs it after a failure too. */
static int
unit_teardown(void **state)
{
	(void)state;
	while (nkept > 0)
		free(kept[--nkept]);
	return 0;
}

/* Registers fn as one test; see unit.h. */
void
unit_add(struct unit_suite *s, CMUnitTestFunction fn, const void *state,
    const char *todo, const char *fmt, ...)
{
	struct CMUnitTest *t;
	va_list ap;
	char *name, *full;

	va_start(ap, fmt);
	if (vasprintf(&name, fmt, ap) == -1)
		abort();
	va_end(ap);
	if (todo != NULL) {
		if (asprintf(&full, "%s # TODO %s", name, todo) == -1)
			abort();
		free(name);
		name = full;
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		if ((t = realloc(s->tests, s->cap * sizeof(*t))) == NULL)
			abort();
		s->tests = t;
	}
	t = &s->tests[s->n++];
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->test_func = fn;
	t->teardown_func = unit_teardown;
	t->initial_state = (void *)(uintptr_t)state;
}

/* Runs s as one group: cmocka prints one plan, so one TAP stream. */
int
unit_run(struct unit_suite *s)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	(void)_cmocka_run_group_tests("unit", s->tests, s->n, NULL, NULL);
	for (i = 0; i < s->n; i++)
		free((char *)(uintptr_t)s->tests[i].name);
	free(s->tests);
	free(kept);
	kept = NULL;
	capkept = 0;
	s->tests = NULL;
	s->n = s->cap = 0;
	return 0;
}

/* Quotes len bytes of p into one of 8 rotating buffers. */
const char *
unit_qn(const void *p, size_t len)
{
	static char bufs[8][160];
	static unsigned next;
	const unsigned char *c = p;
	char *b = bufs[next++ % 8];
	size_t i, n = 0;

	b[n++] = '"';
	for (i = 0; i < len && n < 120; i++) {
		if (c[i] == '"' || c[i] == '\\')
			n += (size_t)sprintf(b + n, "\\%c", c[i]);
		else if (c[i] >= 0x20 && c[i] < 0x7f && c[i] != '#')
			b[n++] = (char)c[i];
		else
			n += (size_t)sprintf(b + n, "\\x%02x", c[i]);
	}
	b[n++] = '"';
	if (i < len)
		n += (size_t)sprintf(b + n, "...(%zu bytes)", len);
	b[n] = '\0';
	return b;
}

/* Quotes a string, or says NULL. */
const char *
unit_q(const char *s)
{
	return s == NULL ? "NULL" : unit_qn(s, strlen(s));
}

/* Adds p to the list freed after the test. */
void *
unit_keep(void *p)
{
	void **k;

	if (p == NULL)
		return NULL;
	if (nkept == capkept) {
		capkept = capkept == 0 ? 64 : capkept * 2;
		if ((k = realloc(kept, capkept * sizeof(*k))) == NULL)
			abort();
		kept = k;
	}
	kept[nkept++] = p;
	return p;
}

/* malloc() that aborts rather than fail, kept for the test. */
void *
unit_alloc(size_t len)
{
	void *p;

	if ((p = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	return unit_keep(p);
}

/* Copies len bytes into a block of exactly len + 1 bytes. */
char *
unit_dup(const void *p, size_t len)
{
	char *d = unit_alloc(len + 1);

	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

/* Collects what fn writes through a memory stream. */
char *
unit_capture(void (*fn)(const char *, FILE *), const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&out, &len)) == NULL)
		abort();
	fn(s, fp);
	if (fclose(fp) != 0)
		abort();
	return unit_keep(out);
}

/* Compares strings; on a difference, shows both and fails the test. */
void
unit_assert_str_(const char *got, const char *want, const char *file,
    int line)
{
	if (got != NULL && want != NULL && strcmp(got, want) == 0)
		return;
	print_error("got  %s\nwant %s\n", unit_q(got), unit_q(want));
	_fail(file, line);
}
