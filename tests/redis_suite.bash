# Loaded after helper by the suites that run against one redis-server per
# file: the server starts with the file and every test begins with it
# empty and running (a test may have frozen it with SIGSTOP).  A suite
# with setup of its own calls redis_test_setup / redis_test_teardown.

setup_file() {
	redis_start
}

teardown_file() {
	redis_stop
}

# Per-test setup: scratch space, the server running and empty.
redis_test_setup() {
	common_setup
	kill -CONT "$REDIS_PID" 2>/dev/null
	rcli FLUSHALL >/dev/null
}

# Per-test teardown: the server running again, scratch space gone.
redis_test_teardown() {
	kill -CONT "$REDIS_PID" 2>/dev/null
	common_teardown
}

setup() {
	redis_test_setup
}

teardown() {
	redis_test_teardown
}

# Prints how many waiters of key $2 listen for their turn: each on its
# own channel keylock:{KEY}:w:TOKEN.
subscribers() {
	rcli PUBSUB CHANNELS "keylock:{$1}:w:*" | grep -c .
}

# Waits (bounded, 10 s) until $1 waiters of key $2 listen for their turn.
wait_subscribers() {
	for _ in $(seq 1 200); do
		[ "$(subscribers "$2")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "fewer than $1 waiters on $2" >&2
	return 1
}

# Prints the stored --memo entries (data keys) of key $1, one a line,
# sorted; fails if the server cannot be asked, so that "no entry" is never
# an unreachable server.
memo_entries() {
	local keys
	keys=$(rcli --scan --pattern "keylock:{$1}:memo:*") || return 1
	printf '%s' "$keys" | grep -v -e ':meta$' -e ':tmp:' | sort
}

# Fails when any --memo capture temp key is left in the server.
no_tmp_keys() {
	local left
	left=$(rcli --scan --pattern '*:tmp:*') || return 1
	if [ -n "$left" ]; then
		echo "temp keys left: $left" >&2
		return 1
	fi
}

# Starts a proxy to the test server on a port it writes to $TMP/port.
# proxy lossy: drops every reply on its first connection from the first
# EVALSHA on (the scripts must be loaded already), and relays later
# connections faithfully.  proxy stall: the same on every connection, a
# server that stops answering scripts.  proxy slow: delays every reply by
# 150 ms.
proxy() {
	python3 -c '
import select, socket, sys, threading, time
up, mode = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print(ls.getsockname()[1], flush=True)
def relay(c, first):
    u = socket.create_connection(("127.0.0.1", up))
    mute = False
    while True:
        for s in select.select([c, u], [], [])[0]:
            d = s.recv(65536)
            if not d:
                return
            if s is c:
                mute = mute or (b"EVALSHA" in d and
                                ((mode == "lossy" and first) or
                                 mode == "stall"))
                u.sendall(d)
            elif not mute:
                if mode == "slow":
                    time.sleep(0.15)
                c.sendall(d)
n = 0
while True:
    c = ls.accept()[0]
    threading.Thread(target=relay, args=(c, n == 0), daemon=True).start()
    n += 1' "$REDIS_PORT" "$1" > "$TMP/port" &
	echo $! > "$TMP/proxy.pid"
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
	[ -s "$TMP/port" ] || { echo "the proxy did not start" >&2; return 1; }
}
