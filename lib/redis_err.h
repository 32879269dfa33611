/*
 * redis_err: what an error reply from Redis means to keylock, by its
 * leading word(s): a refusal that connecting again will not mend, a
 * server not ready yet (the command did not run: send it again later),
 * or anything else.
 */
#ifndef KEYLOCK_REDIS_ERR_H
#define KEYLOCK_REDIS_ERR_H

/* Nonzero for an error a new connection cannot mend: credentials, or a
   database, the server refuses.  Others (too many clients, a busy
   script) may pass. */
int	redis_err_final(const char *err);
/* Nonzero for the refusal of a server not ready for commands: loading
   its data set (LOADING), running a script past its time (BUSY), a
   replica without its master (MASTERDOWN), a cluster without all its
   slots (CLUSTERDOWN).  "BUSYKEY" and the like are other errors. */
int	redis_err_unready(const char *err);

#endif
