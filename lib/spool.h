/*
 * spool: an unlinked temporary file that takes bytes as they come and
 * gives them back in order, so a stream can be kept aside without
 * holding it in memory (--memo-stderr keeps stderr there until stdout
 * is stored, then appends it).
 */
#ifndef KEYLOCK_SPOOL_H
#define KEYLOCK_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool {
	int		 fd;		/* -1: not open */
	uint64_t	 size;
};

/* Opens an empty spool in $TMPDIR (else /tmp), mode 0600, already
   unlinked; 0 or -1 (errno). */
int	spool_open(struct spool *sp);
/* Appends len bytes; 0 or -1 (errno). */
int	spool_write(struct spool *sp, const void *buf, size_t len);
/* Hands every spooled byte, in order, to fn in chunks; 0, -1 (errno)
   on a read error, or fn's -1. */
int	spool_replay(struct spool *sp, int (*fn)(void *arg, const void *buf,
	    size_t len), void *arg);
/* Closes the spool (its bytes are gone). */
void	spool_close(struct spool *sp);

#endif
