/*
 * redis_route: servers, seeds and cluster redirects (redis_route.h).
 *
 * Invariants: a connection is only ever retargeted while closed; a node
 * is never freed before the route, so a connection's url and addr stay
 * valid (also in a forked heartbeat, which copies what it uses); every
 * step keeps the caller's deadline; a redirect is followed at most
 * ROUTE_HOPS times per command, and the last one is returned as the
 * error it is; a TRYAGAIN (a slot half migrated) is tried again on the
 * same node every ROUTE_TRYAGAIN_MS until the deadline.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redis_err.h"
#include "redis_route.h"
#include "redis_slot.h"

#define ROUTE_HOPS	5
#define ROUTE_TRYAGAIN_MS 50	/* between tries while a slot migrates */
#define ROUTE_NODES	1024	/* a cluster has at most ~1000 nodes */

void
redis_route_init(struct redis_route *rt, const struct redis_url *url,
    struct redis_addr *addr)
{
	memset(rt, 0, sizeof(*rt));
	rt->url = url;
	rt->addr = addr;
	rt->cluster = url->is_unix ? 0 : -1;
	rt->cur = -1;
}

void
redis_route_free(struct redis_route *rt)
{
	int i;

	for (i = 0; i < rt->nnodes; i++) {
		redis_addr_free(&rt->node[i]->addr);
		free(rt->node[i]->url.host);
		free(rt->node[i]);
	}
	free(rt->node);
	free(rt->slots);
	rt->node = NULL;
	rt->slots = NULL;
	rt->nnodes = 0;
	rt->cur = -1;
}

void
redis_route_here(const struct redis_route *rt, const struct redis_url **url,
    struct redis_addr **addr)
{
	if (rt->cur >= 0) {
		*url = &rt->node[rt->cur]->url;
		*addr = &rt->node[rt->cur]->addr;
	} else {
		*url = rt->url;
		*addr = rt->addr;
	}
}

/* A new node at host:port with the URL's credentials and TLS settings
   (shared with the URL, never freed here); NULL when out of memory. */
static struct redis_node *
route_node_new(const struct redis_route *rt, const char *host, int port)
{
	const struct redis_url *u = rt->url;
	struct redis_node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	if ((n->url.host = strdup(host)) == NULL) {
		free(n);
		return NULL;
	}
	n->url.port = port;
	n->url.is_tls = u->is_tls;
	n->url.tls = u->tls;
	n->url.user = u->user;
	n->url.password = u->password;
	n->url.db = u->db;
	redis_url_display(n->url.display, sizeof(n->url.display), host, port);
	return n;
}

/* The index of the node at host:port, added if new; or -1 with the
   reason in c->err. */
static int
route_node(struct redis_route *rt, struct redis_conn *c, const char *host,
    int port)
{
	struct redis_node **p;
	int i;

	for (i = 0; i < rt->nnodes; i++)
		if (rt->node[i]->url.port == port &&
		    strcmp(rt->node[i]->url.host, host) == 0)
			return i;
	if (rt->nnodes == ROUTE_NODES)
		return redis_conn_seterr(c, "more than %d cluster nodes",
		    ROUTE_NODES);
	if ((p = realloc(rt->node, (rt->nnodes + 1) * sizeof(*p))) == NULL)
		return redis_conn_seterr(c, "out of memory");
	rt->node = p;
	if ((p[rt->nnodes] = route_node_new(rt, host, port)) == NULL)
		return redis_conn_seterr(c, "out of memory");
	return rt->nnodes++;
}

/* Closes c and points it at url and addr. */
static void
route_retarget(struct redis_conn *c, const struct redis_url *url,
    struct redis_addr *addr)
{
	redis_conn_close(c);
	c->url = url;
	c->addr = addr;
}

/* Connects c to what it points at; asks whether it is a cluster node
   while nobody knows. */
static int
route_dial(struct redis_route *rt, struct redis_conn *c, int64_t deadline)
{
	c->ask_cluster = rt->cluster < 0;
	c->cluster = -1;
	return redis_conn_connect(c, deadline);
}

/* Half of the time left until deadline, from now. */
static int64_t
route_half(int64_t deadline)
{
	int64_t now = clock_mono_ms();

	return deadline <= now ? deadline : now + (deadline - now) / 2;
}

