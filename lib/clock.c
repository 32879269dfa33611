/*
 * clock: monotonic deadlines and wall-clock stamps.
 */
#include "config.h"

#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

/* Monotonic milliseconds since an arbitrary point. */
int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock milliseconds since the epoch. */
int64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline for poll(2); -1 for forever. */
int
clock_poll_timeout(int64_t deadline)
{
	int64_t left;

	if (deadline == CLOCK_FOREVER)
		return -1;
	left = deadline - clock_mono_ms();
	if (left < 0)
		return 0;
	if (left > INT_MAX)
		return INT_MAX;
	return (int)left;
}

void
clock_sleep_until(int64_t at)
{
	while (poll(NULL, 0, clock_poll_timeout(at)) == -1 ||
	    clock_mono_ms() < at)
		continue;
}

/* Writes t (epoch ms) as RFC 3339 UTC, e.g. 2026-11-23T01:02:03.456Z.
   C division truncates towards zero; a stamp before the epoch needs the
   floor, so -1 ms is 23:59:59.999 of the day before, not 00:00:00.-01. */
void
clock_rfc3339(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	int64_t sec = t / 1000, ms = t % 1000;
	time_t s;
	char tmp[32];

	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	s = (time_t)sec;
	gmtime_r(&s, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", tmp, (int)ms);
}
