/*
 * redis_int: what the Redis backend's files share.  Not for cmd/.
 *
 *	redis_keys.c	key names and the Lua pieces every script uses
 *	redis_call.c	running commands and scripts with deadlines
 *	redis_lease.c	the lease: acquire, keepalive, release, force
 *	redis_queue.c	one try: take, or join and refresh the queue; leave
 *	redis_state.c	who holds and who waits: status, by token
 *	redis_wait.c	waiting for a lease: Pub/Sub, back-off
 *	redis_keep.c	release and renewal by token (acquire), the
 *			heartbeat's renewal of shared and slot leases
 *	redis_list.c	SCAN over the namespace
 *	redis_replicas.c	--min-replicas: WAIT after acquire and renewal
 *	redis_cluster.c	SCAN over a cluster's masters, the waiters'
 *			subscription (shard channels on a cluster)
 *	redis_memo.c	the output cache
 *
 * The key layout, for KEY with E = keyname_redis(KEY), so that all keys
 * of one KEY share one hash tag and every script stays in one slot:
 *
 *	NS:{E}:lock			exclusive holder: "TOKEN HOST PID
 *					SINCE_MS FENCE ...", PX ttl
 *	NS:{E}:fence			INCR'd on every acquisition, no TTL
 *	NS:{E}:h			hash: TOKEN -> "KIND RECORD" of each
 *					shared or slot holder
 *	NS:{E}:hd			zset: TOKEN -> lease deadline (server
 *					ms) of each of those holders
 *	NS:{E}:q			zset: TOKEN -> arrival number, the
 *					queue of waiters
 *	NS:{E}:qd			zset: TOKEN -> liveness deadline
 *					(server ms); "~TOKEN" for a mark
 *	NS:{E}:qr			hash: TOKEN -> "KIND RECORD" of each
 *					waiter; "#" the arrival counter, "#s"
 *					the queued --supersede waiter (at most
 *					one), "~TOKEN" -> the record of who
 *					superseded TOKEN
 *	NS:{E}:v			the protocol version, "2", no TTL;
 *					set once h or q were used
 *	NS:{E}:memo:D			a cached stdout, PX memo ttl
 *	NS:{E}:memo:D:meta		hash: id, created (server ms), size,
 *					sum (checksum.h), v (2)
 *	NS:{E}:memo:D:tmp:TOKEN		output being captured, PX lease ttl
 *	NS:{E}:cool			"SINCE_MS UNTIL_MS HOST" while a
 *					cooldown closes KEY, PX until then
 *	NS:{E}:quiet			set for an hour by a release that could
 *					not PUBLISH (an ACL without it)
 *	channel NS:{E}:ch		"released" / "memo D" on every release
 *					(for keylock 0.1's waiters)
 *	channel NS:{E}:w:TOKEN		"turn" / "superseded": waiter TOKEN's
 *
 * On a Redis Cluster the channels are shard channels (SPUBLISH and
 * SSUBSCRIBE, on the key's master; RD_LUA_PUB).
 *
 * KIND is "x" (exclusive), "s" (shared) or "kN" (--slots N).  Protocol
 * 1 is keylock 0.1's layout: lock, fence, cool, quiet and the channel
 * ch, no v key.  Protocol 2 adds h, hd, q, qd, qr and v; its exclusive
 * holders are still the lock key, so 0.1 sees them (it does not queue,
 * and does not see shared or slot holders: such a KEY must not be used
 * by 0.1 at all, as the manual says).  A v key other than "2"
 * makes every script refuse.  h, hd live ttl past the last renewal, q,
 * qd, qr RD_LIVE_KEYS past the last waiter's refresh.
 *
 * Waiting: a waiter joins q and keeps an RD_LIVE_MS liveness lease in
 * qd, refreshed by re-running the try script every RD_LIVE_REFRESH ms;
 * any script drops entries whose deadline passed (server clock).  A
 * release, a leave, or a try that dropped someone publishes "turn" to
 * the waiters that may now enter (the head; or the shared run at the
 * head; or the first free-slots waiters), and to no one else.  A turn
 * whose message is lost (a dead head) is taken at the next refresh of
 * the waiter behind it, once the dead one's lease ran out.
 */
#ifndef KEYLOCK_REDIS_INT_H
#define KEYLOCK_REDIS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "checksum.h"
#include "heartbeat.h"
#include "holder.h"
#include "lock.h"
#include "memo.h"
#include "redis_conn.h"
#include "redis_route.h"
#include "redis_url.h"

