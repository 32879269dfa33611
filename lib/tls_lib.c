/*
 * tls_lib: loads libssl on demand and resolves the table of tls_lib.h.
 *
 * Invariants:
 * - the library is opened RTLD_NOW | RTLD_LOCAL: its own references are
 *   bound at once (a broken installation fails here, not in the middle
 *   of a handshake) and its symbols never leak into keylock's namespace;
 * - the table is filled whole or not at all: a missing symbol leaves it
 *   unloaded and closes the library again;
 * - once loaded, the library stays for the life of the process (also in
 *   the forked heartbeat), never dlclose(3)d under a live SSL_CTX;
 * - OpenSSL registers no atexit(3) cleanup: freeing its global state
 *   took every rediss:// run ~0.3 ms at exit, and the kernel does it.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define TLS_LIB_NO_REMAP
#include "tls_lib.h"

struct tls_lib tls_lib;

static const struct {
	const char	*name;
	size_t		 off;
} tls_lib_syms[] = {
#define TLS_LIB_SYM(f)	{ #f, offsetof(struct tls_lib, f) },
	TLS_LIB_FUNCS(TLS_LIB_SYM)
#undef TLS_LIB_SYM
};

static void *tls_lib_handle;

/* Loads libssl and fills tls_lib, once; 0, or -1 with the reason in err. */
int
tls_lib_load(char *err, size_t errlen)
{
	struct tls_lib t;
	const char *e;
	void *h, *p;
	size_t i;

	if (tls_lib_handle != NULL)
		return 0;
	if ((h = dlopen(TLS_LIB_NAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errlen, "cannot load %s: %s", TLS_LIB_NAME,
		    e != NULL ? e : "dlopen failed");
		return -1;
	}
	for (i = 0; i < sizeof(tls_lib_syms) / sizeof(tls_lib_syms[0]); i++) {
		dlerror();
		if ((p = dlsym(h, tls_lib_syms[i].name)) == NULL) {
			e = dlerror();
			snprintf(err, errlen, "cannot load %s: %s",
			    TLS_LIB_NAME, e != NULL ? e : tls_lib_syms[i].name);
			dlclose(h);
			return -1;
		}
		memcpy((char *)&t + tls_lib_syms[i].off, &p, sizeof(p));
	}
	tls_lib = t;
	tls_lib_handle = h;
	/* The first call into OpenSSL: it would register the cleanup. */
	tls_lib.OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	return 0;
}
