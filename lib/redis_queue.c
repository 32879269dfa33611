/*
 * redis_queue: taking a Redis key, and its queue of waiters (layout and
 * wake-up rule: redis_int.h).  One script tries, joins the queue and
 * refreshes the waiter's liveness lease; one leaves it.
 *
 * Invariants: a free key with an empty queue costs one script call, as
 * in protocol 1; no caller enters ahead of a live waiter that arrived
 * before it (shared runs and free slots let several in at once, in
 * order); a waiter whose liveness lease ran out, by the server's clock,
 * is dropped by the next script that looks, so a dead waiter holds up
 * the queue for at most RD_LIVE_MS plus one refresh; every holder kind
 * increments the fence; callers of one KEY agree on its kind or are
 * refused, and a key of another protocol is never touched.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redis_int.h"

/* KEYS: rd_keys_argv().  ARGV: token, kind, ttl, record up to the
   fence, record after it, waiter channel prefix, join (1: queue when
   busy, and refresh), queued (1: we joined before), supersede, waiter
   record.  {1, fence, server ms, slot} taken; {0, PTTL, holder or
   false, quiet, place} busy (a holder with our token: a lost try took
   the lease, and this one neither joins nor refreshes); {2, PTTL, cooldown} closed; {3, record}
   superseded by record; {-1, protocol} or {-2, kind}: refused. */
static struct redis_script rd_try_script = {
	RD_LUA_KEYS
	RD_LUA_PUB
	"local bad = redis.call('GET', KV)\n"
	"if bad and bad ~= '" RD_STR(RD_PROTO) "' then return {-1, bad} end\n"
	"local c = redis.call('GET', KC)\n"
	"if c then return {2, redis.call('PTTL', KC), c} end\n"
	"local me, kind, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
	RD_LUA_NOW
	"local function take_x()\n"
	"  local f = redis.call('INCR', KF)\n"
	"  redis.call('SET', KL, ARGV[4] .. string.format('%d', f) .. ARGV[5],"
	" 'PX', ttl)\n"
	"  return {1, f, string.format('%.0f', now), 0}\n"
	"end\n"
	"if kind == 'x' and redis.call('EXISTS', KL, KHD, KQ) == 0 then\n"
	"  return take_x()\n"
	"end\n"
	"local lv = redis.call('GET', KL)\n"
	"if lv and string.sub(lv, 1, " RD_STR(HOLDER_TOKEN_LEN) ") == me then\n"
	"  return {0, redis.call('PTTL', KL), lv, 0, 0}\n"
	"end\n"
	RD_LUA_QUEUE
	"local gone = purge()\n"
	"local u = used()\n"
	"if u and u ~= kind and not ((u == 'x' or u == 's') and"
	" (kind == 'x' or kind == 's')) then return {-2, u} end\n"
	"local mine = redis.call('ZSCORE', KHD, me)\n"
	"if mine then\n"
	"  return {0, tonumber(mine) - now, rec_of(redis.call('HGET', KH, me)"
	" or '') or false, 0, 0}\n"
	"end\n"
	"local rank = redis.call('ZRANK', KQ, me)\n"
	"if not rank and ARGV[8] == '1' then\n"
	"  local by = redis.call('HGET', KQR, '~' .. me)\n"
	"  if by then\n"
	"    redis.call('HDEL', KQR, '~' .. me)\n"
	"    redis.call('ZREM', KQD, '~' .. me)\n"
	"    return {3, by}\n"
	"  end\n"
	"end\n"
	"if may(kind, rank or redis.call('ZCARD', KQ)) then\n"
	"  if rank then\n"
	"    redis.call('ZREM', KQ, me)\n"
	"    redis.call('ZREM', KQD, me)\n"
	"    redis.call('HDEL', KQR, me)\n"
	"  end\n"
	"  if gone > 0 then wake(ARGV[6]) end\n"
	"  if kind == 'x' then return take_x() end\n"
	"  local slot, tail = 0, ARGV[5]\n"
	"  if kind ~= 's' then\n"
	"    local taken = {}\n"
	"    for _, v in ipairs(redis.call('HVALS', KH)) do\n"
	"      local i = string.match(v, ' i=(%d+)')\n"
	"      if i then taken[tonumber(i)] = true end\n"
	"    end\n"
	"    while taken[slot] do slot = slot + 1 end\n"
	"    tail = string.gsub(tail, ' i=%d+', ' i=' .. slot, 1)\n"
	"  end\n"
	"  local f = redis.call('INCR', KF)\n"
	"  redis.call('HSET', KH, me, kind .. ' ' .. ARGV[4] .."
	" string.format('%d', f) .. tail)\n"
	"  redis.call('ZADD', KHD, now + ttl, me)\n"
	"  extend(KH, ttl)\n"
	"  extend(KHD, ttl)\n"
	"  redis.call('SET', KV, '" RD_STR(RD_PROTO) "')\n"
	"  return {1, f, string.format('%.0f', now), slot}\n"
	"end\n"
	"if gone > 0 then wake(ARGV[6]) end\n"
	"local hv, pttl = false, -1\n"
	"if redis.call('EXISTS', KL) == 1 then\n"
	"  hv, pttl = redis.call('GET', KL), redis.call('PTTL', KL)\n"
	"else\n"
	"  local t = redis.call('ZRANGE', KHD, 0, 0, 'WITHSCORES')\n"
	"  if t[1] then\n"
	"    hv = rec_of(redis.call('HGET', KH, t[1]) or '') or false\n"
	"    pttl = tonumber(t[2]) - now\n"
	"  end\n"
	"end\n"
	"local quiet = redis.call('EXISTS', KQT)\n"
	"if ARGV[7] ~= '1' then return {0, pttl, hv, quiet, 0} end\n"
	"if not rank then\n"
	"  rank = redis.call('ZCARD', KQ)\n"
	"  redis.call('ZADD', KQ, redis.call('HINCRBY', KQR, '#', 1), me)\n"
	"  redis.call('HSET', KQR, me, kind .. ' ' .. ARGV[10])\n"
	"  redis.call('SET', KV, '" RD_STR(RD_PROTO) "')\n"
	"  if ARGV[9] == '1' then\n"
	"    local old = redis.call('HGET', KQR, '#s')\n"
	"    if old and old ~= me and redis.call('ZSCORE', KQ, old) then\n"
	"      redis.call('ZREM', KQ, old)\n"
	"      redis.call('HDEL', KQR, old)\n"
	"      redis.call('ZADD', KQD, now + " RD_STR(RD_LIVE_KEYS) ", '~' .. old)\n"
	"      redis.call('HSET', KQR, '~' .. old, ARGV[10])\n"
	"      pub(ARGV[6] .. old, 'superseded')\n"
	"      rank = rank - 1\n"
	"    end\n"
	"    redis.call('HSET', KQR, '#s', me)\n"
	"  end\n"
	"end\n"
	"redis.call('ZADD', KQD, now + " RD_STR(RD_LIVE_MS) ", me)\n"
	"for _, key in ipairs({KQ, KQD, KQR}) do\n"
	"  redis.call('PEXPIRE', key, " RD_STR(RD_LIVE_KEYS) ")\n"
	"end\n"
	"return {0, pttl, hv, quiet, rank + 1}\n", ""
};

