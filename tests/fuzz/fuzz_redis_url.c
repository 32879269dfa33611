/*
 * fuzz_redis_url: redis_url_parse (redis_url.h) on any string.
 *
 * Besides memory safety: what it accepts is sane (a host or an absolute
 * path, a port in 1-65535, no user without a password), a failure has a
 * one-line reason (no newline, whatever the URL holds), and the password
 * shows in neither "display" nor an error message.  For the last, the
 * password the grammar finds in the input (after the first ':' of the
 * userinfo, up to the last '@', or the last "@/" for unix://) is
 * replaced by a canary of DEL bytes that the input does not hold: a DEL
 * in display or err is then a leak, however short.  The canary holds
 * none of ":@/%?#", so the URL splits where it did.
 */
#include "config.h"

#include "redis_url.h"
#include "fuzz.h"

#define CANARY_BYTE	'\x7f'
#define CANARY		"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f"

/* Where the grammar puts the password of s: [*a, *b); 0 when none. */
static int
password_span(const char *s, size_t *a, size_t *b)
{
	const char *rest, *at = NULL, *colon, *p;

	if (strncmp(s, "redis://", 8) == 0) {
		rest = s + 8;
		at = strrchr(rest, '@');
	} else {
		if (strncmp(s, "unix://", 7) == 0)
			rest = s + 7;
		else if (strncmp(s, "redis+unix://", 13) == 0)
			rest = s + 13;
		else
			return 0;
		if (*rest == '/')
			return 0;
		for (p = rest; (p = strstr(p, "@/")) != NULL; p++)
			at = p;
	}
	if (at == NULL || (colon = memchr(rest, ':', (size_t)(at - rest))) ==
	    NULL)
		return 0;
	*a = (size_t)(colon + 1 - s);
	*b = (size_t)(at - s);
	return 1;
}

/* Checks what redis_url_parse() made of s; frees it. */
static void
check_parsed(const char *s, struct redis_url *u, const char *err, int rc)
{
	if (rc == -1) {
		FUZZ_ASSERT(err[0] != '\0', "redis_url_parse: no reason");
		FUZZ_ASSERT(strchr(err, '\n') == NULL,
		    "redis_url_parse: a reason of more than one line");
		FUZZ_ASSERT(u->host == NULL && u->path == NULL &&
		    u->user == NULL && u->password == NULL &&
		    u->sentinels == NULL && u->master == NULL &&
		    u->seeds == NULL &&
		    u->sentinel_password == NULL,
		    "redis_url_parse: failed but kept memory");
		return;
	}
	FUZZ_ASSERT(rc == 0, s);
	FUZZ_ASSERT(memchr(u->display, '\0', sizeof(u->display)) != NULL, s);
	FUZZ_ASSERT(u->db >= 0, s);
	FUZZ_ASSERT(u->user == NULL || u->password != NULL, s);
	if (u->is_unix)
		FUZZ_ASSERT(u->path != NULL && u->path[0] == '/' &&
		    u->path[1] != '\0', s);
	else if (u->nsentinels > 0)
		FUZZ_ASSERT(u->host == NULL && u->master != NULL &&
		    u->master[0] != '\0' && u->sentinels[0].host != NULL &&
		    u->sentinels[0].port >= 1 &&
		    u->sentinels[u->nsentinels - 1].host[0] != '\0' &&
		    (u->sentinel_user == NULL ||
		    u->sentinel_password != NULL), s);
	else
		FUZZ_ASSERT(u->host != NULL && u->host[0] != '\0' &&
		    u->port >= 1 && u->port <= 65535, s);
	if (u->nseeds > 0)
		FUZZ_ASSERT(u->nseeds > 1 && u->nsentinels == 0 &&
		    strcmp(u->host, u->seeds[0].host) == 0 &&
		    u->port == u->seeds[0].port &&
		    u->seeds[u->nseeds - 1].host[0] != '\0', s);
	redis_url_free(u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct redis_url u;
	char err[256], *s, *t;
	size_t a, b;
	int rc;

	s = fuzz_str(data, len);
	err[0] = '\0';
	rc = redis_url_parse(s, &u, err, sizeof(err));
	check_parsed(s, &u, err, rc);

	if (memchr(s, CANARY_BYTE, strlen(s)) == NULL &&
	    password_span(s, &a, &b)) {
		if ((t = malloc(a + strlen(CANARY) + strlen(s + b) + 1)) == NULL)
			abort();
		memcpy(t, s, a);
		strcpy(t + a, CANARY);
		strcat(t, s + b);
		err[0] = '\0';
		rc = redis_url_parse(t, &u, err, sizeof(err));
		FUZZ_ASSERT(strchr(err, CANARY_BYTE) == NULL,
		    "redis_url_parse: the password is in the error message");
		if (rc == 0) {
			FUZZ_ASSERT(strchr(u.display, CANARY_BYTE) == NULL,
			    "redis_url_parse: the password is in display");
			FUZZ_ASSERT(u.password != NULL &&
			    strcmp(u.password, CANARY) == 0,
			    "redis_url_parse: the password is not where "
			    "the grammar puts it");
		}
		check_parsed(t, &u, err, rc);
		free(t);
	}
	free(s);
	return 0;
}
