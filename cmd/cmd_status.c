/*
 * keylock status KEY, keylock list: who holds what, read without ever
 * taking a lock, and (status) the cached memo entries of KEY.
 */
#include "config.h"

#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "duration.h"
#include "exits.h"

/* The length of the well-formed UTF-8 sequence at p (RFC 3629), or 0.
   p is NUL-terminated, and NUL is never a continuation byte. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing past U+10FFFF */
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Prints s as a JSON string: valid UTF-8, with each byte that is not
   part of a well-formed sequence shown as U+FFFD. */
static void
json_str(const char *s)
{
	const unsigned char *p;
	size_t n;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", stdout);
			n = 1;
		} else if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			fwrite(p, 1, n, stdout);
	}
	putchar('"');
}

/* Prints s for people, whole, as printable() would (--json keeps
   control characters). */
static void
text_str(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		putchar(printable_byte(*p));
}

/* Prints the holder fields of a JSON object (after "held"). */
static void
json_holder(const struct holder *h)
{
	char since[40];

	if (h->pid == 0) {
		printf(",\"pid\":null,\"host\":null,\"since\":null,"
		    "\"fence\":null");
		return;
	}
	clock_rfc3339(h->since_ms, since, sizeof(since));
	printf(",\"pid\":%ld,\"host\":", h->pid);
	json_str(h->host);
	printf(",\"since\":\"%s\",\"fence\":%" PRIu64, since, h->fence);
	if (h->ttl_ms >= 0)
		printf(",\"ttl_ms\":%" PRId64, h->ttl_ms);
}

/* Prints "KEY: held by ..." for people. */
static void
text_holder(const char *key, const struct holder *h)
{
	char who[400], left[32];

	holder_describe(h, who, sizeof(who));
	text_str(key);
	printf(": held by %s", who);
	if (h->pid != 0)
		printf(", fence %" PRIu64, h->fence);
	if (h->ttl_ms >= 0) {
		duration_format(h->ttl_ms, left, sizeof(left));
		printf(", lease %s left", left);
	}
	putchar('\n');
}

struct memo_print {
	int	json;
	int	n;
};

/* Prints one cached entry of the key. */
static int
print_memo(void *arg, const struct memo_info *mi)
{
	struct memo_print *mp = arg;
	char age[32], left[32];

	if (mp->json) {
		printf("%s{\"digest\":\"%s\",\"age_ms\":%" PRId64 ",\"size\":%"
		    PRIu64 ",\"ttl_ms\":%" PRId64 "}", mp->n ? "," : "",
		    mi->digest, mi->age_ms, mi->size, mi->ttl_ms);
	} else {
		duration_format(mi->age_ms, age, sizeof(age));
		duration_format(mi->ttl_ms, left, sizeof(left));
		printf("  cached %.12s: %" PRIu64 " bytes, stored %s ago, "
		    "%s left\n", mi->digest, mi->size, age, left);
	}
	mp->n++;
	return 0;
}

int
cmd_status(int argc, char **argv)
{
	struct options o;
	struct memo_print mp = { 0, 0 };
	struct holder h;
	struct lock *l;
	const char *key;
	char pkey[256];
	int i, held;

	key = options_key(&o, argc, argv, options_parse(&o, argc, argv));
	l = options_backend(&o);
	if ((held = l->be->status(l, key, &h)) == -1) {
		warnx("%s: %s", printable(key, pkey, sizeof(pkey)),
		    lock_error(l));
		i = options_exit_code(l);
		options_free(&o, l);
		return i;
	}
	mp.json = o.json;
	if (o.json) {
		printf("{\"key\":");
		json_str(key);
		printf(",\"backend\":\"%s\",\"held\":%s", l->be->name,
		    held ? "true" : "false");
		if (held)
			json_holder(&h);
		printf(",\"memo\":[");
		l->be->memo_list(l, key, print_memo, &mp);
		printf("]}\n");
	} else {
		if (held)
			text_holder(key, &h);
		else {
			text_str(key);
			puts(": free");
		}
		l->be->memo_list(l, key, print_memo, &mp);
	}
	options_free(&o, l);
	return held ? 0 : EXIT_FREE;
}

struct list_print {
	int	json;
	int	n;
};

/* Prints one held key. */
static int
print_held(void *arg, const char *key, const struct holder *h)
{
	struct list_print *lp = arg;

	if (!lp->json) {
		text_str(key);
		putchar('\n');
		return 0;
	}
	printf("%s{\"key\":", lp->n++ ? "," : "");
	json_str(key);
	printf(",\"held\":true");
	json_holder(h);
	putchar('}');
	return 0;
}

int
cmd_list(int argc, char **argv)
{
	struct options o;
	struct list_print lp = { 0, 0 };
	struct lock *l;
	int i, rc;

	i = options_parse(&o, argc, argv);
	if (i != argc)
		usage_error("list: too many operands");
	l = options_backend(&o);
	lp.json = o.json;
	if (o.json)
		putchar('[');
	rc = l->be->list(l, print_held, &lp);
	if (o.json)
		printf("]\n");
	if (rc == -1) {
		warnx("list: %s", lock_error(l));
		rc = options_exit_code(l);
	}
	options_free(&o, l);
	return rc;
}
