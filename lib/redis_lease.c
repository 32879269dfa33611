/*
 * redis_lease: the Redis backend's locks.  A lease is a string key with a
 * TTL, taken, renewed, released and committed only by Lua scripts, so
 * every step is atomic on the server (key layout: redis_int.h).
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
 * A wait with a deadline ends, cleanup included, within RD_CLEANUP of
 * one connect timeout past it, however the server stalls.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "redis_int.h"
#include "wait.h"

#define RD_CLEANUP(cto)	((cto) / 4)	/* what giving up may add */

/* KEYS: lock, fence, quiet, cool.  ARGV: value up to the fence, ttl,
   probe channel, value after the fence.  {1, fence, server ms} taken;
   {0, PTTL, value, quiet} held by someone, quiet 1 when its release may
   not be announced; {2, PTTL, cooldown} closed by a cooldown. */
static struct redis_script rd_acquire_script = {
	RD_LUA_PUB
	"local c = redis.call('GET', KEYS[4])\n"
	"if c then return {2, redis.call('PTTL', KEYS[4]), c} end\n"
	"if redis.call('EXISTS', KEYS[1]) == 1 then\n"
	"  local quiet = redis.call('EXISTS', KEYS[3]) == 1 or"
	" type(pub(ARGV[3], '')) == 'table'\n"
	"  return {0, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[1]),"
	" quiet and 1 or 0}\n"
	"end\n"
	"local f = redis.call('INCR', KEYS[2])\n"
	"redis.call('SET', KEYS[1], ARGV[1] .. string.format('%d', f) .."
	" ARGV[4], 'PX', ARGV[2])\n"
	RD_LUA_NOW
	"return {1, f, string.format('%.0f', now)}\n", ""
};

/* KEYS: lock, quiet, cool [tmp].  ARGV: token, channel, cooldown ms,
   start (server ms, 0: unknown), host.  1 released, 2 released but not
   announced, 0 not ours.  A cooldown closes the key until start + ms. */
struct redis_script rd_release_script = {
	"if KEYS[4] then redis.call('DEL', KEYS[4]) end\n"
	RD_LUA_OURS
	RD_LUA_TELL
	"if not ours then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"if tonumber(ARGV[3]) > 0 then\n"
	RD_LUA_NOW
	"  local since = tonumber(ARGV[4])\n"
	"  if since <= 0 then since = now end\n"
	"  local till = since + tonumber(ARGV[3])\n"
	"  if till > now then\n"
	"    redis.call('SET', KEYS[3], string.format('%.0f %.0f %s', since,"
	" till, ARGV[5]), 'PX', string.format('%.0f', till - now))\n"
	"  end\n"
	"end\n"
	"return tell(ARGV[2], 'released', KEYS[2]) and 1 or 2\n", ""
};

/* KEYS: lock [cool].  {value or nil, PTTL, cooldown or nil}. */
static struct redis_script rd_status_script = {
	"return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]),"
	" KEYS[2] and redis.call('GET', KEYS[2]) or false}\n", ""
};

/* KEYS: lock, quiet.  ARGV: channel.  0 none, 1 deleted, 2 deleted but
   not announced. */
static struct redis_script rd_force_script = {
	RD_LUA_TELL
	"if redis.call('DEL', KEYS[1]) == 0 then return 0 end\n"
	"return tell(ARGV[1], 'released', KEYS[2]) and 1 or 2\n", ""
};

static void	redis_close(struct lock *);

/* Replaces *field with a copy of the option value v, if given; 0, or -1
   when out of memory. */
static int
rd_tls_override(char **field, const char *v)
{
	char *p;

	if (v == NULL)
		return 0;
	if ((p = strdup(v)) == NULL)
		return -1;
	free(*field);
	*field = p;
	return 0;
}

/* Puts the TLS options over the URL's settings and checks them; 0, or
   -1 with the reason recorded (EUSAGE). */
