# Loaded after helper by the suites that run against one redis-server per
# file: the server starts with the file and every test begins with it
# empty and running (a test may have frozen it with SIGSTOP).

setup_file() {
	redis_start
}

teardown_file() {
	redis_stop
}

setup() {
	common_setup
	kill -CONT "$REDIS_PID" 2>/dev/null
	rcli FLUSHALL >/dev/null
}

teardown() {
	kill -CONT "$REDIS_PID" 2>/dev/null
	common_teardown
}

# Waits (bounded, 10 s) until $1 clients wait on key $2's channel.
wait_subscribers() {
	for _ in $(seq 1 200); do
		[ "$(rcli PUBSUB NUMSUB "keylock:{$2}:ch" | tail -1)" -ge "$1" ] &&
		    return 0
		sleep 0.05
	done
	echo "fewer than $1 waiters on $2" >&2
	return 1
}
