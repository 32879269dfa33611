/*
 * redis_memo: the Redis backend's output cache.  Output is captured with
 * APPEND into a temp key that lives as long as the lease (the heartbeat
 * renews both), then renamed into place, stamped, released and announced
 * in one script, only while the lease is ours.  A reader serves an entry
 * in chunks, each only while the entry is still the one it began with,
 * so a replaced entry is never served half old, half new; and only once
 * every byte matched the checksum stored with it (an entry too large for
 * one reply is read twice: checked, then printed).  An entry that fails
 * the check is deleted and is a miss; so is one stamped in the future
 * by the server's clock, or written by another version (meta v other
 * than 3; keylock 0.1 wrote 2).  An entry holds stdout then stderr; the
 * meta hash says how much of it is stderr and the run's exit status.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "fdio.h"
#include "redis_int.h"

#define RD_MEMO_CHUNK	(256 * 1024)	/* GETRANGE / APPEND unit */

/* KEYS: lock, tmp.  ARGV: token, ttl.  1 begun, 0 not ours. */
static struct redis_script rd_begin_script = {
	RD_LUA_OURS
	"if not ours then return 0 end\n"
	"redis.call('SET', KEYS[2], '', 'PX', ARGV[2])\n"
	"return 1\n", ""
};

/* KEYS: tmp.  ARGV: data.  New length, or -1 if the capture is gone. */
static struct redis_script rd_append_script = {
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
	"return redis.call('APPEND', KEYS[1], ARGV[1])\n", ""
};

/* KEYS: lock, tmp, data, meta, quiet, v, h, hd, q, qd, qr.  ARGV:
   token, ms to keep (ttl + stale), channel, digest, checksum, stderr
   size, exit status, flags (MEMO_*), ttl, stale, waiter channel prefix.
   1 stored and released, 0 not ours, -1 capture gone (released); 2 and
   -2 for those when the release was not announced.  The waiters whose
   turn it is are told (redis_int.h). */
static struct redis_script rd_commit_script = {
	"local KL, KV, KH, KHD, KQ, KQD, KQR = KEYS[1], KEYS[6], KEYS[7],"
	" KEYS[8], KEYS[9], KEYS[10], KEYS[11]\n"
	RD_LUA_OURS
	RD_LUA_PUB
	RD_LUA_TELL
	"if not ours then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"  return 0\n"
	"end\n"
	"local rv = -1\n"
	"if redis.call('EXISTS', KEYS[2]) == 1 then\n"
	"  redis.call('RENAME', KEYS[2], KEYS[3])\n"
	"  redis.call('PEXPIRE', KEYS[3], ARGV[2])\n"
	RD_LUA_NOW
	"  redis.call('DEL', KEYS[4])\n"
	"  redis.call('HSET', KEYS[4], 'id', ARGV[1], 'created',"
	" string.format('%.0f', now),"
	" 'size', redis.call('STRLEN', KEYS[3]), 'sum', ARGV[5],"
	" 'esize', ARGV[6], 'status', ARGV[7], 'flags', ARGV[8],"
	" 'ttl', ARGV[9], 'stale', ARGV[10], 'v', '3')\n"
	"  redis.call('PEXPIRE', KEYS[4], ARGV[2])\n"
	"  rv = 1\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"do\n"
	RD_LUA_NOW
	RD_LUA_QUEUE
	"  wake(ARGV[11])\n"
	"end\n"
	"if not tell(ARGV[3], rv == 1 and 'memo ' .. ARGV[4] or 'released',"
	" KEYS[5]) then rv = rv * 2 end\n"
	"return rv\n", ""
};

/* KEYS: data, meta.  ARGV: max age, chunk, failures (1: an entry of a
   failed run is a hit), strict (0: an entry whose TTL the command chose
   lives by it, whatever the max age), stale (ms an entry of a run that
   exited 0 may be past its TTL).  nil (miss), or {id, age, size, sum,
   stderr size, status, stale (0 or 1)[, data if size <= chunk]}.  An
   entry stamped in the future (the server's clock stepped back) is a
   miss; memo_file.c's memo_file_fresh() is the same rule. */
