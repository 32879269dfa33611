/*
 * redis_url: a strict parser of the URL grammar in redis_url.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyname.h"
#include "redis_url.h"

#define REDIS_URL_DEFAULT_PORT	6379
#define REDIS_URL_SENTINEL_PORT	26379

/* Parses a whole decimal number of len bytes in [min, max]; 0 or -1. */
static int
url_number(const char *s, size_t len, long min, long max, long *out)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Splits "[user]:password@" off the front of *s, where at is the '@'
 * (NULL: none); 0 or -1.
 */
static int
url_userinfo(const char **s, const char *at, struct redis_url *u, char *err,
    size_t errlen)
{
	const char *colon, *p = *s;

	if (at == NULL)
		return 0;
	if ((colon = memchr(p, ':', (size_t)(at - p))) == NULL) {
		snprintf(err, errlen, "bad Redis URL: user name without "
		    "password (write user:password@)");
		return -1;
	}
	if (colon > p && (u->user = keyname_unredis(p, (size_t)(colon - p))) ==
	    NULL) {
		snprintf(err, errlen, "bad Redis URL: bad %%-escape in the "
		    "user name");
		return -1;
	}
	if (at > colon + 1 && (u->password = keyname_unredis(colon + 1,
	    (size_t)(at - colon - 1))) == NULL) {
		snprintf(err, errlen, "bad Redis URL: bad %%-escape in the "
		    "password");
		return -1;
	}
	if (u->user != NULL && u->password == NULL) {
		snprintf(err, errlen, "bad Redis URL: user name without "
		    "password");
		return -1;
	}
	*s = at + 1;
	return 0;
}

/* Parses the ":port" between p and end into *port; 0 or -1. */
static int
url_port(const char *p, const char *end, int *port, char *err, size_t errlen)
{
	const char *q;
	long v;

	if (*p == ':' && url_number(p + 1, (size_t)(end - p - 1), 1, 65535,
	    &v) == 0) {
		*port = (int)v;
		return 0;
	}
	/* Text there may be a password whose '@' is missing: echo only
	   digits. */
	q = p + (*p == ':');
	if (q < end && strspn(q, "0123456789") == (size_t)(end - q))
		snprintf(err, errlen, "bad Redis URL: bad port '%.*s' "
		    "(1-65535)", (int)(end - q), q);
	else
		snprintf(err, errlen, "bad Redis URL: the port is not a "
		    "number");
	return -1;
}

/* Parses the "host[:port]" of len bytes at s into *host (malloc'd) and
   *port (left alone without one); 0 or -1. */
static int
url_host(const char *s, size_t len, char **host, int *port, char *err,
    size_t errlen)
{
	const char *host_end, *p;

	if (*s == '[' && len > 0) {
		if ((host_end = memchr(s, ']', len)) == NULL) {
			snprintf(err, errlen, "bad Redis URL: unclosed '['");
			return -1;
		}
		*host = strndup(s + 1, (size_t)(host_end - s - 1));
		p = host_end + 1;
	} else {
		host_end = memchr(s, ':', len);
		if (host_end == NULL)
			host_end = s + len;
		*host = strndup(s, (size_t)(host_end - s));
		p = host_end;
	}
	if (*host == NULL || (*host)[0] == '\0') {
		snprintf(err, errlen, "bad Redis URL: missing host");
		return -1;
	}
	if (p < s + len && url_port(p, s + len, port, err, errlen) == -1)
		return -1;
	return 0;
}

/* Parses the "[/db]" at p (the end of the host part) into u; 0 or -1. */
static int
url_db(const char *p, struct redis_url *u, char *err, size_t errlen)
{
	long v;

	if (*p == '/' && p[1] != '\0') {
		if (url_number(p + 1, strlen(p + 1), 0, INT_MAX, &v) == -1) {
			snprintf(err, errlen, "bad Redis URL: bad database "
			    "number '%.40s'", p + 1);
			return -1;
		}
		u->db = (int)v;
	}
	return 0;
}

/* Writes "host:port" ("[host]:port" for IPv6) into buf. */
void
redis_url_display(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%.256s]:%d" :
	    "%.256s:%d", host, port);
}

static int	url_seeds(const char *, size_t, struct redis_url *, char *,
		    size_t);

