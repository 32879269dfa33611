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

/* KEYS: rd_keys_argv() [tmp].  ARGV: token, channel, cooldown ms,
   start (server ms, 0: unknown), host, waiter channel prefix.  1
   released, 2 released but not announced, 0 not ours (a group lease
   that ran out is dropped all the same).  A cooldown closes the key
   until start + ms; the waiters whose turn it is are told. */
struct redis_script rd_release_script = {
	RD_LUA_KEYS
	RD_LUA_PUB
	"if KEYS[11] then redis.call('DEL', KEYS[11]) end\n"
	RD_LUA_OURS
	RD_LUA_TELL
	RD_LUA_NOW
	RD_LUA_QUEUE
	"if ours then\n"
	"  redis.call('DEL', KL)\n"
	"else\n"
	"  local d = redis.call('ZSCORE', KHD, ARGV[1])\n"
	"  if not d then return 0 end\n"
	"  redis.call('ZREM', KHD, ARGV[1])\n"
	"  redis.call('HDEL', KH, ARGV[1])\n"
	"  if tonumber(d) <= now then wake(ARGV[6]) return 0 end\n"
	"end\n"
	"if tonumber(ARGV[3]) > 0 then\n"
	"  local since = tonumber(ARGV[4])\n"
	"  if since <= 0 then since = now end\n"
	"  local till = since + tonumber(ARGV[3])\n"
	"  if till > now then\n"
	"    redis.call('SET', KC, string.format('%.0f %.0f %s', since,"
	" till, ARGV[5]), 'PX', string.format('%.0f', till - now))\n"
	"  end\n"
	"end\n"
	"purge()\n"
	"wake(ARGV[6])\n"
	"return tell(ARGV[2], 'released', KQT) and 1 or 2\n", ""
};

/* KEYS: rd_keys_argv().  ARGV: waiter channel prefix.  0 none, 1
   deleted, 2 deleted but not announced; {-1, protocol}: refused. */
static struct redis_script rd_force_script = {
	RD_LUA_KEYS
	RD_LUA_PUB
	"local bad = redis.call('GET', KV)\n"
	"if bad and bad ~= '" RD_STR(RD_PROTO) "' then return {-1, bad} end\n"
	RD_LUA_TELL
	RD_LUA_NOW
	RD_LUA_QUEUE
	"if redis.call('DEL', KL, KH, KHD) == 0 then return 0 end\n"
	"wake(ARGV[1])\n"
	"return tell(ARGV[2], 'released', KQT) and 1 or 2\n", ""
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
	lr->min_replicas = o->min_replicas;
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
	return rd_connect(lr);
}

int
rd_release_argv(const struct rd_keys *k, const char *tmp, const char *token,
    const char *cool, const char *since, const char *host, const char **argv)
{
	int n = rd_keys_argv(k, argv);

	if (tmp != NULL)
		argv[n++] = tmp;
	argv[n++] = token;
	argv[n++] = k->chan;
	argv[n++] = cool;
	argv[n++] = since;
	argv[n++] = host;
	argv[n++] = k->wchan;
	return n;
}

/*
 * Giving up after a wait: leaves the queue, and, after an acquire whose
 * reply never came, deletes the lease it may have taken (which would
 * block everyone for a whole TTL) if it holds our token, on a fresh
 * connection.  Best effort; the recorded error stays.
 */
static void
rd_give_up(struct lock_redis *lr, const struct rd_keys *k, const char *token,
    int queued)
{
	enum lock_errclass c = lr->base.errclass;
	char msg[sizeof(lr->base.errmsg)];
	const char *argv[RD_NKEYS + 7];
	redisReply *r;
	int n;

	memcpy(msg, lr->base.errmsg, sizeof(msg));
	if (lr->tried_blind)
		redis_conn_close(&lr->cmd);
	/* A healthy server takes milliseconds; a stalled one never ends. */
	lr->hard_deadline = clock_mono_ms() +
	    RD_CLEANUP(lr->connect_timeout_ms);
	if (queued && (lr->tried_blind || redis_conn_alive(&lr->cmd)))
		rd_leave(lr, k, token);
	n = rd_release_argv(k, NULL, token, "0", "0", "-", argv);
	if (lr->tried_blind && (r = rd_eval(lr, &rd_release_script, RD_NKEYS,
	    n, argv, NULL)) != NULL)
		freeReplyObject(r);
	lr->base.errclass = c;
	memcpy(lr->base.errmsg, msg, sizeof(msg));
}