#define RD_STR_(x)	#x
#define RD_STR(x)	RD_STR_(x)

/* Lua: v is the lock value of KEYS[1]; ours is true when it holds the
   token ARGV[1]. */
#define RD_LUA_OURS \
	"local v = redis.call('GET', KEYS[1])\n" \
	"local ours = v and string.sub(v, 1, " RD_STR(HOLDER_TOKEN_LEN) \
	") == ARGV[1]\n"
/* Lua: pub(channel, message) publishes, as redis.pcall() returns: on a
   cluster node of Redis >= 7 (CLUSTER MYID answers; REDIS_VERSION_NUM
   is 7.0's) to the shard channel, heard on this master by the waiters'
   SSUBSCRIBE, which they choose by the same test (rd_sub_open()); with
   PUBLISH anywhere else.  The test runs once per script, at its first
   message.  Every script that announces starts with it (RD_LUA_TELL and
   RD_LUA_QUEUE call it) and never calls PUBLISH itself. */
#define RD_LUA_PUB \
	"local pubcmd\n" \
	"local function pub(ch, msg)\n" \
	"  if not pubcmd then\n" \
	"    pubcmd = redis.REDIS_VERSION_NUM and" \
	" type(redis.pcall('CLUSTER', 'MYID')) == 'string' and 'SPUBLISH'" \
	" or 'PUBLISH'\n" \
	"  end\n" \
	"  return redis.pcall(pubcmd, ch, msg)\n" \
	"end\n"
/* Lua, after RD_LUA_PUB: tell(channel, message, quiet key) publishes,
   or, when the server refuses (an ACL without PUBLISH), marks the key
   quiet for an hour; true if the message went out. */
#define RD_LUA_TELL \
	"local function tell(ch, msg, quiet)\n" \
	"  if type(pub(ch, msg)) ~= 'table' then\n" \
	"    return true\n" \
	"  end\n" \
	"  redis.pcall('SET', quiet, '1', 'PX', 3600000)\n" \
	"  return false\n" \
	"end\n"
/* Lua: now is the server's clock in milliseconds. */
#define RD_LUA_NOW \
	"local t = redis.call('TIME')\n" \
	"local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

/* The protocol (the layout above) this keylock speaks. */
#define RD_PROTO	2
#define RD_LIVE_MS	1000	/* a waiter's liveness lease */
#define RD_LIVE_REFRESH	300	/* how often a waiter renews it */
#define RD_LIVE_KEYS	3000	/* q, qd, qr outlive the last refresh */
#define RD_NKEYS	10	/* the keys of rd_keys_argv() */

/* Lua: the names of rd_keys_argv()'s keys. */
#define RD_LUA_KEYS \
	"local KL, KF, KQT, KC, KV = KEYS[1], KEYS[2], KEYS[3], KEYS[4]," \
	" KEYS[5]\n" \
	"local KH, KHD, KQ, KQD, KQR = KEYS[6], KEYS[7], KEYS[8], KEYS[9]," \
	" KEYS[10]\n"
/* Lua, after RD_LUA_PUB, RD_LUA_NOW and the key names: the queue.  vbad() is the
   stored protocol when it is not ours; purge() drops expired holders
   and waiters (how many); used() the KIND of KEY's holders and waiters
   (nil: none); room(kind) how many of kind may enter now (shared: 0 or
   many); may(kind, rank) whether a caller with rank waiters ahead may
   enter (a shared one reads those ahead 16 at a time up to the first
   that is not shared: a waiting reader's refresh costs one page, not
   its rank); wake(prefix) tells those who may enter now. */
