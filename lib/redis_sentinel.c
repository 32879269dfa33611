/*
 * redis_sentinel: finding the master of a Sentinel URL, on every connect.
 *
 * Following the Sentinel client guidelines: the sentinels are asked in
 * the order given with SENTINEL get-master-addr-by-name, the first
 * address one gives wins, and the master is used only once ROLE says it
 * is one.  Asking again on every connect is what makes a failover
 * cheap: a connection the old master dropped (sentinels kill the
 * clients of a reconfigured server), refused, or answered READONLY on
 * is closed by its owner, and the next connect finds the new master.
 *
 * Invariants:
 * - no lookup waits on DNS after the first connect: that one resolves
 *   every sentinel (a name that fails to resolve is an unreachable
 *   sentinel from then on), and masters must be announced as IP
 *   addresses, which need no resolver;
 * - an unreachable sentinel costs at most the budget the caller's
 *   deadline left when the connect began, and so does the master;
 * - a sentinel that answers but knows no master of that name is not an
 *   outage: when none knows it, the connect fails at once, naming it;
 * - messages name sentinels by address and the master by name and
 *   address, never a password.
 */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "redis_conn.h"
#include "redis_url.h"

#define SENTINEL_RETRY	100	/* ms between lookups of a master that
				   is not reachable, or not master yet */

/* Why a lookup found no master. */
enum sentinel_miss {
	SENTINEL_FOUND,
	SENTINEL_UNKNOWN,	/* every sentinel that answered knows no
				   master of that name */
	SENTINEL_DOWN,		/* no sentinel answered */
};

/* Fills su with sentinel i of conf: its address, the sentinels'
   credentials, conf's TLS settings; su borrows from conf. */
static void
sentinel_url(const struct redis_url *conf, int i, struct redis_url *su)
{
	const struct redis_hostport *h = &conf->sentinels[i];

	*su = *conf;
	su->host = h->host;
	su->port = h->port;
	su->user = conf->sentinel_user;
	su->password = conf->sentinel_password;
	su->db = 0;
	su->sentinels = NULL;
	su->nsentinels = 0;
	snprintf(su->display, sizeof(su->display), strchr(h->host, ':') !=
	    NULL ? "sentinel [%.256s]:%d" : "sentinel %.256s:%d", h->host,
	    h->port);
}

/* Allocates addr's sentinel state and resolves every sentinel, once;
   0, or -1 with c->err. */
static int
sentinel_setup(struct redis_conn *c)
{
	struct redis_addr *a = c->addr;
	struct redis_conn sc;
	struct redis_url su;
	int i;

	if (a->sentinels != NULL)
		return 0;
	if ((a->master = calloc(1, sizeof(*a->master))) == NULL ||
	    (a->sentinels = calloc((size_t)c->conf->nsentinels,
	    sizeof(*a->sentinels))) == NULL) {
		free(a->master);
		a->master = NULL;
		return redis_conn_seterr(c, "out of memory");
	}
	a->nsentinels = c->conf->nsentinels;
	for (i = 0; i < c->conf->nsentinels; i++) {
		sentinel_url(c->conf, i, &su);
		redis_conn_init(&sc, &su, &a->sentinels[i]);
		(void)redis_sock_resolve(&sc);	/* n == 0: unreachable */
	}
	return 0;
}

/* What a sentinel said the master's address is. */
struct sentinel_answer {
	char	host[64];
	char	port[8];
};

/* Points addr's master at a (an IP address and port) for conf; 0, or
   -1 with c->err. */
