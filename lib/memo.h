/*
 * memo: identity of a cached result and the local cache directory.
 *
 * The identity digest is SHA-256 over a versioned, length-prefixed
 * encoding of KEY and argv (lengths as 8-byte big-endian), so every
 * machine computes the same name and no two argv lists collide.
 */
#ifndef KEYLOCK_MEMO_H
#define KEYLOCK_MEMO_H

#include <stdint.h>

struct memo_id {
	const char	*key;
	char		 digest[65];	/* lower-case hex */
};

/* Computes the identity of key and the NULL-terminated argv. */
void	memo_id_init(struct memo_id *id, const char *key,
	    char *const argv[]);

#endif