static int
rd_tls_opts(struct lock_redis *lr, const struct lock_tls *o)
{
	struct redis_tls *t = &lr->url.tls;
	const char *files[3], *names[3] = { "cacert", "cert", "key" };
	int i;

	if (!lr->url.is_tls) {
		if (o->cacert || o->cert || o->key || o->sni || o->insecure)
			return lock_seterr(&lr->base, LOCK_EUSAGE, "--cacert, "
			    "--cert, --key, --sni and --insecure need a "
			    "rediss:// URL");
		return 0;
	}
	if (rd_tls_override(&t->cacert, o->cacert) == -1 ||
	    rd_tls_override(&t->cert, o->cert) == -1 ||
	    rd_tls_override(&t->key, o->key) == -1 ||
	    rd_tls_override(&t->sni, o->sni) == -1)
		return lock_seterr(&lr->base, LOCK_EOSERR, "out of memory");
	if (o->insecure)
		t->insecure = 1;
	if (t->key != NULL && t->cert == NULL)
		return lock_seterr(&lr->base, LOCK_EUSAGE, "a TLS key needs "
		    "a certificate (--cert)");
	files[0] = t->cacert;
	files[1] = t->cert;
	files[2] = t->key;
	for (i = 0; i < 3; i++)
		if (files[i] != NULL && access(files[i], R_OK) == -1)
			return lock_seterr(&lr->base, LOCK_EUSAGE, "TLS %s "
			    "'%s': %s", names[i], files[i], strerror(errno));
	return 0;
}

/* The warnings of open(), joined: a password on the command line, TLS
   without verification. */
static void
rd_open_warnings(struct lock_redis *lr, const struct lock_opts *o)
{
	const char *pw = "", *tls = "";

	if (o->url_from_argv && lr->url.password != NULL)
		pw = "a password on the command line is visible to other "
		    "users; use KEYLOCK_REDIS_URL instead";
	if (lr->url.is_tls && lr->url.tls.insecure)
		tls = "TLS certificates are not verified (--insecure): "
		    "anyone on the path can pose as the server";
	snprintf(lr->base.warning, sizeof(lr->base.warning), "%s%s%s", pw,
	    *pw != '\0' && *tls != '\0' ? "; " : "", tls);
}

/* Allocates a context and parses the URL; NULL only when out of memory. */
static struct lock *
redis_open(const struct lock_opts *o)
{
	struct lock_redis *lr;
	char err[256];

	if ((lr = calloc(1, sizeof(*lr))) == NULL)
		return NULL;
	lr->base.be = &lock_redis_backend;
	heartbeat_init(&lr->hb);
	if ((lr->ns = strdup(o->ns != NULL ? o->ns : "keylock")) == NULL) {
		free(lr);
		return NULL;
	}
	lr->connect_timeout_ms = o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : 2000;
	lr->ttl_ms = o->ttl_ms > 0 ? o->ttl_ms : 30000;
	lr->hard_deadline = CLOCK_FOREVER;
	lr->seed = (uint32_t)getpid() ^ (uint32_t)clock_mono_ms();
	redis_conn_init(&lr->cmd, &lr->url, &lr->addr);
	redis_conn_init(&lr->sub, &lr->url, &lr->addr);
	if (o->url == NULL)
		lock_seterr(&lr->base, LOCK_EUSAGE, "no Redis URL");
	else if (redis_url_parse(o->url, &lr->url, err, sizeof(err)) == -1)
		lock_seterr(&lr->base, LOCK_EUSAGE, "%s", err);
	else if (rd_tls_opts(lr, &o->tls) == 0)
		rd_open_warnings(lr, o);
	redis_route_init(&lr->route, &lr->url, &lr->addr);
	return &lr->base;
}

/* Connects the command connection; 0, or -1 (EUSAGE, EUNAVAIL). */
static int
redis_connect(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;

	if (l->errclass != LOCK_ENONE)
		return -1;		/* from open() */
	if (lr->ns[0] == '\0' || strpbrk(lr->ns, "{}") != NULL)
		return lock_seterr(l, LOCK_EUSAGE, "bad namespace '%s': must "
		    "be non-empty without '{' or '}'", lr->ns);
	return rd_ensure(lr);
}

/* Splits self's record around its fence: prefix "TOKEN HOST PID SINCE "
   and tail " u=... n=..." (both HOLDER_RECORD_MAX + 1 bytes). */
static void
rd_record_parts(const struct holder *self, char *prefix, char *tail)
{
	struct holder h = *self;
	char *sp;

	h.fence = 0;
	h.until_ms = h.cooldown_ms = 0;
	h.note[0] = '\0';
	holder_format(&h, prefix, HOLDER_RECORD_MAX + 1);
	if ((sp = strrchr(prefix, ' ')) != NULL)
		sp[1] = '\0';
	holder_format_tail(self, tail, HOLDER_RECORD_MAX + 1);
}

