/*
 * fuzz_parse: parse_duration, parse_size, parse_int and parse_u64
 * (parse.h) on any string.  Properties: an accepted string is made only
 * of what the grammar allows (digits, '.', unit letters; digits only for
 * parse_int and parse_u64), what comes out is in range, and a size of
 * digits only is exactly the number parse_u64 reads (no double rounding).
 */
#include "config.h"

#include <limits.h>

#include "parse.h"
#include "fuzz.h"

#define SIZE_LIMIT	9000000000000000000ULL	/* parse.h: at most 9e18 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_str(data, len);
	int64_t ms;
	uint64_t bytes, u;
	long v;
	int rc;

	if (parse_duration(s, &ms) == 0) {
		FUZZ_ASSERT(s[strspn(s, "0123456789.smhd")] == '\0',
		    "parse_duration");
		FUZZ_ASSERT(ms >= 0 && ms <= 9000000000000000LL,
		    "parse_duration");
	}
	if (parse_size(s, &bytes) == 0) {
		FUZZ_ASSERT(s[strspn(s, "0123456789.KMGkB")] == '\0',
		    "parse_size");
		FUZZ_ASSERT(bytes <= SIZE_LIMIT, "parse_size");
	}
	if (s[0] != '\0' && s[strspn(s, "0123456789")] == '\0') {
		rc = parse_size(s, &bytes);
		FUZZ_ASSERT(rc == parse_u64(s, SIZE_LIMIT, &u), "parse_size");
		FUZZ_ASSERT(rc == -1 || bytes == u, "parse_size");
	}
	if (parse_int(s, 0, LONG_MAX, &v) == 0)
		FUZZ_ASSERT(s[0] != '\0' && s[strspn(s, "0123456789")] == '\0',
		    "parse_int");
	if (parse_int(s, 1, 65535, &v) == 0)
		FUZZ_ASSERT(v >= 1 && v <= 65535, "parse_int");
	if (parse_u64(s, UINT64_MAX, &u) == 0)
		FUZZ_ASSERT(s[0] != '\0' && s[strspn(s, "0123456789")] == '\0',
		    "parse_u64");
	if (parse_u64(s, INT64_MAX, &u) == 0)
		FUZZ_ASSERT(u <= INT64_MAX, "parse_u64");
	free(s);
	return 0;
}