/* Parses the host[:port][/db] part of a redis:// URL; 0 or -1. */
static int
url_tcp(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *auth_end;

	if (strpbrk(s, "?#") != NULL) {
		snprintf(err, errlen, "bad Redis URL: unexpected '?' or '#'");
		return -1;
	}
	/* The last '@': a password may hold '/' or '@', a db never does. */
	if (url_userinfo(&s, strrchr(s, '@'), u, err, errlen) == -1)
		return -1;
	auth_end = strchr(s, '/');
	if (auth_end == NULL)
		auth_end = s + strlen(s);
	if (memchr(s, ',', (size_t)(auth_end - s)) != NULL)
		return url_seeds(s, (size_t)(auth_end - s), u, err, errlen) ==
		    -1 ? -1 : url_db(auth_end, u, err, errlen);
	if (url_host(s, (size_t)(auth_end - s), &u->host, &u->port, err,
	    errlen) == -1 || url_db(auth_end, u, err, errlen) == -1)
		return -1;
	redis_url_display(u->display, sizeof(u->display), u->host, u->port);
	return 0;
}

/* Parses the [userinfo@]/path[?db=N] part of a unix:// URL; 0 or -1. */
static int
url_unix(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *q, *slash, *at, *last = NULL;
	long v;

	/* The last "@/": a password may hold one, a socket path should not. */
	for (at = s; (at = strstr(at, "@/")) != NULL; at++)
		last = at;
	if (*s != '/' && url_userinfo(&s, last, u, err, errlen) == -1)
		return -1;
	if ((slash = s)[0] != '/') {
		snprintf(err, errlen, "bad Redis URL: unix socket path must "
		    "be absolute (unix:///path)");
		return -1;
	}
	q = strchr(slash, '?');
	u->path = strndup(slash, q == NULL ? strlen(slash) :
	    (size_t)(q - slash));
	if (u->path == NULL || strcmp(u->path, "/") == 0) {
		snprintf(err, errlen, "bad Redis URL: missing socket path");
		return -1;
	}
	if (q != NULL) {
		if (strncmp(q, "?db=", 4) != 0 ||
		    url_number(q + 4, strlen(q + 4), 0, INT_MAX, &v) == -1) {
			snprintf(err, errlen, "bad Redis URL: bad query "
			    "'%.40s' (only ?db=N)", q);
			return -1;
		}
		u->db = (int)v;
	}
	snprintf(u->display, sizeof(u->display), "%s", u->path);
	return 0;
}

/* The query parameters, in the order of url_param_field(); the first
   URL_TLS_PARAMS are the TLS settings, the rest the Sentinel ones. */
static const char *const url_param_names[] = {
	"cacert", "cert", "key", "sni", "insecure",
	"master", "sentinel_user", "sentinel_password"
};
#define URL_INSECURE		4
#define URL_TLS_PARAMS		5
#define URL_NPARAMS		8
#define URL_TLS_MASK		0x1fu
#define URL_SENTINEL_MASK	0xe0u

/* The index in url_param_names of the name of len bytes, or -1. */
static int
url_param_index(const char *name, size_t len)
{
	int i;

	for (i = 0; i < URL_NPARAMS; i++)
		if (strlen(url_param_names[i]) == len &&
		    memcmp(url_param_names[i], name, len) == 0)
			return i;
	return -1;
}

/* The string field of u for index i (not URL_INSECURE). */
static char **
url_param_field(struct redis_url *u, int i)
{
	char **fields[] = { &u->tls.cacert, &u->tls.cert, &u->tls.key,
	    &u->tls.sni, NULL, &u->master, &u->sentinel_user,
	    &u->sentinel_password };

	return fields[i];
}

/* Writes "unknown query parameter 'NAME' (the allowed ones)" to err. */
static void
url_param_unknown(const char *p, size_t nlen, unsigned allowed, char *err,
    size_t errlen)
{
	char names[128] = "";
	int i;

	for (i = 0; i < URL_NPARAMS; i++)
		if (allowed & (1u << i))
			snprintf(names + strlen(names), sizeof(names) -
			    strlen(names), "%s%s", names[0] != '\0' ? ", " :
			    "", url_param_names[i]);
	snprintf(err, errlen, "bad Redis URL: unknown query parameter "
	    "'%.*s' (%s)", (int)(nlen < 40 ? nlen : 40), p, names);
}

/* Applies one "name=value" of len bytes of a query, taking only the
   parameters in allowed; 0 or -1. */
