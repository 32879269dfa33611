/*
 * redis_keys: the one place that spells the key layout of redis_int.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyname.h"
#include "redis_int.h"

#define RD_META_SUFFIX	":meta"
#define RD_TMP_SEP	":tmp:"

static int	rd_fmt(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* vasprintf that leaves *out NULL on failure; 0 or -1. */
static int
rd_fmt(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n == -1)
		*out = NULL;
	return n == -1 ? -1 : 0;
}

void
rd_keys_free(struct rd_keys *k)
{
	free(k->key);
	free(k->e);
	free(k->lock);
	free(k->fence);
	free(k->chan);
	free(k->quiet);
	free(k->cool);
	free(k->v);
	free(k->h);
	free(k->hd);
	free(k->q);
	free(k->qd);
	free(k->qr);
	free(k->wchan);
	free(k->memo);
	memset(k, 0, sizeof(*k));
}

int
rd_keys_init(struct lock_redis *lr, const char *key, struct rd_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (*key == '\0')
		return lock_seterr(&lr->base, LOCK_EUSAGE, "empty key");
	if ((k->key = strdup(key)) == NULL ||
	    (k->e = keyname_redis(key)) == NULL ||
	    rd_fmt(&k->lock, "%s:{%s}:lock", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->fence, "%s:{%s}:fence", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->chan, "%s:{%s}:ch", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->quiet, "%s:{%s}:quiet", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->cool, "%s:{%s}:cool", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->v, "%s:{%s}:v", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->h, "%s:{%s}:h", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->hd, "%s:{%s}:hd", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->q, "%s:{%s}:q", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->qd, "%s:{%s}:qd", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->qr, "%s:{%s}:qr", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->wchan, "%s:{%s}:w:", lr->ns, k->e) == -1 ||
	    rd_fmt(&k->memo, "%s:{%s}:memo:", lr->ns, k->e) == -1) {
		rd_keys_free(k);
		return lock_seterr(&lr->base, LOCK_EINTERNAL,
		    "out of memory");
	}
	return 0;
}

int
rd_keys_argv(const struct rd_keys *k, const char **argv)
{
	argv[0] = k->lock;
	argv[1] = k->fence;
	argv[2] = k->quiet;
	argv[3] = k->cool;
	argv[4] = k->v;
	argv[5] = k->h;
	argv[6] = k->hd;
	argv[7] = k->q;
	argv[8] = k->qd;
	argv[9] = k->qr;
	return RD_NKEYS;
}

char *
rd_memo_key(struct lock_redis *lr, const struct rd_keys *k,
    const char *digest, enum rd_memo_part part, const char *token)
{
	char *s = NULL;
	int n = -1;

	switch (part) {
	case RD_MEMO_DATA:
		n = rd_fmt(&s, "%s%s", k->memo, digest);
		break;
	case RD_MEMO_META:
		n = rd_fmt(&s, "%s%s" RD_META_SUFFIX, k->memo, digest);
		break;
	case RD_MEMO_TMP:
		n = rd_fmt(&s, "%s%s" RD_TMP_SEP "%s", k->memo, digest,
		    token);
		break;
	case RD_MEMO_OTHER:
		break;
	}
	if (n == -1) {
		lock_seterr(&lr->base, LOCK_EINTERNAL, "out of memory");
		return NULL;
	}
	return s;
}

enum rd_memo_part
rd_memo_part_of(const struct rd_keys *k, const char *name, size_t len)
{
	size_t plen = strlen(k->memo), mlen = strlen(RD_META_SUFFIX);

	if (len < plen + DIGEST_HEX_LEN || memcmp(name, k->memo, plen) != 0)
		return RD_MEMO_OTHER;
	len -= plen + DIGEST_HEX_LEN;
	name += plen + DIGEST_HEX_LEN;
	if (len == 0)
		return RD_MEMO_DATA;
	if (len == mlen && memcmp(name, RD_META_SUFFIX, mlen) == 0)
		return RD_MEMO_META;
	if (len > strlen(RD_TMP_SEP) &&
	    memcmp(name, RD_TMP_SEP, strlen(RD_TMP_SEP)) == 0)
		return RD_MEMO_TMP;
	return RD_MEMO_OTHER;
}

/* Returns a malloc'd copy of s with the glob characters escaped. */
static char *
rd_glob_escape(const char *s)
{
	char *out, *q;

	if ((out = q = malloc(strlen(s) * 2 + 1)) == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			*q++ = '\\';
		*q++ = *s;
	}
	*q = '\0';
	return out;
}

char *
rd_pattern(struct lock_redis *lr, const struct rd_keys *k)
{
	char *esc, *p = NULL;

	if ((esc = rd_glob_escape(k != NULL ? k->memo : lr->ns)) != NULL)
		(void)rd_fmt(&p, k != NULL ? "%s*" : "%s:{*}:*", esc);
	free(esc);
	if (p == NULL)
		lock_seterr(&lr->base, LOCK_EINTERNAL, "out of memory");
	return p;
}

/* The suffixes after "}:" that show a KEY in use, in the order list()
   looks for them. */
static const char *const rd_used_suffix[] = { "lock", "hd", "q" };

char *
rd_key_of_used(const struct lock_redis *lr, const char *name, size_t len,
    int *which)
{
	size_t nslen = strlen(lr->ns), elen, slen, i;
	const char *e = name + nslen + 2, *end;

	/* "NS:{" E "}:" SUFFIX, and E never holds a brace. */
	if (len < nslen + 5 || memcmp(name, lr->ns, nslen) != 0 ||
	    memcmp(name + nslen, ":{", 2) != 0 ||
	    (end = memchr(e, '}', len - nslen - 2)) == NULL ||
	    (size_t)(name + len - end) < 3 || end[1] != ':')
		return NULL;
	elen = (size_t)(end - e);
	slen = len - nslen - 2 - elen - 2;
	if (memchr(e, '{', elen) != NULL)
		return NULL;	/* a longer namespace that starts like ours */
	for (i = 0; i < 3; i++)
		if (strlen(rd_used_suffix[i]) == slen &&
		    memcmp(end + 2, rd_used_suffix[i], slen) == 0)
			break;
	if (i == 3)
		return NULL;
	*which = (int)i;
	return keyname_unredis(e, elen);
}