static struct redis_script rd_memo_get_script = {
	"local m = redis.call('HMGET', KEYS[2], 'id', 'created', 'size',"
	" 'sum', 'v', 'esize', 'status', 'flags', 'ttl', 'stale')\n"
	"if m[5] ~= '3' or not m[1] or not m[2] or not m[3] or not m[4]"
	" or not m[6] or not m[7] or not m[8] or not m[9] or not m[10]"
	" then return false end\n"
	"local status = tonumber(m[7])\n"
	"if status ~= 0 and ARGV[3] ~= '1' then return false end\n"
	RD_LUA_NOW
	"local age = now - tonumber(m[2])\n"
	"if age < 0 then return false end\n"
	"local ttl, strict = tonumber(m[9]), ARGV[4] == '1'\n"
	"local base = tonumber(ARGV[1])\n"
	"if (tonumber(m[8]) % 2 == 1 and not strict) or base > ttl then"
	" base = ttl end\n"
	"local stale = 0\n"
	"if age >= base then\n"
	"  if tonumber(ARGV[5]) > 0 and not strict and status == 0 and"
	" age < ttl + tonumber(m[10]) and age < base + tonumber(ARGV[5])"
	" then stale = 1 else return false end\n"
	"end\n"
	"local len = redis.call('STRLEN', KEYS[1])\n"
	"if len ~= tonumber(m[3]) or tonumber(m[6]) > len then"
	" return false end\n"
	"if len <= tonumber(ARGV[2]) then\n"
	"  return {m[1], age, len, m[4], tonumber(m[6]), status, stale,"
	" redis.call('GET', KEYS[1])}\n"
	"end\n"
	"return {m[1], age, len, m[4], tonumber(m[6]), status, stale}\n", ""
};

/* KEYS: data, meta.  ARGV: id.  Deletes the entry if it is still the
   one with this id. */
static struct redis_script rd_memo_drop_script = {
	"if redis.call('HGET', KEYS[2], 'id') ~= ARGV[1] then return 0 end\n"
	"return redis.call('DEL', KEYS[1], KEYS[2])\n", ""
};

/* KEYS: data, meta.  ARGV: id, start, end.  The range, or nil if the
   entry is no longer the one with this id. */
static struct redis_script rd_memo_range_script = {
	"if redis.call('HGET', KEYS[2], 'id') ~= ARGV[1] then"
	" return false end\n"
	"return redis.call('GETRANGE', KEYS[1], ARGV[2], ARGV[3])\n", ""
};

/* KEYS: meta, data.  {created, size, PTTL(data), now, stderr size,
   status, flags} or nil (none, or of another version). */
static struct redis_script rd_memo_info_script = {
	"local m = redis.call('HMGET', KEYS[1], 'created', 'size', 'v',"
	" 'esize', 'status', 'flags')\n"
	"if not m[1] or not m[2] or m[3] ~= '3' then return false end\n"
	RD_LUA_NOW
	"return {tonumber(m[1]), tonumber(m[2]), redis.call('PTTL', KEYS[2]),"
	" now, tonumber(m[4]), tonumber(m[5]), tonumber(m[6])}\n", ""
};

static void	redis_memo_abort(struct lock *);

/* Records a failed write to the output fd, keeping errno; -1. */
static int
rd_write_err(struct lock_redis *lr)
{
	int error = errno;

	lock_seterr(&lr->base, LOCK_EIOERR, "cannot print the cached result: "
	    "%s", strerror(error));
	errno = error;
	return -1;
}

/* Writes len bytes at off of an entry to g: those before split to its
   stdout, the rest to its stderr; 1, or -1 recorded. */
static int
rd_memo_write(struct lock_redis *lr, const struct memo_get *g, uint64_t split,
    uint64_t off, const char *p, size_t len)
{
	size_t n = off >= split ? 0 : split - off < len ? split - off : len;

	if (n > 0 && fdio_write_all(g->out_fd, p, n) == -1)
		return rd_write_err(lr);
	if (len > n && fdio_write_all(g->err_fd, p + n, len - n) == -1)
		return rd_write_err(lr);
	return 1;
}