static int
url_param(const char *p, size_t len, struct redis_url *u, unsigned allowed,
    unsigned *seen, char *err, size_t errlen)
{
	const char *eq = memchr(p, '=', len);
	size_t nlen = eq != NULL ? (size_t)(eq - p) : len;
	size_t vlen = eq != NULL ? len - nlen - 1 : 0;
	int i = url_param_index(p, nlen);

	if (nlen == 0) {
		snprintf(err, errlen, "bad Redis URL: empty query parameter");
		return -1;
	}
	if (i == -1) {
		url_param_unknown(p, nlen, allowed, err, errlen);
		return -1;
	}
	if (!(allowed & (1u << i))) {
		snprintf(err, errlen, "bad Redis URL: query parameter '%s' "
		    "needs %s", url_param_names[i], i < URL_TLS_PARAMS ?
		    "TLS (rediss-sentinel://)" : "a Sentinel URL "
		    "(redis-sentinel://)");
		return -1;
	}
	if (*seen & (1u << i) || vlen == 0) {
		snprintf(err, errlen, "bad Redis URL: query parameter '%s' %s",
		    url_param_names[i], *seen & (1u << i) ? "given twice" :
		    "without a value");
		return -1;
	}
	*seen |= 1u << i;
	if (i == URL_INSECURE) {
		if (vlen != 1 || (eq[1] != '0' && eq[1] != '1')) {
			snprintf(err, errlen, "bad Redis URL: insecure must "
			    "be 0 or 1");
			return -1;
		}
		u->tls.insecure = eq[1] == '1';
	} else if ((*url_param_field(u, i) = keyname_unredis(eq + 1, vlen)) ==
	    NULL) {
		snprintf(err, errlen, "bad Redis URL: bad %%-escape in query "
		    "parameter '%s'", url_param_names[i]);
		return -1;
	}
	return 0;
}

/* Parses a query, after its '?', taking the parameters in allowed; 0 or
   -1. */
static int
url_query(const char *q, struct redis_url *u, unsigned allowed, char *err,
    size_t errlen)
{
	const char *amp;
	unsigned seen = 0;

	for (;;) {
		amp = strchr(q, '&');
		if (url_param(q, amp != NULL ? (size_t)(amp - q) : strlen(q),
		    u, allowed, &seen, err, errlen) == -1)
			return -1;
		if (amp == NULL)
			return 0;
		q = amp + 1;
	}
}

/* Parses the part of a rediss:// URL after the scheme; 0 or -1. */
static int
url_tls(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *q = strchr(s, '?');
	char *head;
	int rc;

	u->is_tls = 1;
	if (strchr(s, '#') != NULL) {
		snprintf(err, errlen, "bad Redis URL: unexpected '#'");
		return -1;
	}
	if (q == NULL)
		return url_tcp(s, u, err, errlen);
	if ((head = strndup(s, (size_t)(q - s))) == NULL) {
		snprintf(err, errlen, "bad Redis URL: out of memory");
		return -1;
	}
	rc = url_tcp(head, u, err, errlen);
	free(head);
	if (rc == 0)
		rc = url_query(q + 1, u, URL_TLS_MASK, err, errlen);
	return rc;
}

/* Parses the comma-separated list of len bytes at s, each host[:port]
   (port defaulting to port), into *list and *n (REDIS_URL_SENTINELS at
   most; what names them in the message); 0 or -1. */
static int
url_host_list(const char *s, size_t len, struct redis_hostport **list,
    int *n, int port, const char *what, char *err, size_t errlen)
{
	const char *end = s + len, *comma;
	struct redis_hostport *h;

	if ((*list = calloc(REDIS_URL_SENTINELS, sizeof(**list))) == NULL) {
		snprintf(err, errlen, "bad Redis URL: out of memory");
		return -1;
	}
	for (;;) {
		if (*n == REDIS_URL_SENTINELS) {
			snprintf(err, errlen, "bad Redis URL: more than %d "
			    "%s", REDIS_URL_SENTINELS, what);
			return -1;
		}
		if ((comma = memchr(s, ',', (size_t)(end - s))) == NULL)
			comma = end;
		h = &(*list)[(*n)++];
		h->port = port;
		if (url_host(s, (size_t)(comma - s), &h->host, &h->port, err,
		    errlen) == -1)
			return -1;
		if (comma == end)
			return 0;
		s = comma + 1;
	}
}

/* Parses the seed list "host[:port],host[:port]..." of len bytes at s
   into u: the first seed is u->host and u->port, and display names them
   all (cut to its size); 0 or -1. */
static int
url_seeds(const char *s, size_t len, struct redis_url *u, char *err,
    size_t errlen)
{
	size_t n;
	int i;

	if (url_host_list(s, len, &u->seeds, &u->nseeds,
	    REDIS_URL_DEFAULT_PORT, "seeds", err, errlen) == -1)
		return -1;
	if ((u->host = strdup(u->seeds[0].host)) == NULL) {
		snprintf(err, errlen, "bad Redis URL: out of memory");
		return -1;
	}
	u->port = u->seeds[0].port;
	for (i = 0; i < u->nseeds; i++) {
		n = strlen(u->display);
		if (i > 0 && n + 1 < sizeof(u->display))
			u->display[n++] = ',';
		redis_url_display(u->display + n, sizeof(u->display) - n,
		    u->seeds[i].host, u->seeds[i].port);
	}
	return 0;
}

