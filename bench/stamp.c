/*
 * stamp: clock stamps for bench/run's handoff measurement.
 *
 *   stamp now FILE             first act: read CLOCK_MONOTONIC, then write
 *                              it (ns, decimal) to FILE.
 *   stamp hold READY GO FILE   open FILE, say "r" on the fifo READY, block
 *                              until a byte or EOF on the fifo GO, then
 *                              stamp FILE as the very last act and exit 0.
 *
 * The waiter's command is "stamp now", the holder's is "stamp hold"; the
 * handoff is the waiter's stamp minus the holder's.  CLOCK_MONOTONIC is one
 * clock for every process on the machine.  Files are opened before the
 * clock is read so the stamps bracket as little of stamp itself as
 * possible.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Writes the nanoseconds of ts to fd; 0, or 1 on failure. */
static int
put(int fd, const struct timespec *ts)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%lld\n",
	    (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec);
	return pwrite(fd, buf, n, 0) == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct timespec ts;
	char c;
	int fd, rfd, gfd;

	if (argc == 3 && strcmp(argv[1], "now") == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		return fd == -1 ? 1 : put(fd, &ts);
	}
	if (argc == 5 && strcmp(argv[1], "hold") == 0) {
		if ((fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC,
		    0600)) == -1 || (rfd = open(argv[2], O_WRONLY)) == -1 ||
		    (gfd = open(argv[3], O_RDONLY)) == -1)
			return 1;
		if (write(rfd, "r\n", 2) != 2)
			return 1;
		close(rfd);
		while (read(gfd, &c, 1) == -1)
			;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		_exit(put(fd, &ts));
	}
	fprintf(stderr, "usage: stamp now FILE | stamp hold READY GO FILE\n");
	return 2;
}
