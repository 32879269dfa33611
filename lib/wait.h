/*
 * wait: the one loop in which keylock waits for a lock.  It owns the
 * deadline, the once-only notice and the signal fd; a backend supplies
 * one try, and an fd that turns readable when another try makes sense
 * (the flock helper's pipe, the Pub/Sub socket) or a time to try again.
 *
 * Guarantees: the backend is tried again only when its fd turned
 * readable or its retry time came, never on a timer of the loop's own;
 * the notice is given at most once, and only while there is still time
 * to wait; a signal on the signal fd ends the wait at once; a wait that
 * reaches its deadline while the backend cannot be reached ends in
 * LOCK_ERROR, never in LOCK_BUSY.
 */
#ifndef KEYLOCK_WAIT_H
#define KEYLOCK_WAIT_H

#include <stdint.h>

#include "lock.h"

/* What one try of a backend found. */
enum wait_try {
	WAIT_TAKEN,		/* the lock is ours */
	WAIT_BUSY,		/* someone holds it */
	WAIT_DOWN,		/* the backend is out of reach for now */
	WAIT_SUPERSEDED,	/* a newer supersede waiter took our place;
				   who, in l->other */
	WAIT_FAILED,		/* give up; the reason is recorded */
};

struct wait_ops {
	/* Tries once; sets *retry_at (monotonic ms) to when to try again
	   if the fd stays silent, CLOCK_FOREVER for never. */
	enum wait_try	 (*try)(void *arg, int64_t *retry_at);
	/* Before each sleep: the fd to watch, or -1 for none; may bring
	   *retry_at forward.  -2 gives up, with the reason recorded. */
	int		 (*watch)(void *arg, int64_t *retry_at);
	/* The fd turned readable; 0, or -1 to give up (reason recorded). */
	int		 (*woken)(void *arg);
	/* The holder for the notice, or NULL if it is not known. */
	const struct holder *(*holder)(void *arg);
	/* Our place in the queue for the notice (1: next), or 0 if it is
	   not known; NULL: never known. */
	unsigned int	 (*place)(void *arg);
};

/* Tries, and while the key is busy waits as w says; a lock_result,
   with the reason of LOCK_ERROR recorded in l or by the backend. */
enum lock_result wait_for(struct lock *l, struct lock_wait *w,
		    const struct wait_ops *ops, void *arg);

#endif