/* Parses the part of a redis-sentinel:// URL after the scheme; 0 or -1. */
static int
url_sentinel(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	const char *q = strchr(s, '?'), *p, *slash;
	char *head;
	int rc;

	if (strchr(s, '#') != NULL) {
		snprintf(err, errlen, "bad Redis URL: unexpected '#'");
		return -1;
	}
	if (q == NULL) {
		snprintf(err, errlen, "bad Redis URL: a Sentinel URL needs "
		    "?master=NAME");
		return -1;
	}
	if ((head = strndup(s, (size_t)(q - s))) == NULL) {
		snprintf(err, errlen, "bad Redis URL: out of memory");
		return -1;
	}
	p = head;
	if ((rc = url_userinfo(&p, strrchr(p, '@'), u, err, errlen)) == 0) {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		rc = url_host_list(p, (size_t)(slash - p), &u->sentinels,
		    &u->nsentinels, REDIS_URL_SENTINEL_PORT, "sentinels", err,
		    errlen);
		if (rc == 0)
			rc = url_db(slash, u, err, errlen);
	}
	free(head);
	if (rc == 0)
		rc = url_query(q + 1, u, URL_SENTINEL_MASK |
		    (u->is_tls ? URL_TLS_MASK : 0), err, errlen);
	if (rc == 0 && u->master == NULL) {
		snprintf(err, errlen, "bad Redis URL: a Sentinel URL needs "
		    "?master=NAME");
		rc = -1;
	}
	if (rc == 0 && u->sentinel_user != NULL &&
	    u->sentinel_password == NULL) {
		snprintf(err, errlen, "bad Redis URL: sentinel_user without "
		    "sentinel_password");
		rc = -1;
	}
	if (rc == 0)
		snprintf(u->display, sizeof(u->display), "master %.200s",
		    u->master);
	return rc;
}

/* Parses s into u; 0, or -1 with a one-line reason in err. */
int
redis_url_parse(const char *s, struct redis_url *u, char *err, size_t errlen)
{
	char *p;
	int rc;

	memset(u, 0, sizeof(*u));
	u->port = REDIS_URL_DEFAULT_PORT;
	if (strncmp(s, "redis://", 8) == 0)
		rc = url_tcp(s + 8, u, err, errlen);
	else if (strncmp(s, "rediss://", 9) == 0)
		rc = url_tls(s + 9, u, err, errlen);
	else if (strncmp(s, "unix://", 7) == 0) {
		u->is_unix = 1;
		rc = url_unix(s + 7, u, err, errlen);
	} else if (strncmp(s, "redis+unix://", 13) == 0) {
		u->is_unix = 1;
		rc = url_unix(s + 13, u, err, errlen);
	} else if (strncmp(s, "redis-sentinel://", 17) == 0)
		rc = url_sentinel(s + 17, u, err, errlen);
	else if (strncmp(s, "rediss-sentinel://", 18) == 0) {
		u->is_tls = 1;
		rc = url_sentinel(s + 18, u, err, errlen);
	} else {
		snprintf(err, errlen, "bad Redis URL: expected redis:// or "
		    "unix:// (rediss:// for TLS, redis-sentinel:// for "
		    "Sentinel)");
		rc = -1;
	}
	if (rc == -1) {
		redis_url_free(u);
		/* The reason quotes the URL: keep it one printable line. */
		for (p = err; errlen > 0 && *p != '\0'; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				*p = '?';
	}
	return rc;
}

/* Frees what redis_url_parse() allocated in u. */
void
redis_url_free(struct redis_url *u)
{
	free(u->host);
	free(u->user);
	if (u->password != NULL) {
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	free(u->path);
	u->host = u->user = u->password = u->path = NULL;
	free(u->tls.cacert);
	free(u->tls.cert);
	free(u->tls.key);
	free(u->tls.sni);
	memset(&u->tls, 0, sizeof(u->tls));
	while (u->seeds != NULL && u->nseeds > 0)
		free(u->seeds[--u->nseeds].host);
	free(u->seeds);
	u->seeds = NULL;
	while (u->sentinels != NULL && u->nsentinels > 0)
		free(u->sentinels[--u->nsentinels].host);
	free(u->sentinels);
	u->sentinels = NULL;
	u->nsentinels = 0;
	free(u->master);
	free(u->sentinel_user);
	if (u->sentinel_password != NULL) {
		explicit_bzero(u->sentinel_password,
		    strlen(u->sentinel_password));
		free(u->sentinel_password);
	}
	u->master = u->sentinel_user = u->sentinel_password = NULL;
}
