/*
 * lock_redis: the Redis backend.  A lease is a string key with a TTL,
 * taken, renewed, released and committed only by Lua scripts, so every
 * step is atomic on the server:
 *
 *	NS:{E}:lock			"TOKEN HOST PID SINCE_MS FENCE", PX ttl
 *	NS:{E}:fence			INCR'd on every acquisition, no TTL
 *	NS:{E}:memo:D			a cached stdout, PX memo ttl
 *	NS:{E}:memo:D:meta		hash: id, created (server ms), size, v
 *	NS:{E}:memo:D:tmp:TOKEN		output being captured, PX lease ttl
 *	channel NS:{E}:ch		"released" / "memo D" on every release
 *
 * E is keyname_redis(KEY), so all keys of one KEY share one hash tag.
 *
 * Invariants: only the holder of the token changes or deletes the lock
 * (release --force aside); a waiter subscribes before it retries, so no
 * release between its try and its sleep goes unnoticed, and it never
 * sleeps longer than the holder's PTTL, so a crashed holder is noticed
 * when its lease expires; the heartbeat is stopped before the release,
 * so no renewal lands after it; every command has a deadline.  A wait
 * rides out a server that is unreachable for less than the connect
 * timeout, and ends with EUNAVAIL, never a conflict, past that or past
 * its deadline.  An acquire whose reply was lost is not a lock held
 * against ourselves: a later try that finds our token takes the lease.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "heartbeat.h"
#include "holder.h"
#include "keyname.h"
#include "lock.h"
#include "memo.h"
#include "redis_conn.h"
#include "redis_url.h"

#define RD_MEMO_CHUNK	(256 * 1024)	/* GETRANGE / APPEND unit */
#define RD_SCAN_COUNT	"1000"
#define RD_BACKOFF_MIN	100
#define RD_BACKOFF_MAX	2000

/* The names of one KEY's keys. */
struct rd_keys {
	char	*key;		/* KEY itself, for messages */
	char	*e;		/* keyname_redis(KEY) */
	char	*lock;
	char	*fence;
	char	*chan;
	char	*memo;		/* NS:{E}:memo: */
};

struct lock_redis {
	struct lock		 base;
	const struct redis_url	*url;
	struct redis_addr	 addr;		/* url's, resolved once */
	char			*ns;
	int64_t			 connect_timeout_ms;
	int64_t			 ttl_ms;
	struct redis_conn	 cmd;
	struct redis_conn	 sub;
	uint32_t		 seed;		/* jitter */

	int			 held;
	int			 tried_blind;	/* an acquire got no reply */
	struct rd_keys		 k;		/* of the held key */
	char			 token[HOLDER_TOKEN_LEN + 1];
	int64_t			 valid_from;	/* send time of the acquire,
						   heartbeat_clock_ms() */
	struct heartbeat	 hb;

	int			 capturing;
	char			 digest[65];
	char			*tmpkey;
	char			*mbuf;
	size_t			 mlen;
};

/* KEYS: lock, fence.  ARGV: value without fence, ttl.
   {1, fence} taken; {0, PTTL, value} held by someone. */
static struct redis_script rd_acquire_script = {
	"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  return {0, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[1])}\n"
	"end\n"
	"local f = redis.call('INCR', KEYS[2])\n"
	"redis.call('SET', KEYS[1], ARGV[1] .. f, 'PX', ARGV[2])\n"
	"return {1, f}\n", ""
};

/* KEYS: lock [tmp].  ARGV: token, channel.  1 released, 0 not ours. */
static struct redis_script rd_release_script = {
	"if KEYS[2] then redis.call('DEL', KEYS[2]) end\n"
	"local v = redis.call('GET', KEYS[1])\n"
	"if not v or string.sub(v, 1, 32) ~= ARGV[1] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('PUBLISH', ARGV[2], 'released')\n"
	"return 1\n", ""
};

/* KEYS: lock.  {value or nil, PTTL}. */
static struct redis_script rd_status_script = {
	"return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}\n",
	""
};

/* KEYS: lock.  ARGV: channel.  Number deleted. */
static struct redis_script rd_force_script = {
	"local n = redis.call('DEL', KEYS[1])\n"
	"if n == 1 then redis.call('PUBLISH', ARGV[1], 'released') end\n"
	"return n\n", ""
};

/* KEYS: lock, tmp.  ARGV: token, ttl.  1 begun, 0 not ours. */
static struct redis_script rd_begin_script = {
	"local v = redis.call('GET', KEYS[1])\n"
	"if not v or string.sub(v, 1, 32) ~= ARGV[1] then return 0 end\n"
	"redis.call('SET', KEYS[2], '', 'PX', ARGV[2])\n"
	"return 1\n", ""
};

/* KEYS: tmp.  ARGV: data.  New length, or -1 if the capture is gone. */
static struct redis_script rd_append_script = {
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
	"return redis.call('APPEND', KEYS[1], ARGV[1])\n", ""
};

/* KEYS: lock, tmp, data, meta.  ARGV: token, memo ttl, channel, digest.
   1 stored and released, 0 not ours, -1 capture gone (released). */
