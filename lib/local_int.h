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
	char		 name[KEYNAME_FILE_MAX + 1];
	struct memo_file memo;
};

extern const struct memo_backend local_memo;

/* Clears the holder record and unlocks the held key; 0. */
int	local_release(struct lock *l);
/* Releases what is held and frees the context. */
void	local_close(struct lock *l);

#endif