/* KEYS: rd_keys_argv().  ARGV: token, waiter channel prefix.  1. */
static struct redis_script rd_leave_script = {
	RD_LUA_KEYS
	RD_LUA_PUB
	RD_LUA_NOW
	RD_LUA_QUEUE
	"if redis.call('HGET', KQR, '#s') == ARGV[1] then\n"
	"  redis.call('HDEL', KQR, '#s')\n"
	"end\n"
	"redis.call('ZREM', KQ, ARGV[1])\n"
	"redis.call('ZREM', KQD, ARGV[1])\n"
	"redis.call('HDEL', KQR, ARGV[1])\n"
	"purge()\n"
	"wake(ARGV[2])\n"
	"return 1\n", ""
};

void
rd_kind(const struct lock_request *req, char *buf, size_t len)
{
	if (req->mode == LOCK_SLOTS)
		snprintf(buf, len, "k%u", req->count);
	else
		snprintf(buf, len, "%s", req->mode == LOCK_SHARED ? "s" : "x");
}

/* Describes KIND for a message, as the local backend does: "--slots
   3", "an exclusive lock"; shared: "shared locks" for theirs (the
   key's), "a shared lock" for ours (this caller's). */
static void
rd_kind_words(const char *kind, size_t len, int ours, char *buf,
    size_t size)
{
	if (len > 1 && kind[0] == 'k')
		snprintf(buf, size, "--slots %.*s", (int)len - 1, kind + 1);
	else if (len == 1 && kind[0] == 's')
		snprintf(buf, size, "%s", ours ? "a shared lock" :
		    "shared locks");
	else
		snprintf(buf, size, "an exclusive lock");
}

