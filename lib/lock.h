/*
 * lock: the backend interface.  A backend is one const table of function
 * pointers, found by the scheme of the URL the user gave (no URL: the
 * local backend); "run", "status", "list", "release" and "forget" only
 * ever talk to a backend through it, and cmd/ names no backend.  Every
 * call takes the context returned by open(); a failed call leaves an
 * error class and a one-line reason in the context (lock_error()), and a
 * context whose connection failed refuses further calls.  Nothing here
 * prints or exits.
 *
 * The interface grows by data: a lock_request says what is wanted of a
 * key (mode and count), and a lock_state lists who holds it and who
 * waits, so new modes extend these structs rather than the calls.  The
 * output cache is a second, optional table (memo.h) beside this one.
 */
#ifndef KEYLOCK_LOCK_H
#define KEYLOCK_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "holder.h"

struct memo_backend;

/* Error classes, mapped to exit codes by cmd/. */
enum lock_errclass {
	LOCK_ENONE = 0,
	LOCK_EUSAGE,		/* the user's input cannot work (64) */
	LOCK_EUNAVAIL,		/* the backend cannot be reached (69) */
	LOCK_EINTERNAL,		/* anything else (70) */
	LOCK_ELOST,		/* the lease was lost while held (76) */
	LOCK_EOSERR,		/* the system ran out: descriptors, memory,
				   processes (71) */
	LOCK_ECANTCREAT,	/* a file cannot be created: disk full,
				   quota, read-only (73) */
	LOCK_EIOERR,		/* an I/O error (74) */
};

/* What acquire() returns. */
enum lock_result {
	LOCK_ACQUIRED = 0,
	LOCK_BUSY,		/* held, and not waiting or the wait ran out */
	LOCK_INTERRUPTED,	/* a signal arrived on the wait's signal fd */
	LOCK_COOLING,		/* closed by a cooldown: see l->cooldown */
	LOCK_SUPERSEDED,	/* a newer --supersede caller took our place
				   in the queue: see l->other */
	LOCK_ERROR,		/* see lock_error() */
};

/* A key closed after a run that succeeded (--cooldown). */
struct lock_cooldown {
	int64_t		 since_ms;	/* when that run started, wall ms */
	int64_t		 until_ms;	/* closed until then; 0: open */
	char		 host[HOLDER_HOST_MAX];	/* where it ran */
};

/*
 * How a request shares its key with others.  Whatever the mode, callers
 * that have to wait are served in arrival order: no later caller, waiting
 * or not, overtakes a waiting one (so a shared caller that comes after a
 * waiting exclusive one waits behind it), and a caller that does not wait
 * gives up when the key is held or anyone is queued.  Every caller of a
 * key must use the same kind: exclusive and shared callers mix, but a
 * LOCK_SLOTS request meets only LOCK_SLOTS requests with its count (else
 * LOCK_ERROR, LOCK_EUSAGE, the reason naming both).
 */
enum lock_mode {
	LOCK_EXCLUSIVE = 0,	/* one holder at a time */
	LOCK_SHARED,		/* any number of shared holders, while no
				   exclusive one holds */
	LOCK_SLOTS,		/* up to count holders, each with its own
				   slot 0..count-1 (holder.slot) */
};

/* What a caller asks of a key. */
struct lock_request {
	const char	*key;
	enum lock_mode	 mode;
	unsigned int	 count;		/* LOCK_SLOTS: slots, >= 2; else 1 */
	const char	*note;		/* shown with the holder, or NULL */
	int64_t		 until_ms;	/* wall ms it lets go by; 0: none */
	int64_t		 cooldown_ms;	/* closed this long after the start
					   of a run that succeeded; 0 */
	int		 supersede;	/* a newer supersede waiter of the key
					   ends this one's wait
					   (LOCK_SUPERSEDED); the holders are
					   never touched */
};

/* TLS settings given as options; they override the URL's.  NULL or 0:
   not given. */
struct lock_tls {
	const char	*cacert;
	const char	*cert;
	const char	*key;
	const char	*sni;
	int		 insecure;
};

/* Everything a backend may need to open; each takes what it uses. */
struct lock_opts {
	const char	*url;		/* NULL: the local backend */
	int		 url_from_argv;	/* given on the command line */
	const char	*dir;		/* local: lock directory, or NULL */
	const char	*ns;		/* key namespace, or NULL */
	int64_t		 connect_timeout_ms;
	int64_t		 ttl_ms;	/* lease, where there is one */
	struct lock_tls	 tls;		/* for a TLS URL */
};

/* How to wait in acquire(). */
struct lock_wait {
	int64_t		 deadline;	/* monotonic ms; 0: do not wait */
	int		 sigfd;		/* a readable fd ends the wait */
	int64_t		 notify_after;	/* monotonic ms for the notice */
	/* Called once, at notify_after, with the holder if known and our
	   place in the queue (1: next; 0: not known). */
	void		(*notify)(void *arg, const struct holder *h,
			    unsigned int place);
	void		*arg;
};

/* A lease keylock must see kept while the command runs. */
struct lock_lease {
	int		 fd;		/* readable on news from its keeper;
					   -1: there is no lease */
	int64_t		 check_at;	/* monotonic ms by which check()
					   must run again, or CLOCK_FOREVER */
	pid_t		 keeper;	/* our child that keeps the lease
					   (not part of the job), or -1 */
};