static int
sentinel_set_master(struct redis_conn *c, const struct sentinel_answer *a)
{
	struct addrinfo hints, *res = NULL;
	struct redis_addr *addr = c->addr;
	struct redis_url *m = addr->master;
	char *h;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(a->host, a->port, &hints, &res) != 0 ||
	    res->ai_addrlen > sizeof(addr->sa[0])) {
		if (res != NULL)
			freeaddrinfo(res);
		snprintf(c->err, sizeof(c->err), "redis sentinels of master "
		    "'%.100s': its address '%s' port '%s' is not an IP "
		    "address and port (sentinels announcing host names are "
		    "not supported)", c->conf->master, a->host, a->port);
		return -1;
	}
	if ((h = strdup(a->host)) == NULL) {
		freeaddrinfo(res);
		return redis_conn_seterr(c, "out of memory");
	}
	memcpy(&addr->sa[0], res->ai_addr, res->ai_addrlen);
	addr->len[0] = res->ai_addrlen;
	addr->n = 1;
	freeaddrinfo(res);
	free(m->host);
	*m = *c->conf;
	m->host = h;
	m->port = atoi(a->port);
	m->sentinels = NULL;
	m->nsentinels = 0;
	snprintf(m->display, sizeof(m->display), strchr(h, ':') != NULL ?
	    "master %.100s at [%s]:%d" : "master %.100s at %s:%d",
	    c->conf->master, h, m->port);
	return 0;
}

/* The deadline of a step that may take budget ms from now. */
static int64_t
sentinel_by(int64_t budget)
{
	return budget == CLOCK_FOREVER ? CLOCK_FOREVER : clock_mono_ms() +
	    budget;
}

/* Fills a from a get-master-addr-by-name reply; 1, 0 for none, -1 for
   anything else (why says so). */
static int
sentinel_answer(const redisReply *r, const char *who,
    struct sentinel_answer *a, char *why, size_t whylen)
{
	if (r->type == REDIS_REPLY_NIL || (r->type == REDIS_REPLY_ARRAY &&
	    r->elements == 0))
		return 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    r->element[0]->len < sizeof(a->host) &&
	    r->element[1]->len < sizeof(a->port)) {
		memcpy(a->host, r->element[0]->str, r->element[0]->len + 1);
		memcpy(a->port, r->element[1]->str, r->element[1]->len + 1);
		return 1;
	}
	snprintf(why, whylen, "%.100s: %.200s", who, r->type ==
	    REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	return -1;
}

/* Asks sentinel i for the master; 1 found (a filled), 0 it knows no
   such master, -1 it did not answer (why says so). */
static int
sentinel_ask(struct redis_conn *c, int i, int64_t deadline,
    struct sentinel_answer *a, char *why, size_t whylen)
{
	const char *argv[3] = { "SENTINEL", "get-master-addr-by-name",
	    c->conf->master };
	struct redis_conn sc;
	struct redis_url su;
	redisReply *r;
	int rc;

	sentinel_url(c->conf, i, &su);
	redis_conn_init(&sc, &su, &c->addr->sentinels[i]);
	if (c->addr->sentinels[i].n == 0) {
		snprintf(why, whylen, "%.100s: its name did not resolve",
		    su.display);
		return -1;
	}
	if (redis_conn_open(&sc, deadline) == -1 ||
	    (r = redis_conn_command(&sc, 3, argv, NULL, deadline)) == NULL) {
		snprintf(why, whylen, "%.300s", sc.err +
		    (strncmp(sc.err, "redis ", 6) == 0 ? 6 : 0));
		redis_conn_close(&sc);
		return -1;
	}
	redis_conn_close(&sc);
	rc = sentinel_answer(r, su.display, a, why, whylen);
	freeReplyObject(r);
	return rc;
}

/* Asks the sentinels in order until one names the master (into a);
   each gets budget ms, and none goes past end.  c->err says why when
   none did. */
static enum sentinel_miss
sentinel_lookup(struct redis_conn *c, int64_t budget, int64_t end,
    struct sentinel_answer *a)
{
	char why[400] = "";
	int64_t by;
	int i, unknown = 0;

	for (i = 0; i < c->conf->nsentinels; i++) {
		by = sentinel_by(budget);
		switch (sentinel_ask(c, i, by < end ? by : end, a, why,
		    sizeof(why))) {
		case 1:
			return SENTINEL_FOUND;
		case 0:
			unknown++;
			break;
		}
	}
	if (unknown > 0) {
		snprintf(c->err, sizeof(c->err), "redis sentinels know no "
		    "master named '%.100s' (%d of %d asked)", c->conf->master,
		    unknown, c->conf->nsentinels);
		return SENTINEL_UNKNOWN;
	}
	snprintf(c->err, sizeof(c->err), "redis sentinels of master "
	    "'%.100s': none answered (last: %s)", c->conf->master, why);
	return SENTINEL_DOWN;
}

