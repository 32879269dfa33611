/*
 * heartbeat: the forked process that keeps a Redis lease alive.
 *
 * It renews the lease every ttl/3 over its own connection with a
 * compare-and-PEXPIRE script, retries failures until the local validity
 * deadline, and reports each confirmed renewal, with its new deadline,
 * and a lost lease on the report pipe.  keylock checks those reports
 * (heartbeat_check()), so a heartbeat that stalls (SIGSTOP, a machine
 * that starves it) cannot keep a command running past the deadline.  With the lease it renews one extra key named at its start (an
 * output capture that must live as long as the lease).  It stops,
 * without releasing, when the stop pipe from keylock reaches EOF or
 * carries any byte, so it never outlives keylock and never renews after
 * being told to stop.  The
 * validity deadline is kept on CLOCK_BOOTTIME, which, unlike
 * CLOCK_MONOTONIC, goes on counting while the machine is suspended: a
 * lease that expired during a suspend is known lost on resume.
 */
#ifndef KEYLOCK_HEARTBEAT_H
#define KEYLOCK_HEARTBEAT_H

#include <stdint.h>
#include <sys/types.h>

struct redis_url;
struct redis_addr;
struct redis_route;
struct redis_script;

struct heartbeat_conf {
	const struct redis_url	*url;
	const struct redis_addr	*addr;		/* resolved by keylock: the
						   heartbeat never resolves */
	struct redis_route	*route;		/* or NULL: the acquire's, so
						   it renews on the node the
						   acquire ended on and
						   follows redirects (a
						   copy: the heartbeat's own) */
	int64_t			 connect_timeout_ms;
	int64_t			 ttl_ms;
	const char		*lock_key;
	const char		*aux_key;	/* passed after lock_key, or
						   NULL */
	const char		*extra_key;	/* renewed too, or NULL */
	struct redis_script	*script;	/* the renewal (KEYS lock_key
						   [aux_key] [extra_key], ARGV
						   token, ttl_ms: 1 renewed,
						   0 not ours), or NULL: a
						   compare-and-PEXPIRE of
						   lock_key's string */
	const char		*token;		/* HOLDER_TOKEN_LEN digits */
	int64_t			 valid_from;	/* heartbeat_clock_ms() send
						   time of the acquire, or a
						   safe earlier time */
	int			 min_replicas;	/* a renewal counts once this
						   many replicas have it */
};

struct heartbeat {
	pid_t	pid;		/* -1: not running */
	int	stop_w;		/* keylock's end of the stop pipe */
	int	lost_r;		/* the report pipe: readable on news */
	int64_t	valid;		/* the last deadline reported (heartbeat
				   clock) */
};

/* What heartbeat_check() found. */
enum heartbeat_state {
	HEARTBEAT_OK,		/* renewed in time */
	HEARTBEAT_LOST,		/* the heartbeat says the lease is lost */
	HEARTBEAT_GONE,		/* the heartbeat died */
	HEARTBEAT_LATE,		/* no renewal confirmed before the deadline */
};

/* CLOCK_BOOTTIME milliseconds, the clock of heartbeat_conf.valid_from. */
int64_t	heartbeat_clock_ms(void);
/* Until when a lease of ttl_ms sent at from counts as ours here: its
   server-side expiry less a margin for clock drift. */
int64_t	heartbeat_valid_until(int64_t from, int64_t ttl_ms);
/* Sets up a heartbeat that is not running. */
void	heartbeat_init(struct heartbeat *hb);
/* Forks the heartbeat; 0, or -1 with errno. */
int	heartbeat_start(struct heartbeat *hb, const struct heartbeat_conf *c);
/* Reads the reports that arrived; sets *left to the milliseconds until
   the lease runs out unless a renewal is reported meanwhile. */
enum heartbeat_state heartbeat_check(struct heartbeat *hb, int64_t *left);
/* Stops (SIGKILL) the heartbeat and waits for it: it sends no renewal
   afterwards, and one it sent can no longer match a released lease. */
void	heartbeat_stop(struct heartbeat *hb);
/* Closes lost_r (after heartbeat_stop()). */
void	heartbeat_close(struct heartbeat *hb);

#endif