/*
 * Reads entry id (size bytes) of data and meta (keys) in chunks, each
 * only while the entry is still the same one, into c (g NULL) or to g
 * (split: where stderr begins).  1 done, 0 gone before anything was
 * written, -1 error.
 */
static int
rd_memo_stream(struct lock_redis *lr, const char **keys,
    const redisReply *id, uint64_t size, struct checksum *c,
    const struct memo_get *g, uint64_t split)
{
	const char *argv[5];
	char start[24], end[24];
	uint64_t off, want;
	redisReply *r;
	int rc = 1;

	argv[0] = keys[0];
	argv[1] = keys[1];
	argv[2] = id->str;
	argv[3] = start;
	argv[4] = end;
	for (off = 0; off < size && rc == 1; off += want) {
		want = size - off < RD_MEMO_CHUNK ? size - off : RD_MEMO_CHUNK;
		snprintf(start, sizeof(start), "%" PRIu64, off);
		snprintf(end, sizeof(end), "%" PRIu64, off + want - 1);
		if ((r = rd_eval(lr, &rd_memo_range_script, 2, 5, argv,
		    NULL)) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_STRING || r->len != want)
			rc = g == NULL || off == 0 ? 0 : lock_seterr(&lr->base,
			    LOCK_EINTERNAL, "the cached result changed while "
			    "it was read");
		else if (g == NULL)
			checksum_update(c, r->str, r->len);
		else
			rc = rd_memo_write(lr, g, split, off, r->str, r->len);
		freeReplyObject(r);
	}
	return rc;
}

/* Deletes an entry that failed its check, if it is still that one;
   best effort: a miss either way. */
static int
rd_memo_drop(struct lock_redis *lr, const char **keys, const redisReply *id)
{
	const char *argv[3] = { keys[0], keys[1], id->str };
	redisReply *r;

	if ((r = rd_eval(lr, &rd_memo_drop_script, 2, 3, argv, NULL)) != NULL)
		freeReplyObject(r);
	return 0;
}

/* Checks entry r (a get script reply) against its checksum, then
   prints it to g: 1 hit, 0 miss, -1 error. */
static int
rd_memo_serve(struct lock_redis *lr, const char **keys, const redisReply *r,
    struct memo_get *g)
{
	const redisReply *id = r->element[0], *data;
	struct checksum c;
	uint64_t sum, size = (uint64_t)r->element[2]->integer, split;
	int rc;

	split = size - (uint64_t)r->element[4]->integer;
	g->status = (int)r->element[5]->integer;
	g->stale = r->element[6]->integer == 1;
	if (checksum_parse(r->element[3]->str, r->element[3]->len, &sum) == -1)
		return rd_memo_drop(lr, keys, id);
	if (r->elements > 7 && r->element[7]->type == REDIS_REPLY_STRING) {
		data = r->element[7];
		if (checksum_of(data->str, data->len) != sum)
			return rd_memo_drop(lr, keys, id);
		if (g->out_fd == -1)
			return 1;
		return rd_memo_write(lr, g, split, 0, data->str, data->len);
	}
	memset(&c, 0, sizeof(c));
	if (checksum_init(&c) == -1)
		return lock_seterr(&lr->base, LOCK_EINTERNAL, "out of memory");
	rc = rd_memo_stream(lr, keys, id, size, &c, NULL, 0);
	if (rc == 1 && checksum_value(&c) != sum)
		rc = rd_memo_drop(lr, keys, id);
	checksum_free(&c);
	if (rc != 1 || g->out_fd == -1)
		return rc;
	return rd_memo_stream(lr, keys, id, size, NULL, g, split);
}

