/*
 * local_int: what the local backend's files share (lock_local.c, the
 * locks; memo_local.c, its output cache).  Not for cmd/.
 */
#ifndef KEYLOCK_LOCAL_INT_H
#define KEYLOCK_LOCAL_INT_H

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
	int		 lockfd;	/* held lock, or -1 */
	char		 name[KEYNAME_FILE_MAX + 1];	/* of the held key */
	struct holder	 self;		/* the held key's record */
	int64_t		 cooldown_ms;	/* of the held key's request */
	struct memo_file memo;
};

extern const struct memo_backend local_memo;

/* lock_local.c */
/* Starts the cooldown (succeeded), clears the holder record and unlocks
   the held key; 0. */
int	local_release(struct lock *l, int succeeded);
/* key's holder, never taking the lock: 1 held (h filled; pid 0 when its
   record is unreadable), 0 free, -1 error; name gets the file name. */
int	local_holder(struct lock_local *ll, const char *key,
	    char name[KEYNAME_FILE_MAX + 1], struct holder *h);
/* Releases what is held and frees the context. */
void	local_close(struct lock *l);

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
