/*
 * checksum: the integrity check of cached entries, XXH3 64-bit
 * (libxxhash): fast enough to run over every byte of a hit before the
 * first one is printed, and made to catch accidental change (a flipped
 * byte, a truncated or foreign value), not forgery.
 */
#ifndef KEYLOCK_CHECKSUM_H
#define KEYLOCK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>

#define CHECKSUM_HEX_LEN	16

/* A checksum fed piece by piece; zeroed is a valid unstarted one.  Its
   state is allocated (libxxhash wants it 64-byte aligned). */
struct checksum {
	XXH3_state_t	*state;
};

/* Starts (or restarts) a checksum; 0, or -1 when out of memory. */
int		checksum_init(struct checksum *c);
/* Frees what checksum_init() allocated. */
void		checksum_free(struct checksum *c);
/* Feeds len bytes at p (after a successful checksum_init()). */
void		checksum_update(struct checksum *c, const void *p, size_t len);
/* The checksum of what was fed. */
uint64_t	checksum_value(const struct checksum *c);
/* The checksum of len bytes at p, in one go. */
uint64_t	checksum_of(const void *p, size_t len);
/* Writes v as 16 lower-case hex digits and a NUL into hex. */
void		checksum_hex(uint64_t v, char hex[CHECKSUM_HEX_LEN + 1]);
/* Reads exactly 16 hex digits at s into *v; 0, or -1. */
int		checksum_parse(const char *s, size_t len, uint64_t *v);

#endif