static struct redis_script rd_commit_script = {
	"local v = redis.call('GET', KEYS[1])\n"
	"if not v or string.sub(v, 1, 32) ~= ARGV[1] then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"  return 0\n"
	"end\n"
	"local rv = -1\n"
	"if redis.call('EXISTS', KEYS[2]) == 1 then\n"
	"  redis.call('RENAME', KEYS[2], KEYS[3])\n"
	"  redis.call('PEXPIRE', KEYS[3], ARGV[2])\n"
	"  local t = redis.call('TIME')\n"
	"  local now = string.format('%.0f', t[1] * 1000 +"
	" math.floor(t[2] / 1000))\n"
	"  redis.call('DEL', KEYS[4])\n"
	"  redis.call('HSET', KEYS[4], 'id', ARGV[1], 'created', now,"
	" 'size', redis.call('STRLEN', KEYS[3]), 'v', '1')\n"
	"  redis.call('PEXPIRE', KEYS[4], ARGV[2])\n"
	"  rv = 1\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('PUBLISH', ARGV[3], rv == 1 and 'memo ' .. ARGV[4] or"
	" 'released')\n"
	"return rv\n", ""
};

/* KEYS: data, meta.  ARGV: max age, chunk.  nil (miss), or
   {id, age, size[, data if size <= chunk]}. */
static struct redis_script rd_memo_get_script = {
	"local m = redis.call('HMGET', KEYS[2], 'id', 'created', 'size')\n"
	"if not m[1] or not m[2] or not m[3] then return false end\n"
	"local t = redis.call('TIME')\n"
	"local age = t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(m[2])\n"
	"if age >= tonumber(ARGV[1]) then return false end\n"
	"local len = redis.call('STRLEN', KEYS[1])\n"
	"if len ~= tonumber(m[3]) then return false end\n"
	"if len <= tonumber(ARGV[2]) then\n"
	"  return {m[1], age, len, redis.call('GET', KEYS[1])}\n"
	"end\n"
	"return {m[1], age, len}\n", ""
};

/* KEYS: data, meta.  ARGV: id, start, end.  The range, or nil if the
   entry is no longer the one with this id. */
static struct redis_script rd_memo_range_script = {
	"if redis.call('HGET', KEYS[2], 'id') ~= ARGV[1] then"
	" return false end\n"
	"return redis.call('GETRANGE', KEYS[1], ARGV[2], ARGV[3])\n", ""
};

/* KEYS: meta, data.  {created, size, PTTL(data), now} or nil. */
static struct redis_script rd_memo_info_script = {
	"local m = redis.call('HMGET', KEYS[1], 'created', 'size')\n"
	"if not m[1] or not m[2] then return false end\n"
	"local t = redis.call('TIME')\n"
	"return {tonumber(m[1]), tonumber(m[2]), redis.call('PTTL', KEYS[2]),"
	" t[1] * 1000 + math.floor(t[2] / 1000)}\n", ""
};

/* Frees the names in k. */
static void
rd_keys_free(struct rd_keys *k)
{
	free(k->key);
	free(k->e);
	free(k->lock);
	free(k->fence);
	free(k->chan);
	free(k->memo);
	memset(k, 0, sizeof(*k));
}

/* Builds the key names of key; 0, or -1 with the reason recorded. */
static int
rd_keys_init(struct lock_redis *lr, const char *key, struct rd_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (*key == '\0')
		return lock_seterr(&lr->base, LOCK_EUSAGE, "empty key");
	if ((k->key = strdup(key)) == NULL ||
	    (k->e = keyname_redis(key)) == NULL ||
	    asprintf(&k->lock, "%s:{%s}:lock", lr->ns, k->e) == -1 ||
	    asprintf(&k->fence, "%s:{%s}:fence", lr->ns, k->e) == -1 ||
	    asprintf(&k->chan, "%s:{%s}:ch", lr->ns, k->e) == -1 ||
	    asprintf(&k->memo, "%s:{%s}:memo:", lr->ns, k->e) == -1) {
		/* asprintf leaves its pointer undefined on failure. */
		rd_keys_free(k);
		return lock_seterr(&lr->base, LOCK_EINTERNAL,
		    "out of memory");
	}
	return 0;
}

/* Returns a malloc'd copy of s with the glob characters escaped. */
static char *
rd_glob_escape(const char *s)
{
	char *out, *q;

	if ((out = q = malloc(strlen(s) * 2 + 1)) == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			*q++ = '\\';
		*q++ = *s;
	}
	*q = '\0';
	return out;
}

/* A deadline one command timeout from now. */
static int64_t
rd_deadline(const struct lock_redis *lr)
{
	return clock_mono_ms() + lr->connect_timeout_ms;
}

/* Makes sure the command connection is up; 0, or -1 (EUNAVAIL). */
static int
rd_ensure(struct lock_redis *lr)
{
	/* A server that closed an idle connection is reconnected once. */
	if (redis_conn_idle_ok(&lr->cmd))
		return 0;
	if (redis_conn_connect(&lr->cmd, rd_deadline(lr)) == -1)
		return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s",
		    lr->cmd.err);
	return 0;
}

/*
 * Runs a script on the command connection.  Returns the reply, or NULL
 * with the reason recorded: EUNAVAIL for a dead connection or an error
 * reply, the server's refusal being as fatal as its absence.
 */