#define RD_LUA_QUEUE \
	"local function kind_of(v) return string.match(v, '^(%S+)') end\n" \
	"local function rec_of(v) return string.match(v, '^%S+ (.*)$') end\n" \
	"local function vbad()\n" \
	"  local v = redis.call('GET', KV)\n" \
	"  if v and v ~= '" RD_STR(RD_PROTO) "' then return v end\n" \
	"  return false\n" \
	"end\n" \
	"local function drop(z, h, also)\n" \
	"  local d = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0," \
	" 1000)\n" \
	"  if #d == 0 then return 0 end\n" \
	"  redis.call('ZREM', z, unpack(d))\n" \
	"  redis.call('HDEL', h, unpack(d))\n" \
	"  if also then redis.call('ZREM', also, unpack(d)) end\n" \
	"  return #d\n" \
	"end\n" \
	"local function purge() return drop(KHD, KH) + drop(KQD, KQR, KQ) end\n" \
	"local function used()\n" \
	"  if redis.call('EXISTS', KL) == 1 then return 'x' end\n" \
	"  for _, p in ipairs({{KHD, KH}, {KQ, KQR}}) do\n" \
	"    local t = redis.call('ZRANGE', p[1], 0, 0)\n" \
	"    local v = t[1] and redis.call('HGET', p[2], t[1])\n" \
	"    if v then return kind_of(v) end\n" \
	"  end\n" \
	"  return nil\n" \
	"end\n" \
	"local function room(kind)\n" \
	"  if redis.call('EXISTS', KL) == 1 then return 0 end\n" \
	"  if kind == 's' then return 1000000000 end\n" \
	"  local n = redis.call('ZCARD', KHD)\n" \
	"  if kind == 'x' then return n == 0 and 1 or 0 end\n" \
	"  return tonumber(string.sub(kind, 2)) - n\n" \
	"end\n" \
	"local function may(kind, rank)\n" \
	"  local r = room(kind)\n" \
	"  if kind ~= 's' or r == 0 or rank == 0 then return rank < r end\n" \
	"  for i = 0, rank - 1, 16 do\n" \
	"    local n = math.min(rank, i + 16) - 1\n" \
	"    for _, t in ipairs(redis.call('ZRANGE', KQ, i, n)) do\n" \
	"      local v = redis.call('HGET', KQR, t)\n" \
	"      if v and kind_of(v) ~= 's' then return false end\n" \
	"    end\n" \
	"  end\n" \
	"  return true\n" \
	"end\n" \
	"local function wake(prefix)\n" \
	"  local r\n" \
	"  for i, t in ipairs(redis.call('ZRANGE', KQ, 0, 63)) do\n" \
	"    local v = redis.call('HGET', KQR, t)\n" \
	"    local k = v and kind_of(v) or 'x'\n" \
	"    r = r or room(k)\n" \
	"    if r == 0 or (k == 'x' and i > 1) or (k ~= 's' and i > r)" \
	" then break end\n" \
	"    pub(prefix .. t, 'turn')\n" \
	"    if k == 'x' then break end\n" \
	"  end\n" \
	"end\n" \
	"local function extend(key, ms)\n" \
	"  if redis.call('PTTL', key) < tonumber(ms) then\n" \
	"    redis.call('PEXPIRE', key, ms)\n" \
	"  end\n" \
	"end\n"

#define RD_SCAN_COUNT	"1000"
#define RD_QUIET_RETRY	1000	/* ms between tries without messages */

/* The names of one KEY's keys. */
struct rd_keys {
	char	*key;		/* KEY itself, for messages */
	char	*e;		/* keyname_redis(KEY) */
	char	*lock;
	char	*fence;
	char	*chan;
	char	*quiet;
	char	*cool;
	char	*v;
	char	*h;
	char	*hd;
	char	*q;
	char	*qd;
	char	*qr;
	char	*wchan;		/* NS:{E}:w: */
	char	*memo;		/* NS:{E}:memo: */
};

/* The keys of one memo entry. */
enum rd_memo_part {
	RD_MEMO_DATA,		/* NS:{E}:memo:D */
	RD_MEMO_META,		/* NS:{E}:memo:D:meta */
	RD_MEMO_TMP,		/* NS:{E}:memo:D:tmp:TOKEN */
	RD_MEMO_OTHER,		/* none of ours */
};

struct lock_redis {
	struct lock		 base;
	struct redis_url	 url;
	struct redis_addr	 addr;		/* url's, resolved once */
	char			*ns;
	int64_t			 connect_timeout_ms;
	int64_t			 ttl_ms;
	int			 min_replicas;	/* --min-replicas; 0 */
	int64_t			 hard_deadline;	/* no command runs past it
						   (monotonic ms) */
	struct redis_route	 route;		/* where cmd and sub go */
	struct redis_conn	 cmd;
	struct redis_conn	 sub;
	uint32_t		 seed;		/* jitter */

