/*
 * redis_keep: what the Redis backend does for locks that outlive one
 * command: release and renewal by token, from any machine.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "redis_int.h"

/* KEYS: lock.  ARGV: token, ttl.  1 extended (never shortened), 0 not
   ours. */
static struct redis_script rd_renew_script = {
	RD_LUA_OURS
	"if not ours then return 0 end\n"
	"if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then\n"
	"  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"end\n"
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
	const char *argv[8];
	char cool[24];
	long long v = 0;
	int rc;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	if ((rc = rd_status_of(lr, k.lock, &h, NULL)) == -1)
		goto out;
	if (rc == 0 || strcmp(h.token, token) != 0) {
		rc = rd_not_held(lr, key);
		goto out;
	}
	/* Once the keeper let go, a waiter may hold the key already: what
	   matters is only whether our token still does. */
	if (rd_stop_holder(&h) && ((rc = rd_status_of(lr, k.lock, &now,
	    NULL)) != 1 || strcmp(now.token, token) != 0)) {
		rc = rc == -1 ? -1 : 0;
		goto out;
	}
	/* Still held: ours to release, from here.  The cooldown counts from
	   now, the start of the run being unknown to the server. */
	snprintf(cool, sizeof(cool), "%" PRId64, h.cooldown_ms);
	argv[0] = k.lock;
	argv[1] = k.quiet;
	argv[2] = k.cool;
	argv[3] = token;
	argv[4] = k.chan;
	argv[5] = cool;
	argv[6] = "0";
	argv[7] = h.host;
	rc = rd_int(lr, rd_eval(lr, &rd_release_script, 3, 8, argv, NULL),
	    &v);
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
	const char *argv[3];
	char ttl[24];
	long long v = 0;
	int rc;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	snprintf(ttl, sizeof(ttl), "%" PRId64, ttl_ms);
	argv[0] = k.lock;
	argv[1] = token;
	argv[2] = ttl;
	rc = rd_int(lr, rd_eval(lr, &rd_renew_script, 1, 3, argv, NULL), &v);
	if (rc == 0 && v != 1)
		rc = rd_not_held(lr, key);
	rd_keys_free(&k);
	return rc;
}
