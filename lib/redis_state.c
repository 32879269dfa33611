/*
 * redis_state: who holds a Redis key and who waits for it, for status,
 * list and the by-token calls.  One read-only script: it never takes a
 * lock, joins a queue or drops an expired entry, it only leaves out the
 * entries whose lease ran out by the server's clock.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "redis_int.h"

/* KEYS: rd_keys_argv().  ARGV: 1 to list the waiters, 0 to count them.
   {0, {holder, PTTL, ...}, {waiter, ...}, waiters, cooldown or false};
   {-1, protocol}: refused. */
static struct redis_script rd_state_script = {
	RD_LUA_KEYS
	RD_LUA_PUB
	"local bad = redis.call('GET', KV)\n"
	"if bad and bad ~= '" RD_STR(RD_PROTO) "' then return {-1, bad} end\n"
	RD_LUA_NOW
	RD_LUA_QUEUE
	"local hs, ws, nw = {}, {}, 0\n"
	"local lv = redis.call('GET', KL)\n"
	"if lv then hs[1], hs[2] = lv, redis.call('PTTL', KL) end\n"
	"local d = redis.call('ZRANGEBYSCORE', KHD, '(' .. now, '+inf',"
	" 'WITHSCORES')\n"
	"for i = 1, #d, 2 do\n"
	"  local v = redis.call('HGET', KH, d[i])\n"
	"  if v then\n"
	"    hs[#hs + 1] = rec_of(v) or ''\n"
	"    hs[#hs + 1] = tonumber(d[i + 1]) - now\n"
	"  end\n"
	"end\n"
	"for _, t in ipairs(redis.call('ZRANGE', KQ, 0, -1)) do\n"
	"  local dl = redis.call('ZSCORE', KQD, t)\n"
	"  if dl and tonumber(dl) > now then\n"
	"    nw = nw + 1\n"
	"    if ARGV[1] == '1' then\n"
	"      ws[nw] = rec_of(redis.call('HGET', KQR, t) or '') or ''\n"
	"    end\n"
	"  end\n"
	"end\n"
	"return {0, hs, ws, nw, redis.call('GET', KC) or false}\n", ""
};

/* Orders holders by since, oldest first. */
static int
rd_older(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	return x->since_ms < y->since_ms ? -1 : x->since_ms > y->since_ms;
}

/* Fills *out with the n records of a (each followed by its PTTL when
   pttl is set); 0, or -1 when out of memory. */
static int
rd_holders(const redisReply *a, int pttl, struct holder **out, size_t *n)
{
	size_t i, step = pttl ? 2 : 1;

	*out = NULL;
	*n = a->elements / step;
	if (*n == 0)
		return 0;
	if ((*out = calloc(*n, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < *n; i++)
		rd_holder(a->element[i * step], pttl &&
		    a->element[i * step + 1]->type == REDIS_REPLY_INTEGER ?
		    a->element[i * step + 1]->integer : -1, &(*out)[i]);
	if (pttl)
		qsort(*out, *n, sizeof(**out), rd_older);
	return 0;
}

/* Reads a reply of the state script into st; 0 or -1. */
static int
rd_state_reply(struct lock_redis *lr, const redisReply *r,
    struct lock_state *st, int waiters)
{
	const redisReply *c;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 5 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[2]->type != REDIS_REPLY_ARRAY ||
	    r->element[3]->type != REDIS_REPLY_INTEGER)
		return lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: "
		    "unexpected reply", lr->url.display);
	if (rd_holders(r->element[1], 1, &st->holders, &st->nholders) == -1 ||
	    (waiters && rd_holders(r->element[2], 0, &st->waiters,
	    &st->nwaiters) == -1)) {
		lock_state_free(st);
		return lock_seterr(&lr->base, LOCK_EINTERNAL, "out of memory");
	}
	/* The queue order, not the age order, for waiters. */
	st->nwaiters = (size_t)r->element[3]->integer;
	c = r->element[4];
	if (c->type == REDIS_REPLY_STRING && lock_cooldown_parse(c->str,
	    c->len, &st->cooldown) == -1)
		memset(&st->cooldown, 0, sizeof(st->cooldown));
	return 0;
}

int
rd_state(struct lock_redis *lr, const struct rd_keys *k,
    struct lock_state *st, int waiters)
{
	const char *argv[RD_NKEYS + 1];
	redisReply *r;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	rd_keys_argv(k, argv);
	argv[RD_NKEYS] = waiters ? "1" : "0";
	if ((r = rd_eval(lr, &rd_state_script, RD_NKEYS, RD_NKEYS + 1, argv,
	    NULL)) == NULL)
		return -1;
	if (!rd_refused(lr, k, r, NULL))
		rc = rd_state_reply(lr, r, st, waiters);
	freeReplyObject(r);
	return rc;
}

int
rd_holder_of(struct lock_redis *lr, const struct rd_keys *k,
    const char *token, struct holder *h)
{
	struct lock_state st;
	size_t i;
	int rc = 0;

	if (rd_state(lr, k, &st, 0) == -1)
		return -1;
	for (i = 0; i < st.nholders && rc == 0; i++)
		if (strcmp(st.holders[i].token, token) == 0) {
			*h = st.holders[i];
			rc = 1;
		}
	lock_state_free(&st);
	return rc;
}

/* Fills st with key's holders and waiters; never takes the lock. */
int
redis_status(struct lock *l, const char *key, struct lock_state *st)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	int rc;

	memset(st, 0, sizeof(*st));
	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	rc = rd_state(lr, &k, st, 1);
	rd_keys_free(&k);
	return rc;
}