static redisReply *
rd_eval(struct lock_redis *lr, struct redis_script *s, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
{
	redisReply *r;

	if (rd_ensure(lr) == -1)
		return NULL;
	r = redis_conn_eval(&lr->cmd, s, nkeys, argc, argv, argvlen,
	    rd_deadline(lr));
	if (r == NULL) {
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s", lr->cmd.err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "redis %s: %.300s",
		    lr->url->display, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* The integer a script returned, or -1 with the reason recorded. */
static int
rd_int(struct lock_redis *lr, redisReply *r, long long *v)
{
	int rc = 0;

	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		*v = r->integer;
	else
		rc = lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: "
		    "unexpected reply", lr->url->display);
	freeReplyObject(r);
	return rc;
}

/* Makes h the placeholder of a holder not known. */
static void
rd_unknown(struct holder *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->token, "?");
	strcpy(h->host, "?");
}

/* Fills h from a lock value reply (or leaves a placeholder). */
static void
rd_holder(const redisReply *v, int64_t pttl, struct holder *h)
{
	if (v == NULL || v->type != REDIS_REPLY_STRING ||
	    holder_parse(v->str, v->len, h) == -1)
		rd_unknown(h);
	h->ttl_ms = pttl;
}

/* Allocates a context; NULL only when out of memory. */
static struct lock *
redis_open(const struct lock_opts *o)
{
	struct lock_redis *lr;

	if ((lr = calloc(1, sizeof(*lr))) == NULL)
		return NULL;
	lr->base.be = &lock_redis_backend;
	lr->url = o->url;
	if ((lr->ns = strdup(o->ns != NULL ? o->ns : "keylock")) == NULL) {
		free(lr);
		return NULL;
	}
	lr->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : 2000;
	lr->ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : 30000;
	lr->seed = (uint32_t)getpid() ^ (uint32_t)clock_mono_ms();
	heartbeat_init(&lr->hb);
	redis_conn_init(&lr->cmd, lr->url, &lr->addr);
	redis_conn_init(&lr->sub, lr->url, &lr->addr);
	return &lr->base;
}

/* Connects the command connection; 0, or -1 (EUSAGE, EUNAVAIL). */
static int
redis_connect(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;

	if (lr->url == NULL)
		return lock_seterr(l, LOCK_EUSAGE, "no Redis URL");
	if (lr->ns[0] == '\0' || strpbrk(lr->ns, "{}") != NULL)
		return lock_seterr(l, LOCK_EUSAGE, "bad namespace '%s': must "
		    "be non-empty without '{' or '}'", lr->ns);
	if (redis_conn_connect(&lr->cmd, rd_deadline(lr)) == -1)
		return lock_seterr(l, LOCK_EUNAVAIL, "%s", lr->cmd.err);
	return 0;
}

/*
 * Takes as ours a lease that holds our token: an earlier try ran on the
 * server but its reply was lost.  Fence and since are the stored ones;
 * the server had pttl left after this try was sent at t_send, so the
 * lease is valid until at least t_send + pttl.  LOCK_ACQUIRED.
 */
static int
rd_adopt(struct lock_redis *lr, struct holder *self, const struct holder *h,
    int64_t pttl, int64_t t_send)
{
	if (pttl < 0 || pttl > lr->ttl_ms)
		pttl = pttl < 0 ? 0 : lr->ttl_ms;
	self->fence = h->fence;
	self->since_ms = h->since_ms;
	lr->valid_from = t_send + pttl - lr->ttl_ms;
	return LOCK_ACQUIRED;
}

/*
 * One try: LOCK_ACQUIRED (self's fence set), LOCK_BUSY (h and *pttl
 * set), or LOCK_ERROR.  The value carries the time of this try as since.
 */
static int
rd_try(struct lock_redis *lr, const struct rd_keys *k, struct holder *self,
    struct holder *h, int64_t *pttl)
{
	const char *argv[4];
	char prefix[HOLDER_RECORD_MAX + 1], ttl[24], *sp;
	redisReply *r;
	int64_t t_send;
	int rc = LOCK_ERROR;

	/* The script appends the fence to "TOKEN HOST PID SINCE ". */
	self->since_ms = clock_wall_ms();
	self->fence = 0;
	holder_format(self, prefix, sizeof(prefix));
	if ((sp = strrchr(prefix, ' ')) != NULL)
		sp[1] = '\0';
	snprintf(ttl, sizeof(ttl), "%" PRId64, lr->ttl_ms);
	argv[0] = k->lock;
	argv[1] = k->fence;
	argv[2] = prefix;
	argv[3] = ttl;
	if (rd_ensure(lr) == -1)
		return LOCK_ERROR;		/* nothing was sent */
	t_send = heartbeat_clock_ms();
	if ((r = rd_eval(lr, &rd_acquire_script, 2, 4, argv, NULL)) == NULL) {
		lr->tried_blind = 1;	/* it may have taken the lease */
		return LOCK_ERROR;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: unexpected "
		    "reply to the acquire script", lr->url->display);
	} else if (r->element[0]->integer == 1) {
		self->fence = (uint64_t)r->element[1]->integer;
		lr->valid_from = t_send;
		rc = LOCK_ACQUIRED;
	} else {
		*pttl = r->element[1]->integer;
		rd_holder(r->elements > 2 ? r->element[2] : NULL, *pttl, h);
		rc = strcmp(h->token, self->token) == 0 ?
		    rd_adopt(lr, self, h, *pttl, t_send) : LOCK_BUSY;
	}
	freeReplyObject(r);
	return rc;
}

/* Connects the sub connection and subscribes to k's channel; 0, or -1
   with the reason recorded (EUNAVAIL). */
