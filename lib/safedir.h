/*
 * safedir: the private directories keylock keeps its files in.
 */
#ifndef KEYLOCK_SAFEDIR_H
#define KEYLOCK_SAFEDIR_H

#include <stddef.h>

/*
 * Opens directory path, creating it (and missing parents) mode 0700.
 * With strict set, refuses a path that is a symlink, is not owned by the
 * effective user, or is writable by group or others.  Returns an
 * O_DIRECTORY|O_CLOEXEC descriptor, or -1 with a reason in err and errno
 * set: the system call's, or EPERM for a directory it refuses.
 */
int	safedir_open(const char *path, int strict, char *err, size_t errlen);

#endif
