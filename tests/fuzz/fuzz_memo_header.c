/*
 * fuzz_memo_header: memo_file_parse_header (memo_file.h) on any bytes, as
 * read from the head of a local cache entry.  An accepted header has no
 * negative stamp or TTL, and its fields written back in the KLM2 layout
 * parse to the same fields.
 */
#include "config.h"

#include <inttypes.h>

#include "memo_file.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf = fuzz_bytes(data, len);
	char hdr[MEMO_HDR_LEN + 1];
	struct memo_header h, again;
	int n;

	if (memo_file_parse_header(buf, len, &h) == 0) {
		FUZZ_ASSERT(len >= MEMO_HDR_LEN, "memo_file_parse_header");
		FUZZ_ASSERT(h.created >= 0 && h.ttl >= 0,
		    "memo_file_parse_header: a negative stamp or TTL");
		n = snprintf(hdr, sizeof(hdr), MEMO_HDR_MAGIC
		    " %020" PRId64 " %020" PRId64 " %020" PRIu64 " %016" PRIx64
		    "\n", h.created, h.ttl, h.size, h.sum);
		FUZZ_ASSERT(n == MEMO_HDR_LEN, "KLM2 layout");
		FUZZ_ASSERT(memo_file_parse_header(hdr, MEMO_HDR_LEN,
		    &again) == 0, "memo_file_parse_header: rejects its layout");
		FUZZ_ASSERT(again.created == h.created && again.ttl == h.ttl &&
		    again.size == h.size && again.sum == h.sum,
		    "memo_file_parse_header: round trip");
	}
	free(buf);
	return 0;
}
