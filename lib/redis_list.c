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

/* rd_scan() callback of list(): reports one lock key. */
static enum rd_scan_next
rd_list_one(struct lock_redis *lr, const char *name, size_t len, void *arg)
{
	struct rd_list_arg *a = arg;
	struct lock_state st;
	struct holder h;
	enum rd_scan_next next = RD_SCAN_NEXT;
	char *key;

	if ((key = rd_key_of_lock(lr, name, len)) == NULL)
		return RD_SCAN_NEXT;
	switch (rd_status_of(lr, name, &h, NULL)) {
	case -1:
		/* A key the server refuses to read (a wrong type) is one
		   key; a connection gone is the whole walk. */
		if (!redis_conn_alive(&lr->cmd)) {
			next = RD_SCAN_ERROR;
			break;
		}
		st = (struct lock_state){ .unreadable = lock_error(&lr->base) };
		if (a->cb(a->arg, key, &st) == LOCK_WALK_STOP)
			next = RD_SCAN_STOP;
		lr->base.errclass = LOCK_ENONE;
		break;
	case 1:
		st = (struct lock_state){ .holders = &h, .nholders = 1 };
		if (a->cb(a->arg, key, &st) == LOCK_WALK_STOP)
			next = RD_SCAN_STOP;
		break;
	}
	free(key);
	return next;
}

/* Calls cb for every held key of the namespace; 0 or -1. */
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
