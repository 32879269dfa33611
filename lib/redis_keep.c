/*
 * redis_keep: what the Redis backend does for locks that outlive one
 * command: release and renewal by token, from any machine, for every
 * holder kind, and the heartbeat's renewal of a shared or slot lease.
 * A lease that ran out is never renewed back to life: its slot may be
 * another's already.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "redis_int.h"

/* Lua: renew(hd, h, token, ms, at_least) sets the deadline of token's
   lease in hd to ms from now (with at_least, never earlier than it
   was, but written all the same: WAIT after it must have a write to
   count), and keeps h and hd as long; false if token holds no live
   lease. */
#define RD_LUA_GROUP_RENEW \
	RD_LUA_NOW \
	"local function renew(hd, h, token, ms, at_least)\n" \
	"  local d = redis.call('ZSCORE', hd, token)\n" \
	"  if not d or tonumber(d) <= now then return false end\n" \
	"  if at_least and tonumber(d) > now + ms then ms = tonumber(d) - now end\n" \
	"  redis.call('ZADD', hd, now + ms, token)\n" \
	"  for _, key in ipairs({hd, h}) do\n" \
	"    if redis.call('PTTL', key) < ms then\n" \
	"      redis.call('PEXPIRE', key, ms)\n" \
	"    end\n" \
	"  end\n" \
	"  return true\n" \
	"end\n"

/* KEYS: hd, h [extra].  ARGV: token, ttl.  1 renewed, 0 not ours. */
struct redis_script rd_group_renew_script = {
	RD_LUA_GROUP_RENEW
	"if not renew(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2])) then\n"
	"  return 0\n"
	"end\n"
	"if KEYS[3] then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end\n"
	"return 1\n", ""
};

/* KEYS: lock, hd, h.  ARGV: token, ttl.  1 extended (never shortened),
   0 not ours.  The lease is written even when it is not extended, so a
   WAIT after it (renew --min-replicas) asks about this renewal. */
static struct redis_script rd_renew_script = {
	RD_LUA_OURS
	"if not ours then\n"
	RD_LUA_GROUP_RENEW
	"  return renew(KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), true)"
	" and 1 or 0\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[1], math.max(redis.call('PTTL', KEYS[1]),"
	" tonumber(ARGV[2])))\n"
	"return 1\n", ""
};

/* Records that a token does not hold key; -1. */
static int
rd_not_held(struct lock_redis *lr, const char *key)
{
	return lock_seterr(&lr->base, LOCK_ELOST, "that token does not hold "
	    "%s (expired, released, or taken by another holder)", key);
}

/* Asks the holder of key, if it runs on this machine, to end, and waits
   for it (bounded): its own release starts its cooldown as a run's does.
   Nonzero if it was there to ask. */
static int
rd_stop_holder(const struct holder *h)
{
	struct holder me;

	holder_self(&me);
	if (strcmp(h->host, me.host) != 0 || h->pid <= 0 || h->pid == me.pid)
		return 0;
	return lock_stop_process((pid_t)h->pid, 10000) != -1;
}

/* Releases key if token holds it: the holder's keeper on this machine
   is asked to let go; one elsewhere finds out at its next renewal. */
int
redis_release_token(struct lock *l, const char *key, const char *token)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	struct holder h, now;
	const char *argv[RD_NKEYS + 6];
	char cool[24];
	long long v = 0;
	int rc, n;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	if ((rc = rd_holder_of(lr, &k, token, &h)) == -1)
		goto out;
	if (rc == 0) {
		rc = rd_not_held(lr, key);
		goto out;
	}
	/* Once the keeper let go, a waiter may hold the key already: what
	   matters is only whether our token still does. */
	if (rd_stop_holder(&h) && (rc = rd_holder_of(lr, &k, token,
	    &now)) != 1) {
		rc = rc == -1 ? -1 : 0;
		goto out;
	}
	/* Still held: ours to release, from here.  The cooldown counts from
	   now, the start of the run being unknown to the server. */
	snprintf(cool, sizeof(cool), "%" PRId64, h.cooldown_ms);
	n = rd_release_argv(&k, NULL, token, cool, "0", h.host, argv);
	rc = rd_int(lr, rd_eval(lr, &rd_release_script, RD_NKEYS, n, argv,
	    NULL), &v);
	if (rc == 0 && v == 0)
		rc = rd_not_held(lr, key);
	else if (rc == 0 && v == 2)
		rd_untold(lr);
out:
	rd_keys_free(&k);
	return rc;
}

/* Extends the lease token holds on key to at least ttl_ms. */
int
redis_renew(struct lock *l, const char *key, const char *token,
    int64_t ttl_ms)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	const char *argv[5];
	char ttl[24];
	long long v = 0;
	int rc;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	snprintf(ttl, sizeof(ttl), "%" PRId64, ttl_ms);
	argv[0] = k.lock;
	argv[1] = k.hd;
	argv[2] = k.h;
	argv[3] = token;
	argv[4] = ttl;
	lr->valid_from = heartbeat_clock_ms();
	lr->ttl_ms = ttl_ms;
	rc = rd_int(lr, rd_eval(lr, &rd_renew_script, 3, 5, argv, NULL), &v);
	if (rc == 0 && v != 1)
		rc = rd_not_held(lr, key);
	/* Renewed on the master; with --min-replicas, on enough replicas
	   too, or the caller hears it (69). */
	else if (rc == 0)
		rc = rd_replicas(lr, "the renewal");
	rd_keys_free(&k);
	return rc;
}
