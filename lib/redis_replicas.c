/*
 * redis_replicas: --min-replicas, the WAIT that makes a lease count.
 *
 * Replication is asynchronous: a lease the master acknowledged may be
 * lost by a failover to a replica it never reached, and then two callers
 * hold the key.  WAIT N blocks until N replicas acknowledged every write
 * of this connection so far, so it must run on the connection that made
 * them (the acquire's, the heartbeat's), right after.
 *
 * Invariants: an acquisition counts only once N replicas have it, within
 * the connect timeout, else it is given back; a renewal counts (its
 * deadline is reported) only once N replicas have it, so one that cannot
 * reach them before the lease could expire ends as a lost lease; WAIT is
 * never sent with a timeout of 0, which would block forever.  This
 * narrows the window, it does not close it: a replica that acknowledged
 * may still not be the one promoted, and WAIT does not make Redis
 * strongly consistent.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "clock.h"
#include "redis_int.h"
#include "text.h"

/* Sends WAIT n wait_ms on c and reads the count by deadline; the
   number of replicas that acknowledged, or -1 with c->err. */
long long
redis_replicas_wait(struct redis_conn *c, int n, int64_t wait_ms,
    int64_t deadline)
{
	const char *argv[3];
	char num[16], ms[24];
	redisReply *r;
	long long acks = -1;

	snprintf(num, sizeof(num), "%d", n);
	snprintf(ms, sizeof(ms), "%" PRId64, wait_ms > 0 ? wait_ms : 1);
	argv[0] = "WAIT";
	argv[1] = num;
	argv[2] = ms;
	if ((r = redis_conn_command(c, 3, argv, NULL, deadline)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		acks = r->integer;
	else
		redis_conn_seterr(c, "WAIT failed: %.200s", r->type ==
		    REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
	return acks;
}

/* Writes ms as "2s" when whole seconds under a minute, else as
   text_duration() does. */
static void
rd_replicas_duration(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0 && ms < 60000)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		text_duration(ms, buf, len);
}

int
rd_replicas(struct lock_redis *lr, const char *what)
{
	int64_t cto = lr->connect_timeout_ms, left;
	char took[32];
	long long acks;

	if (lr->min_replicas == 0)
		return 0;
	/* A wait that used up the lease would count a lock that is gone:
	   wait at most half of what is left of it. */
	left = heartbeat_valid_until(lr->valid_from, lr->ttl_ms) -
	    heartbeat_clock_ms();
	if (left / 2 < cto)
		cto = left / 2 > 1 ? left / 2 : 1;
	/* The acquire's writes went out on lr->cmd: no reconnect here,
	   a new connection has written nothing to wait for. */
	acks = redis_replicas_wait(&lr->cmd, lr->min_replicas, cto,
	    clock_mono_ms() + 2 * cto);
	if (acks == -1)
		return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s",
		    lr->cmd.err);
	if (acks >= lr->min_replicas)
		return 0;
	rd_replicas_duration(cto, took, sizeof(took));
	return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%lld of %d replicas "
	    "acknowledged %s within %s (--min-replicas)", acks,
	    lr->min_replicas, what, took);
}
