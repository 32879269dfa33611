/*
 * holder: the one-line record that says who holds a key.  Host names
 * are sanitised on the way in, so a record always has five fields.
 * holder_parse() takes a field only whole and in its grammar (no sscanf
 * widths that split a long token into the host, no sign, no overflow), so
 * holder_format() writes any holder it accepts back as a record that
 * parses to the same holder.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "clock.h"
#include "digest.h"
#include "holder.h"
#include "keyname.h"
#include "parse.h"
#include "text.h"

/* Fills h for this process: host name, pid, now, no token, fence 0. */
void
holder_self(struct holder *h)
{
	char *p;

	memset(h, 0, sizeof(*h));
	strcpy(h->token, "-");
	if (gethostname(h->host, sizeof(h->host) - 1) == -1 ||
	    h->host[0] == '\0')
		strcpy(h->host, "unknown");
	for (p = h->host; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			*p = '_';
	h->pid = (long)getpid();
	h->since_ms = clock_wall_ms();
	h->ttl_ms = -1;
}

/* Sets h->token to 32 random hex digits from getrandom(2); 0 or -1. */
int
holder_new_token(struct holder *h)
{
	unsigned char r[HOLDER_TOKEN_LEN / 2];
	size_t i;
	ssize_t n;

	do
		n = getrandom(r, sizeof(r), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(r))
		return -1;
	for (i = 0; i < sizeof(r); i++)
		snprintf(h->token + i * 2, 3, "%02x", r[i]);
	return 0;
}

/* Nonzero for a byte a note keeps as %XX in a record. */
static int
holder_escaped(unsigned char c)
{
	return c <= ' ' || c == '%' || c == 0x7f;
}

void
holder_format_tail(const struct holder *h, char *buf, size_t len)
{
	const unsigned char *p;
	size_t i = 0;

	buf[0] = '\0';
	if (h->until_ms > 0)
		i = (size_t)snprintf(buf, len, " u=%" PRId64, h->until_ms);
	if (h->cooldown_ms > 0 && i + 24 < len)
		i += (size_t)snprintf(buf + i, len - i, " c=%" PRId64,
		    h->cooldown_ms);
	if (h->slots > 0 && i + 24 < len)
		i += (size_t)snprintf(buf + i, len - i, " k=%u i=%u", h->slots,
		    h->slot);
	if (h->shared && i + 4 < len)
		i += (size_t)snprintf(buf + i, len - i, " s=1");
	if (h->supersede && i + 4 < len)
		i += (size_t)snprintf(buf + i, len - i, " w=1");
	if (h->note[0] == '\0' || i + 4 > len)
		return;
	i += (size_t)snprintf(buf + i, len - i, " n=");
	for (p = (const unsigned char *)h->note; *p != '\0' && i + 4 < len;
	    p++)
		i += (size_t)snprintf(buf + i, len - i,
		    holder_escaped(*p) ? "%%%02X" : "%c", *p);
}

/* Writes the record into buf; returns its length. */
size_t
holder_format(const struct holder *h, char *buf, size_t len)
{
	char extra[3 * HOLDER_NOTE_MAX + 96];
	int n;

	if (len == 0)
		return 0;
	holder_format_tail(h, extra, sizeof(extra));
	n = snprintf(buf, len, "%s %s %ld %" PRId64 " %" PRIu64 "%s",
	    h->token, h->host, h->pid, h->since_ms, h->fence, extra);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/* Decodes a note field value into h->note; 0, or -1 if it is malformed
   or too long. */
static int
holder_parse_note(const char *s, struct holder *h)
{
	char *note;
	int rc = -1;

	/* The same %XX escapes as a Redis key part. */
	if ((note = keyname_unredis(s, strlen(s))) != NULL &&
	    strlen(note) <= HOLDER_NOTE_MAX) {
		strcpy(h->note, note);
		rc = 0;
	}
	free(note);
	return rc;
}

/* Parses one "name=value" field after FENCE; 0, or -1 if malformed. */
static int
holder_parse_field(const char *s, struct holder *h)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz");
	const char *v;
	uint64_t x;

	/* A name is lower-case letters; one this version does not know is
	   skipped. */
	if (n == 0 || s[n] != '=')
		return -1;
	v = s + n + 1;
	switch (n == 1 ? *s : '\0') {
	case 'u':
	case 'c':
		if (parse_u64(v, INT64_MAX, &x) == -1 || x == 0)
			return -1;
		*(*s == 'u' ? &h->until_ms : &h->cooldown_ms) = (int64_t)x;
		return 0;
	case 'k':
	case 'i':
		/* Nine digits at most, as 0.1's "%9lld" read them. */
		if (parse_u64(v, 999999999, &x) == -1)
			return -1;
		*(*s == 'k' ? &h->slots : &h->slot) = (unsigned int)x;
		return 0;
	case 's':
	case 'w':
		if (strcmp(v, "1") != 0)
			return -1;
		*(*s == 's' ? &h->shared : &h->supersede) = 1;
		return 0;
	case 'n':
		return holder_parse_note(v, h);
	default:
		return 0;
	}
}

/* Nonzero if s is a record's TOKEN: "-" or HOLDER_TOKEN_LEN lower-case
   hex digits, as holder_self() and holder_new_token() write it. */
static int
holder_token_ok(const char *s)
{
	return strcmp(s, "-") == 0 || (strlen(s) == HOLDER_TOKEN_LEN &&
	    strspn(s, "0123456789abcdef") == HOLDER_TOKEN_LEN);
}

/* Nonzero if s is a record's HOST: 1 to HOLDER_HOST_MAX - 1 bytes (no
   space, newline or NUL: the split saw to those).  holder_self() writes
   no control bytes, but a record another writer left with some is still
   a record: status and messages show them as '?'. */
static int
holder_host_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < HOLDER_HOST_MAX;
}