	int			 held;
	int			 group;		/* held as a shared or slot
						   holder (h, hd) */
	int			 tried_blind;	/* an acquire got no reply */
	int			 not_run;	/* the last command failed on
						   a refusal (LOADING...): it
						   did not run */
	int64_t			 cooldown_ms;	/* of the held key's request */
	int64_t			 started_ms;	/* server ms of the acquire */
	char			 host[HOLDER_HOST_MAX];	/* ours */
	struct rd_keys		 k;		/* of the held key */
	char			 token[HOLDER_TOKEN_LEN + 1];
	int64_t			 valid_from;	/* send time of the acquire,
						   heartbeat_clock_ms() */
	struct heartbeat	 hb;
	int64_t			 hb_due;	/* heartbeat_clock_ms() at which
						   to fork hb; 0: not pending */

	int			 capturing;
	char			 digest[DIGEST_HEX_LEN + 1];
	char			*tmpkey;
	char			*mbuf;
	size_t			 mlen;
	struct checksum		 msum;		/* of the capture */
};

/* One caller's tries of a key: what it asks, what the last try saw. */
struct rd_try {
	char		 kind[16];	/* "x", "s" or "kN" */
	int		 join;		/* queue when busy */
	int		 queued;	/* in the queue (as far as we know) */
	int64_t		 joined;	/* wall ms we joined */
	struct holder	 h;		/* the holder seen */
	int64_t		 pttl;		/* its lease left, or -1 */
	int		 quiet;		/* releases may go unannounced */
	unsigned int	 place;		/* ours in the queue, 1: next; 0 */
};

/* What a rd_scan() callback tells the walk. */
enum rd_scan_next {
	RD_SCAN_NEXT,
	RD_SCAN_STOP,
	RD_SCAN_ERROR,		/* reason recorded */
};

typedef enum rd_scan_next (*rd_scan_fn)(struct lock_redis *,
    const char *name, size_t len, void *arg);

extern const struct memo_backend redis_memo;

/* redis_keys.c */
/* Builds the key names of key; 0, or -1 with the reason recorded. */
int		 rd_keys_init(struct lock_redis *lr, const char *key,
		    struct rd_keys *k);
/* Frees the names in k. */
void		 rd_keys_free(struct rd_keys *k);
/* The name of part of entry digest (token: RD_MEMO_TMP's); malloc'd, or
   NULL with the reason recorded. */
char		*rd_memo_key(struct lock_redis *lr, const struct rd_keys *k,
		    const char *digest, enum rd_memo_part part,
		    const char *token);
/* Which part of an entry of k the key name of len bytes is; its digest
   starts at name + strlen(k->memo). */
enum rd_memo_part rd_memo_part_of(const struct rd_keys *k, const char *name,
		    size_t len);
/* Puts k's RD_NKEYS keys, in the order of RD_LUA_KEYS, into argv;
   returns RD_NKEYS. */
int		 rd_keys_argv(const struct rd_keys *k, const char **argv);
/* The SCAN pattern of every key of the namespace, or (k given) of
   every memo key of k; malloc'd, or NULL with the reason recorded. */
char		*rd_pattern(struct lock_redis *lr, const struct rd_keys *k);
/* The KEY of a key name of len bytes that shows KEY in use (its lock,
   hd or q key; *which 0, 1 or 2), malloc'd; NULL for any other name. */
char		*rd_key_of_used(const struct lock_redis *lr, const char *name,
		    size_t len, int *which);

/* redis_call.c */
/* A deadline one command timeout from now, or lr->hard_deadline if that
   comes first. */
int64_t		 rd_deadline(const struct lock_redis *lr);
/* Makes sure the command connection is up; 0, or -1 (EUNAVAIL). */
int		 rd_ensure(struct lock_redis *lr);
/* rd_ensure(), again while the server answers the handshake that it is
   not ready, up to one connect timeout in all; 0, or -1 (EUNAVAIL). */
int		 rd_connect(struct lock_redis *lr);
/* Runs a command; its reply (not an error reply), or NULL with the
   reason recorded (EUNAVAIL: a dead connection or a refusal). */
redisReply	*rd_command(struct lock_redis *lr, int argc, const char **argv,
		    const size_t *argvlen);
/* Runs a script, as rd_command(). */
redisReply	*rd_eval(struct lock_redis *lr, struct redis_script *s,
		    int nkeys, int argc, const char **argv,
		    const size_t *argvlen);
/* Frees r, an integer reply, into *v; 0, or -1 with the reason recorded
   (also for r NULL). */
int		 rd_int(struct lock_redis *lr, redisReply *r, long long *v);
/* Fills h from a lock value reply, or with a placeholder of an unknown
   holder (token "?"); h->ttl_ms = pttl. */
