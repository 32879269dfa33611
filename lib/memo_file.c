/*
 * memo_file: the local cache directory (memo_file.h).
 *
 * The header is written last, just before the rename, so CREATED is when
 * the result was stored, not when the run began.  Readers check SIZE
 * against the file and SUM against every byte before they print one, so
 * a truncated file (disk full) or a changed byte is never served; they
 * open without blocking and take only regular files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "checksum.h"
#include "clock.h"
#include "digest.h"
#include "fdio.h"
#include "keyname.h"
#include "memo_file.h"
#include "safedir.h"


/* Sets up an unopened cache. */
void
memo_file_init(struct memo_file *mf)
{
	memset(mf, 0, sizeof(*mf));
	mf->keydirfd = mf->tmpfd = -1;
}

/* Opens the cache of key; 0, 1 if it has none (create unset), or -1. */
int
memo_file_open(struct memo_file *mf, const char *cachedir, int strict,
    const char *key, int create, char *err, size_t errlen)
{
	char name[KEYNAME_FILE_MAX + 1];
	int dfd, saved;

	if (mf->keydirfd != -1)
		return 0;
	if (keyname_file(key, name, sizeof(name)) == -1) {
		snprintf(err, errlen, "empty key");
		return -1;
	}
	if ((dfd = safedir_open(cachedir, strict, err, errlen)) == -1)
		return -1;
	if (create && mkdirat(dfd, name, 0700) == -1 && errno != EEXIST)
		goto fail;
	mf->keydirfd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (mf->keydirfd == -1 && !create && errno == ENOENT) {
		close(dfd);
		return 1;
	}
	if (mf->keydirfd == -1)
		goto fail;
	close(dfd);
	return 0;
fail:
	saved = errno;
	snprintf(err, errlen, "%s/%s: %s", cachedir, name, strerror(saved));
	close(dfd);
	errno = saved;
	return -1;
}

int
memo_file_parse_header(const char *buf, size_t len, struct memo_header *h)
{
	char hdr[MEMO_HDR_LEN + 1];
	long long c, t, st, fl, sl;
	unsigned long long s, e;
	int end = 0;

	if (len < MEMO_HDR_LEN)
		return -1;
	memcpy(hdr, buf, MEMO_HDR_LEN);
	hdr[MEMO_HDR_LEN] = '\0';
	if (sscanf(hdr, MEMO_HDR_MAGIC " %20lld %20lld %20lld %20llu %20llu "
	    "%20lld %20lld %n", &c, &t, &sl, &s, &e, &st, &fl, &end) != 7 ||
	    end != MEMO_HDR_LEN - CHECKSUM_HEX_LEN - 1 ||
	    checksum_parse(hdr + end, CHECKSUM_HEX_LEN, &h->sum) == -1 ||
	    hdr[MEMO_HDR_LEN - 1] != '\n' || c < 0 || t < 0 || sl < 0 ||
	    e > s ||
	    st < 0 || st > 255 || fl < 0 || fl > (MEMO_OWN_TTL | MEMO_HAS_ERR))
		return -1;
	h->created = c;
	h->ttl = t;
	h->stale = sl;
	h->size = s;
	h->err_size = e;
	h->status = (int)st;
	h->flags = (int)fl;
	return 0;
}

/* Opens entry name, a regular file, without blocking (a FIFO put in its
   place must not hang us) and reads its header; fd, or -1. */
static int
open_entry(struct memo_file *mf, const char *name, struct memo_header *h)
{
	char hdr[MEMO_HDR_LEN];
	struct stat st;
	int fd;

	fd = openat(mf->keydirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    read(fd, hdr, MEMO_HDR_LEN) != MEMO_HDR_LEN ||
	    memo_file_parse_header(hdr, sizeof(hdr), h) == -1 ||
	    (uint64_t)st.st_size != MEMO_HDR_LEN + h->size) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Nonzero if the h->size bytes after the header of fd hash to h->sum. */
static int
entry_intact(int fd, const struct memo_header *h)
{
	struct checksum c;
	char buf[65536];
	uint64_t off = 0;
	ssize_t n;
	int ok;

	memset(&c, 0, sizeof(c));
	if (checksum_init(&c) == -1)
		return 0;
	while (off < h->size) {
		n = pread(fd, buf, h->size - off < sizeof(buf) ?
		    (size_t)(h->size - off) : sizeof(buf),
		    (off_t)(MEMO_HDR_LEN + off));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		checksum_update(&c, buf, (size_t)n);
		off += (uint64_t)n;
	}
	ok = off == h->size && checksum_value(&c) == h->sum;
	checksum_free(&c);
	return ok;
}

/* Drops entry name if it is still the file open at fd. */
static void
drop_entry(struct memo_file *mf, const char *name, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) == 0 && fstatat(mf->keydirfd, name, &b,
	    AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev)
		unlinkat(mf->keydirfd, name, 0);
}

