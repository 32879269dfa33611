/*
 * redis_wait: waiting for a Redis lease through the wait loop (wait.c):
 * a waiter that joined the queue subscribes to its own channel
 * (NS:{E}:w:TOKEN) before it tries again, so no turn given between its
 * try and its sleep goes unnoticed; it tries again, which renews its
 * liveness lease, every RD_LIVE_REFRESH ms and at the holder's PTTL,
 * so a crashed holder or a dead waiter ahead is noticed without a
 * message.  A server that cannot be reached is looked for again with
 * back-off for up to the connect timeout.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "redis_int.h"
#include "wait.h"

#define RD_BACKOFF_MIN	100
#define RD_BACKOFF_MAX	2000

/* A wait for one key: the last holder seen, and the state of the
   subscription and of the server's reachability. */
struct rd_waiter {
	struct lock_redis	*lr;
	const struct rd_keys	*k;
	struct holder		*self;
	struct rd_try		*t;
	int64_t			 retry_sub;	/* when to subscribe again */
	int64_t			 backoff;
	int64_t			 down_since;	/* outage start, or -1 */
	int			 cooling;	/* a cooldown ended the wait */
};

/* Milliseconds of jitter in [5, 50], so waiters do not wake in step. */
static int64_t
rd_jitter(struct lock_redis *lr)
{
	lr->seed ^= lr->seed << 13;
	lr->seed ^= lr->seed >> 17;
	lr->seed ^= lr->seed << 5;
	return 5 + lr->seed % 46;
}

/* The earlier of two times. */
static int64_t
rd_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* wait_ops: one try; busy waits until the holder's PTTL at the latest,
   a lost server is looked for again with back-off until it has been
   gone for the connect timeout. */
static enum wait_try
rd_wait_try(void *arg, int64_t *retry_at)
{
	struct rd_waiter *rw = arg;
	struct lock_redis *lr = rw->lr;
	struct rd_try *t = rw->t;
	int64_t pttl, now;

	switch (rd_try(lr, rw->k, rw->self, t)) {
	case LOCK_ACQUIRED:
		return WAIT_TAKEN;
	case LOCK_SUPERSEDED:
		return WAIT_SUPERSEDED;
	case LOCK_COOLING:
		rw->cooling = 1;
		return WAIT_FAILED;
	case LOCK_BUSY:
		rw->down_since = -1;
		pttl = t->pttl;
		if (pttl < 0 || (t->quiet && pttl > RD_QUIET_RETRY))
			pttl = t->quiet ? RD_QUIET_RETRY : lr->ttl_ms;
		pttl += rd_jitter(lr);
		/* The liveness lease wants renewing before it runs out. */
		if (t->queued && pttl > RD_LIVE_REFRESH)
			pttl = RD_LIVE_REFRESH;
		*retry_at = clock_mono_ms() + pttl;
		return WAIT_BUSY;
	default:
		break;
	}
	/* A refusal (an error reply, or a handshake the server refused)
	   is final; a lost server is looked for again. */
	now = clock_mono_ms();
	if (redis_conn_alive(&lr->cmd) || lr->cmd.refused)
		return WAIT_FAILED;
	if (rw->down_since < 0)
		rw->down_since = now;
	if (now - rw->down_since >= lr->connect_timeout_ms)
		return WAIT_FAILED;
	rd_holder(NULL, -1, &t->h);
	/* One last try when the outage reaches the connect timeout. */
	*retry_at = rd_min(now + rw->backoff + rd_jitter(lr),
	    rw->down_since + lr->connect_timeout_ms);
	return WAIT_DOWN;
}

/* Connects the sub connection and subscribes to our own channel of k;
   0, or -1 with the reason in lr->sub.err. */
static int
rd_subscribe(struct lock_redis *lr, const struct rd_keys *k,
    const char *token)
{
	char *chan;
	int rc;

	if (asprintf(&chan, "%s%s", k->wchan, token) == -1)
		return redis_conn_seterr(&lr->sub, "out of memory");
	/* The confirmation orders our next try after the subscription. */
	rc = rd_sub_open(lr, chan);
	free(chan);
	return rc;
}

static int	rd_wait_woken(void *);

/* wait_ops: (re)subscribes when due, then tries at once, as a release
   may have come before the subscription; the Pub/Sub socket. */
static int
rd_wait_watch(void *arg, int64_t *retry_at)
{
	struct rd_waiter *rw = arg;
	struct lock_redis *lr = rw->lr;
	int64_t now = clock_mono_ms();

	if (!redis_conn_alive(&lr->sub) && now >= rw->retry_sub) {
		if (rd_subscribe(lr, rw->k, rw->self->token) == 0) {
			rw->backoff = RD_BACKOFF_MIN;
			*retry_at = now;
		} else {
			rw->retry_sub = now + rw->backoff;
			rw->backoff = rd_min(rw->backoff * 2, RD_BACKOFF_MAX);
		}
	}
	if (!redis_conn_alive(&lr->sub)) {
		*retry_at = rd_min(*retry_at, rw->retry_sub);
		return -1;
	}
	if (redis_conn_pending(&lr->sub)) {
		/* Messages poll(2) cannot show: read them, try again. */
		rd_wait_woken(rw);
		*retry_at = now;
	}
	return redis_conn_fd(&lr->sub);
}

/* wait_ops: drops the messages that arrived; a dead subscription is
   made again at the next watch. */
static int
rd_wait_woken(void *arg)
{
	struct rd_waiter *rw = arg;
	redisReply *r;
	int rc;

	while ((rc = redis_conn_poll_reply(&rw->lr->sub, &r)) == 1)
		freeReplyObject(r);
	if (rc == -1)
		rw->retry_sub = 0;
	return 0;
}

/* wait_ops: the holder last seen, when it is known. */
static const struct holder *
rd_waited_for(void *arg)
{
	struct rd_waiter *rw = arg;
	const struct holder *h = &rw->t->h;

	return h->token[0] != '?' && h->token[0] != '\0' ? h : NULL;
}

/* wait_ops: our place in the queue at the last try. */
static unsigned int
rd_place(void *arg)
{
	struct rd_waiter *rw = arg;

	return rw->t->place;
}

static const struct wait_ops rd_wait_ops = {
	rd_wait_try, rd_wait_watch, rd_wait_woken, rd_waited_for, rd_place
};

enum lock_result
rd_wait(struct lock_redis *lr, const struct rd_keys *k, struct lock_wait *w,
    struct holder *self, struct rd_try *t)
{
	struct rd_waiter rw;
	enum lock_result rc;

	memset(&rw, 0, sizeof(rw));
	rw.lr = lr;
	rw.k = k;
	rw.self = self;
	rw.t = t;
	t->join = w->deadline > clock_mono_ms();
	rw.backoff = RD_BACKOFF_MIN;
	rw.down_since = -1;
	rd_holder(NULL, -1, &t->h);
	rc = wait_for(&lr->base, w, &rd_wait_ops, &rw);
	return rc == LOCK_ERROR && rw.cooling ? LOCK_COOLING : rc;
}