/* Fills self's fields of req and a fresh token; 0, or -1 (recorded). */
static int
rd_self(struct lock_redis *lr, const struct lock_request *req,
    struct holder *self)
{
	if (req->cooldown_ms > 0 && req->mode != LOCK_EXCLUSIVE)
		return lock_seterr(&lr->base, LOCK_EUSAGE, "--cooldown works "
		    "only with exclusive locks: with --shared or --slots it "
		    "has no one run to count from");
	self->until_ms = req->until_ms;
	self->cooldown_ms = req->cooldown_ms;
	self->slots = req->mode == LOCK_SLOTS ? req->count : 0;
	self->slot = 0;
	self->shared = req->mode == LOCK_SHARED;
	self->supersede = req->supersede != 0;
	snprintf(self->note, sizeof(self->note), "%s",
	    req->note != NULL ? req->note : "");
	if (holder_new_token(self) == -1)
		return lock_seterr(&lr->base, LOCK_EINTERNAL, "getrandom: %s",
		    strerror(errno));
	return 0;
}

/* Takes the key of req for self (filled with token and fence, and with
   slots, its slot). */
static enum lock_result
redis_acquire(struct lock *l, const struct lock_request *req,
    struct lock_wait *w, struct holder *self)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	struct rd_try t;
	enum lock_result rc;

	if (lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "a lock is already "
		    "held"), LOCK_ERROR;
	if (rd_self(lr, req, self) == -1 || rd_keys_init(lr, req->key,
	    &k) == -1)
		return LOCK_ERROR;
	lr->tried_blind = 0;
	memset(&t, 0, sizeof(t));
	rd_kind(req, t.kind, sizeof(t.kind));
	/* Every command of the wait ends by one timeout past its end. */
	if (w->deadline != CLOCK_FOREVER)
		lr->hard_deadline = (w->deadline > clock_mono_ms() ?
		    w->deadline : clock_mono_ms()) + lr->connect_timeout_ms;
	rc = rd_wait(lr, &k, w, self, &t);
	/* Not replicated enough: ours, but given back below. */
	if (rc == LOCK_ACQUIRED && rd_replicas(lr, "the lock") == -1) {
		rc = LOCK_ERROR;
		lr->tried_blind = 1;
	}
	redis_conn_close(&lr->sub);
	if (rc != LOCK_ACQUIRED && (lr->tried_blind || t.queued))
		rd_give_up(lr, &k, self->token, t.queued);
	lr->hard_deadline = CLOCK_FOREVER;
	if (rc != LOCK_ACQUIRED) {
		rd_keys_free(&k);
		return rc;
	}
	lr->k = k;
	lr->held = 1;
	lr->group = req->mode != LOCK_EXCLUSIVE;
	lr->cooldown_ms = req->cooldown_ms;
	snprintf(lr->host, sizeof(lr->host), "%s", self->host);
	memcpy(lr->token, self->token, sizeof(lr->token));
	self->ttl_ms = lr->ttl_ms;
	return LOCK_ACQUIRED;
}

/* Forks the heartbeat, which renews the lease and the capture begun
   before it; 0, or -1 with the reason recorded. */
static int
rd_heartbeat_start(struct lock_redis *lr)
{
	struct heartbeat_conf c;

	heartbeat_close(&lr->hb);
	memset(&c, 0, sizeof(c));
	c.url = &lr->url;
	c.addr = &lr->addr;
	c.route = &lr->route;	/* where the acquire ended */
	c.connect_timeout_ms = lr->connect_timeout_ms;
	c.ttl_ms = lr->ttl_ms;
	c.lock_key = lr->group ? lr->k.hd : lr->k.lock;
	c.aux_key = lr->group ? lr->k.h : NULL;
	c.script = lr->group ? &rd_group_renew_script : NULL;
	c.extra_key = lr->capturing ? lr->tmpkey : NULL;
	c.token = lr->token;
	c.valid_from = lr->valid_from;
	c.min_replicas = lr->min_replicas;
	if (heartbeat_start(&lr->hb, &c) == -1)
		return lock_seterr(&lr->base, lock_errno_class(errno,
		    LOCK_EINTERNAL), "heartbeat: %s", strerror(errno));
	return 0;
}