/* Copies a fresh entry to g: 1 hit, 0 miss, -1 error. */
static int
redis_memo_get(struct lock *l, const struct memo_id *id, struct memo_get *g)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	const char *argv[7];
	char *data = NULL, *meta = NULL, age[24], chunk[24], stale[24];
	redisReply *r = NULL;
	int rc = -1;

	if (rd_keys_init(lr, id->key, &k) == -1)
		return -1;
	if ((data = rd_memo_key(lr, &k, id->digest, RD_MEMO_DATA, NULL)) ==
	    NULL || (meta = rd_memo_key(lr, &k, id->digest, RD_MEMO_META,
	    NULL)) == NULL)
		goto out;
	snprintf(age, sizeof(age), "%" PRId64, g->max_age_ms);
	snprintf(chunk, sizeof(chunk), "%d", RD_MEMO_CHUNK);
	argv[0] = data;
	argv[1] = meta;
	argv[2] = age;
	argv[3] = chunk;
	argv[4] = g->failures ? "1" : "0";
	argv[5] = g->strict ? "1" : "0";
	snprintf(stale, sizeof(stale), "%" PRId64, g->stale_ms);
	argv[6] = stale;
	if ((r = rd_eval(lr, &rd_memo_get_script, 2, 7, argv, NULL)) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 7 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_INTEGER ||
	    r->element[3]->type != REDIS_REPLY_STRING ||
	    r->element[4]->type != REDIS_REPLY_INTEGER ||
	    r->element[5]->type != REDIS_REPLY_INTEGER ||
	    r->element[6]->type != REDIS_REPLY_INTEGER) {
		rc = 0;
		goto out;
	}
	rc = rd_memo_serve(lr, argv, r, g);
out:
	if (r != NULL)
		freeReplyObject(r);
	free(data);
	free(meta);
	rd_keys_free(&k);
	return rc;
}

/* Starts capturing output for the held key, before keepalive() so the
   heartbeat renews the capture with the lease; 0 or -1. */
static int
redis_memo_begin(struct lock *l, const struct memo_id *id)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[4];
	char ttl[24];
	long long v = 0;

	if (!lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "no lock held");
	if (lr->hb.pid > 0)
		return lock_seterr(l, LOCK_EINTERNAL, "capture begun after "
		    "the heartbeat");
	if (lr->mbuf == NULL && (lr->mbuf = malloc(RD_MEMO_CHUNK)) == NULL)
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
	free(lr->tmpkey);
	if ((lr->tmpkey = rd_memo_key(lr, &lr->k, id->digest, RD_MEMO_TMP,
	    lr->token)) == NULL)
		return -1;
	snprintf(ttl, sizeof(ttl), "%" PRId64, lr->ttl_ms);
	argv[0] = lr->k.lock;
	argv[1] = lr->tmpkey;
	argv[2] = lr->token;
	argv[3] = ttl;
	if (rd_int(lr, rd_eval(lr, &rd_begin_script, 2, 4, argv, NULL),
	    &v) == -1)
		return -1;
	if (v != 1)
		return lock_seterr(l, LOCK_ELOST, "the lock on %s is no "
		    "longer ours", lr->k.key);
	memcpy(lr->digest, id->digest, sizeof(lr->digest));
	/* From here the temp key exists: abort or release drops it. */
	lr->capturing = 1;
	lr->mlen = 0;
	if (checksum_init(&lr->msum) == -1) {
		redis_memo_abort(l);
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
	}
	return 0;
}

/* Sends the buffered capture with APPEND; 0 or -1. */
static int
rd_memo_flush(struct lock_redis *lr)
{
	const char *argv[2];
	size_t argvlen[2];
	long long v = 0;

	if (lr->mlen == 0)
		return 0;
	argv[0] = lr->tmpkey;
	argvlen[0] = strlen(lr->tmpkey);
	argv[1] = lr->mbuf;
	argvlen[1] = lr->mlen;
	if (rd_int(lr, rd_eval(lr, &rd_append_script, 1, 2, argv, argvlen),
	    &v) == -1)
		return -1;
	lr->mlen = 0;
	if (v < 0)
		return lock_seterr(&lr->base, LOCK_EINTERNAL, "the capture "
		    "of %s vanished from Redis", lr->k.key);
	return 0;
}

/* Appends output, sent in RD_MEMO_CHUNK pieces; 0 or -1. */
static int
redis_memo_append(struct lock *l, const void *buf, size_t len)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *p = buf;
	size_t n;

	if (!lr->capturing)
		return lock_seterr(l, LOCK_EINTERNAL, "not capturing");
	checksum_update(&lr->msum, buf, len);
	while (len > 0) {
		n = RD_MEMO_CHUNK - lr->mlen;
		if (n > len)
			n = len;
		memcpy(lr->mbuf + lr->mlen, p, n);
		lr->mlen += n;
		p += n;
		len -= n;
		if (lr->mlen == RD_MEMO_CHUNK && rd_memo_flush(lr) == -1)
			return -1;
	}
	return 0;
}

