/*
 * lockfile: the local lock file layout (lockfile.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockfile.h"

_Static_assert(LOCKFILE_SLOT_LEN >= HOLDER_SEALED_MAX,
    "holder slot too small");

uint64_t
lockfile_fence(const char *buf, size_t len)
{
	char f[LOCKFILE_FENCE_LEN + 1], *end;
	unsigned long long fence;

	if (len == 0)
		return 0;
	if (len < LOCKFILE_FENCE_LEN)
		return LOCKFILE_NO_FENCE;
	memcpy(f, buf, LOCKFILE_FENCE_LEN);
	f[LOCKFILE_FENCE_LEN] = '\0';
	if (strspn(f, "0123456789") != LOCKFILE_FENCE_LEN - 1)
		return LOCKFILE_NO_FENCE;
	fence = strtoull(f, &end, 10);
	return *end == '\n' && fence != LOCKFILE_NO_FENCE ? fence :
	    LOCKFILE_NO_FENCE;
}

int
lockfile_holder(const char *buf, size_t len, struct holder *h)
{
	uint64_t fence = lockfile_fence(buf, len);

	if (len < LOCKFILE_KEY_OFF || fence == LOCKFILE_NO_FENCE ||
	    holder_unseal(buf + LOCKFILE_FENCE_LEN, LOCKFILE_SLOT_LEN, h) == -1 ||
	    h->fence != fence)
		return -1;
	return 0;
}

void
lockfile_format(uint64_t fence, const struct holder *h,
    char buf[LOCKFILE_KEY_OFF])
{
	memset(buf, 0, LOCKFILE_KEY_OFF);
	snprintf(buf, LOCKFILE_FENCE_LEN + 1, "%020llu",
	    (unsigned long long)fence);
	buf[LOCKFILE_FENCE_LEN - 1] = '\n';
	if (h != NULL)
		holder_seal(h, buf + LOCKFILE_FENCE_LEN);
}
