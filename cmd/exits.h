/*
 * exits: keylock's exit codes, as the EXIT STATUS section of keylock(1)
 * lists them.  Besides these, "run" exits with the command's own status,
 * or 128 + N when it died of signal N.
 */
#ifndef KEYLOCK_EXITS_H
#define KEYLOCK_EXITS_H

#include <sysexits.h>

#define EXIT_USAGE	EX_USAGE	/* 64: bad option, key, value */
#define EXIT_UNAVAIL	EX_UNAVAILABLE	/* 69: backend unreachable */
#define EXIT_INTERNAL	EX_SOFTWARE	/* 70: anything unexpected */
#define EXIT_OSERR	EX_OSERR	/* 71: out of fds, memory, processes */
#define EXIT_CANTCREAT	EX_CANTCREAT	/* 73: disk full, quota, read-only */
#define EXIT_IOERR	EX_IOERR	/* 74: I/O error; --memo output not
					   written */
#define EXIT_CONFLICT	EX_TEMPFAIL	/* 75: lock held; -E changes it */
#define EXIT_LOST	76		/* the lease was lost while running */
#define EXIT_NOEXEC	126		/* command found but not runnable */
#define EXIT_NOTFOUND	127		/* command not found */
#define EXIT_SIGNAL	128		/* + N: died of signal N */
#define EXIT_FREE	1		/* status: the key is free */

#endif
