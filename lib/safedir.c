/*
 * safedir: create and vet a private directory.  The checks run on the
 * opened descriptor (fstat), so the directory that was vetted is the
 * one every later openat() works in, even if the path is swapped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "safedir.h"

/* mkdir -p with mode 0700 for every component it creates; 0 or -1. */
static int
mkdirs(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Records a reason in err, keeping errno for the caller. */
static int
safedir_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

/* Opens (creating) directory path, vetting it when strict; fd or -1. */
int
safedir_open(const char *path, int strict, char *err, size_t errlen)
{
	struct stat st;
	int fd, flags;

	flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (strict ? O_NOFOLLOW : 0);
	if ((fd = open(path, flags)) == -1 && errno == ENOENT) {
		if (mkdirs(path) == -1)
			return safedir_err(err, errlen, "cannot create "
			    "directory %s: %s", path, strerror(errno));
		fd = open(path, flags);
	}
	if (fd == -1) {
		if (strict && (errno == ELOOP || errno == ENOTDIR))
			return safedir_err(err, errlen, "%s is a symlink or "
			    "not a directory; refusing to use it", path);
		return safedir_err(err, errlen, "cannot open directory %s: "
		    "%s", path, strerror(errno));
	}
	if (!strict)
		return fd;
	if (fstat(fd, &st) == -1)
		safedir_err(err, errlen, "%s: %s", path, strerror(errno));
	else if (st.st_uid != geteuid()) {
		errno = EPERM;
		safedir_err(err, errlen, "%s is owned by uid %lu, not by you; "
		    "refusing to use it", path, (unsigned long)st.st_uid);
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		errno = EPERM;
		safedir_err(err, errlen, "%s is writable by group or others "
		    "(mode %03o); refusing to use it", path,
		    (unsigned)(st.st_mode & 0777));
	} else
		return fd;
	close(fd);
	return -1;
}