static int
rd_subscribe(struct lock_redis *lr, const struct rd_keys *k)
{
	const char *argv[2];
	redisReply *r;
	int ok;

	if (redis_conn_connect(&lr->sub, rd_deadline(lr)) == -1)
		goto fail;
	argv[0] = "SUBSCRIBE";
	argv[1] = k->chan;
	/* The confirmation orders our next try after the subscription. */
	r = redis_conn_command(&lr->sub, 2, argv, NULL, rd_deadline(lr));
	if (r == NULL)
		goto fail;
	ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "subscribe") == 0;
	freeReplyObject(r);
	if (!ok) {
		redis_conn_close(&lr->sub);
		redis_conn_seterr(&lr->sub, "SUBSCRIBE failed");
		goto fail;
	}
	return 0;
fail:
	return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s", lr->sub.err);
}

/* Drops the messages that arrived; 0, or -1 if the connection died. */
static int
rd_drain(struct lock_redis *lr)
{
	redisReply *r;
	int rc;

	while ((rc = redis_conn_poll_reply(&lr->sub, &r)) == 1)
		freeReplyObject(r);
	return rc;
}

/* Milliseconds of jitter in [5, 50], so waiters do not wake in step. */
static int64_t
rd_jitter(struct lock_redis *lr)
{
	lr->seed ^= lr->seed << 13;
	lr->seed ^= lr->seed >> 17;
	lr->seed ^= lr->seed << 5;
	return 5 + lr->seed % 46;
}

/* The earliest of the wait's wake-up times. */
static int64_t
rd_wake(struct lock_redis *lr, const struct lock_wait *w, int notified,
    int64_t pttl, int64_t retry_sub, int64_t down_since)
{
	int64_t until, now = clock_mono_ms();

	until = now + (pttl >= 0 ? pttl : lr->ttl_ms) + rd_jitter(lr);
	if (w->deadline < until)
		until = w->deadline;
	if (!notified && w->notify_after < until)
		until = w->notify_after;
	if (!redis_conn_alive(&lr->sub) && retry_sub < until)
		until = retry_sub;
	/* One last try when an outage reaches the connect timeout. */
	if (down_since >= 0 && down_since + lr->connect_timeout_ms < until)
		until = down_since + lr->connect_timeout_ms;
	return until;
}

/*
 * Notes a failed contact with the server (reason recorded) in
 * *down_since, the start of the outage or -1.  Nonzero once the outage
 * has lasted the connect timeout or reached the wait's deadline: the
 * server counts as unreachable.
 */
static int
rd_down(struct lock_redis *lr, const struct lock_wait *w,
    int64_t *down_since)
{
	int64_t now = clock_mono_ms();

	if (*down_since < 0)
		*down_since = now;
	return now - *down_since >= lr->connect_timeout_ms ||
	    now >= w->deadline;
}

/* Sleeps in poll() on the subscription and w->sigfd until the next
   wake-up; 1 interrupted by a signal, 0, or -1 (reason recorded). */
static int
rd_sleep(struct lock_redis *lr, const struct lock_wait *w, int64_t until,
    int64_t *retry_sub)
{
	struct pollfd pfd[2];
	int n = 0;

	if (redis_conn_alive(&lr->sub))
		pfd[n++] = (struct pollfd){ redis_conn_fd(&lr->sub), POLLIN, 0 };
	if (w->sigfd >= 0)
		pfd[n++] = (struct pollfd){ w->sigfd, POLLIN, 0 };
	if (poll(pfd, n, clock_poll_timeout(until)) == -1) {
		if (errno == EINTR)
			return 0;
		return lock_seterr(&lr->base, LOCK_EINTERNAL, "poll: %s",
		    strerror(errno));
	}
	if (w->sigfd >= 0 && pfd[n - 1].revents != 0)
		return 1;
	if (redis_conn_alive(&lr->sub) && pfd[0].revents != 0 &&
	    rd_drain(lr) == -1)
		*retry_sub = 0;
	return 0;
}

/*
 * Waits for k after a busy try (or one that lost the server, when
 * down_since >= 0): sleeps until a release message, the holder's PTTL
 * or the deadline, then tries again.  A lost server is looked for again
 * with back-off; once unreachable for the connect timeout, or at the
 * deadline, the wait ends in LOCK_ERROR (EUNAVAIL).  A lock_result.
 */
static int
rd_wait(struct lock_redis *lr, const struct rd_keys *k, struct lock_wait *w,
    struct holder *self, struct holder *h, int64_t pttl, int64_t down_since)
{
	int64_t now, retry_sub = 0, backoff = RD_BACKOFF_MIN;
	int notified = w->notify == NULL, rc;

	for (;;) {
		now = clock_mono_ms();
		if (!notified && now >= w->notify_after) {
			notified = 1;
			w->notify(w->arg, h->token[0] != '?' ? h : NULL);
		}
		if (now >= w->deadline)
			return down_since >= 0 ? LOCK_ERROR : LOCK_BUSY;
		if (!redis_conn_alive(&lr->sub) && now >= retry_sub) {
			if (rd_subscribe(lr, k) == 0)
				backoff = RD_BACKOFF_MIN;
			else {
				if (rd_down(lr, w, &down_since))
					return LOCK_ERROR;
				retry_sub = now + backoff;
				backoff = backoff * 2 < RD_BACKOFF_MAX ?
				    backoff * 2 : RD_BACKOFF_MAX;
			}
		} else {
			rc = rd_sleep(lr, w, rd_wake(lr, w, notified, pttl,
			    retry_sub, down_since), &retry_sub);
			if (rc == -1)
				return LOCK_ERROR;
			if (rc == 1)
				return LOCK_INTERRUPTED;
		}
		rc = rd_try(lr, k, self, h, &pttl);
		if (rc != LOCK_ERROR) {
			if (rc == LOCK_ACQUIRED)
				return rc;
			down_since = -1;
			continue;
		}
		/* A refusal is final; a lost server is looked for again. */
		if (redis_conn_alive(&lr->cmd) || rd_down(lr, w, &down_since))
			return LOCK_ERROR;
		pttl = backoff;
		rd_unknown(h);
	}
}

