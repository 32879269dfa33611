/*
 * local_int: what the local backend's files share (lock_local.c, the
 * locks; local_wait.c, the wait in arrival order; local_queue.c, the
 * queue's files; local_keep.c, tokens and cooldowns; memo_local.c, its
 * output cache).  Not for cmd/.
 */
#ifndef KEYLOCK_LOCAL_INT_H
#define KEYLOCK_LOCAL_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "keyname.h"
#include "lock.h"
#include "memo_file.h"

struct lock_local {
	struct lock	 base;
	char		*dir;
	int		 dir_strict;	/* the default: vet ownership */
	char		*cache_dir;
	int		 cache_strict;
	int		 dirfd;
	int		 lockfd;	/* held lock file N, or -1 */
	enum lock_mode	 mode;		/* of the held key */
	int		 qfd;		/* its queue directory, or -1 */
	int		 slotfd;	/* slots: the slot's lock, or -1 */
	int		 recfd;		/* shared: its record file hFENCE;
					   slots: its slot file; or -1 */
	char		 recname[32];	/* that file's name in qfd */
	char		 name[KEYNAME_FILE_MAX + 1];	/* of the held key */
	struct holder	 self;		/* the held key's record */
	int64_t		 cooldown_ms;	/* of the held key's request */
	struct memo_file memo;
};

extern const struct memo_backend local_memo;

/* A flock(2)ed inode as /proc/locks shows it. */
struct local_locked {
	unsigned int	maj, min;
	unsigned long	ino;
	int		write;		/* LOCK_EX, not LOCK_SH */
};

/* Our entry in a key's queue (local_queue.c). */
struct local_queue {
	int		 qfd;		/* the queue directory, or -1 */
	uint64_t	 ticket;	/* 0: not queued */
	int		 efd;		/* the entry, locked, or -1 */
	int		 ffd;		/* its doorbell, read and write, or
					   -1 */
	char		 ename[24];
};

/* A live entry or holder file found in a queue directory. */
struct local_qent {
	uint64_t	 ticket;	/* entries; 0 for holder files */
	struct holder	 h;
};

/* lock_local.c */
/* Starts the cooldown (succeeded), clears the holder record and unlocks
   the held key; 0. */
int	local_release(struct lock *l, int succeeded);
/* Releases what is held and frees the context. */
void	local_close(struct lock *l);
/* Reads the flock'ed inodes from /proc/locks into *out; count, or -1. */
int	local_locked(struct local_locked **out);
/* How name (relative to dirfd) is flock'ed among v: 0 not, 1 shared,
   2 exclusive. */
int	local_lock_kind(int dirfd, const char *name,
	    const struct local_locked *v, int n);
/* Reads the holder record of lock file name into h; 0, or -1 if none. */
int	local_read_holder(struct lock_local *ll, const char *name,
	    struct holder *h);
/* Counts an acquisition in lock file fd (of key): the new fence, or 0
   (errno); with self, writes its record beside the fence, else clears
   the record.  The caller holds fd exclusively, or shares it and holds
   the queue's guard. */
uint64_t local_count(int fd, const char *key, struct holder *self);
/* Fills st with every holder and waiter of lock file name; 0 or -1. */
int	local_state(struct lock_local *ll, const char *name,
	    struct lock_state *st);

/* local_wait.c */
/* Takes req's key for self in arrival order, file name in ll->name;
   a lock_result, with ll's held fields filled on LOCK_ACQUIRED. */
enum lock_result local_wait(struct lock_local *ll,
	    const struct lock_request *req, struct lock_wait *w,
	    struct holder *self);

/* local_queue.c */
/* Opens queue directory .q.NAME of lock file name (creating it with
   create); the fd, or -1 (errno). */
int	local_queue_open(struct lock_local *ll, const char *name, int create);
/* Locks the queue's guard (its ticket counter); the fd to close, or -1. */
int	local_queue_guard(int qfd);
/* 1 if a live entry is in queue directory qfd, 0 if none, -1 (errno);
   unlinks dead entries and shared holders' records on the way, and
   (guarded: the caller holds the guard) dead temporary files. */
int	local_queue_peek(int qfd, int guarded);
/* Creates file name in qfd, locked LOCK_EX, with the len bytes at buf;
   the fd, or -1 (errno).  The caller holds the guard. */
int	local_queue_create(int qfd, const char *name, const void *buf,
	    size_t len);
/* Joins the queue of q->qfd with record rec; 0, or -1 (errno). */
int	local_queue_join(struct local_queue *q, const struct holder *rec);
/* Leaves the queue (unlinks and closes the entry); also for a q that
   never joined. */
void	local_queue_leave(struct local_queue *q);
/* The live entries of qfd older than q's ticket (all when not queued),
   oldest first, in *out (free it); count, or -1. */
int	local_queue_ahead(const struct local_queue *q,
	    struct local_qent **out);
/* Marks every supersede waiter older than q as superseded by rec. */
void	local_queue_supersede(const struct local_queue *q,
	    const struct holder *rec);
/* 1 and *by filled if a newer caller superseded q, else 0. */
int	local_queue_superseded(const struct local_queue *q,
	    struct holder *by);
/* Rings doorbell ffd (a waiter's FIFO) with a LOCAL_RING_* byte: its
   owner wakes. */
#define LOCAL_RING_HELPER	'h'	/* its helper is done and exits */
#define LOCAL_RING_SUPERSEDED	's'
void	local_queue_ring(int ffd, char why);
/* Appends the shared and slot holders and the waiters of queue
   directory qfd to st, as the flock'ed inodes v show them (no file is
   locked); 0 or -1. */
int	local_queue_state(int qfd, const struct local_locked *v, int n,
	    struct lock_state *st);

/* local_keep.c */
/* Reads the cooldown of lock file name into c (zeroed when none). */
void	local_cool_read(struct lock_local *ll, const char *name,
	    struct lock_cooldown *c);
/* Closes lock file name for ms after the start of the run of self;
   best effort (a cooldown that cannot be written is none). */
void	local_cool_write(struct lock_local *ll, const char *name,
	    const struct holder *self, int64_t ms);
/* lock_backend.release_token and .renew */
int	local_release_token(struct lock *l, const char *key,
	    const char *token);
int	local_renew(struct lock *l, const char *key, const char *token,
	    int64_t ttl_ms);

#endif
