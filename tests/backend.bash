# Loaded by the suites that run once per backend: NAME.bats runs on the
# local backend and NAME_redis.bats (a symlink to it) on Redis, the name
# picking the backend.  Sets BACKEND, loads redis_suite for Redis, and
# gives backend_setup and backend_teardown for setup() and teardown().

case ${BATS_TEST_FILENAME##*/} in
*_redis.bats)	BACKEND=redis ;;
*.bats)		BACKEND=local ;;
esac

if [ "$BACKEND" = redis ]; then
	load redis_suite
fi

backend_setup() {
	if [ "$BACKEND" = redis ]; then redis_test_setup; else common_setup; fi
}

backend_teardown() {
	if [ "$BACKEND" = redis ]; then redis_test_teardown; else common_teardown; fi
}

# Writes $TMP/kl, a keylock that talks to this file's backend (for Redis,
# --redis URL after the subcommand), and sets KL to it.
backend_kl() {
	KL=$TMP/kl
	if [ "$BACKEND" = redis ]; then
		printf '#!/bin/sh\nsub=$1\nshift\nexec %q "$sub" --redis %q "$@"\n' \
		    "$KEYLOCK" "$REDIS_URL" >"$KL"
	else
		printf '#!/bin/sh\nexec %q "$@"\n' "$KEYLOCK" >"$KL"
	fi
	chmod +x "$KL"
}