/*
 * Giving up after an acquire whose reply never came: it may have taken
 * the lease, which would then block everyone for a whole TTL.  Deletes
 * it if it holds our token, on a fresh connection; best effort, the
 * recorded error stays.
 */
static void
rd_unblind(struct lock_redis *lr, const struct rd_keys *k, const char *token)
{
	enum lock_errclass c = lr->base.errclass;
	char msg[sizeof(lr->base.errmsg)];
	const char *argv[3];
	redisReply *r;

	memcpy(msg, lr->base.errmsg, sizeof(msg));
	redis_conn_close(&lr->cmd);
	argv[0] = k->lock;
	argv[1] = token;
	argv[2] = k->chan;
	if ((r = rd_eval(lr, &rd_release_script, 1, 3, argv, NULL)) != NULL)
		freeReplyObject(r);
	lr->base.errclass = c;
	memcpy(lr->base.errmsg, msg, sizeof(msg));
}

/* Takes key for self (filled with token and fence); a lock_result. */
static int
redis_acquire(struct lock *l, const char *key, struct lock_wait *w,
    struct holder *self)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	struct holder h;
	int64_t pttl = -1;
	int rc;

	if (lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "a lock is already "
		    "held"), LOCK_ERROR;
	if (rd_keys_init(lr, key, &k) == -1)
		return LOCK_ERROR;
	lr->tried_blind = 0;
	if (holder_new_token(self) == -1) {
		lock_seterr(l, LOCK_EINTERNAL, "getrandom: %s",
		    strerror(errno));
		rc = LOCK_ERROR;
		goto out;
	}
	rc = rd_try(lr, &k, self, &h, &pttl);
	if (rc == LOCK_ERROR && !redis_conn_alive(&lr->cmd) &&
	    w->deadline > clock_mono_ms()) {
		/* Lost the server (or the reply) on the first try. */
		rd_unknown(&h);
		rc = rd_wait(lr, &k, w, self, &h, RD_BACKOFF_MIN,
		    clock_mono_ms());
	} else if (rc == LOCK_BUSY) {
		if (w->deadline <= clock_mono_ms()) {
			if (w->notify != NULL &&
			    clock_mono_ms() >= w->notify_after)
				w->notify(w->arg, h.token[0] != '?' ? &h :
				    NULL);
		} else
			rc = rd_wait(lr, &k, w, self, &h, pttl, -1);
	}
	redis_conn_close(&lr->sub);
out:
	if (rc != LOCK_ACQUIRED && lr->tried_blind)
		rd_unblind(lr, &k, self->token);
	if (rc != LOCK_ACQUIRED) {
		rd_keys_free(&k);
		return rc;
	}
	lr->k = k;
	lr->held = 1;
	memcpy(lr->token, self->token, sizeof(lr->token));
	self->ttl_ms = lr->ttl_ms;
	return LOCK_ACQUIRED;
}

/* Forks the heartbeat; the lost fd, or -2 with the reason recorded. */
static int
redis_keepalive(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct heartbeat_conf c;

	if (!lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "no lock held"), -2;
	if (lr->hb.pid > 0)
		return lr->hb.lost_r;
	/* A pause since the acquire may have outlasted the lease. */
	if (heartbeat_clock_ms() >= heartbeat_valid_until(lr->valid_from,
	    lr->ttl_ms))
		return lock_seterr(l, LOCK_ELOST, "the lease on %s ran out "
		    "before the command started", lr->k.key), -2;
	heartbeat_close(&lr->hb);
	memset(&c, 0, sizeof(c));
	c.url = lr->url;
	c.addr = &lr->addr;
	c.connect_timeout_ms = lr->connect_timeout_ms;
	c.ttl_ms = lr->ttl_ms;
	c.lock_key = lr->k.lock;
	c.memo_prefix = lr->k.memo;
	c.token = lr->token;
	c.memo_digest = lr->capturing ? lr->digest : NULL;
	c.valid_from = lr->valid_from;
	if (heartbeat_start(&lr->hb, &c) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "heartbeat: %s",
		    strerror(errno)), -2;
	return lr->hb.lost_r;
}

/* Forgets the held lock and any capture locally. */
static void
rd_drop_held(struct lock_redis *lr)
{
	lr->held = 0;
	lr->capturing = 0;
	lr->mlen = 0;
	free(lr->tmpkey);
	lr->tmpkey = NULL;
	rd_keys_free(&lr->k);
}

/* Releases the held key; 0, or -1 (ELOST: not ours, EUNAVAIL). */
static int
redis_release(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[4];
	long long v = 0;
	int n = 0, rc = 0;

	if (!lr->held)
		return 0;
	heartbeat_stop(&lr->hb);
	argv[n++] = lr->k.lock;
	if (lr->capturing)
		argv[n++] = lr->tmpkey;
	argv[n++] = lr->token;
	argv[n++] = lr->k.chan;
	if (rd_int(lr, rd_eval(lr, &rd_release_script, n - 2, n, argv,
	    NULL), &v) == -1)
		rc = -1;
	else if (v != 1)
		rc = lock_seterr(l, LOCK_ELOST, "the lock on %s was no "
		    "longer ours at release", lr->k.key);
	rd_drop_held(lr);
	return rc;
}

