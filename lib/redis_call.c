/*
 * redis_call: commands and scripts on the backend's command connection,
 * routed to the key's server (redis_route.h follows a cluster's
 * redirects), each bounded by the connect timeout, with failures
 * recorded in the context: a dead connection and an error reply are
 * both EUNAVAIL, the server's refusal being as fatal as its absence.
 * Through sentinels, a READONLY reply means the server was a master and
 * is a replica now: the write never happened, so the command is sent
 * once more, over a new connection to whatever master the sentinels
 * name now.  A server that is not ready (loading its data set after a
 * restart or a resync, running a busy script, a replica without its
 * master, a cluster down) refuses a command without running it: it is
 * sent again, with back-off, for up to the connect timeout.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "redis_err.h"
#include "redis_int.h"

#define RD_SENTINEL_RECHECK	1000	/* ms idle before asking the
					   sentinels whether the master
					   moved */
#define RD_UNREADY_MIN		50	/* ms, first pause for a server
					   that is not ready */
#define RD_UNREADY_MAX		1000	/* ms, longest such pause */
#define RD_UNREADY_ROOM		10	/* ms, the least a last try has */

int64_t
rd_deadline(const struct lock_redis *lr)
{
	int64_t d = clock_mono_ms() + lr->connect_timeout_ms;

	return d < lr->hard_deadline ? d : lr->hard_deadline;
}

/* Nonzero (both connections closed) if lr->cmd, idle for a while,
   is on a master the sentinels no longer name: a failover that left
   the old master taking writes is not noticed otherwise. */
static int
rd_left_behind(struct lock_redis *lr)
{
	if (lr->url.nsentinels == 0 ||
	    clock_mono_ms() - lr->cmd.used < RD_SENTINEL_RECHECK)
		return 0;
	if (!redis_sentinel_moved(&lr->cmd, rd_deadline(lr))) {
		lr->cmd.used = clock_mono_ms();
		return 0;
	}
	redis_conn_close(&lr->cmd);
	redis_conn_close(&lr->sub);
	return 1;
}

int
rd_ensure(struct lock_redis *lr)
{
	/* Through sentinels, an idle connection may be on a master that
	   a failover left behind. */
	if (redis_conn_alive(&lr->cmd))
		(void)rd_left_behind(lr);
	if (redis_route_connect(&lr->route, &lr->cmd, rd_deadline(lr)) == -1)
		return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s",
		    lr->cmd.err);
	return 0;
}