/* Stores and releases in one script, after stopping the heartbeat; a
   vanished capture still releases. */
static int
redis_memo_commit(struct lock *l, const struct memo_put *p)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[22];
	char *data = NULL, *meta = NULL, ttl[24], sum[CHECKSUM_HEX_LEN + 1];
	char esize[24], status[24], flags[24], fresh[24], stale[24];
	long long v = 0;
	int rc = -1;

	if (!lr->held || !lr->capturing)
		return lock_seterr(l, LOCK_EINTERNAL, "not capturing");
	if (rd_memo_flush(lr) == -1)
		return -1;
	if ((data = rd_memo_key(lr, &lr->k, lr->digest, RD_MEMO_DATA,
	    NULL)) == NULL || (meta = rd_memo_key(lr, &lr->k, lr->digest,
	    RD_MEMO_META, NULL)) == NULL)
		goto out;
	heartbeat_stop(&lr->hb);
	snprintf(ttl, sizeof(ttl), "%" PRId64, p->ttl_ms + p->stale_ms);
	snprintf(fresh, sizeof(fresh), "%" PRId64, p->ttl_ms);
	snprintf(stale, sizeof(stale), "%" PRId64, p->stale_ms);
	snprintf(esize, sizeof(esize), "%" PRIu64, p->err_size);
	snprintf(status, sizeof(status), "%d", p->status);
	argv[0] = lr->k.lock;
	argv[1] = lr->tmpkey;
	argv[2] = data;
	argv[3] = meta;
	argv[4] = lr->k.quiet;
	argv[5] = lr->k.v;
	argv[6] = lr->k.h;
	argv[7] = lr->k.hd;
	argv[8] = lr->k.q;
	argv[9] = lr->k.qd;
	argv[10] = lr->k.qr;
	argv[11] = lr->token;
	argv[12] = ttl;
	argv[13] = lr->k.chan;
	argv[14] = lr->digest;
	checksum_hex(checksum_value(&lr->msum), sum);
	argv[15] = sum;
	argv[16] = esize;
	argv[17] = status;
	snprintf(flags, sizeof(flags), "%d", p->flags);
	argv[18] = flags;
	argv[19] = fresh;
	argv[20] = stale;
	argv[21] = lr->k.wchan;
	if (rd_int(lr, rd_eval(lr, &rd_commit_script, 11, 22, argv, NULL),
	    &v) == -1)
		goto out;
	if (v == 2 || v == -2) {
		rd_untold(lr);
		v /= 2;
	}
	if (v == 1)
		rc = 0;
	else if (v == 0)
		lock_seterr(l, LOCK_ELOST, "the lock on %s was no longer ours "
		    "at commit", lr->k.key);
	else
		lock_seterr(l, LOCK_EINTERNAL, "the capture of %s vanished "
		    "from Redis; nothing stored", lr->k.key);
	rd_drop_held(lr);
out:
	free(data);
	free(meta);
	return rc;
}

/* Drops the capture; the lock stays held. */
static void
redis_memo_abort(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[2];
	redisReply *r;

	if (!lr->capturing)
		return;
	lr->mlen = 0;
	/* If the DEL does not get through, capturing stays set and the
	   release script drops the temp key with the lease. */
	if (!redis_conn_idle_ok(&lr->cmd))
		return;
	argv[0] = "DEL";
	argv[1] = lr->tmpkey;
	if ((r = redis_conn_command(&lr->cmd, 2, argv, NULL,
	    rd_deadline(lr))) != NULL) {
		if (r->type == REDIS_REPLY_INTEGER)
			lr->capturing = 0;
		freeReplyObject(r);
	}
}

struct rd_memo_walk {
	struct rd_keys	 k;
	long		 entries;	/* forget: data keys deleted */
	memo_list_cb	 cb;		/* list */
	void		*arg;
};