/* 1 held (h filled), 0 free, -1 error.  Never takes the lock. */
static int
rd_status_of(struct lock_redis *lr, const char *lockkey, struct holder *h)
{
	redisReply *r;
	int rc;

	if ((r = rd_eval(lr, &rd_status_script, 1, 1, &lockkey, NULL)) ==
	    NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		rc = lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: "
		    "unexpected reply", lr->url->display);
	else if (r->element[0]->type != REDIS_REPLY_STRING)
		rc = 0;
	else {
		rd_holder(r->element[0], r->elements > 1 &&
		    r->element[1]->type == REDIS_REPLY_INTEGER ?
		    r->element[1]->integer : -1, h);
		rc = 1;
	}
	freeReplyObject(r);
	return rc;
}

/* 1 held (h filled), 0 free, -1 error.  Never takes the lock. */
static int
redis_status(struct lock *l, const char *key, struct holder *h)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	int rc;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	rc = rd_status_of(lr, k.lock, h);
	rd_keys_free(&k);
	return rc;
}

/*
 * Walks the keys matching pattern with SCAN (never KEYS), calling fn
 * for each; fn returns -1 to stop.  0, or -1 with the reason recorded.
 */
static int
rd_scan(struct lock_redis *lr, const char *pattern,
    int (*fn)(struct lock_redis *, const redisReply *, void *), void *arg)
{
	const char *argv[6];
	char cursor[32] = "0";
	redisReply *r, *keys;
	size_t i;
	int rc = 0, stop = 0;

	do {
		argv[0] = "SCAN";
		argv[1] = cursor;
		argv[2] = "MATCH";
		argv[3] = pattern;
		argv[4] = "COUNT";
		argv[5] = RD_SCAN_COUNT;
		if (rd_ensure(lr) == -1)
			return -1;
		r = redis_conn_command(&lr->cmd, 6, argv, NULL,
		    rd_deadline(lr));
		if (r == NULL)
			return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s",
			    lr->cmd.err);
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = lock_seterr(&lr->base, LOCK_EUNAVAIL, "redis %s: "
			    "SCAN failed: %.200s", lr->url->display,
			    r->type == REDIS_REPLY_ERROR ? r->str :
			    "unexpected reply");
			freeReplyObject(r);
			return rc;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		keys = r->element[1];
		for (i = 0; i < keys->elements && !stop && rc == 0; i++) {
			if (keys->element[i]->type != REDIS_REPLY_STRING)
				continue;
			switch (fn(lr, keys->element[i], arg)) {
			case -1:
				stop = 1;
				break;
			case -2:
				rc = -1;
				break;
			}
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0 && !stop && rc == 0);
	return rc;
}

struct rd_list_arg {
	size_t		 nslen;
	lock_list_cb	 cb;
	void		*arg;
};

/* rd_scan() callback of list(): reports one lock key. */
static int
rd_list_one(struct lock_redis *lr, const redisReply *key, void *arg)
{
	struct rd_list_arg *a = arg;
	struct holder h;
	char *name;
	size_t elen;
	int rc;

	/* "NS:{" E "}:lock", and E never holds a brace. */
	if (key->len < a->nslen + 8)
		return 0;
	elen = key->len - a->nslen - 8;
	if (memchr(key->str + a->nslen + 2, '{', elen) != NULL ||
	    memchr(key->str + a->nslen + 2, '}', elen) != NULL)
		return 0;	/* a longer namespace that starts like ours */
	if ((name = keyname_unredis(key->str + a->nslen + 2, elen)) == NULL)
		return 0;
	switch (rd_status_of(lr, key->str, &h)) {
	case -1:
		rc = -2;
		break;
	case 1:
		rc = a->cb(a->arg, name, &h) == -1 ? -1 : 0;
		break;
	default:
		rc = 0;
	}
	free(name);
	return rc;
}

/* Calls cb for every held key of the namespace; 0 or -1. */
static int
redis_list(struct lock *l, lock_list_cb cb, void *arg)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_list_arg a;
	char *ens, *pattern = NULL;
	int rc;

	a.nslen = strlen(lr->ns);
	a.cb = cb;
	a.arg = arg;
	if ((ens = rd_glob_escape(lr->ns)) == NULL ||
	    asprintf(&pattern, "%s:{*}:lock", ens) == -1) {
		free(ens);
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
	}
	rc = rd_scan(lr, pattern, rd_list_one, &a);
	free(ens);
	free(pattern);
	return rc;
}

/* Deletes key's lock whoever holds it; 1 deleted, 0 none, -1. */
static int
redis_force_release(struct lock *l, const char *key)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	const char *argv[2];
	long long v = 0;
	int rc;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	argv[0] = k.lock;
	argv[1] = k.chan;
	rc = rd_int(lr, rd_eval(lr, &rd_force_script, 1, 2, argv, NULL),
	    &v);
	rd_keys_free(&k);
	return rc == -1 ? -1 : v > 0;
}

/* Records a failed write to the output fd, keeping errno; -1. */
static int
rd_write_err(struct lock_redis *lr)
{
	int error = errno;

	lock_seterr(&lr->base, LOCK_EINTERNAL, "write: %s", strerror(error));
	errno = error;
	return -1;
}

/*
 * Streams the rest of entry id (size bytes, from byte off) to fd in
 * chunks; each chunk is served only while the entry is still the same
 * one.  1 done, 0 gone before anything was written, -1 error.
 */
