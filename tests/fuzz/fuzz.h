/*
 * fuzz: what the libFuzzer targets of tests/fuzz share.  Inputs are
 * copied into blocks of their exact size, so AddressSanitizer sees any
 * read past the end; a broken property aborts, which libFuzzer reports
 * as a crash and saves the input.
 */
#ifndef KEYLOCK_FUZZ_H
#define KEYLOCK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* A copy of len bytes plus a NUL, in a block of exactly len + 1 bytes. */
static inline char *
fuzz_str(const uint8_t *data, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* A copy of len bytes, no NUL, in a block of exactly len bytes (one byte
   for an empty input: malloc(0) may return NULL). */
static inline char *
fuzz_bytes(const uint8_t *data, size_t len)
{
	char *s;

	if ((s = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(s, data, len);
	return s;
}

/* Aborts with what, where and the broken condition unless cond holds. */
#define FUZZ_ASSERT(cond, what)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s: property broken: %s\n", \
			    __FILE__, __LINE__, (what), #cond);		\
			abort();					\
		}							\
	} while (0)

#endif