/* Records that KEY is used another way (EUSAGE), naming both. */
static void
rd_mismatch(struct lock_redis *lr, const struct rd_keys *k,
    const char *mine, const redisReply *theirs)
{
	char a[32], b[32];

	rd_kind_words(theirs->str, theirs->len, 0, a, sizeof(a));
	rd_kind_words(mine, strlen(mine), 1, b, sizeof(b));
	lock_seterr(&lr->base, LOCK_EUSAGE, "%s is used with %s; this caller "
	    "asked for %s", k->key, a, b);
}

int
rd_refused(struct lock_redis *lr, const struct rd_keys *k,
    const redisReply *r, const char *kind)
{
	const redisReply *v;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[0]->integer >= 0)
		return 0;
	v = r->element[1];
	if (v->type != REDIS_REPLY_STRING)
		lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: unexpected "
		    "reply", lr->url.display);
	else if (r->element[0]->integer == -2 && kind != NULL)
		rd_mismatch(lr, k, kind, v);
	else
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s was written by "
		    "keylock protocol %.20s; this keylock speaks %d", k->key,
		    v->str, RD_PROTO);
	return 1;
}

/* Splits self's record around its fence: prefix "TOKEN HOST PID SINCE "
   and tail " k=... n=..." (both HOLDER_RECORD_MAX + 1 bytes). */
static void
rd_record_parts(const struct holder *self, char *prefix, char *tail)
{
	struct holder h = *self;
	char *sp;

	h.fence = 0;
	h.until_ms = h.cooldown_ms = 0;
	h.slots = 0;
	h.shared = h.supersede = 0;
	h.note[0] = '\0';
	holder_format(&h, prefix, HOLDER_RECORD_MAX + 1);
	if ((sp = strrchr(prefix, ' ')) != NULL)
		sp[1] = '\0';
	holder_format_tail(self, tail, HOLDER_RECORD_MAX + 1);
}

/*
 * Takes as ours a lease that holds our token: an earlier try ran on the
 * server but its reply was lost.  Fence, since and slot are the stored
 * ones; the server had pttl left after this try was sent at t_send, so
 * the lease is valid until at least t_send + pttl.  LOCK_ACQUIRED.
 */
static enum lock_result
rd_adopt(struct lock_redis *lr, struct holder *self, const struct holder *h,
    int64_t pttl, int64_t t_send)
{
	if (pttl < 0 || pttl > lr->ttl_ms)
		pttl = pttl < 0 ? 0 : lr->ttl_ms;
	self->fence = h->fence;
	self->since_ms = h->since_ms;
	self->slot = h->slot;
	lr->valid_from = t_send + pttl - lr->ttl_ms;
	return LOCK_ACQUIRED;
}

/* What a taken reply says: fence, start, slot. */
static void
rd_taken(struct lock_redis *lr, const redisReply *r, struct holder *self,
    int64_t t_send)
{
	self->fence = (uint64_t)r->element[1]->integer;
	lr->valid_from = t_send;
	lr->started_ms = r->elements > 2 &&
	    r->element[2]->type == REDIS_REPLY_STRING ?
	    strtoll(r->element[2]->str, NULL, 10) : 0;
	if (self->slots > 0 && r->elements > 3 &&
	    r->element[3]->type == REDIS_REPLY_INTEGER)
		self->slot = (unsigned int)r->element[3]->integer;
}

/* What a busy reply says: the holder, its PTTL, quiet, our place. */
static void
rd_busy(const redisReply *r, struct rd_try *t)
{
	t->pttl = r->element[1]->integer;
	rd_holder(r->elements > 2 ? r->element[2] : NULL, t->pttl, &t->h);
	t->quiet = r->elements > 3 &&
	    r->element[3]->type == REDIS_REPLY_INTEGER &&
	    r->element[3]->integer == 1;
	t->place = r->elements > 4 &&
	    r->element[4]->type == REDIS_REPLY_INTEGER ?
	    (unsigned int)r->element[4]->integer : 0;
	if (t->place > 0)
		t->queued = 1;
}

