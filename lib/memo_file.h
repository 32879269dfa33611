/*
 * memo_file: the local cache directory of the output cache.
 *
 * Entries of KEY live in CACHE/N/DIGEST (N = keyname_file(KEY)): a fixed
 * header line, then the output byte for byte: stdout, then stderr.  The
 * header, MEMO_HDR_LEN bytes, is
 *
 *	KLM3 CREATED_MS TTL_MS STALE_MS SIZE ERR_SIZE STATUS FLAGS SUM\n
 *
 * with the numbers 20 decimal digits wide, STALE_MS how long past its
 * TTL the entry is kept to be served stale, SIZE all the bytes after the
 * header, ERR_SIZE the stderr at their end, STATUS the run's exit status,
 * FLAGS the MEMO_* bits (memo.h), and SUM the 16 hex digits of the checksum of all the bytes
 * (checksum.h); an entry of another version (KLM2: keylock 0.1) is a
 * miss, never misread.  An entry is written to
 * CACHE/N/.DIGEST~PID and renamed into place, so a reader never sees a
 * partial entry.  An entry stamped in the future (the clock stepped
 * back) is a miss.
 */
#ifndef KEYLOCK_MEMO_FILE_H
#define KEYLOCK_MEMO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "checksum.h"
#include "memo.h"

#define MEMO_HDR_MAGIC	"KLM3"
#define MEMO_HDR_LEN	(4 + 7 * 21 + 1 + CHECKSUM_HEX_LEN + 1)

/* What an entry's header says. */
struct memo_header {
	int64_t		 created;	/* wall clock, epoch ms */
	int64_t		 ttl;		/* ms */
	int64_t		 stale;		/* ms kept past ttl */
	uint64_t	 size;		/* bytes of output after it */
	uint64_t	 err_size;	/* of which stderr, at the end */
	int		 status;	/* exit status, 0-255 */
	int		 flags;		/* MEMO_* */
	uint64_t	 sum;		/* their checksum */
};

/* The local cache of one key. */
struct memo_file {
	int		 keydirfd;	/* CACHE/N, or -1 */
	int		 tmpfd;		/* entry being written, or -1 */
	char		 tmpname[128];
	char		 digest[DIGEST_HEX_LEN + 1];
	uint64_t	 size;
	struct checksum	 sum;		/* of what was appended */
};

/* Parses the first MEMO_HDR_LEN of len bytes at buf as an entry header
   into h; 0, or -1 if they are not one (of this version). */
int	memo_file_parse_header(const char *buf, size_t len,
	    struct memo_header *h);

/* Sets up an unopened cache. */
void	memo_file_init(struct memo_file *mf);
/* Opens (vetting when strict) the cache of key, creating its directory
   when create is set; 0, 1 when it has none and create is not set, or -1
   with a reason in err and errno set. */
int	memo_file_open(struct memo_file *mf, const char *cachedir, int strict,
	    const char *key, int create, char *err, size_t errlen);
/* Copies a fresh entry to g's descriptors (or only looks), as
   memo_backend's get(): 1 hit, 0 miss, -1 error (errno).  An entry whose
   checksum does not hold is dropped, and is a miss. */
int	memo_file_get(struct memo_file *mf, const struct memo_id *id,
	    struct memo_get *g);
/* Starts a new entry for id; 0 or -1 (errno). */
int	memo_file_begin(struct memo_file *mf, const struct memo_id *id);
/* Appends to the entry; 0 or -1 (errno). */
int	memo_file_append(struct memo_file *mf, const void *buf, size_t len);
/* Stamps the entry as p says and renames it into place; 0 or -1
   (errno). */
int	memo_file_commit(struct memo_file *mf, const struct memo_put *p);
/* Drops the entry being written. */
void	memo_file_abort(struct memo_file *mf);
/* Removes every entry of the key (and temps of killed runs); how many
   entries, or -1 (errno). */
long	memo_file_forget(struct memo_file *mf);
/* Calls cb for every fresh entry; 0 or -1. */
int	memo_file_list(struct memo_file *mf, memo_list_cb cb, void *arg);
/* Closes what is open, dropping an unfinished entry. */
void	memo_file_close(struct memo_file *mf);

#endif