/* rd_scan() callback of forget(): deletes one memo key of the entry. */
static enum rd_scan_next
rd_forget_one(struct lock_redis *lr, const char *name, size_t len, void *arg)
{
	struct rd_memo_walk *a = arg;
	const char *argv[2] = { "DEL", name };
	long long n = 0;

	if (rd_int(lr, rd_command(lr, 2, argv, NULL), &n) == -1)
		return RD_SCAN_ERROR;
	/* Count entries by their data keys. */
	if (n > 0 && rd_memo_part_of(&a->k, name, len) == RD_MEMO_DATA)
		a->entries++;
	return RD_SCAN_NEXT;
}

/* rd_scan() callback of list(): reports one entry by its meta key. */
static enum rd_scan_next
rd_mlist_one(struct lock_redis *lr, const char *name, size_t len, void *arg)
{
	struct rd_memo_walk *a = arg;
	struct memo_info mi;
	const char *keys[2];
	const char *digest = name + strlen(a->k.memo);
	char *data;
	redisReply *r;
	enum rd_scan_next next = RD_SCAN_NEXT;

	if (rd_memo_part_of(&a->k, name, len) != RD_MEMO_META)
		return RD_SCAN_NEXT;
	if ((data = strndup(name, (size_t)(digest - name) + DIGEST_HEX_LEN)) ==
	    NULL)
		return lock_seterr(&lr->base, LOCK_EINTERNAL,
		    "out of memory"), RD_SCAN_ERROR;
	keys[0] = name;
	keys[1] = data;
	r = rd_eval(lr, &rd_memo_info_script, 2, 2, keys, NULL);
	free(data);
	if (r == NULL && redis_conn_alive(&lr->cmd)) {
		/* Not an entry of ours (a wrong type): skip it. */
		lr->base.errclass = LOCK_ENONE;
		return RD_SCAN_NEXT;
	}
	if (r == NULL)
		return RD_SCAN_ERROR;
	/* Not one stamped in the future by a server clock set back. */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 7 &&
	    r->element[2]->integer != -2 &&
	    r->element[3]->integer >= r->element[0]->integer) {
		memset(&mi, 0, sizeof(mi));
		memcpy(mi.digest, digest, DIGEST_HEX_LEN);
		mi.age_ms = r->element[3]->integer - r->element[0]->integer;
		mi.size = (uint64_t)r->element[1]->integer;
		mi.err_size = (uint64_t)r->element[4]->integer;
		mi.status = (int)r->element[5]->integer;
		mi.flags = (int)r->element[6]->integer;
		mi.ttl_ms = r->element[2]->integer >= 0 ?
		    r->element[2]->integer : -1;
		if (a->cb(a->arg, &mi) == LOCK_WALK_STOP)
			next = RD_SCAN_STOP;
	}
	freeReplyObject(r);
	return next;
}

/* Walks every memo key of key with fn; 0 or -1. */
static int
rd_memo_walk(struct lock_redis *lr, const char *key, rd_scan_fn fn,
    struct rd_memo_walk *a)
{
	char *pattern;
	int rc = -1;

	if (rd_keys_init(lr, key, &a->k) == -1)
		return -1;
	if ((pattern = rd_pattern(lr, &a->k)) != NULL)
		rc = rd_scan(lr, pattern, fn, a);
	free(pattern);
	rd_keys_free(&a->k);
	return rc;
}

/* Drops every entry of key; number dropped, or -1. */
static long
redis_memo_forget(struct lock *l, const char *key)
{
	struct rd_memo_walk a = { .entries = 0 };

	if (rd_memo_walk((struct lock_redis *)l, key, rd_forget_one, &a) == -1)
		return -1;
	return a.entries;
}

/* Calls cb for every fresh entry of key; 0 or -1. */
static int
redis_memo_list(struct lock *l, const char *key, memo_list_cb cb, void *arg)
{
	struct rd_memo_walk a = { .cb = cb, .arg = arg };

	return rd_memo_walk((struct lock_redis *)l, key, rd_mlist_one, &a);
}

const struct memo_backend redis_memo = {
	.get = redis_memo_get,
	.begin = redis_memo_begin,
	.append = redis_memo_append,
	.commit = redis_memo_commit,
	.abort = redis_memo_abort,
	.forget = redis_memo_forget,
	.list = redis_memo_list,
};
