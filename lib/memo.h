/*
 * memo: the identity of a cached result, and the interface of an output
 * cache, which a lock backend may offer beside its locks (lock.h).
 *
 * The identity digest is SHA-256 over a versioned, length-prefixed
 * encoding of KEY, argv and the inputs the caller names (working
 * directory, environment variables, files), so every machine computes
 * the same name and no two argv lists collide.  Entries written under
 * another identity version have other names: they are misses.
 *
 * A store's calls take the lock context of its backend: capturing needs
 * the key held, and a store may commit and release in one step.  An
 * entry holds the run's stdout followed by its stderr (when captured),
 * their split, the exit status, and a checksum over all the bytes.
 */
#ifndef KEYLOCK_MEMO_H
#define KEYLOCK_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "lock.h"

struct memo_id {
	const char	*key;
	char		 digest[DIGEST_HEX_LEN + 1];
};

/* What an entry says of itself. */
#define MEMO_OWN_TTL	1	/* the command chose its TTL */
#define MEMO_HAS_ERR	2	/* stderr was captured (--memo-stderr) */

/* A cached entry as status shows it. */
struct memo_info {
	char		digest[DIGEST_HEX_LEN + 1];
	int64_t		age_ms;
	int64_t		ttl_ms;		/* left; -1 if unknown */
	uint64_t	size;		/* stdout and stderr */
	uint64_t	err_size;	/* of which stderr */
	int		status;		/* exit status of the run stored */
	int		flags;		/* MEMO_* */
};

/* What a reader asks of get(), and what it learns.  An entry whose TTL
   the command chose lives by that TTL, whatever max_age_ms, unless
   strict is set.  With stale_ms, an entry of a run that exited 0, past
   its TTL (or max_age_ms) by less than stale_ms and than the stale time
   it was stored with, is a hit too, and says so in stale. */
struct memo_get {
	int64_t		max_age_ms;
	int		strict;
	int64_t		stale_ms;
	int		out_fd;		/* for stdout; -1: only look */
	int		err_fd;		/* for stderr, when out_fd is set */
	int		failures;	/* an entry of a failed run is a hit */
	int		status;		/* out: exit status of a hit */
	int		stale;		/* out: the hit is stale */
};

/* What commit() stores besides the bytes appended. */
struct memo_put {
	int64_t		ttl_ms;
	int64_t		stale_ms;	/* kept, stale, this long past ttl_ms */
	uint64_t	err_size;	/* the last err_size bytes are stderr */
	int		status;		/* exit status of the run, 0-255 */
	int		flags;		/* MEMO_* */
};

/* Called by list() for each entry. */
typedef enum lock_walk (*memo_list_cb)(void *arg,
    const struct memo_info *mi);

struct memo_backend {
	/* Copies a fresh, intact entry to g's descriptors (or only checks
	   there is one): 1 hit, 0 miss, -1 error (a failed write keeps its
	   errno, EPIPE etc., class EIOERR).  An entry of a failed run is a
	   miss unless g->failures is set. */
	int	(*get)(struct lock *, const struct memo_id *,
		    struct memo_get *g);
	/* Starts capturing output for the held key; 0 or -1 (ELOST when
	   the lock is no longer ours). */
	int	(*begin)(struct lock *, const struct memo_id *);
	/* Appends output: stdout, then any stderr; 0 or -1. */
	int	(*append)(struct lock *, const void *, size_t);
	/* Stores the capture as p says and releases the lock; 0, or -1
	   (lock still held unless the lease was lost: ELOST). */
	int	(*commit)(struct lock *, const struct memo_put *p);
	/* Drops the capture; the lock stays held. */
	void	(*abort)(struct lock *);
	/* Drops every entry of key; number dropped, or -1. */
	long	(*forget)(struct lock *, const char *key);
	/* Calls cb for every fresh entry of key; 0 or -1. */
	int	(*list)(struct lock *, const char *key, memo_list_cb cb,
		    void *arg);
};

/* What a result depends on besides KEY and argv (--memo-cwd,
   --memo-env, --memo-file).  Names and paths count in the order given. */
struct memo_inputs {
	int		  err;		/* stderr is stored too: other entries */
	int		  cwd;		/* the physical working directory */
	const char	**env;		/* names; unset and empty differ */
	size_t		  nenv;
	const char	**files;	/* paths; by content (SHA-256) */
	size_t		  nfiles;
};

/* Computes the identity of key, the NULL-terminated argv and in (NULL:
   none); 0, or -1 with errno and the reason in err when the working
   directory or a file named cannot be read (a missing file is an input
   of its own, not an error). */
int	memo_id_init(struct memo_id *id, const char *key, char *const argv[],
	    const struct memo_inputs *in, char *err, size_t errlen);

#endif