/*
 * Takes as ours a lease that holds our token: an earlier try ran on the
 * server but its reply was lost.  Fence and since are the stored ones;
 * the server had pttl left after this try was sent at t_send, so the
 * lease is valid until at least t_send + pttl.  LOCK_ACQUIRED.
 */
static enum lock_result
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
enum lock_result
rd_try(struct lock_redis *lr, const struct rd_keys *k, struct holder *self,
    struct holder *h, int64_t *pttl, int *quiet)
{
	const char *argv[8];
	char prefix[HOLDER_RECORD_MAX + 1], tail[HOLDER_RECORD_MAX + 1];
	char ttl[24];
	redisReply *r;
	int64_t t_send;
	enum lock_result rc = LOCK_ERROR;

	self->since_ms = clock_wall_ms();
	rd_record_parts(self, prefix, tail);
	snprintf(ttl, sizeof(ttl), "%" PRId64, lr->ttl_ms);
	argv[0] = k->lock;
	argv[1] = k->fence;
	argv[2] = k->quiet;
	argv[3] = k->cool;
	argv[4] = prefix;
	argv[5] = ttl;
	argv[6] = k->probe;
	argv[7] = tail;
	if (rd_ensure(lr) == -1)
		return LOCK_ERROR;		/* nothing was sent */
	t_send = heartbeat_clock_ms();
	if ((r = rd_eval(lr, &rd_acquire_script, 4, 8, argv, NULL)) == NULL) {
		lr->tried_blind = 1;	/* it may have taken the lease */
		return LOCK_ERROR;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: unexpected "
		    "reply to the acquire script", lr->url.display);
	} else if (r->element[0]->integer == 1) {
		self->fence = (uint64_t)r->element[1]->integer;
		lr->valid_from = t_send;
		lr->started_ms = r->elements > 2 &&
		    r->element[2]->type == REDIS_REPLY_STRING ?
		    strtoll(r->element[2]->str, NULL, 10) : 0;
		rc = LOCK_ACQUIRED;
	} else if (r->element[0]->integer == 2) {
		if (r->elements < 3 || r->element[2]->type !=
		    REDIS_REPLY_STRING || lock_cooldown_parse(
		    r->element[2]->str, r->element[2]->len,
		    &lr->base.cooldown) == -1) {
			memset(&lr->base.cooldown, 0, sizeof(lr->base.cooldown));
			lr->base.cooldown.until_ms = clock_wall_ms() +
			    r->element[1]->integer;
		}
		rc = LOCK_COOLING;
	} else {
		*pttl = r->element[1]->integer;
		rd_holder(r->elements > 2 ? r->element[2] : NULL, *pttl, h);
		*quiet = r->elements > 3 &&
		    r->element[3]->type == REDIS_REPLY_INTEGER &&
		    r->element[3]->integer == 1;
		rc = strcmp(h->token, self->token) == 0 ?
		    rd_adopt(lr, self, h, *pttl, t_send) : LOCK_BUSY;
	}
	freeReplyObject(r);
	return rc;
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
	const char *argv[8] = { k->lock, k->quiet, k->cool, token, k->chan,
	    "0", "0", "-" };
	redisReply *r;

	memcpy(msg, lr->base.errmsg, sizeof(msg));
	redis_conn_close(&lr->cmd);
	/* A healthy server takes milliseconds; a stalled one never ends. */
	lr->hard_deadline = clock_mono_ms() +
	    RD_CLEANUP(lr->connect_timeout_ms);
	if ((r = rd_eval(lr, &rd_release_script, 3, 8, argv, NULL)) != NULL)
		freeReplyObject(r);
	lr->base.errclass = c;
	memcpy(lr->base.errmsg, msg, sizeof(msg));
}