/* Parses the five fields a record opens with into h; 0, or -1. */
static int
holder_parse_head(char *const f[5], struct holder *h)
{
	uint64_t pid, since;

	if (!holder_token_ok(f[0]) || !holder_host_ok(f[1]) ||
	    parse_u64(f[2], INT_MAX, &pid) == -1 ||
	    parse_u64(f[3], INT64_MAX, &since) == -1 ||
	    parse_u64(f[4], UINT64_MAX, &h->fence) == -1)
		return -1;
	strcpy(h->token, f[0]);
	strcpy(h->host, f[1]);
	h->pid = (long)pid;
	h->since_ms = (int64_t)since;
	return 0;
}

/* Parses a record of len bytes into h; 0, or -1 if malformed. */
int
holder_parse(const char *rec, size_t len, struct holder *h)
{
	char buf[HOLDER_RECORD_MAX + 1], *f[5], *p;
	size_t i;

	if (len == 0 || len > HOLDER_RECORD_MAX)
		return -1;
	memcpy(buf, rec, len);
	buf[len] = '\0';
	memset(h, 0, sizeof(*h));
	/* One line: a single '\n' may end it, and no NUL is inside. */
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (memchr(buf, '\n', len) != NULL || memchr(buf, '\0', len) != NULL)
		return -1;
	/* Fields are split by single spaces: an empty one is malformed. */
	p = buf;
	for (i = 0; i < 5; i++)
		if ((f[i] = strsep(&p, " ")) == NULL)
			return -1;
	if (holder_parse_head(f, h) == -1)
		return -1;
	while (p != NULL)
		if (holder_parse_field(strsep(&p, " "), h) == -1)
			return -1;
	if (h->slots > 0 ? h->slot >= h->slots : h->slot != 0)
		return -1;
	h->ttl_ms = -1;
	return 0;
}

/* Writes "SUM RECORD\n" into buf; returns its length. */
size_t
holder_seal(const struct holder *h, char *buf)
{
	char sum[65];	/* SHA-256 hex, cut to HOLDER_SUM_LEN */
	size_t len;

	len = holder_format(h, buf + HOLDER_SUM_LEN + 1, HOLDER_RECORD_MAX + 1);
	digest_sha256(buf + HOLDER_SUM_LEN + 1, len, sum);
	memcpy(buf, sum, HOLDER_SUM_LEN);
	buf[HOLDER_SUM_LEN] = ' ';
	buf[HOLDER_SUM_LEN + 1 + len] = '\n';
	return HOLDER_SUM_LEN + 1 + len + 1;
}

/* Checks and parses a sealed record; 0, or -1. */
int
holder_unseal(const char *buf, size_t len, struct holder *h)
{
	char sum[65];	/* SHA-256 hex, cut to HOLDER_SUM_LEN */
	const char *rec, *nl;

	if (len < HOLDER_SUM_LEN + 2 || buf[HOLDER_SUM_LEN] != ' ')
		return -1;
	rec = buf + HOLDER_SUM_LEN + 1;
	if ((nl = memchr(rec, '\n', len - HOLDER_SUM_LEN - 1)) == NULL)
		return -1;
	digest_sha256(rec, (size_t)(nl - rec), sum);
	if (memcmp(sum, buf, HOLDER_SUM_LEN) != 0)
		return -1;
	return holder_parse(rec, (size_t)(nl - rec), h);
}

/* Writes "pid 123 on HOST since TIME" into buf for messages. */
void
holder_describe(const struct holder *h, char *buf, size_t len)
{
	char when[40], host[HOLDER_HOST_MAX];

	if (h->pid == 0) {
		/* Held, but its record is unreadable (or not written yet). */
		snprintf(buf, len, "an unknown process");
		return;
	}
	clock_rfc3339(h->since_ms, when, sizeof(when));
	/* A record read from Redis may hold anything: never raw bytes. */
	snprintf(buf, len, "pid %ld on %s since %s", h->pid,
	    text_printable(h->host, host, sizeof(host)), when);
}