/* Points c at node i and connects; 0 or -1. */
static int
route_to(struct redis_route *rt, struct redis_conn *c, int i,
    int64_t deadline)
{
	route_retarget(c, &rt->node[i]->url, &rt->node[i]->addr);
	return route_dial(rt, c, deadline);
}

/* Connects c to the first seed that answers, each given an equal share
   of the time left, and sends commands there; 0, or -1 with c->err. */
static int
route_seeds(struct redis_route *rt, struct redis_conn *c, int64_t deadline)
{
	const struct redis_url *u = rt->url;
	char last[sizeof(c->err)];
	int64_t now;
	int i, n;

	for (i = 0; i < u->nseeds; i++) {
		if ((n = route_node(rt, c, u->seeds[i].host,
		    u->seeds[i].port)) == -1)
			return -1;
		now = clock_mono_ms();
		if (route_to(rt, c, n, deadline <= now ? deadline :
		    now + (deadline - now) / (u->nseeds - i)) == 0) {
			rt->cur = n;
			return 0;
		}
	}
	memcpy(last, c->err, sizeof(last));
	snprintf(c->err, sizeof(c->err), "redis %.150s: no seed answered "
	    "(last: %.380s)", u->display, last);
	return -1;
}

int
redis_route_connect(struct redis_route *rt, struct redis_conn *c,
    int64_t deadline)
{
	const struct redis_url *url;
	struct redis_addr *addr;

	redis_route_here(rt, &url, &addr);
	if (c->url == url && redis_conn_idle_ok(c))
		return 0;
	if (rt->cur < 0 && rt->url->nseeds > 1)
		return route_seeds(rt, c, deadline);
	route_retarget(c, url, addr);
	if (rt->cur < 0)
		return route_dial(rt, c, deadline);
	if (route_dial(rt, c, route_half(deadline)) == 0)
		return 0;
	/* The node is gone (a failover?): the URL's servers know where
	   its slots went. */
	rt->cur = -1;
	if (rt->url->nseeds > 1)
		return route_seeds(rt, c, deadline);
	route_retarget(c, rt->url, rt->addr);
	return route_dial(rt, c, deadline);
}

/* Keeps what c's handshake learnt about the server. */
static void
route_note(struct redis_route *rt, const struct redis_conn *c)
{
	if (rt->cluster < 0 && c->cluster >= 0)
		rt->cluster = c->cluster;
}

/* Sends ASKING (with the script loaded first: an EVALSHA answered by
   NOSCRIPT would lose the ASKING before its EVAL); 0, or -1 dead. */