/* Turns a reply that is missing or an error into NULL, recorded. */
static redisReply *
rd_checked(struct lock_redis *lr, redisReply *r)
{
	if (r == NULL) {
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s", lr->cmd.err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "redis %s: %.300s",
		    lr->cmd.url->display, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Nonzero (r freed, the connection closed) if r is a demoted master's
   READONLY and the sentinels may name the new one: send again. */
static int
rd_demoted(struct lock_redis *lr, redisReply *r)
{
	if (lr->url.nsentinels == 0 || r == NULL ||
	    r->type != REDIS_REPLY_ERROR || strncmp(r->str, "READONLY", 8) != 0)
		return 0;
	freeReplyObject(r);
	redis_conn_close(&lr->cmd);
	return 1;
}

/* Nonzero if the server said it is not ready: in reply r, or (r NULL)
   in the handshake of the connect that failed. */
static int
rd_unready(const struct lock_redis *lr, const redisReply *r)
{
	if (r == NULL)
		return lr->cmd.unready;
	return r->type == REDIS_REPLY_ERROR && redis_err_unready(r->str);
}

/* Nonzero (r freed, the connection closed, a pause taken) if the server
   said it is not ready (rd_unready()) and there is time before until to
   try again; what it said goes into why.  *pause doubles.  Through
   sentinels the next connect asks them anew: a demoted master
   resyncing from the new one answers LOADING. */
static int
rd_not_ready(struct lock_redis *lr, redisReply *r, int64_t until,
    int64_t *pause, char *why, size_t whylen)
{
	int64_t now, at;

	if (!rd_unready(lr, r))
		return 0;
	if (r != NULL)
		snprintf(why, whylen, "redis %.280s: %.300s",
		    lr->cmd.url->display, r->str);
	else
		snprintf(why, whylen, "%s", lr->cmd.err);
	now = clock_mono_ms();
	if (now + RD_UNREADY_ROOM >= until)
		return 0;
	freeReplyObject(r);
	redis_conn_close(&lr->cmd);
	at = now + *pause < until - RD_UNREADY_ROOM ? now + *pause :
	    until - RD_UNREADY_ROOM;
	clock_sleep_until(at);
	*pause = *pause * 2 < RD_UNREADY_MAX ? *pause * 2 : RD_UNREADY_MAX;
	return 1;
}

/* Connects and, with q, runs q where it belongs: once more after a
   demoted master's READONLY, and again while the server says it is not
   ready, each try after the first ending by one connect timeout from
   the start.  0 with *rp (NULL without q; maybe an error reply), or -1
   with the reason recorded: a try that found no answer after the server
   said it was not ready fails for what the server said.  lr->not_run
   says whether a failure is such a refusal, after which nothing ran. */
static int
rd_run(struct lock_redis *lr, const struct redis_call *q, redisReply **rp)
{
	redisReply *r;
	int64_t until = rd_deadline(lr), pause = RD_UNREADY_MIN;
	int64_t saved = lr->hard_deadline;
	char why[sizeof(lr->cmd.err)] = "";
	int demoted = 0, rc;

	for (;;) {
		r = NULL;
		if ((rc = rd_ensure(lr)) == 0 && q != NULL) {
			r = redis_route_call(&lr->route, &lr->cmd, q,
			    rd_deadline(lr));
			if (!demoted && rd_demoted(lr, r)) {
				demoted = 1;
				continue;
			}
			if (r == NULL)
				rc = lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s",
				    lr->cmd.err);
		}
		if (!rd_not_ready(lr, r, until, &pause, why, sizeof(why)))
			break;
		if (lr->hard_deadline > until)
			lr->hard_deadline = until;
	}
	lr->hard_deadline = saved;
	lr->not_run = rd_unready(lr, r);
	if (rc == -1 && why[0] != '\0' && !lr->cmd.unready)
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s", why);
	*rp = r;
	return rc;
}

/* Runs q (rd_run()); its reply, or NULL with the reason recorded. */
static redisReply *
rd_call(struct lock_redis *lr, const struct redis_call *q)
{
	redisReply *r;

	if (rd_run(lr, q, &r) == -1)
		return NULL;
	return rd_checked(lr, r);
}

int
rd_connect(struct lock_redis *lr)
{
	redisReply *r;

	return rd_run(lr, NULL, &r);
}

redisReply *
rd_command(struct lock_redis *lr, int argc, const char **argv,
    const size_t *argvlen)
{
	struct redis_call q = { NULL, 0, argc, argv, argvlen };

	return rd_call(lr, &q);
}

redisReply *
rd_eval(struct lock_redis *lr, struct redis_script *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
	struct redis_call q = { s, nkeys, argc, argv, argvlen };

	return rd_call(lr, &q);
}

int
rd_int(struct lock_redis *lr, redisReply *r, long long *v)
{
	int rc = 0;

	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		*v = r->integer;
	else
		rc = lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: "
		    "unexpected reply", lr->url.display);
	freeReplyObject(r);
	return rc;
}

void
rd_holder(const redisReply *v, int64_t pttl, struct holder *h)
{
	if (v == NULL || v->type != REDIS_REPLY_STRING ||
	    holder_parse(v->str, v->len, h) == -1) {
		memset(h, 0, sizeof(*h));
		strcpy(h->token, "?");
		strcpy(h->host, "?");
	}
	h->ttl_ms = pttl;
}
