/*
 * fuzz_keyname: the decoders of names read back from disk and from Redis
 * SCAN, keyname_unfile and keyname_unredis (keyname.h), on any bytes.
 * A decoded key is never empty and holds no NUL.  Round trips: for a
 * key (the input up to its first NUL, if not empty), keyname_unredis of
 * keyname_redis is the key, and so is keyname_unfile of keyname_file
 * unless the name is hashed.
 */
#include "config.h"

#include "keyname.h"
#include "fuzz.h"

/* Aborts unless a decoder's result is NULL or a key of at most max bytes. */
static void
check_decoded(char *key, size_t max, const char *what)
{
	if (key == NULL)
		return;
	FUZZ_ASSERT(key[0] != '\0' && strlen(key) <= max, what);
	free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *bytes = fuzz_bytes(data, len), *s = fuzz_str(data, len);
	char *name, *back;

	check_decoded(keyname_unredis(bytes, len), len, "keyname_unredis");
	check_decoded(keyname_unfile(s), len, "keyname_unfile");
	if (s[0] != '\0') {
		if ((name = keyname_redis(s)) == NULL)
			abort();
		back = keyname_unredis(name, strlen(name));
		FUZZ_ASSERT(back != NULL && strcmp(back, s) == 0,
		    "keyname_redis/keyname_unredis round trip");
		free(back);
		free(name);
		if ((name = malloc(KEYNAME_FILE_MAX + 1)) == NULL)
			abort();
		FUZZ_ASSERT(keyname_file(s, name, KEYNAME_FILE_MAX + 1) == 0,
		    "keyname_file");
		FUZZ_ASSERT(strlen(name) <= KEYNAME_FILE_MAX &&
		    name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno"
		    "pqrstuvwxyz0123456789._-%#")] == '\0' && name[0] != '.',
		    "keyname_file: not a safe file name");
		if (name[0] != '#') {
			back = keyname_unfile(name);
			FUZZ_ASSERT(back != NULL && strcmp(back, s) == 0,
			    "keyname_file/keyname_unfile round trip");
			free(back);
		}
		free(name);
	}
	free(s);
	free(bytes);
	return 0;
}