/* Who holds a key and who waits for it, as status() and list() see it.
   A holder's since_ms is when it took the key; a waiter's, when it
   joined the queue.  list() may leave waiters NULL and only count
   them. */
struct lock_state {
	struct holder	*holders;	/* nholders of them, oldest first */
	size_t		 nholders;
	struct holder	*waiters;	/* in queue order */
	size_t		 nwaiters;
	struct lock_cooldown cooldown;
	const char	*unreadable;	/* list(): why this key's state could
					   not be read (it is skipped), or
					   NULL */
};

/* What a list() callback tells the walk. */
enum lock_walk {
	LOCK_WALK_NEXT = 0,
	LOCK_WALK_STOP,
};

struct lock;

/* Called by list() for each held key. */
typedef enum lock_walk (*lock_list_cb)(void *arg, const char *key,
    const struct lock_state *st);

struct lock_backend {
	const char	*name;
	/* URL schemes ("redis" for "redis://..."), NULL-terminated; the
	   backend with none serves the calls that give no URL. */
	const char *const *schemes;
	/* Allocates a context and takes the options it uses; NULL only
	   when out of memory.  Options that cannot work (a bad URL) are
	   recorded in the context, for connect() to report. */
	struct lock	*(*open)(const struct lock_opts *);
	/* Connects or prepares storage; 0 or -1. */
	int		 (*connect)(struct lock *);
	/* Takes the key of req for self (filled with token and fence, and
	   with LOCK_SLOTS, slots and slot); a lock_result. */
	enum lock_result (*acquire)(struct lock *, const struct lock_request *,
			    struct lock_wait *, struct holder *self);
	/* Starts lease upkeep and fills lease; 0, or -1 (ELOST: the
	   lease ran out before it started). */
	int		 (*keepalive)(struct lock *, struct lock_lease *lease);
	/* Reads the keeper's news when lease->fd is readable or at
	   lease->check_at; 0 while the lease is ours (lease updated), -1
	   once it is lost or may have run out (ELOST, reason recorded). */
	int		 (*lease_check)(struct lock *, struct lock_lease *lease);
	/* Releases the held key; with succeeded set, it starts the
	   request's cooldown.  0, or -1 (ELOST: it was no longer ours). */
	int		 (*release)(struct lock *, int succeeded);
	/* Releases key if token holds it, from any process or (Redis)
	   machine, and stops the process that held it; 0, or -1 (ELOST:
	   the token does not hold key). */
	int		 (*release_token)(struct lock *, const char *key,
			    const char *token);
	/* Makes the lease token holds on key last at least ttl_ms from
	   now (nothing to extend on a backend without leases); 0, or -1
	   (ELOST: the token does not hold key). */
	int		 (*renew)(struct lock *, const char *key,
			    const char *token, int64_t ttl_ms);
	/* Fills st (lock_state_free() it); 0 or -1.  Never takes a lock. */
	int		 (*status)(struct lock *, const char *key,
			    struct lock_state *st);
	/* Calls cb for every held key; 0 or -1. */
	int		 (*list)(struct lock *, lock_list_cb cb, void *arg);
	/* Deletes key's lock whoever holds it; 0 with *deleted 1 or 0
	   (it was free), or -1. */
	int		 (*force_release)(struct lock *, const char *key,
			    int *deleted);
	/* The output cache of this backend, or NULL if it has none. */
	const struct memo_backend *memo;

	void		 (*close)(struct lock *);
};

/* Fields shared by every backend's context; each embeds it first. */
struct lock {
	const struct lock_backend *be;
	enum lock_errclass	errclass;
	char			errmsg[512];
	char			warning[256];	/* for cmd/ to show, or "" */
	struct lock_cooldown	cooldown;	/* after LOCK_COOLING */
	struct holder		other;		/* after LOCK_SUPERSEDED: who
						   took our place */
};

extern const struct lock_backend lock_local_backend;
extern const struct lock_backend lock_redis_backend;

/* The backend for url (NULL: the local one), or NULL with a reason in
   err when no backend takes its scheme. */
const struct lock_backend *lock_backend_find(const char *url, char *err,
		    size_t errlen);
/* Records a printf-style reason and class in l, keeping errno; always
   returns -1. */
int		 lock_seterr(struct lock *l, enum lock_errclass c,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The class of a failed system call's errno: exhaustion and disk
   trouble have their own; anything else is dflt. */
enum lock_errclass lock_errno_class(int error, enum lock_errclass dflt);
/* The last reason recorded in l, or "" if none. */
const char	*lock_error(const struct lock *l);
/* Nonzero if the note can be stored: at most HOLDER_NOTE_MAX bytes,
   no control character (C0, DEL, C1) and well-formed UTF-8. */
int		 lock_note_ok(const char *note);
/* Parses "SINCE_MS UNTIL_MS HOST" into c; 0, or -1 if malformed. */
int		 lock_cooldown_parse(const char *s, size_t len,
		    struct lock_cooldown *c);
/* Sends SIGTERM to process pid and waits, at most ms, for it to end
   (through a pidfd where the kernel has them); 1 ended, 0 still there,
   -1 (errno) it could not be signalled. */
int		 lock_stop_process(pid_t pid, int ms);
/* Makes st hold the one holder h (a copy); 0, or -1 when out of memory. */
int		 lock_state_one(struct lock_state *st, const struct holder *h);
/* Frees what st holds and empties it. */
void		 lock_state_free(struct lock_state *st);

#endif
