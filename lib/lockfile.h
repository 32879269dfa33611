/*
 * lockfile: the layout of a local lock file, pure functions only.
 *
 *	FENCE	"%020llu\n", LOCKFILE_FENCE_LEN bytes: acquisitions so far
 *	SLOT	LOCKFILE_SLOT_LEN bytes: the sealed holder record
 *		(holder.h), NUL-padded, zeroed at release
 *	KEY	the key itself, to the end of the file, so that hashed
 *		names can still be listed
 *
 * A record counts only when its seal holds and its fence is the file's,
 * so a torn read or the record of a holder that released is never shown.
 * (keylock 0.1 had a SLOT of 384 bytes: the first acquisition by this
 * version rewrites the key where it now belongs, and keeps the fence.)
 */
#ifndef KEYLOCK_LOCKFILE_H
#define KEYLOCK_LOCKFILE_H

#include <stddef.h>
#include <stdint.h>

#include "holder.h"

#define LOCKFILE_FENCE_LEN	21
#define LOCKFILE_SLOT_LEN	768
#define LOCKFILE_KEY_OFF	(LOCKFILE_FENCE_LEN + LOCKFILE_SLOT_LEN)
#define LOCKFILE_NO_FENCE	UINT64_MAX

/*
 * A queue entry (local_queue.c): the waiter's sealed record at 0, and
 * at LOCKFILE_BY_OFF the sealed record of the newer --supersede caller
 * that ended its wait, if one did.  A slot file or a shared holder's
 * file holds just the sealed record.
 */
#define LOCKFILE_BY_OFF		HOLDER_SEALED_MAX
#define LOCKFILE_TICKET_LEN	20	/* "%020llu": the names of entries */

/* The fence in the first len bytes of a lock file: 0 for an empty file,
   LOCKFILE_NO_FENCE if they are not a fence of ours. */
uint64_t	lockfile_fence(const char *buf, size_t len);
/* Parses the holder of the first len bytes of a lock file into h; 0, or
   -1 if there is no whole record of the file's fence. */
int		lockfile_holder(const char *buf, size_t len, struct holder *h);
/* Writes fence and h's sealed record (none for NULL) into buf
   (LOCKFILE_KEY_OFF bytes): what goes before the key. */
void		lockfile_format(uint64_t fence, const struct holder *h,
		    char buf[LOCKFILE_KEY_OFF]);

#endif