/* Takes the key of req for self (filled with token and fence). */
static enum lock_result
redis_acquire(struct lock *l, const struct lock_request *req,
    struct lock_wait *w, struct holder *self)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	enum lock_result rc;

	if (lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "a lock is already "
		    "held"), LOCK_ERROR;
	if (req->mode != LOCK_EXCLUSIVE)
		return lock_seterr(l, LOCK_EUSAGE, "only exclusive locks are "
		    "supported"), LOCK_ERROR;
	if (rd_keys_init(lr, req->key, &k) == -1)
		return LOCK_ERROR;
	lr->tried_blind = 0;
	self->until_ms = req->until_ms;
	self->cooldown_ms = req->cooldown_ms;
	snprintf(self->note, sizeof(self->note), "%s",
	    req->note != NULL ? req->note : "");
	if (holder_new_token(self) == -1) {
		rd_keys_free(&k);
		return lock_seterr(l, LOCK_EINTERNAL, "getrandom: %s",
		    strerror(errno)), LOCK_ERROR;
	}
	/* Every command of the wait ends by one timeout past its end. */
	if (w->deadline != CLOCK_FOREVER)
		lr->hard_deadline = (w->deadline > clock_mono_ms() ?
		    w->deadline : clock_mono_ms()) + lr->connect_timeout_ms;
	rc = rd_wait(lr, &k, w, self);
	redis_conn_close(&lr->sub);
	if (rc != LOCK_ACQUIRED && lr->tried_blind)
		rd_unblind(lr, &k, self->token);
	lr->hard_deadline = CLOCK_FOREVER;
	if (rc != LOCK_ACQUIRED) {
		rd_keys_free(&k);
		return rc;
	}
	lr->k = k;
	lr->held = 1;
	lr->cooldown_ms = req->cooldown_ms;
	snprintf(lr->host, sizeof(lr->host), "%s", self->host);
	memcpy(lr->token, self->token, sizeof(lr->token));
	self->ttl_ms = lr->ttl_ms;
	return LOCK_ACQUIRED;
}

/* Reads the heartbeat's reports: the lease is ours until the deadline
   of the last renewal it confirmed, and not a moment longer. */
static int
redis_lease_check(struct lock *l, struct lock_lease *lease)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	int64_t left;

	switch (heartbeat_check(&lr->hb, &left)) {
	case HEARTBEAT_OK:
		lease->fd = lr->hb.lost_r;
		lease->check_at = clock_mono_ms() + left;
		return 0;
	case HEARTBEAT_LOST:
		return lock_seterr(l, LOCK_ELOST, "the lease on %s was lost",
		    lr->k.key);
	case HEARTBEAT_GONE:
		return lock_seterr(l, LOCK_ELOST, "the heartbeat of %s "
		    "ended", lr->k.key);
	case HEARTBEAT_LATE:
		break;
	}
	return lock_seterr(l, LOCK_ELOST, "no renewal of the lease on %s "
	    "was confirmed before it could expire", lr->k.key);
}

/* Forks the heartbeat, which renews the lease and the capture begun
   before it. */
static int
redis_keepalive(struct lock *l, struct lock_lease *lease)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct heartbeat_conf c;

	if (!lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "no lock held");
	if (lr->hb.pid > 0)
		return redis_lease_check(l, lease);
	/* A pause since the acquire may have outlasted the lease. */
	if (heartbeat_clock_ms() >= heartbeat_valid_until(lr->valid_from,
	    lr->ttl_ms))
		return lock_seterr(l, LOCK_ELOST, "the lease on %s ran out "
		    "before the command started", lr->k.key);
	heartbeat_close(&lr->hb);
	memset(&c, 0, sizeof(c));
	c.url = &lr->url;
	c.addr = &lr->addr;
	c.route = &lr->route;	/* where the acquire ended */
	c.connect_timeout_ms = lr->connect_timeout_ms;
	c.ttl_ms = lr->ttl_ms;
	c.lock_key = lr->k.lock;
	c.extra_key = lr->capturing ? lr->tmpkey : NULL;
	c.token = lr->token;
	c.valid_from = lr->valid_from;
	if (heartbeat_start(&lr->hb, &c) == -1)
		return lock_seterr(l, lock_errno_class(errno, LOCK_EINTERNAL),
		    "heartbeat: %s", strerror(errno));
	return redis_lease_check(l, lease);
}

void
rd_untold(struct lock_redis *lr)
{
	snprintf(lr->base.warning, sizeof(lr->base.warning), "released, "
	    "but waiters could not be notified (PUBLISH refused); they "
	    "find out within %d ms", RD_QUIET_RETRY);
}

void
rd_drop_held(struct lock_redis *lr)
{
	lr->held = 0;
	lr->capturing = 0;
	lr->mlen = 0;
	free(lr->tmpkey);
	lr->tmpkey = NULL;
	rd_keys_free(&lr->k);
}

/* Releases the held key, starting its cooldown if it succeeded; 0, or
   -1 (ELOST: not ours, EUNAVAIL). */