/* Checks with ROLE that c is connected to a master; 0, or -1 with
   c->err (and c closed). */
static int
sentinel_role(struct redis_conn *c, int64_t deadline)
{
	const char *argv[1] = { "ROLE" };
	redisReply *r;
	int ok;

	if ((r = redis_conn_command(c, 1, argv, NULL, deadline)) == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") == 0;
	if (!ok)
		redis_conn_seterr(c, "not the master (ROLE: %.40s)",
		    r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		    r->element[0]->type == REDIS_REPLY_STRING ?
		    r->element[0]->str : r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected reply");
	freeReplyObject(r);
	if (!ok)
		redis_conn_close(c);
	return ok ? 0 : -1;
}

/* Connects c to the master of its Sentinel URL; 0, or -1 with c->err. */
int
redis_sentinel_connect(struct redis_conn *c, int64_t deadline)
{
	struct sentinel_answer a;
	int64_t now = clock_mono_ms(), budget, by;

	redis_conn_close(c);
	c->err[0] = '\0';
	budget = deadline == CLOCK_FOREVER ? CLOCK_FOREVER : deadline - now;
	if (budget < 1)
		budget = 1;
	if (sentinel_setup(c) == -1)
		return -1;
	for (;;) {
		c->url = c->conf;
		if (sentinel_lookup(c, budget, CLOCK_FOREVER, &a) !=
		    SENTINEL_FOUND || sentinel_set_master(c, &a) == -1)
			return -1;
		c->url = c->addr->master;
		by = sentinel_by(budget);
		if (redis_conn_open(c, by) == 0 && sentinel_role(c, by) == 0)
			return 0;
		if (c->refused)
			return -1;	/* the master wants other credentials */
		/* A failover under way: the sentinels point at a server
		   that is gone, or not promoted yet.  Later lookups keep
		   to the deadline. */
		now = clock_mono_ms();
		if (now + SENTINEL_RETRY >= deadline)
			return -1;
		clock_sleep_until(now + SENTINEL_RETRY);
		budget = deadline - clock_mono_ms();
	}
}

/* Nonzero if c's socket is connected to the address in a (the shared
   addr may name a newer master than the one c reached). */
static int
sentinel_is_peer(const struct redis_conn *c, const struct sentinel_answer *a)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int same;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == -1 ||
	    getaddrinfo(a->host, a->port, &hints, &res) != 0)
		return 1;	/* cannot tell: keep the connection */
	same = res->ai_addrlen == len && memcmp(res->ai_addr, &ss, len) == 0;
	freeaddrinfo(res);
	return same;
}

/* Nonzero if the sentinels now name another master than the one c is
   connected to (asking them by deadline). */
int
redis_sentinel_moved(struct redis_conn *c, int64_t deadline)
{
	struct sentinel_answer a;
	char err[sizeof(c->err)];
	int moved;

	if (c->conf->nsentinels == 0 || !redis_conn_alive(c) ||
	    c->url == c->conf || c->addr->sentinels == NULL)
		return 0;
	memcpy(err, c->err, sizeof(err));
	moved = sentinel_lookup(c, deadline - clock_mono_ms(), deadline, &a) ==
	    SENTINEL_FOUND && !sentinel_is_peer(c, &a);
	memcpy(c->err, err, sizeof(err));
	return moved;
}

/* Frees the sentinel state of addr. */
void
redis_sentinel_free(struct redis_addr *addr)
{
	int i;

	for (i = 0; addr->sentinels != NULL && i < addr->nsentinels; i++)
		redis_addr_free(&addr->sentinels[i]);
	addr->nsentinels = 0;
	if (addr->master != NULL)
		free(addr->master->host);
	free(addr->master);
	addr->master = NULL;
	free(addr->sentinels);
	addr->sentinels = NULL;
}
