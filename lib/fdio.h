/*
 * fdio: descriptor I/O that finishes what it starts.
 */
#ifndef KEYLOCK_FDIO_H
#define KEYLOCK_FDIO_H

#include <stddef.h>

/* Writes all len bytes to fd, retrying on EINTR; 0 or -1 (errno). */
int	fdio_write_all(int fd, const void *buf, size_t len);

#endif
