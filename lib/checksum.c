/*
 * checksum: XXH3 64-bit through libxxhash, and its text form.
 */
#include "config.h"

#include <stdio.h>

#include "checksum.h"

int
checksum_init(struct checksum *c)
{
	if (c->state == NULL && (c->state = XXH3_createState()) == NULL)
		return -1;
	XXH3_64bits_reset(c->state);
	return 0;
}

void
checksum_free(struct checksum *c)
{
	XXH3_freeState(c->state);
	c->state = NULL;
}

void
checksum_update(struct checksum *c, const void *p, size_t len)
{
	XXH3_64bits_update(c->state, p, len);
}

uint64_t
checksum_value(const struct checksum *c)
{
	return XXH3_64bits_digest(c->state);
}

uint64_t
checksum_of(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}

void
checksum_hex(uint64_t v, char hex[CHECKSUM_HEX_LEN + 1])
{
	snprintf(hex, CHECKSUM_HEX_LEN + 1, "%016llx", (unsigned long long)v);
}

int
checksum_parse(const char *s, size_t len, uint64_t *v)
{
	uint64_t n = 0;
	size_t i;
	int d;

	if (len != CHECKSUM_HEX_LEN)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		n = n << 4 | (uint64_t)d;
	}
	*v = n;
	return 0;
}
