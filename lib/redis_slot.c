/*
 * redis_slot: key slots and redirects (redis_slot.h); pure functions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "redis_slot.h"

uint16_t
redis_slot_crc16(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint16_t crc = 0;
	int i;

	while (len-- > 0) {
		crc ^= (uint16_t)(*p++ << 8);
		for (i = 0; i < 8; i++)
			crc = crc & 0x8000 ? (uint16_t)(crc << 1) ^ 0x1021 :
			    (uint16_t)(crc << 1);
	}
	return crc;
}

/* The hash tag of the key of len bytes (its start and length), or -1
   when the whole key is hashed. */
static int
slot_tag(const char *key, size_t len, size_t *start, size_t *tlen)
{
	const char *open, *close;

	if ((open = memchr(key, '{', len)) == NULL)
		return -1;
	close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
	if (close == NULL || close == open + 1)
		return -1;
	*start = (size_t)(open + 1 - key);
	*tlen = (size_t)(close - open - 1);
	return 0;
}

int
redis_slot_of(const void *key, size_t len)
{
	size_t start, tlen;

	if (slot_tag(key, len, &start, &tlen) == 0)
		return redis_slot_crc16((const char *)key + start, tlen) %
		    REDIS_SLOTS;
	return redis_slot_crc16(key, len) % REDIS_SLOTS;
}

int
redis_slot_of_pattern(const char *p)
{
	char *lit;
	size_t n = 0, start, tlen;
	int slot = -1;

	/* The literal text up to the first glob character: every matching
	   key starts with it, so a whole tag in it is every key's tag. */
	if ((lit = malloc(strlen(p) + 1)) == NULL)
		return -1;
	for (; *p != '\0' && strchr("*?[", *p) == NULL; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		lit[n++] = *p;
	}
	if (*p == '\0')
		slot = redis_slot_of(lit, n);	/* one exact key */
	else if (slot_tag(lit, n, &start, &tlen) == 0)
		slot = redis_slot_crc16(lit + start, tlen) % REDIS_SLOTS;
	free(lit);
	return slot;
}

/* Parses the decimal number of [s, end) within [min, max]; or -1. */
static long
slot_number(const char *s, const char *end, long min, long max)
{
	long v = 0;

	if (s == end || end - s > 6)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < min || v > max ? -1 : v;
}

enum redis_redirect_kind
redis_redirect_parse(const char *err, struct redis_redirect *rd)
{
	const char *p, *sp, *colon, *h;
	size_t hlen;

	memset(rd, 0, sizeof(*rd));
	if (strncmp(err, "MOVED ", 6) == 0) {
		rd->kind = REDIS_REDIRECT_MOVED;
		p = err + 6;
	} else if (strncmp(err, "ASK ", 4) == 0) {
		rd->kind = REDIS_REDIRECT_ASK;
		p = err + 4;
	} else
		return REDIS_REDIRECT_NONE;
	if ((sp = strchr(p, ' ')) == NULL ||
	    (rd->slot = (int)slot_number(p, sp, 0, REDIS_SLOTS - 1)) == -1 ||
	    (colon = strrchr(sp + 1, ':')) == NULL ||
	    (rd->port = (int)slot_number(colon + 1, colon + strlen(colon),
	    1, 65535)) == -1)
		goto bad;
	h = sp + 1;
	hlen = (size_t)(colon - h);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen >= sizeof(rd->host) || memchr(h, ' ', hlen) != NULL ||
	    memchr(h, '[', hlen) != NULL || memchr(h, ']', hlen) != NULL)
		goto bad;
	memcpy(rd->host, h, hlen);
	rd->host[hlen] = '\0';
	return rd->kind;
bad:
	memset(rd, 0, sizeof(*rd));
	return REDIS_REDIRECT_NONE;
}