/* Reads a reply of the try script into self and t; a lock_result. */
static enum lock_result
rd_try_reply(struct lock_redis *lr, const struct rd_keys *k,
    const redisReply *r, struct holder *self, struct rd_try *t,
    int64_t t_send)
{
	if (rd_refused(lr, k, r, t->kind))
		return LOCK_ERROR;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER)
		goto bad;
	switch (r->element[0]->integer) {
	case 1:
		if (r->element[1]->type != REDIS_REPLY_INTEGER)
			goto bad;
		rd_taken(lr, r, self, t_send);
		t->queued = 0;
		return LOCK_ACQUIRED;
	case 2:
		if (r->elements < 3 || r->element[2]->type !=
		    REDIS_REPLY_STRING || lock_cooldown_parse(
		    r->element[2]->str, r->element[2]->len,
		    &lr->base.cooldown) == -1) {
			memset(&lr->base.cooldown, 0, sizeof(lr->base.cooldown));
			lr->base.cooldown.until_ms = clock_wall_ms() +
			    (r->element[1]->type == REDIS_REPLY_INTEGER ?
			    r->element[1]->integer : 0);
		}
		return LOCK_COOLING;
	case 3:
		t->queued = 0;
		rd_holder(r->element[1], -1, &lr->base.other);
		return LOCK_SUPERSEDED;
	case 0:
		if (r->element[1]->type != REDIS_REPLY_INTEGER)
			goto bad;
		rd_busy(r, t);
		return LOCK_BUSY;
	}
bad:
	lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: unexpected reply "
	    "to the acquire script", lr->url.display);
	return LOCK_ERROR;
}

/* Formats the arguments of one try after the keys into argv. */
static void
rd_try_args(struct lock_redis *lr, const struct rd_keys *k,
    const struct holder *self, const struct rd_try *t, const char **argv,
    char (*buf)[HOLDER_RECORD_MAX + 1])
{
	struct holder w = *self;

	rd_record_parts(self, buf[0], buf[1]);
	w.fence = 0;
	w.since_ms = t->joined;
	holder_format(&w, buf[2], HOLDER_RECORD_MAX + 1);
	snprintf(buf[3], 24, "%" PRId64, lr->ttl_ms);
	argv[0] = self->token;
	argv[1] = t->kind;
	argv[2] = buf[3];
	argv[3] = buf[0];
	argv[4] = buf[1];
	argv[5] = k->wchan;
	argv[6] = t->join ? "1" : "0";
	argv[7] = t->queued ? "1" : "0";
	argv[8] = self->supersede ? "1" : "0";
	argv[9] = buf[2];
}

enum lock_result
rd_try(struct lock_redis *lr, const struct rd_keys *k, struct holder *self,
    struct rd_try *t)
{
	const char *argv[RD_NKEYS + 10];
	char buf[4][HOLDER_RECORD_MAX + 1];
	redisReply *r;
	int64_t t_send;
	enum lock_result rc;

	self->since_ms = clock_wall_ms();
	if (!t->queued)
		t->joined = self->since_ms;
	rd_keys_argv(k, argv);
	rd_try_args(lr, k, self, t, argv + RD_NKEYS, buf);
	if (rd_ensure(lr) == -1)
		return LOCK_ERROR;		/* nothing was sent */
	t_send = heartbeat_clock_ms();
	if ((r = rd_eval(lr, &rd_try_script, RD_NKEYS, RD_NKEYS + 10, argv,
	    NULL)) == NULL) {
		/* No reply: it may have taken the lease. */
		lr->tried_blind = !lr->not_run;
		return LOCK_ERROR;
	}
	rc = rd_try_reply(lr, k, r, self, t, t_send);
	freeReplyObject(r);
	if (rc == LOCK_BUSY && strcmp(t->h.token, self->token) == 0) {
		/* The lost try that took the lease left the queue, and the
		   script answers our own lease before joining: never stay
		   queued behind ourselves (place > 0 would be a bug). */
		if (t->place > 0)
			rd_leave(lr, k, self->token);
		t->queued = 0;
		rc = rd_adopt(lr, self, &t->h, t->pttl, t_send);
	}
	return rc;
}

void
rd_leave(struct lock_redis *lr, const struct rd_keys *k, const char *token)
{
	const char *argv[RD_NKEYS + 2];
	redisReply *r;

	rd_keys_argv(k, argv);
	argv[RD_NKEYS] = token;
	argv[RD_NKEYS + 1] = k->wchan;
	if ((r = rd_eval(lr, &rd_leave_script, RD_NKEYS, RD_NKEYS + 2, argv,
	    NULL)) != NULL)
		freeReplyObject(r);
}