/* Reads the heartbeat's reports: the lease is ours until the deadline
   of the last renewal it confirmed, and not a moment longer.  Before the
   first renewal is due there is no heartbeat yet: the acquire itself
   vouches for the lease, and this starts the heartbeat when it is due. */
static int
redis_lease_check(struct lock *l, struct lock_lease *lease)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	int64_t left, now;

	if (lr->hb_due != 0) {
		now = heartbeat_clock_ms();
		lease->fd = -1;
		lease->keeper = -1;
		if (now < lr->hb_due) {
			lease->check_at = clock_mono_ms() + (lr->hb_due - now);
			return 0;
		}
		lr->hb_due = 0;
		if (rd_heartbeat_start(lr) == -1)
			return -1;
	}
	lease->keeper = lr->hb.pid;
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

/* Arranges for the lease to be kept: the heartbeat is forked when the
   first renewal is due (a third of the TTL after the acquire), so a
   command that ends before then costs no fork. */
static int
redis_keepalive(struct lock *l, struct lock_lease *lease)
{
	struct lock_redis *lr = (struct lock_redis *)l;

	if (!lr->held)
		return lock_seterr(l, LOCK_EINTERNAL, "no lock held");
	if (lr->hb.pid > 0 || lr->hb_due != 0)
		return redis_lease_check(l, lease);
	/* A pause since the acquire may have outlasted the lease. */
	if (heartbeat_clock_ms() >= heartbeat_valid_until(lr->valid_from,
	    lr->ttl_ms))
		return lock_seterr(l, LOCK_ELOST, "the lease on %s ran out "
		    "before the command started", lr->k.key);
	lr->hb_due = lr->valid_from + lr->ttl_ms / 3;
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
	lr->hb_due = 0;
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
	const char *argv[RD_NKEYS + 7];
	char cool[24], since[24];
	long long v = 0;
	int n, rc = 0;

	if (!lr->held)
		return 0;
	heartbeat_stop(&lr->hb);
	snprintf(cool, sizeof(cool), "%" PRId64, succeeded ?
	    lr->cooldown_ms : 0);
	snprintf(since, sizeof(since), "%" PRId64, lr->started_ms);
	n = rd_release_argv(&lr->k, lr->capturing ? lr->tmpkey : NULL,
	    lr->token, cool, since, lr->host, argv);
	if (rd_int(lr, rd_eval(lr, &rd_release_script, n - 6, n, argv,
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

/* Deletes key's lock and every holder's lease, and tells the waiters
   whose turn it is. */
static int
redis_force_release(struct lock *l, const char *key, int *deleted)
{
	struct lock_redis *lr = (struct lock_redis *)l;
	struct rd_keys k;
	const char *argv[RD_NKEYS + 2];
	redisReply *r;
	int rc = -1;

	*deleted = 0;
	if (rd_keys_init(lr, key, &k) == -1)
		return -1;
	rd_keys_argv(&k, argv);
	argv[RD_NKEYS] = k.wchan;
	argv[RD_NKEYS + 1] = k.chan;
	r = rd_eval(lr, &rd_force_script, RD_NKEYS, RD_NKEYS + 2, argv, NULL);
	if (r != NULL && !rd_refused(lr, &k, r, NULL)) {
		if (r->type == REDIS_REPLY_INTEGER) {
			rc = 0;
			*deleted = r->integer > 0;
			if (r->integer == 2)
				rd_untold(lr);
		} else
			lock_seterr(l, LOCK_EINTERNAL, "redis %s: unexpected "
			    "reply", lr->url.display);
	}
	if (r != NULL)
		freeReplyObject(r);
	rd_keys_free(&k);
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
	"redis", "rediss", "unix", "redis+unix", "redis-sentinel",
	"rediss-sentinel", NULL
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
