/*
 * memo: the identity of a cached result.
 */
#include "config.h"

#include "digest.h"
#include "memo.h"

#define MEMO_ID_VERSION	1

void
memo_id_init(struct memo_id *id, const char *key, char *const argv[])
{
	static const char tag[] = "keylock-memo";
	struct digest d;
	size_t argc, i;

	id->key = key;
	for (argc = 0; argv[argc] != NULL; argc++)
		;
	digest_init(&d);
	digest_bytes(&d, tag, sizeof(tag));	/* with its NUL */
	digest_u64(&d, MEMO_ID_VERSION);
	digest_str(&d, key);
	digest_u64(&d, argc);
	for (i = 0; i < argc; i++)
		digest_str(&d, argv[i]);
	digest_end(&d, id->digest);
}