/* Copies len bytes from in (at its offset) to out; 0 or -1 (errno). */
static int
copy_out(int in, int out, uint64_t len)
{
	struct pollfd pfd;
	char buf[65536];
	ssize_t n;

	while (len > 0) {
		n = sendfile(out, in, NULL, len > 1 << 30 ? 1 << 30 : len);
		if (n == -1 && errno == EAGAIN) {
			/* A non-blocking stdout we were handed. */
			pfd.fd = out;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EINVAL || errno == ENOSYS)) {
			/* Not every output takes sendfile(2). */
			n = read(in, buf, len < sizeof(buf) ? len : sizeof(buf));
			if (n > 0 && fdio_write_all(out, buf, (size_t)n) == -1)
				return -1;
		}
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			return -1;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Whether an entry of age (not negative) with header h is for g: 0
   fresh, 1 stale but servable, -1 neither. */
static int
memo_file_fresh(const struct memo_header *h, const struct memo_get *g,
    int64_t age)
{
	int own = (h->flags & MEMO_OWN_TTL) && !g->strict;
	int64_t base = own || g->max_age_ms > h->ttl ? h->ttl : g->max_age_ms;

	if (age < base)
		return 0;
	if (g->stale_ms > 0 && !g->strict && h->status == 0 &&
	    age < h->ttl + h->stale && age < base + g->stale_ms)
		return 1;
	return -1;
}

/* Copies a fresh entry to g's descriptors: 1 hit, 0 miss, -1 error
   (errno).  The file offset runs on from stdout into stderr. */
int
memo_file_get(struct memo_file *mf, const struct memo_id *id,
    struct memo_get *g)
{
	struct memo_header h;
	int64_t age;
	int in, rc = 1;

	if ((in = open_entry(mf, id->digest, &h)) == -1)
		return 0;
	age = clock_wall_ms() - h.created;
	/* Stamped in the future: the clock stepped back; trust nothing. */
	if (age < 0 || (h.status != 0 && !g->failures) ||
	    (g->stale = memo_file_fresh(&h, g, age)) == -1) {
		close(in);
		return 0;
	}
	if (!entry_intact(in, &h)) {
		drop_entry(mf, id->digest, in);
		close(in);
		return 0;
	}
	g->status = h.status;
	if (g->out_fd != -1 && (copy_out(in, g->out_fd, h.size - h.err_size) ==
	    -1 || copy_out(in, g->err_fd, h.err_size) == -1))
		rc = -1;
	close(in);
	return rc;
}

static int	each_entry(struct memo_file *, int, enum lock_walk (*)(
		    struct memo_file *, const char *, void *), void *);
static enum lock_walk sweep_one(struct memo_file *, const char *, void *);

/* Starts a new entry for id; 0 or -1 (errno). */
int
memo_file_begin(struct memo_file *mf, const struct memo_id *id)
{
	static const char blank[MEMO_HDR_LEN];

	memo_file_abort(mf);
	strcpy(mf->digest, id->digest);
	snprintf(mf->tmpname, sizeof(mf->tmpname), ".%s~%ld", id->digest,
	    (long)getpid());
	mf->size = 0;
	if (checksum_init(&mf->sum) == -1)
		return -1;
	mf->tmpfd = openat(mf->keydirfd, mf->tmpname, O_WRONLY | O_CREAT |
	    O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mf->tmpfd == -1)
		return -1;
	/* We hold the key's lock: any other temp is a killed writer's. */
	(void)each_entry(mf, 1, sweep_one, NULL);
	/* Room for the header, written at commit. */
	if (write(mf->tmpfd, blank, sizeof(blank)) != sizeof(blank)) {
		memo_file_abort(mf);
		return -1;
	}
	return 0;
}

/* Appends to the entry; 0 or -1 (errno). */
int
memo_file_append(struct memo_file *mf, const void *buf, size_t len)
{
	if (fdio_write_all(mf->tmpfd, buf, len) == -1)
		return -1;
	checksum_update(&mf->sum, buf, len);
	mf->size += len;
	return 0;
}

/* Stamps the header and renames the entry into place; 0 or -1. */
int
memo_file_commit(struct memo_file *mf, const struct memo_put *p)
{
	char hdr[MEMO_HDR_LEN + 1], sum[CHECKSUM_HEX_LEN + 1];
	int rc = -1, saved;

	checksum_hex(checksum_value(&mf->sum), sum);
	snprintf(hdr, sizeof(hdr), MEMO_HDR_MAGIC " %020lld %020lld %020lld "
	    "%020llu %020llu %020d %020d %s\n", (long long)clock_wall_ms(),
	    (long long)p->ttl_ms, (long long)p->stale_ms,
	    (unsigned long long)mf->size,
	    (unsigned long long)p->err_size, p->status, p->flags, sum);
	if (pwrite(mf->tmpfd, hdr, MEMO_HDR_LEN, 0) == MEMO_HDR_LEN &&
	    renameat(mf->keydirfd, mf->tmpname, mf->keydirfd,
	    mf->digest) == 0)
		rc = 0;
	saved = errno;
	close(mf->tmpfd);
	mf->tmpfd = -1;
	if (rc == -1)
		unlinkat(mf->keydirfd, mf->tmpname, 0);
	errno = saved;
	return rc;
}

/* Drops the entry being written. */
void
memo_file_abort(struct memo_file *mf)
{
	if (mf->tmpfd == -1)
		return;
	close(mf->tmpfd);
	mf->tmpfd = -1;
	unlinkat(mf->keydirfd, mf->tmpname, 0);
}

/* Calls fn(mf, name, arg) for every finished entry, and with temps set
   for every entry being written (".DIGEST~PID") too, until fn says
   stop; 0 or -1 (errno). */
static int
each_entry(struct memo_file *mf, int temps, enum lock_walk (*fn)(
    struct memo_file *, const char *, void *), void *arg)
{
	struct dirent *de;
	DIR *d;
	enum lock_walk next = LOCK_WALK_NEXT;
	int dfd;

	if ((dfd = dup(mf->keydirfd)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	rewinddir(d);
	while (next == LOCK_WALK_NEXT && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' ||
		    (temps && strchr(de->d_name, '~') != NULL))
			next = fn(mf, de->d_name, arg);
	closedir(d);
	return 0;
}

/* Unlinks one entry and counts it (a temp is not a result). */
static enum lock_walk
forget_one(struct memo_file *mf, const char *name, void *arg)
{
	if (unlinkat(mf->keydirfd, name, 0) == 0 && name[0] != '.')
		(*(long *)arg)++;
	return LOCK_WALK_NEXT;
}

/* Unlinks a temp a killed writer left (not the one being written). */
static enum lock_walk
sweep_one(struct memo_file *mf, const char *name, void *arg)
{
	(void)arg;
	if (name[0] == '.' && strcmp(name, mf->tmpname) != 0)
		unlinkat(mf->keydirfd, name, 0);
	return LOCK_WALK_NEXT;
}

/* Removes every entry of the key; how many, or -1 (errno). */
long
memo_file_forget(struct memo_file *mf)
{
	long n = 0;

	if (each_entry(mf, 1, forget_one, &n) == -1)
		return -1;
	return n;
}

struct list_arg {
	memo_list_cb	 cb;
	void		*arg;
};

/* Reports one fresh entry to the list callback. */
static enum lock_walk
list_one(struct memo_file *mf, const char *name, void *arg)
{
	struct list_arg *la = arg;
	struct memo_info mi;
	struct memo_header h;
	int fd;

	if ((fd = open_entry(mf, name, &h)) == -1)
		return LOCK_WALK_NEXT;
	close(fd);
	mi.size = h.size;
	mi.err_size = h.err_size;
	mi.status = h.status;
	mi.flags = h.flags;
	mi.age_ms = clock_wall_ms() - h.created;
	mi.ttl_ms = h.ttl + h.stale - mi.age_ms;
	if (mi.age_ms < 0 || mi.ttl_ms <= 0)
		return LOCK_WALK_NEXT;
	if (strlen(name) >= sizeof(mi.digest))
		return LOCK_WALK_NEXT;
	strcpy(mi.digest, name);
	return la->cb(la->arg, &mi);
}

/* Calls cb for every fresh entry; 0 or -1. */
int
memo_file_list(struct memo_file *mf, memo_list_cb cb, void *arg)
{
	struct list_arg la = { cb, arg };

	return each_entry(mf, 0, list_one, &la);
}

/* Closes what is open, dropping an unfinished entry. */
void
memo_file_close(struct memo_file *mf)
{
	memo_file_abort(mf);
	checksum_free(&mf->sum);
	if (mf->keydirfd != -1)
		close(mf->keydirfd);
	mf->keydirfd = -1;
}
