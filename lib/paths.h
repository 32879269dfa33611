/*
 * paths: where keylock keeps its files when the user names no place.
 */
#ifndef KEYLOCK_PATHS_H
#define KEYLOCK_PATHS_H

/* The lock directory: $XDG_RUNTIME_DIR/keylock, else
   ${TMPDIR:-/tmp}/keylock-UID; malloc'd, or NULL when out of memory. */
char	*paths_lock_dir(void);
/* The cache directory: $XDG_CACHE_HOME/keylock, else
   ~/.cache/keylock (HOME, else the password entry); malloc'd, or NULL. */
char	*paths_cache_dir(void);

#endif
