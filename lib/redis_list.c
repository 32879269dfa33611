/*
 * redis_list: SCAN over the namespace (never KEYS, which blocks the
 * server), for "list" and for the memo store's forget and status.  One
 * server here; rd_scan() (redis_cluster.c) loops over a cluster's
 * masters around rd_scan_node().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_int.h"

/* Checks a SCAN reply; 0, or -1 with the reason recorded. */
static int
rd_scan_reply(struct lock_redis *lr, const redisReply *r)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_ARRAY)
		return 0;
	return lock_seterr(&lr->base, LOCK_EUNAVAIL, "redis %s: SCAN failed: "
	    "unexpected reply", lr->url.display);
}

int
rd_scan_node(struct lock_redis *lr, const char *pattern, rd_scan_fn fn,
    void *arg)
{
	const char *argv[6] = { "SCAN", NULL, "MATCH", pattern, "COUNT",
	    RD_SCAN_COUNT };
	char cursor[32] = "0";
	enum rd_scan_next next = RD_SCAN_NEXT;
	redisReply *r, *keys;
	size_t i;
	int node = lr->route.cur;

	do {
		/* fn's commands may follow a key elsewhere; the cursor is
		   this server's. */
		redis_route_pin(&lr->route, node);
		argv[1] = cursor;
		if ((r = rd_command(lr, 6, argv, NULL)) == NULL)
			return -1;
		if (rd_scan_reply(lr, r) == -1) {
			freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		keys = r->element[1];
		for (i = 0; i < keys->elements && next == RD_SCAN_NEXT; i++)
			if (keys->element[i]->type == REDIS_REPLY_STRING)
				next = fn(lr, keys->element[i]->str,
				    keys->element[i]->len, arg);
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0 && next == RD_SCAN_NEXT);
	return next == RD_SCAN_ERROR ? -1 : next == RD_SCAN_STOP;
}

struct rd_list_arg {
	lock_list_cb	 cb;
	void		*arg;
};

/* Whether a KEY whose key name is of kind which (rd_key_of_used()) is
   reported by that name: by the first of lock, hd, q that exists, so
   each KEY is reported once. */
static int
rd_list_first(struct lock_redis *lr, const struct rd_keys *k, int which)
{
	const char *argv[3] = { "EXISTS", k->lock, k->hd };
	redisReply *r;
	int first;

	if (which == 0)
		return 1;
	if ((r = rd_command(lr, which + 1, argv, NULL)) == NULL)
		return -1;
	first = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
	freeReplyObject(r);
	return first;
}

/* rd_scan() callback of list(): reports one KEY in use. */
static enum rd_scan_next
rd_list_one(struct lock_redis *lr, const char *name, size_t len, void *arg)
{
	struct rd_list_arg *a = arg;
	struct lock_state st;
	struct rd_keys k;
	enum rd_scan_next next = RD_SCAN_NEXT;
	char *key;
	int which, rc;

	memset(&st, 0, sizeof(st));
	if ((key = rd_key_of_used(lr, name, len, &which)) == NULL)
		return RD_SCAN_NEXT;
	if (rd_keys_init(lr, key, &k) == -1) {
		free(key);
		return RD_SCAN_ERROR;
	}
	if ((rc = rd_list_first(lr, &k, which)) == 1)
		rc = rd_state(lr, &k, &st, 0);
	if (rc == -1) {
		/* A key the server refuses to read (a wrong type) is one
		   key; a connection gone is the whole walk. */
		if (!redis_conn_alive(&lr->cmd))
			next = RD_SCAN_ERROR;
		else {
			memset(&st, 0, sizeof(st));
			st.unreadable = lock_error(&lr->base);
			if (a->cb(a->arg, key, &st) == LOCK_WALK_STOP)
				next = RD_SCAN_STOP;
			lr->base.errclass = LOCK_ENONE;
		}
	} else if (st.nholders > 0 || st.nwaiters > 0) {
		if (a->cb(a->arg, key, &st) == LOCK_WALK_STOP)
			next = RD_SCAN_STOP;
		lock_state_free(&st);
	}
	rd_keys_free(&k);
	free(key);
	return next;
}

/* Calls cb for every key of the namespace that has holders or
   waiters; 0 or -1. */
int
redis_list(struct lock *l, lock_list_cb cb, void *arg)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_list_arg a = { cb, arg };
	char *pattern;
	int rc;

	if ((pattern = rd_pattern(lr, NULL)) == NULL)
		return -1;
	rc = rd_scan(lr, pattern, rd_list_one, &a);
	free(pattern);
	return rc;
}
