/*
 * keyname: how a KEY becomes a file name or a Redis key part.
 *
 * File names: bytes outside [A-Za-z0-9._-] and a leading '.' are written
 * as %XX, so no key can name "", ".", ".." or a path with '/'.  Once a
 * key byte would start past offset KEYNAME_FILE_MAX - 4 of the name (so
 * also for keys of 198 to 200 plain bytes), the name is "#" and the
 * SHA-256 of the key, and the key itself is kept inside the lock file for
 * "list".
 *
 * Redis: '%', '{' and '}' are written as %25, %7B, %7D so the hash tag
 * {KEY} is exactly the key and no two keys share a name.
 */
#ifndef KEYNAME_H
#define KEYNAME_H

#include <stddef.h>

#define KEYNAME_FILE_MAX	200	/* leaves room for suffixes in NAME_MAX */

/* Writes key's file name into buf (>= KEYNAME_FILE_MAX + 1); 0 or -1. */
int	 keyname_file(const char *key, char *buf, size_t len);
/* Decodes a file name made by keyname_file(); malloc'd key, or NULL if
   the name is hashed or not exactly what keyname_file() writes. */
char	*keyname_unfile(const char *name);
/* Returns a malloc'd Redis escape of key, or NULL when out of memory. */
char	*keyname_redis(const char *key);
/* Decodes keyname_redis() of len bytes; malloc'd key, or NULL. */
char	*keyname_unredis(const char *s, size_t len);

#endif