static int
redis_release(struct lock *l, int succeeded)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	const char *argv[9];
	char cool[24], since[24];
	long long v = 0;
	int n = 0, rc = 0;

	if (!lr->held)
		return 0;
	heartbeat_stop(&lr->hb);
	snprintf(cool, sizeof(cool), "%" PRId64, succeeded ?
	    lr->cooldown_ms : 0);
	snprintf(since, sizeof(since), "%" PRId64, lr->started_ms);
	argv[n++] = lr->k.lock;
	argv[n++] = lr->k.quiet;
	argv[n++] = lr->k.cool;
	if (lr->capturing)
		argv[n++] = lr->tmpkey;
	argv[n++] = lr->token;
	argv[n++] = lr->k.chan;
	argv[n++] = cool;
	argv[n++] = since;
	argv[n++] = lr->host;
	if (rd_int(lr, rd_eval(lr, &rd_release_script, n - 5, n, argv,
	    NULL), &v) == -1)
		rc = -1;
	else if (v == 0)
		rc = lock_seterr(l, LOCK_ELOST, "the lock on %s was no "
		    "longer ours at release", lr->k.key);
	else if (v == 2)
		rd_untold(lr);
	rd_drop_held(lr);
	return rc;
}

int
rd_status_of(struct lock_redis *lr, const char *lockkey, struct holder *h,
    const struct rd_keys *k)
{
	const char *argv[2] = { lockkey, k != NULL ? k->cool : NULL };
	redisReply *r;
	int rc;

	if ((r = rd_eval(lr, &rd_status_script, k != NULL ? 2 : 1,
	    k != NULL ? 2 : 1, argv, NULL)) == NULL)
		return -1;
	if (k != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 2 &&
	    r->element[2]->type == REDIS_REPLY_STRING &&
	    lock_cooldown_parse(r->element[2]->str, r->element[2]->len,
	    &lr->base.cooldown) == -1)
		memset(&lr->base.cooldown, 0, sizeof(lr->base.cooldown));
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		rc = lock_seterr(&lr->base, LOCK_EINTERNAL, "redis %s: "
		    "unexpected reply", lr->url.display);
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

/* Fills st with key's holder; never takes the lock. */
static int
redis_status(struct lock *l, const char *key, struct lock_state *st)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	struct holder h;
	int rc;

	memset(st, 0, sizeof(*st));
	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	memset(&l->cooldown, 0, sizeof(l->cooldown));
	rc = rd_status_of(lr, k.lock, &h, &k);
	rd_keys_free(&k);
	st->cooldown = l->cooldown;
	if (rc == 1 && lock_state_one(st, &h) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
	if (rc == 1)
		st->cooldown = l->cooldown;
	return rc == -1 ? -1 : 0;
}

/* Deletes key's lock whoever holds it, and wakes its waiters. */
static int
redis_force_release(struct lock *l, const char *key, int *deleted)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	const char *argv[3];
	long long v = 0;
	int rc;

	*deleted = 0;
	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	argv[0] = k.lock;
	argv[1] = k.quiet;
	argv[2] = k.chan;
	rc = rd_int(lr, rd_eval(lr, &rd_force_script, 2, 3, argv, NULL),
	    &v);
	rd_keys_free(&k);
	*deleted = v > 0;
	if (v == 2)
		rd_untold(lr);
	return rc;
}

/* Releases what is held (best effort) and frees the context. */
static void
redis_close(struct lock *l)
{
	struct lock_redis *lr = (struct lock_redis *)l;

	if (lr == NULL)
		return;
	if (lr->held)
		redis_release(l, 0);
	heartbeat_close(&lr->hb);
	redis_conn_close(&lr->cmd);
	redis_conn_close(&lr->sub);
	rd_drop_held(lr);
	redis_route_free(&lr->route);
	redis_addr_free(&lr->addr);
	redis_url_free(&lr->url);
	checksum_free(&lr->msum);
	free(lr->mbuf);
	free(lr->ns);
	free(lr);
}

static const char *const redis_schemes[] = {
	"redis", "rediss", "unix", "redis+unix", NULL
};

const struct lock_backend lock_redis_backend = {
	.name = "redis",
	.schemes = redis_schemes,
	.open = redis_open,
	.connect = redis_connect,
	.acquire = redis_acquire,
	.keepalive = redis_keepalive,
	.lease_check = redis_lease_check,
	.release = redis_release,
	.release_token = redis_release_token,
	.renew = redis_renew,
	.status = redis_status,
	.list = redis_list,
	.force_release = redis_force_release,
	.memo = &redis_memo,
	.close = redis_close,
};
