/*
 * redis_cluster: what the Redis backend does differently on a Redis
 * Cluster, beyond the redirects its commands follow (redis_route.h).
 *
 * - SCAN walks the masters (CLUSTER SLOTS), every one for a pattern
 *   whose keys may live anywhere, only the slot's owner for one whose
 *   hash tag is literal (a KEY's memo entries);
 * - a waiter subscribes on the KEY's master, to the shard channel
 *   (SSUBSCRIBE) where the scripts publish with SPUBLISH (RD_LUA_PUB):
 *   both sides choose by the same fact, a Redis >= 7 node that answers
 *   CLUSTER MYID, so a release is heard whichever node a waiter named.
 * On a plain server, whether the route knows it yet or not, nothing here
 * costs a round trip during a run.
 */
#include "config.h"

#include <string.h>

#include "redis_int.h"
#include "redis_slot.h"

/* Records the command connection's failure; -1. */
static int
rd_cluster_fail(struct lock_redis *lr)
{
	return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s", lr->cmd.err);
}

/* Walks pattern on the master of slot; 0, 1 stopped, or -1. */
static int
rd_scan_slot(struct lock_redis *lr, const char *pattern, int slot,
    rd_scan_fn fn, void *arg)
{
	struct redis_route *rt = &lr->route;

	if (rt->slots[slot] == 0)
		return lock_seterr(&lr->base, LOCK_EUNAVAIL, "redis %s: "
		    "no master serves slot %d (CLUSTER SLOTS)",
		    lr->url.display, slot);
	redis_route_pin(rt, rt->slots[slot] - 1);
	return rd_scan_node(lr, pattern, fn, arg);
}

int
rd_scan(struct lock_redis *lr, const char *pattern, rd_scan_fn fn,
    void *arg)
{
	struct redis_route *rt = &lr->route;
	int i, slot, rc = 0;

	if (rd_ensure(lr) == -1)
		return -1;
	if (redis_route_learn(rt, &lr->cmd, rd_deadline(lr)) == -1)
		return rd_cluster_fail(lr);
	if (rt->cluster != 1)
		return rd_scan_node(lr, pattern, fn, arg) == -1 ? -1 : 0;
	if (redis_route_slots(rt, &lr->cmd, rd_deadline(lr)) == -1)
		return rd_cluster_fail(lr);
	if ((slot = redis_slot_of_pattern(pattern)) >= 0)
		return rd_scan_slot(lr, pattern, slot, fn, arg) == -1 ? -1 : 0;
	for (i = 0; i < rt->nnodes && rc == 0; i++)
		if (rt->node[i]->master) {
			redis_route_pin(rt, i);
			rc = rd_scan_node(lr, pattern, fn, arg);
		}
	return rc == -1 ? -1 : 0;
}

/* Nonzero if r confirms a subscription ("subscribe" or "ssubscribe"). */
static int
rd_sub_confirmed(const redisReply *r)
{
	return r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    (strcmp(r->element[0]->str, "subscribe") == 0 ||
	    strcmp(r->element[0]->str, "ssubscribe") == 0);
}

int
rd_sub_open(struct lock_redis *lr, const char *chan)
{
	struct redis_route *rt = &lr->route;
	const char *argv[2] = { "SUBSCRIBE", chan };
	struct redis_call q = { NULL, 0, 2, argv, NULL };
	redisReply *r;
	int ok;

	if (redis_route_connect(rt, &lr->sub, rd_deadline(lr)) == -1 ||
	    redis_route_learn(rt, &lr->sub, rd_deadline(lr)) == -1)
		return -1;
	if (rt->cluster == 1)
		argv[0] = "SSUBSCRIBE";	/* MOVED to the channel's master */
	r = redis_route_call(rt, &lr->sub, &q, rd_deadline(lr));
	if (r != NULL && r->type == REDIS_REPLY_ERROR && rt->cluster == 1 &&
	    strncmp(r->str, "ERR unknown command", 19) == 0) {
		/* Redis 6: no shard channels, and its scripts PUBLISH. */
		freeReplyObject(r);
		argv[0] = "SUBSCRIBE";
		r = redis_route_call(rt, &lr->sub, &q, rd_deadline(lr));
	}
	if (r == NULL)
		return -1;
	ok = rd_sub_confirmed(r);
	freeReplyObject(r);
	if (!ok) {
		redis_conn_close(&lr->sub);
		return redis_conn_seterr(&lr->sub, "%s failed", argv[0]);
	}
	return 0;
}
