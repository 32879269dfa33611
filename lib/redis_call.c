/*
 * redis_call: commands and scripts on the backend's command connection,
 * routed to the key's server (redis_route.h follows a cluster's
 * redirects), each bounded by the connect timeout, with failures
 * recorded in the context: a dead connection and an error reply are
 * both EUNAVAIL, the server's refusal being as fatal as its absence.
 */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "redis_int.h"

int64_t
rd_deadline(const struct lock_redis *lr)
{
	int64_t d = clock_mono_ms() + lr->connect_timeout_ms;

	return d < lr->hard_deadline ? d : lr->hard_deadline;
}

int
rd_ensure(struct lock_redis *lr)
{
	/* A server that closed an idle connection is reconnected once. */
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

redisReply *
rd_command(struct lock_redis *lr, int argc, const char **argv,
    const size_t *argvlen)
{
	struct redis_call q = { NULL, 0, argc, argv, argvlen };

	if (rd_ensure(lr) == -1)
		return NULL;
	return rd_checked(lr, redis_route_call(&lr->route, &lr->cmd, &q,
	    rd_deadline(lr)));
}

redisReply *
rd_eval(struct lock_redis *lr, struct redis_script *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
	struct redis_call q = { s, nkeys, argc, argv, argvlen };

	if (rd_ensure(lr) == -1)
		return NULL;
	return rd_checked(lr, redis_route_call(&lr->route, &lr->cmd, &q,
	    rd_deadline(lr)));
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
