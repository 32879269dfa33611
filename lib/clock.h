/*
 * clock: the two clocks keylock uses.  Deadlines and intervals are
 * CLOCK_MONOTONIC milliseconds, so a wall-clock step never stretches or
 * cuts a wait; "since" stamps shown to people are wall-clock milliseconds.
 */
#ifndef KEYLOCK_CLOCK_H
#define KEYLOCK_CLOCK_H

#include <stdint.h>

#define CLOCK_FOREVER	INT64_MAX	/* a deadline that never comes */

/* Monotonic milliseconds since an arbitrary point. */
int64_t	clock_mono_ms(void);
/* Wall-clock milliseconds since the epoch. */
int64_t	clock_wall_ms(void);
/* Milliseconds left until deadline, clamped to [0, INT_MAX]; -1 for forever. */
int	clock_poll_timeout(int64_t deadline);
/* Sleeps until the monotonic time at, signals or not. */
void	clock_sleep_until(int64_t at);
/* Writes t (epoch ms) as RFC 3339 UTC with milliseconds into buf. */
void	clock_rfc3339(int64_t t, char *buf, size_t len);

#endif
