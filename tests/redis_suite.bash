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