void		 rd_holder(const redisReply *v, int64_t pttl,
		    struct holder *h);

/* redis_queue.c */
/* The KIND of req ("x", "s", "kN") into buf. */
void		 rd_kind(const struct lock_request *req, char *buf, size_t len);
/* One try of the acquire script as t says: LOCK_ACQUIRED (self's fence
   and slot set), LOCK_BUSY (t's holder, pttl, quiet and place set, and
   queued when t->join), LOCK_COOLING, LOCK_SUPERSEDED (l->other set) or
   LOCK_ERROR. */
enum lock_result rd_try(struct lock_redis *lr, const struct rd_keys *k,
		    struct holder *self, struct rd_try *t);
/* Leaves k's queue and wakes whoever may enter then; best effort. */
void		 rd_leave(struct lock_redis *lr, const struct rd_keys *k,
		    const char *token);
/* Nonzero if r is a script's refusal ({-1, protocol}: EUNAVAIL; {-2,
   kind}: EUSAGE naming kind and ours), recorded. */
int		 rd_refused(struct lock_redis *lr, const struct rd_keys *k,
		    const redisReply *r, const char *kind);

/* redis_lease.c */
/* The release script (redis_lease.c describes its keys and arguments). */
extern struct redis_script rd_release_script;
/* Puts the release script's keys and arguments into argv (tmp: a
   capture to drop, or NULL); returns their number, of which the last 6
   are arguments. */
int		 rd_release_argv(const struct rd_keys *k, const char *tmp,
		    const char *token, const char *cool, const char *since,
		    const char *host, const char **argv);
/* Records, for cmd/ to show, that a release could not be announced. */
void		 rd_untold(struct lock_redis *lr);
/* Forgets the held lock and any capture locally. */
void		 rd_drop_held(struct lock_redis *lr);

/* redis_wait.c */
/* Tries for k, and waits as w says while it is busy; a lock_result. */
enum lock_result rd_wait(struct lock_redis *lr, const struct rd_keys *k,
		    struct lock_wait *w, struct holder *self, struct rd_try *t);

/* redis_state.c */
/* Fills st with k's holders (oldest first) and, with waiters set, its
   waiters in queue order (else only counted), and its cooldown; never
   changes anything.  0, or -1 with the reason recorded. */
int		 rd_state(struct lock_redis *lr, const struct rd_keys *k,
		    struct lock_state *st, int waiters);
/* The holder of k whose token is token into h: 1, 0 none, -1 error. */
int		 rd_holder_of(struct lock_redis *lr, const struct rd_keys *k,
		    const char *token, struct holder *h);
/* The backend's status(). */
int		 redis_status(struct lock *l, const char *key,
		    struct lock_state *st);

/* redis_replicas.c */
/* With --min-replicas, waits (the connect timeout at most) until that
   many replicas acknowledged the write just made on lr->cmd (what: "the
   lock", "the renewal"); 0, or -1 with the reason recorded (EUNAVAIL:
   how many did). */
int		 rd_replicas(struct lock_redis *lr, const char *what);

/* redis_keep.c: the backend's release_token() and renew(). */
/* The heartbeat's renewal of a shared or slot holder's lease. */
extern struct redis_script rd_group_renew_script;
int		 redis_release_token(struct lock *l, const char *key,
		    const char *token);
int		 redis_renew(struct lock *l, const char *key, const char *token,
		    int64_t ttl_ms);

/* redis_list.c */
/* The backend's list(): every held key of the namespace. */
int		 redis_list(struct lock *l, lock_list_cb cb, void *arg);
/* Walks the keys matching pattern on the server commands go to now with
   SCAN (never KEYS), calling fn for each; 0, 1 if fn stopped it, or -1
   with the reason recorded. */
int		 rd_scan_node(struct lock_redis *lr, const char *pattern,
		    rd_scan_fn fn, void *arg);

/* redis_cluster.c */
/* Walks the keys matching pattern with SCAN (never KEYS), on every
   master of a cluster that may hold them, calling fn for each; 0, or -1
   with the reason recorded. */
int		 rd_scan(struct lock_redis *lr, const char *pattern,
		    rd_scan_fn fn, void *arg);
/* Connects lr->sub to the server of the held or wanted key and
   subscribes to chan (its shard channel on a cluster); 0, or -1 with
   the reason in lr->sub.err. */
int		 rd_sub_open(struct lock_redis *lr, const char *chan);

#endif
