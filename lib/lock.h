/*
 * lock: the backend interface.  A backend is one const table of function
 * pointers; "run", "status", "list", "release" and "forget" only ever talk
 * to a backend through it.  Every call takes the context returned by
 * lock_open(); a failed call leaves an error class and a one-line reason
 * in the context (lock_error()), and a context whose connection failed
 * refuses further calls.  Nothing here prints or exits.
 */
#ifndef KEYLOCK_LOCK_H
#define KEYLOCK_LOCK_H

#include <stddef.h>
#include <stdint.h>

#include "holder.h"
#include "memo.h"

struct redis_url;

/* Error classes, mapped to exit codes by cmd/. */
enum lock_errclass {
	LOCK_ENONE = 0,
	LOCK_EUSAGE,		/* the user's input cannot work (64) */
	LOCK_EUNAVAIL,		/* the backend cannot be reached (69) */
	LOCK_EINTERNAL,		/* anything else (70) */
	LOCK_ELOST,		/* the lease was lost while held (76) */
};

/* What acquire() returns. */
enum lock_result {
	LOCK_ACQUIRED = 0,
	LOCK_BUSY,		/* held, and not waiting or the wait ran out */
	LOCK_INTERRUPTED,	/* a signal arrived on the wait's signal fd */
	LOCK_ERROR,		/* see lock_error() */
};

struct lock_opts {
	const char		*dir;		/* local: lock directory */
	int			 dir_is_default; /* local: apply ownership checks */
	const char		*cache_dir;	/* local: memo cache directory */
	int			 cache_is_default;
	const struct redis_url	*url;		/* redis */
	const char		*ns;		/* redis: key namespace */
	int64_t			 connect_timeout_ms;
	int64_t			 ttl_ms;	/* redis: lease */
};

/* How to wait in acquire(). */
struct lock_wait {
	int64_t		 deadline;	/* monotonic ms; 0: do not wait */
	int		 sigfd;		/* a readable fd ends the wait */
	int64_t		 notify_after;	/* monotonic ms for the notice */
	/* Called once, at notify_after, with the holder if known. */
	void		(*notify)(void *arg, const struct holder *h);
	void		*arg;
};

struct lock;

/* Called by list(): key and its holder; return -1 to stop. */
typedef int (*lock_list_cb)(void *arg, const char *key,
    const struct holder *h);


struct lock_backend {
	const char	*name;
	/* Allocates a context; NULL only when out of memory. */
	struct lock	*(*open)(const struct lock_opts *);
	/* Connects or prepares storage; 0 or -1. */
	int		 (*connect)(struct lock *);
	/* Takes key for self (filled with token and fence); lock_result. */
	int		 (*acquire)(struct lock *, const char *key,
			    struct lock_wait *, struct holder *self);
	/* Starts lease upkeep; returns an fd that turns readable when the
	   lease is lost (-1 when the backend has no lease), or -2 on error. */
	int		 (*keepalive)(struct lock *);
	/* Releases the held key; 0, or -1 if it was no longer ours. */
	int		 (*release)(struct lock *);
	/* 1 held (h filled), 0 free, -1 error.  Never takes the lock. */
	int		 (*status)(struct lock *, const char *key,
			    struct holder *h);
	/* Calls cb for every held key; 0 or -1. */
	int		 (*list)(struct lock *, lock_list_cb cb, void *arg);
	/* Deletes key's lock whoever holds it; 1 deleted, 0 none, -1. */
	int		 (*force_release)(struct lock *, const char *key);

	/* memo: 1 hit (copied to fd), 0 miss, -1 error (fd write errors
	   leave errno EPIPE etc. with class LOCK_EINTERNAL). */
	int		 (*memo_get)(struct lock *, const struct memo_id *,
			    int64_t max_age_ms, int fd);
	/* Starts capturing output for the held key; 0 or -1. */
	int		 (*memo_begin)(struct lock *, const struct memo_id *);
	/* Appends output; 0 or -1. */
	int		 (*memo_append)(struct lock *, const void *, size_t);
	/* Stores the capture for ttl_ms and releases the lock; 0, or -1
	   (lock still held unless the lease was lost). */
	int		 (*memo_commit)(struct lock *, int64_t ttl_ms);
	/* Drops the capture; the lock stays held. */
	void		 (*memo_abort)(struct lock *);
	/* Drops every entry of key; number dropped, or -1. */
	long		 (*memo_forget)(struct lock *, const char *key);
	/* Calls cb for every fresh entry of key; 0 or -1. */
	int		 (*memo_list)(struct lock *, const char *key,
			    memo_list_cb cb, void *arg);

	void		 (*close)(struct lock *);
};

/* Fields shared by every backend's context; each embeds it first. */
struct lock {
	const struct lock_backend *be;
	enum lock_errclass	errclass;
	char			errmsg[512];
};

extern const struct lock_backend lock_local_backend;
extern const struct lock_backend lock_redis_backend;

/* Records a printf-style reason and class in l; always returns -1. */
int		 lock_seterr(struct lock *l, enum lock_errclass c,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* The last reason recorded in l, or "" if none. */
const char	*lock_error(const struct lock *l);

#endif