static int
rd_memo_stream(struct lock_redis *lr, const char **keys,
    const redisReply *id, uint64_t size, int fd)
{
	const char *argv[5];
	char start[24], end[24];
	uint64_t off, want;
	redisReply *r;

	argv[0] = keys[0];
	argv[1] = keys[1];
	argv[2] = id->str;
	argv[3] = start;
	argv[4] = end;
	for (off = 0; off < size; off += want) {
		want = size - off < RD_MEMO_CHUNK ? size - off : RD_MEMO_CHUNK;
		snprintf(start, sizeof(start), "%" PRIu64, off);
		snprintf(end, sizeof(end), "%" PRIu64, off + want - 1);
		if ((r = rd_eval(lr, &rd_memo_range_script, 2, 5, argv,
		    NULL)) == NULL)
			return -1;
		if (r->type != REDIS_REPLY_STRING || r->len != want) {
			freeReplyObject(r);
			if (off == 0)
				return 0;
			return lock_seterr(&lr->base, LOCK_EINTERNAL,
			    "the cached result changed while it was read");
		}
		if (fdio_write_all(fd, r->str, r->len) == -1) {
			freeReplyObject(r);
			return rd_write_err(lr);
		}
		freeReplyObject(r);
	}
	return 1;
}

/* Copies a fresh entry to fd: 1 hit, 0 miss, -1 error. */
static int
redis_memo_get(struct lock *l, const struct memo_id *id, int64_t max_age_ms,
    int fd)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	const char *argv[4];
	char *data = NULL, *meta = NULL, age[24], chunk[24];
	redisReply *r = NULL;
	int rc = -1;

	if (rd_keys_init(lr, id->key, &k) == -1)
		return -1;
	if (asprintf(&data, "%s%s", k.memo, id->digest) == -1 ||
	    asprintf(&meta, "%s%s:meta", k.memo, id->digest) == -1) {
		data = meta = NULL;
		lock_seterr(l, LOCK_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(age, sizeof(age), "%" PRId64, max_age_ms);
	snprintf(chunk, sizeof(chunk), "%d", RD_MEMO_CHUNK);
	argv[0] = data;
	argv[1] = meta;
	argv[2] = age;
	argv[3] = chunk;
	if ((r = rd_eval(lr, &rd_memo_get_script, 2, 4, argv, NULL)) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_INTEGER) {
		rc = 0;
		goto out;
	}
	if (r->elements > 3 && r->element[3]->type == REDIS_REPLY_STRING)
		rc = fdio_write_all(fd, r->element[3]->str,
		    r->element[3]->len) == -1 ? rd_write_err(lr) : 1;
	else
		rc = rd_memo_stream(lr, argv, r->element[0],
		    (uint64_t)r->element[2]->integer, fd);
out:
	if (r != NULL)
		freeReplyObject(r);
	free(data);
	free(meta);
	rd_keys_free(&k);
	return rc;
}

static void	redis_memo_abort(struct lock *);

/* Starts capturing output for the held key; 0 or -1. */
static int
redis_memo_begin(struct lock *l, const struct memo_id *id)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[4];
	char ttl[24];
	long long v = 0;
	int e;

	if (!lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "no lock held");
	if (lr->mbuf == NULL && (lr->mbuf = malloc(RD_MEMO_CHUNK)) == NULL)
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
	free(lr->tmpkey);
	if (asprintf(&lr->tmpkey, "%s%s:tmp:%s", lr->k.memo, id->digest,
	    lr->token) == -1) {
		lr->tmpkey = NULL;
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
	}
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
	/* The temp key lives as long as the lease: renewed with it. */
	if (lr->hb.pid > 0 && heartbeat_memo(&lr->hb, lr->digest) == -1) {
		e = errno;
		redis_memo_abort(l);
		return lock_seterr(l, LOCK_EINTERNAL, "heartbeat: %s",
		    strerror(e));
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

/*
 * Stores the capture for ttl_ms and releases the lock in one script,
 * after stopping the heartbeat; 0, or -1 (ELOST when the lease was
 * lost; a vanished capture still releases).
 */
static int
redis_memo_commit(struct lock *l, int64_t ttl_ms)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[8];
	char *data = NULL, *meta = NULL, ttl[24];
	long long v = 0;
	int rc = -1;

	if (!lr->held || !lr->capturing)
		return lock_seterr(l, LOCK_EINTERNAL, "not capturing");
	if (rd_memo_flush(lr) == -1)
		return -1;
	if (asprintf(&data, "%s%s", lr->k.memo, lr->digest) == -1 ||
	    asprintf(&meta, "%s%s:meta", lr->k.memo, lr->digest) == -1) {
		data = meta = NULL;
		lock_seterr(l, LOCK_EINTERNAL, "out of memory");
		goto out;
	}
	heartbeat_stop(&lr->hb);
	snprintf(ttl, sizeof(ttl), "%" PRId64, ttl_ms);
	argv[0] = lr->k.lock;
	argv[1] = lr->tmpkey;
	argv[2] = data;
	argv[3] = meta;
	argv[4] = lr->token;
	argv[5] = ttl;
	argv[6] = lr->k.chan;
	argv[7] = lr->digest;
	if (rd_int(lr, rd_eval(lr, &rd_commit_script, 4, 8, argv, NULL),
	    &v) == -1)
		goto out;
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

struct rd_forget_arg {
	size_t	 plen;		/* of NS:{E}:memo: */
	long	 entries;
};

/* rd_scan() callback of memo_forget(): deletes one memo key. */
static int
rd_forget_one(struct lock_redis *lr, const redisReply *key, void *arg)
{
	struct rd_forget_arg *a = arg;
	const char *argv[2];
	redisReply *r;
	int rc = 0;

	argv[0] = "DEL";
	argv[1] = key->str;
	r = redis_conn_command(&lr->cmd, 2, argv, NULL, rd_deadline(lr));
	if (r == NULL)
		return lock_seterr(&lr->base, LOCK_EUNAVAIL, "%s",
		    lr->cmd.err), -2;
	/* Count entries by their data keys: "PREFIX" + 64 hex digits. */
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0 &&
	    key->len == a->plen + 64)
		a->entries++;
	if (r->type == REDIS_REPLY_ERROR) {
		lock_seterr(&lr->base, LOCK_EUNAVAIL, "redis %s: %.200s",
		    lr->url->display, r->str);
		rc = -2;
	}
	freeReplyObject(r);
	return rc;
}

/* Builds the SCAN pattern "NS:{E}:memo:" + suffix; malloc'd or NULL. */
static char *
rd_memo_pattern(const struct rd_keys *k, const char *suffix)
{
	char *esc, *p = NULL;

	if ((esc = rd_glob_escape(k->memo)) == NULL)
		return NULL;
	if (asprintf(&p, "%s%s", esc, suffix) == -1)
		p = NULL;
	free(esc);
	return p;
}

/*
 * Walks KEY's memo keys matching "NS:{E}:memo:" + suffix with fn,
 * after setting *plen to the length of that prefix; 0 or -1.
 */
static int
rd_memo_scan(struct lock_redis *lr, const char *key, const char *suffix,
    int (*fn)(struct lock_redis *, const redisReply *, void *), void *arg,
    size_t *plen)
{
	struct rd_keys k;
	char *pattern;
	int rc;

	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	if ((pattern = rd_memo_pattern(&k, suffix)) == NULL) {
		rd_keys_free(&k);
		return lock_seterr(&lr->base, LOCK_EINTERNAL,
		    "out of memory");
	}
	*plen = strlen(k.memo);
	rc = rd_scan(lr, pattern, fn, arg);
	free(pattern);
	rd_keys_free(&k);
	return rc;
}

/* Drops every entry of key; number dropped, or -1. */
static long
redis_memo_forget(struct lock *l, const char *key)
{
	struct rd_forget_arg a;

	a.entries = 0;
	if (rd_memo_scan((struct lock_redis *)l, key, "*", rd_forget_one, &a,
	    &a.plen) == -1)
		return -1;
	return a.entries;
}

struct rd_mlist_arg {
	size_t		 plen;
	memo_list_cb	 cb;
	void		*arg;
};

/* rd_scan() callback of memo_list(): reports one entry by its meta key. */
static int
rd_mlist_one(struct lock_redis *lr, const redisReply *key, void *arg)
{
	struct rd_mlist_arg *a = arg;
	struct memo_info mi;
	const char *keys[2];
	char *data;
	redisReply *r;
	int rc = 0;

	/* PREFIX + 64 hex digits + ":meta" */
	if (key->len != a->plen + 64 + 5)
		return 0;
	if ((data = strndup(key->str, a->plen + 64)) == NULL)
		return lock_seterr(&lr->base, LOCK_EINTERNAL,
		    "out of memory"), -2;
	keys[0] = key->str;
	keys[1] = data;
	r = rd_eval(lr, &rd_memo_info_script, 2, 2, keys, NULL);
	free(data);
	if (r == NULL)
		return -2;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
	    r->element[2]->integer != -2) {
		memset(&mi, 0, sizeof(mi));
		memcpy(mi.digest, key->str + a->plen, 64);
		mi.age_ms = r->element[3]->integer - r->element[0]->integer;
		mi.size = (uint64_t)r->element[1]->integer;
		mi.ttl_ms = r->element[2]->integer >= 0 ?
		    r->element[2]->integer : -1;
		rc = a->cb(a->arg, &mi) == -1 ? -1 : 0;
	}
	freeReplyObject(r);
	return rc;
}

