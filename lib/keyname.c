/*
 * keyname: reversible escapes of a KEY for file names and Redis keys.
 * Both escapes are injective, so two keys never share a lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "digest.h"
#include "keyname.h"

static const char hexdig[] = "0123456789ABCDEF";

/* Nonzero if byte c may stand as itself in a file name. */
static int
file_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Writes key's file name into buf; 0, or -1 for an empty key. */
int
keyname_file(const char *key, char *buf, size_t len)
{
	const unsigned char *p;
	size_t n = 0;
	char hex[65];

	if (*key == '\0' || len < KEYNAME_FILE_MAX + 1)
		return -1;
	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		/* Hashed once a byte starts past offset 196, even one that
		   would fit: 0.1 named lock files so; a change renames them. */
		if (n + 4 > KEYNAME_FILE_MAX)
			goto hashed;
		if (file_safe(*p) && !(p == (const unsigned char *)key &&
		    *p == '.'))
			buf[n++] = (char)*p;
		else {
			buf[n++] = '%';
			buf[n++] = hexdig[*p >> 4];
			buf[n++] = hexdig[*p & 15];
		}
	}
	buf[n] = '\0';
	return 0;
hashed:
	digest_sha256(key, strlen(key), hex);
	snprintf(buf, len, "#%s", hex);
	return 0;
}

/* Value of hex digit c, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undoes %XX escapes in s[0..len); malloc'd string or NULL. */
static char *
unescape(const char *s, size_t len)
{
	char *out, *q;
	size_t i;
	int hi, lo;

	if ((out = q = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			*q++ = s[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		if ((hi = hexval(s[i + 1])) == -1 ||
		    (lo = hexval(s[i + 2])) == -1)
			goto bad;
		*q++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*q = '\0';
	if (q == out || memchr(out, '\0', (size_t)(q - out)) != NULL)
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* Decodes a file name from keyname_file(); NULL if hashed or foreign. */
char *
keyname_unfile(const char *name)
{
	char again[KEYNAME_FILE_MAX + 1];
	char *key;

	/* Ours only if it is exactly what keyname_file() writes for the key
	   it decodes to: that refuses a hashed name or a leading '.', and
	   the escapes it never writes ("%2f", "a%41", "%2E%2E", "a b"), so
	   one key has one name. */
	if (strlen(name) > KEYNAME_FILE_MAX ||
	    (key = unescape(name, strlen(name))) == NULL)
		return NULL;
	if (keyname_file(key, again, sizeof(again)) == -1 ||
	    strcmp(again, name) != 0) {
		free(key);
		return NULL;
	}
	return key;
}

/* Returns a malloc'd Redis escape of key ('%', '{', '}' as %XX). */
char *
keyname_redis(const char *key)
{
	const unsigned char *p;
	char *out, *q;

	if ((out = q = malloc(strlen(key) * 3 + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		if (*p == '%' || *p == '{' || *p == '}') {
			*q++ = '%';
			*q++ = hexdig[*p >> 4];
			*q++ = hexdig[*p & 15];
		} else
			*q++ = (char)*p;
	}
	*q = '\0';
	return out;
}

/* Decodes len bytes of keyname_redis() output; malloc'd key or NULL. */
char *
keyname_unredis(const char *s, size_t len)
{
	return unescape(s, len);
}