static int
route_asking(struct redis_conn *c, const struct redis_call *q,
    int64_t deadline)
{
	const char *load[3] = { "SCRIPT", "LOAD", NULL };
	const char *asking[1] = { "ASKING" };
	redisReply *r;

	if (q->script != NULL) {
		load[2] = q->script->src;
		if ((r = redis_conn_command(c, 3, load, NULL, deadline)) ==
		    NULL)
			return -1;
		freeReplyObject(r);
	}
	if ((r = redis_conn_command(c, 1, asking, NULL, deadline)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* Sends q on c and reads its reply; or NULL (dead). */
static redisReply *
route_send(struct redis_conn *c, const struct redis_call *q, int asking,
    int64_t deadline)
{
	if (asking && route_asking(c, q, deadline) == -1)
		return NULL;
	if (q->script != NULL)
		return redis_conn_eval(c, q->script, q->nkeys, q->argc,
		    q->argv, q->argvlen, deadline);
	return redis_conn_command(c, q->argc, q->argv, q->argvlen, deadline);
}

/* Nonzero if r is TRYAGAIN (a slot half migrated: some of the keys are
   on each side) and, after a pause, there is time left to try again. */
static int
route_tryagain(const redisReply *r, int64_t deadline)
{
	int64_t until = clock_mono_ms() + ROUTE_TRYAGAIN_MS;

	if (strncmp(r->str, "TRYAGAIN", 8) != 0 || until >= deadline)
		return 0;
	/* Nothing announces the end of a migration: the pause is all. */
	clock_sleep_until(until);
	return 1;
}

redisReply *
redis_route_call(struct redis_route *rt, struct redis_conn *c,
    const struct redis_call *q, int64_t deadline)
{
	struct redis_redirect rd;
	redisReply *r;
	int hops = 0, i, asking = 0;
	char host[sizeof(rd.host)];

	for (;;) {
		r = route_send(c, q, asking, deadline);
		route_note(rt, c);
		if (r == NULL || r->type != REDIS_REPLY_ERROR)
			return r;
		if (route_tryagain(r, deadline)) {
			/* The same node, ASKING again if it was asked. */
			freeReplyObject(r);
			continue;
		}
		if (hops++ == ROUTE_HOPS ||
		    redis_redirect_parse(r->str, &rd) == REDIS_REDIRECT_NONE)
			return r;
		freeReplyObject(r);
		/* No host: the node that sent us there. */
		snprintf(host, sizeof(host), "%s", rd.host[0] != '\0' ?
		    rd.host : c->url->host != NULL ? c->url->host : "");
		if ((i = route_node(rt, c, host, rd.port)) == -1)
			return NULL;
		if (rd.kind == REDIS_REDIRECT_MOVED) {
			rt->cur = i;
			if (rt->slots != NULL)
				rt->slots[rd.slot] = (uint16_t)(i + 1);
		}
		if (route_to(rt, c, i, deadline) == -1)
			return NULL;
		asking = rd.kind == REDIS_REDIRECT_ASK;
	}
}

int
redis_route_learn(struct redis_route *rt, struct redis_conn *c,
    int64_t deadline)
{
	const char *argv[2] = { "CLUSTER", "MYID" };
	redisReply *r;

	if (rt->cluster >= 0)
		return 0;
	if ((r = redis_conn_command(c, 2, argv, NULL, deadline)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR && redis_err_unready(r->str)) {
		/* Not ready to say yet: ask again at the next connect. */
		redis_conn_seterr(c, "CLUSTER MYID: %.200s", r->str);
		freeReplyObject(r);
		redis_conn_close(c);
		return -1;
	}
	rt->cluster = r->type == REDIS_REPLY_STRING;
	freeReplyObject(r);
	return 0;
}

void
redis_route_pin(struct redis_route *rt, int i)
{
	rt->cur = i;
}

/* Enters one CLUSTER SLOTS entry, {first, last, {host, port, ...},
   replicas...}, into the map; 0, or -1 with c->err. */
static int
route_slot_range(struct redis_route *rt, struct redis_conn *c,
    const redisReply *e)
{
	const redisReply *m;
	const char *host;
	long long lo, hi, s;
	int i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER ||
	    (m = e->element[2])->type != REDIS_REPLY_ARRAY ||
	    m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
	    m->element[1]->type != REDIS_REPLY_INTEGER ||
	    m->element[1]->integer < 1 || m->element[1]->integer > 65535)
		return redis_conn_seterr(c, "CLUSTER SLOTS: unexpected reply");
	lo = e->element[0]->integer;
	hi = e->element[1]->integer;
	if (lo < 0 || hi >= REDIS_SLOTS || lo > hi)
		return redis_conn_seterr(c, "CLUSTER SLOTS: bad slot range");
	/* "" or "?": a node that does not know its address, this one's. */
	host = m->element[0]->str;
	if (host[0] == '\0' || strcmp(host, "?") == 0)
		host = c->url->host != NULL ? c->url->host : "";
	if ((i = route_node(rt, c, host, (int)m->element[1]->integer)) == -1)
		return -1;
	rt->node[i]->master = 1;
	for (s = lo; s <= hi; s++)
		rt->slots[s] = (uint16_t)(i + 1);
	return 0;
}

int
redis_route_slots(struct redis_route *rt, struct redis_conn *c,
    int64_t deadline)
{
	const char *argv[2] = { "CLUSTER", "SLOTS" };
	redisReply *r;
	size_t j;
	int i, rc = 0;

	if ((r = redis_conn_command(c, 2, argv, NULL, deadline)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		rc = redis_conn_seterr(c, "CLUSTER SLOTS: %.200s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		goto out;
	}
	if (rt->slots == NULL &&
	    (rt->slots = calloc(REDIS_SLOTS, sizeof(*rt->slots))) == NULL) {
		rc = redis_conn_seterr(c, "out of memory");
		goto out;
	}
	memset(rt->slots, 0, REDIS_SLOTS * sizeof(*rt->slots));
	for (i = 0; i < rt->nnodes; i++)
		rt->node[i]->master = 0;
	for (j = 0; j < r->elements && rc == 0; j++)
		rc = route_slot_range(rt, c, r->element[j]);
out:
	freeReplyObject(r);
	return rc;
}