/* Calls cb for every fresh entry of key; 0 or -1. */
static int
redis_memo_list(struct lock *l, const char *key, memo_list_cb cb, void *arg)
{
	struct rd_mlist_arg a;

	a.cb = cb;
	a.arg = arg;
	return rd_memo_scan((struct lock_redis *)l, key, "*:meta",
	    rd_mlist_one, &a, &a.plen);
}

/* Releases what is held (best effort) and frees the context. */
static void
redis_close(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;

	if (lr == NULL)
		return;
	if (lr->held)
		redis_release(l);
	heartbeat_close(&lr->hb);
	redis_conn_close(&lr->cmd);
	redis_conn_close(&lr->sub);
	rd_drop_held(lr);
	free(lr->mbuf);
	free(lr->ns);
	free(lr);
}

const struct lock_backend lock_redis_backend = {
	.name = "redis",
	.open = redis_open,
	.connect = redis_connect,
	.acquire = redis_acquire,
	.keepalive = redis_keepalive,
	.release = redis_release,
	.status = redis_status,
	.list = redis_list,
	.force_release = redis_force_release,
	.memo_get = redis_memo_get,
	.memo_begin = redis_memo_begin,
	.memo_append = redis_memo_append,
	.memo_commit = redis_memo_commit,
	.memo_abort = redis_memo_abort,
	.memo_forget = redis_memo_forget,
	.memo_list = redis_memo_list,
	.close = redis_close,
};
