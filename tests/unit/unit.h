/*
 * unit: the small layer tests/unit puts over cmocka.  Every table row is
 * registered as its own cmocka test, so cmocka's TAP output has one line
 * per case and automake's TAP driver counts each one.  A row that states
 * the contract where lib/ does not (yet) keep it carries a TODO reason:
 * its failure counts as XFAIL, its passing as XPASS (a reminder to drop
 * the TODO).
 */
#ifndef KEYLOCK_UNIT_H
#define KEYLOCK_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>

#include <cmocka.h>

struct unit_suite {
	struct CMUnitTest	*tests;
	size_t			 n;
	size_t			 cap;
};

/* Registers fn as one test run with *state == state; the name is fmt's
   output, followed by " # TODO todo" when todo is not NULL. */
void	 unit_add(struct unit_suite *s, CMUnitTestFunction fn,
	    const void *state, const char *todo, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Runs all tests of s as one TAP stream, frees s and returns the exit
   status for main: 0, since the verdicts are in the stream (a crash still
   ends the program with a failing status). */
int	 unit_run(struct unit_suite *s);

/* len bytes of p quoted and C-escaped ('#' too, so no input can make a
   TAP directive), cut to about 120 bytes; one of 8 rotating buffers. */
const char *unit_qn(const void *p, size_t len);
/* unit_qn() of a string; "NULL" for NULL. */
const char *unit_q(const char *s);
/*
 * Memory a test gets from these is freed after the test, passed or
 * failed: a failed assertion leaves the test by longjmp, and a TODO case
 * must not add a leak report to its expected failure.
 */
/* Keeps p (from malloc) to be freed after the test; returns p. */
void	*unit_keep(void *p);
/* malloc(len) kept for the test; never NULL. */
void	*unit_alloc(size_t len);
/* A copy of len bytes plus a NUL in a block of exactly that size, so
   that AddressSanitizer sees any read past the end. */
char	*unit_dup(const void *p, size_t len);
/* What fn(s, fp) writes, as a NUL-terminated string. */
char	*unit_capture(void (*fn)(const char *, FILE *), const char *s);

/* The number of rows of a table. */
#define UNIT_NROWS(t)	(sizeof(t) / sizeof((t)[0]))

/* Fails the test unless got is a string equal to want; shows both escaped. */
#define unit_assert_str(got, want) \
	unit_assert_str_((got), (want), __FILE__, __LINE__)
void	 unit_assert_str_(const char *got, const char *want, const char *file,
	    int line);

#endif
