/*
 * fuzz_holder: holder_parse and holder_unseal (holder.h) on any bytes, as
 * they come from Redis or a lock file, and holder_describe on what they
 * accept, as "status" and the waiting message show it.
 *
 * Round trips: a parsed holder formats to a record that parses to the
 * same fields, and seals to a record that unseals to them.
 */
#include "config.h"

#include "holder.h"
#include "fuzz.h"

/* Aborts unless a and b have the same record fields. */
static void
same_fields(const struct holder *a, const struct holder *b, const char *what)
{
	FUZZ_ASSERT(strcmp(a->token, b->token) == 0, what);
	FUZZ_ASSERT(strcmp(a->host, b->host) == 0, what);
	FUZZ_ASSERT(a->pid == b->pid, what);
	FUZZ_ASSERT(a->since_ms == b->since_ms, what);
	FUZZ_ASSERT(a->fence == b->fence, what);
}

/* Checks the round trips and the description of a parsed holder. */
static void
check_holder(const struct holder *h)
{
	char rec[HOLDER_RECORD_MAX + 1], sealed[HOLDER_SEALED_MAX];
	char who[HOLDER_HOST_MAX + 128];
	struct holder again;
	size_t n;

	FUZZ_ASSERT(memchr(h->token, '\0', sizeof(h->token)) != NULL &&
	    memchr(h->host, '\0', sizeof(h->host)) != NULL,
	    "holder_parse: unterminated field");
	n = holder_format(h, rec, sizeof(rec));
	FUZZ_ASSERT(n > 0 && n < sizeof(rec), "holder_format");
	FUZZ_ASSERT(holder_parse(rec, n, &again) == 0,
	    "holder_format: output does not parse");
	same_fields(h, &again, "holder_format/holder_parse round trip");
	n = holder_seal(h, sealed);
	FUZZ_ASSERT(n <= sizeof(sealed), "holder_seal");
	FUZZ_ASSERT(holder_unseal(sealed, n, &again) == 0,
	    "holder_seal: output does not unseal");
	same_fields(h, &again, "holder_seal/holder_unseal round trip");
	holder_describe(h, who, sizeof(who));
	FUZZ_ASSERT(memchr(who, '\0', sizeof(who)) != NULL, "holder_describe");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf = fuzz_bytes(data, len);
	struct holder h;

	if (holder_parse(buf, len, &h) == 0)
		check_holder(&h);
	if (holder_unseal(buf, len, &h) == 0)
		check_holder(&h);
	free(buf);
	return 0;
}
