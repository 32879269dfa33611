/*
 * fuzz_parse: parse_duration, parse_size, parse_int and parse_u64
 * (parse.h) on any string.  Properties: an accepted string is made only
 * of what the grammar allows (digits, '.', unit letters; digits only for
 * parse_int and parse_u64), and what comes out is in range.
 */
#include "config.h"

#include <limits.h>

#include "parse.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *s = fuzz_str(data, len);
	int64_t ms;
	uint64_t bytes, u;
	long v;

	if (parse_duration(s, &ms) == 0) {
		FUZZ_ASSERT(s[strspn(s, "0123456789.smhd")] == '\0',
		    "parse_duration");
		FUZZ_ASSERT(ms >= 0 && ms <= 9000000000000000LL,
		    "parse_duration");
	}
	if (parse_size(s, &bytes) == 0) {
		FUZZ_ASSERT(s[strspn(s, "0123456789.KMGkB")] == '\0',
		    "parse_size");
		FUZZ_ASSERT(bytes <= 9000000000000000000ULL, "parse_size");
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
