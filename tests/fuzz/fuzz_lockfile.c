/*
 * fuzz_lockfile: lockfile_fence and lockfile_holder (lockfile.h) on any
 * bytes, as read from a local lock file.  A fence read back is the one
 * the file starts with, in the "%020llu\n" layout; a holder read back
 * carries the file's fence, and lockfile_format of both reads back the
 * same.
 */
#include "config.h"

#include "lockfile.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf = fuzz_bytes(data, len);
	char f[LOCKFILE_FENCE_LEN + 1], out[LOCKFILE_KEY_OFF];
	struct holder h, again;
	uint64_t fence;

	fence = lockfile_fence(buf, len);
	if (len > 0 && fence != LOCKFILE_NO_FENCE) {
		snprintf(f, sizeof(f), "%020llu\n", (unsigned long long)fence);
		FUZZ_ASSERT(len >= LOCKFILE_FENCE_LEN &&
		    memcmp(f, buf, LOCKFILE_FENCE_LEN) == 0,
		    "lockfile_fence: not the file's first line");
	}
	if (lockfile_holder(buf, len, &h) == 0) {
		FUZZ_ASSERT(h.fence == fence && fence != LOCKFILE_NO_FENCE,
		    "lockfile_holder: a record of another fence");
		lockfile_format(fence, &h, out);
		FUZZ_ASSERT(lockfile_fence(out, sizeof(out)) == fence,
		    "lockfile_format/lockfile_fence round trip");
		FUZZ_ASSERT(lockfile_holder(out, sizeof(out), &again) == 0 &&
		    strcmp(again.token, h.token) == 0 &&
		    strcmp(again.host, h.host) == 0 && again.pid == h.pid &&
		    again.since_ms == h.since_ms && again.fence == h.fence,
		    "lockfile_format/lockfile_holder round trip");
	}
	free(buf);
	return 0;
}
