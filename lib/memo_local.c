/*
 * memo_local: the local backend's output cache, a memo_file per key
 * under the cache directory.  A commit stores the entry, then releases
 * the lock: a waiter that gets the lock finds the entry.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "local_int.h"

/* Opens the memo cache for key, creating it when create is set; 0, 1
   when it has none (create unset), or -1. */
static int
local_memo_open(struct lock_local *ll, const char *key, int create)
{
	char err[512];
	int rc;

	if (ll->cache_dir == NULL)
		return lock_seterr(&ll->base, LOCK_EINTERNAL, "no cache "
		    "directory");
	rc = memo_file_open(&ll->memo, ll->cache_dir, ll->cache_strict, key,
	    create, err, sizeof(err));
	if (rc == -1)
		return lock_seterr(&ll->base, lock_errno_class(errno,
		    LOCK_EUSAGE), "%s", err);
	return rc;
}

/* 1 hit (copied to fd), 0 miss, -1 error. */
static int
local_memo_get(struct lock *l, const struct memo_id *id, struct memo_get *g)
{
	struct lock_local *ll = (struct lock_local *)l;
	int rc;

	if ((rc = local_memo_open(ll, id->key, 0)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = memo_file_get(&ll->memo, id, g)) == -1)
		return lock_seterr(l, LOCK_EIOERR, "cannot print the cached "
		    "result: %s", strerror(errno));
	return rc;
}

/* Starts a capture for id; 0 or -1. */
static int
local_memo_begin(struct lock *l, const struct memo_id *id)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (local_memo_open(ll, id->key, 1) == -1)
		return -1;
	if (memo_file_begin(&ll->memo, id) == -1)
		return lock_seterr(l, lock_errno_class(errno,
		    LOCK_EINTERNAL), "cache: %s", strerror(errno));
	return 0;
}

/* Appends captured output; 0 or -1. */
static int
local_memo_append(struct lock *l, const void *buf, size_t len)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (memo_file_append(&ll->memo, buf, len) == -1)
		return lock_seterr(l, lock_errno_class(errno,
		    LOCK_EINTERNAL), "cache: %s", strerror(errno));
	return 0;
}

/* Publishes the capture, then releases the lock; 0 or -1. */
static int
local_memo_commit(struct lock *l, const struct memo_put *p)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (memo_file_commit(&ll->memo, p) == -1)
		return lock_seterr(l, lock_errno_class(errno,
		    LOCK_EINTERNAL), "cache: %s", strerror(errno));
	return local_release(l, 0);
}

/* Drops the capture. */
static void
local_memo_abort(struct lock *l)
{
	memo_file_abort(&((struct lock_local *)l)->memo);
}

/* Drops every cached entry of key; how many, or -1. */
static long
local_memo_forget(struct lock *l, const char *key)
{
	struct lock_local *ll = (struct lock_local *)l;
	long n;
	int rc;

	if ((rc = local_memo_open(ll, key, 0)) != 0)
		return rc == 1 ? 0 : -1;
	if ((n = memo_file_forget(&ll->memo)) == -1)
		return lock_seterr(l, lock_errno_class(errno,
		    LOCK_EINTERNAL), "cache: %s", strerror(errno));
	return n;
}

/* Calls cb for every fresh cached entry of key; 0 or -1. */
static int
local_memo_list(struct lock *l, const char *key, memo_list_cb cb, void *arg)
{
	struct lock_local *ll = (struct lock_local *)l;
	int rc;

	if ((rc = local_memo_open(ll, key, 0)) != 0)
		return rc == 1 ? 0 : -1;
	return memo_file_list(&ll->memo, cb, arg);
}

const struct memo_backend local_memo = {
	.get = local_memo_get,
	.begin = local_memo_begin,
	.append = local_memo_append,
	.commit = local_memo_commit,
	.abort = local_memo_abort,
	.forget = local_memo_forget,
	.list = local_memo_list,
};
