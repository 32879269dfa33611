/*
 * redis_int: what the Redis backend's files share.  Not for cmd/.
 *
 *	redis_keys.c	key names and the Lua pieces every script uses
 *	redis_call.c	running commands and scripts with deadlines
 *	redis_lease.c	the lease: try, adopt, release, force, status
 *	redis_wait.c	waiting for a lease: Pub/Sub, back-off
 *	redis_keep.c	release and renewal by token (acquire)
 *	redis_list.c	SCAN over the namespace
 *	redis_cluster.c	SCAN over a cluster's masters, the waiters'
 *			subscription (shard channels on a cluster)
 *	redis_memo.c	the output cache
 *
 * The key layout, for KEY with E = keyname_redis(KEY), so that all keys
 * of one KEY share one hash tag:
 *
 *	NS:{E}:lock			"TOKEN HOST PID SINCE_MS FENCE", PX ttl
 *	NS:{E}:fence			INCR'd on every acquisition, no TTL
 *	NS:{E}:memo:D			a cached stdout, PX memo ttl
 *	NS:{E}:memo:D:meta		hash: id, created (server ms), size,
 *					sum (checksum.h), v (2)
 *	NS:{E}:memo:D:tmp:TOKEN		output being captured, PX lease ttl
 *	NS:{E}:cool			"SINCE_MS UNTIL_MS HOST" while a
 *					cooldown closes KEY, PX until then
 *	NS:{E}:quiet			set for an hour by a release that could
 *					not PUBLISH (an ACL without it)
 *	channel NS:{E}:ch		"released" / "memo D" on every release
 *					(a shard channel on a cluster)
 *	channel NS:{E}:probe		a waiter's test: may it PUBLISH?
 *
 * A waiter that learns that releases cannot be announced (the quiet key,
 * or its own PUBLISH refused) tries again every RD_QUIET_RETRY ms
 * instead of waiting for a message; otherwise it never polls.
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
   PUBLISH anywhere else.  Every script that announces uses it, never
   PUBLISH itself. */
#define RD_LUA_PUB \
	"local function pub(ch, msg)\n" \
	"  if redis.REDIS_VERSION_NUM and" \
	" type(redis.pcall('CLUSTER', 'MYID')) == 'string' then\n" \
	"    return redis.pcall('SPUBLISH', ch, msg)\n" \
	"  end\n" \
	"  return redis.pcall('PUBLISH', ch, msg)\n" \
	"end\n"
/* Lua: tell(channel, message, quiet key) publishes, or, when the server
   refuses (an ACL without PUBLISH), marks the key quiet for an hour;
   true if the message went out. */
#define RD_LUA_TELL \
	RD_LUA_PUB \
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
	char	*probe;
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
	int64_t			 hard_deadline;	/* no command runs past it
						   (monotonic ms) */
	struct redis_route	 route;		/* where cmd and sub go */
	struct redis_conn	 cmd;
	struct redis_conn	 sub;
	uint32_t		 seed;		/* jitter */

	int			 held;
	int			 tried_blind;	/* an acquire got no reply */
	int64_t			 cooldown_ms;	/* of the held key's request */
	int64_t			 started_ms;	/* server ms of the acquire */
	char			 host[HOLDER_HOST_MAX];	/* ours */
	struct rd_keys		 k;		/* of the held key */
	char			 token[HOLDER_TOKEN_LEN + 1];
	int64_t			 valid_from;	/* send time of the acquire,
						   heartbeat_clock_ms() */
	struct heartbeat	 hb;

	int			 capturing;
	char			 digest[DIGEST_HEX_LEN + 1];
	char			*tmpkey;
	char			*mbuf;
	size_t			 mlen;
	struct checksum		 msum;		/* of the capture */
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
/* The SCAN pattern of every lock key of the namespace, or (k given) of
   every memo key of k; malloc'd, or NULL with the reason recorded. */
char		*rd_pattern(struct lock_redis *lr, const struct rd_keys *k);
/* The KEY of a lock key name of len bytes (malloc'd), or NULL if it is
   not a lock key of the namespace. */
char		*rd_key_of_lock(const struct lock_redis *lr, const char *name,
		    size_t len);

/* redis_call.c */
/* A deadline one command timeout from now, or lr->hard_deadline if that
   comes first. */
int64_t		 rd_deadline(const struct lock_redis *lr);
/* Makes sure the command connection is up; 0, or -1 (EUNAVAIL). */
int		 rd_ensure(struct lock_redis *lr);
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

/* redis_lease.c */
/* The release script (redis_lease.c describes its keys and arguments). */
extern struct redis_script rd_release_script;
/* One try of the acquire script: LOCK_ACQUIRED (self's fence set),
   LOCK_BUSY (h, *pttl and *quiet set), LOCK_COOLING or LOCK_ERROR. */
enum lock_result rd_try(struct lock_redis *lr, const struct rd_keys *k,
		    struct holder *self, struct holder *h, int64_t *pttl,
		    int *quiet);
/* Reads lockkey's holder: 1 held (h filled), 0 free, -1 error; with k,
   its cooldown into lr->base.cooldown too. */
int		 rd_status_of(struct lock_redis *lr, const char *lockkey,
		    struct holder *h, const struct rd_keys *k);
/* Records, for cmd/ to show, that a release could not be announced. */
void		 rd_untold(struct lock_redis *lr);
/* Forgets the held lock and any capture locally. */
void		 rd_drop_held(struct lock_redis *lr);

/* redis_wait.c */
/* Tries for k, and waits as w says while it is busy; a lock_result. */
enum lock_result rd_wait(struct lock_redis *lr, const struct rd_keys *k,
		    struct lock_wait *w, struct holder *self);

/* redis_keep.c: the backend's release_token() and renew(). */
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
