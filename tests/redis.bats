#!/usr/bin/env bats
# The Redis backend: connection, URLs, AUTH, status/list/release, waiting
# and a cross-"machine" stress test against one real redis-server.

bats_require_minimum_version 1.5.0
load helper
load redis_suite

# Starts a holder of key $1 (extra keylock options in $2...) whose
# command touches $TMP/$1.up and then blocks until $TMP/$1.go is written.
hold() {
	local key=$1
	shift
	mkfifo "$TMP/$key.go"
	"$KEYLOCK" run --redis "$REDIS_URL" "$@" "$key" -- \
	    sh -c 'touch "$0.up"; read x < "$0.go"; exit ${x:-0}' \
	    "$TMP/$key" 2>"$TMP/$key.err" &
	echo $! > "$TMP/$key.pid"
	wait_for_file "$TMP/$key.up"
}

# Lets the holder of key $1 finish with status $2 (default 0).
unhold() {
	echo "${2:-0}" > "$TMP/$1.go"
}

# Starts a redis-server requiring a password and with an ACL user.
auth_server() {
	AUTH_PORT=$(free_port)
	redis-server --port "$AUTH_PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize yes --dir "$TMP" \
	    --pidfile "$TMP/auth.pid" --logfile "$TMP/auth.log" \
	    --requirepass 'topsecret' >/dev/null
	for _ in $(seq 1 100); do
		redis-cli -p "$AUTH_PORT" -a topsecret --no-auth-warning \
		    ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
	redis-cli -p "$AUTH_PORT" -a topsecret --no-auth-warning ping |
	    grep -q PONG || { echo "auth server did not start" >&2; return 1; }
	redis-cli -p "$AUTH_PORT" -a topsecret --no-auth-warning \
	    ACL SETUSER kluser on '>p@ss/w:rd' '~*' '&*' '+@all' >/dev/null
}

@test "run over Redis exports the backend, a token and the fence" {
	run "$KEYLOCK" run --redis "$REDIS_URL" job -- \
	    sh -c 'echo "$KEYLOCK_BACKEND $KEYLOCK_KEY $KEYLOCK_FENCE $KEYLOCK_TOKEN"'
	assert_success
	assert_output --regexp '^redis job 1 [0-9a-f]{32}$'
	run "$KEYLOCK" run --redis "$REDIS_URL" job -- sh -c 'echo $KEYLOCK_FENCE'
	assert_output 2
	# Released at exit: only the fence counter stays.
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
	run rcli GET 'keylock:{job}:fence'
	assert_output 2
}

@test "the command's exit status is passed through" {
	run "$KEYLOCK" run --redis "$REDIS_URL" job -- sh -c 'exit 7'
	assert_failure 7
}

@test "KEYLOCK_REDIS_URL selects the Redis backend" {
	KEYLOCK_REDIS_URL=$REDIS_URL run "$KEYLOCK" run job -- \
	    sh -c 'echo $KEYLOCK_BACKEND'
	assert_success
	assert_output redis
}

@test "unix socket URL" {
	run "$KEYLOCK" run --redis "unix://$REDIS_SOCK" job -- \
	    sh -c 'redis-cli -s "$0" GET "keylock:{job}:lock"' "$REDIS_SOCK"
	assert_success
	assert_output --regexp '^[0-9a-f]{32} [^ ]+ [0-9]+ [0-9]+ 1$'
}

@test "db index in the URL selects the database" {
	run "$KEYLOCK" run --redis "$REDIS_URL/3" job -- \
	    sh -c 'redis-cli -s "$0" -n 3 EXISTS "keylock:{job}:lock"' \
	    "$REDIS_SOCK"
	assert_success
	assert_output 1
	run rcli -n 3 EXISTS 'keylock:{job}:fence'
	assert_output 1
	run rcli -n 0 EXISTS 'keylock:{job}:fence'
	assert_output 0
	run "$KEYLOCK" run --redis "unix://$REDIS_SOCK?db=5" job -- true
	assert_success
	run rcli -n 5 EXISTS 'keylock:{job}:fence'
	assert_output 1
	# A database the server does not have: 69, and nothing written,
	# not even in database 0 (no command goes out behind the SELECT).
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL/99" job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"SELECT failed: ERR DB index is out of range"* ]] ||
	    fail "$stderr"
	[ ! -e "$TMP/ran" ]
	run rcli -n 0 DBSIZE
	assert_output 0
}

@test "renew writes the lease even when it keeps it longer: WAIT has a write to count" {
	run --separate-stderr "$KEYLOCK" acquire --redis "$REDIS_URL" -t 1m job
	assert_success
	eval "$output"
	rcli CONFIG RESETSTAT >/dev/null
	# A renewal to less than the minute left: never shortened...
	run "$KEYLOCK" renew --redis "$REDIS_URL" -t 2s --token "$KEYLOCK_TOKEN" job
	assert_success
	[ "$(rcli PTTL 'keylock:{job}:lock')" -gt 50000 ]
	# ...but written (on Redis 7.2 and later, WAIT counts only a
	# connection's writes).
	rcli INFO commandstats | grep -q '^cmdstat_pexpire:calls=1,' ||
	    fail "no PEXPIRE: $(rcli INFO commandstats | grep -i expire)"
	run "$KEYLOCK" release --redis "$REDIS_URL" --token "$KEYLOCK_TOKEN" job
	assert_success
}

@test "namespace and keys with braces get their own hash tag" {
	run "$KEYLOCK" run --redis "$REDIS_URL" -N ci 'a{b}%c' -- \
	    sh -c 'redis-cli -s "$0" --scan --pattern "ci:*:lock"' "$REDIS_SOCK"
	assert_success
	assert_output 'ci:{a%7Bb%7D%25c}:lock'
}

@test "AUTH with a password and with an ACL user" {
	auth_server
	KEYLOCK_REDIS_URL="redis://:topsecret@127.0.0.1:$AUTH_PORT" \
	    run "$KEYLOCK" run job -- echo ran
	assert_success
	assert_output ran
	# %-escapes in the user info are decoded.
	KEYLOCK_REDIS_URL="redis://kluser:p%40ss%2Fw%3Ard@127.0.0.1:$AUTH_PORT/2" \
	    run "$KEYLOCK" run job -- echo ran
	assert_success
	assert_output ran
	run redis-cli -p "$AUTH_PORT" -a topsecret --no-auth-warning \
	    -n 2 GET 'keylock:{job}:fence'
	assert_output 1
}

@test "refused AUTH: 69 at once, the address named, the password never shown" {
	local t0
	auth_server
	# A refusal is final: no retrying until the connect timeout (10 s).
	t0=$(date +%s%N)
	KEYLOCK_REDIS_URL="redis://kluser:wrongpass@127.0.0.1:$AUTH_PORT" \
	    run --separate-stderr "$KEYLOCK" run --connect-timeout 10s job \
	    -- touch "$TMP/ran"
	assert_failure 69
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] ||
	    fail "a refused AUTH was retried"
	[ ! -e "$TMP/ran" ]
	[[ $stderr == *"127.0.0.1:$AUTH_PORT"* ]]
	[[ $stderr == *AUTH* ]]
	[[ $stderr != *wrongpass* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	# No password at all against a server that wants one.
	run --separate-stderr "$KEYLOCK" run --redis \
	    "redis://127.0.0.1:$AUTH_PORT" job -- touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ]
	[[ $stderr == *NOAUTH* ]]
}

@test "a password on the command line draws one warning" {
	auth_server
	run --separate-stderr "$KEYLOCK" run \
	    --redis "redis://:topsecret@127.0.0.1:$AUTH_PORT" job -- true
	assert_success
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	[[ $stderr == *password* ]]
	[[ $stderr != *topsecret* ]]
	KEYLOCK_REDIS_URL="redis://:topsecret@127.0.0.1:$AUTH_PORT" \
	    run --separate-stderr "$KEYLOCK" run job -- true
	assert_success
	[ -z "$stderr" ]
}

@test "unreachable server: 69, one line naming it, command not run" {
	local port
	port=$(free_port)
	run --separate-stderr "$KEYLOCK" run --redis "redis://127.0.0.1:$port" \
	    job -- touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ]
	[[ $stderr == *"127.0.0.1:$port"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	run "$KEYLOCK" run --redis "unix://$TMP/nothing.sock" job -- true
	assert_failure 69
	run "$KEYLOCK" status --redis "redis://127.0.0.1:$port" job
	assert_failure 69
}

@test "a server that does not answer times out with 69" {
	# A listening socket nobody accepts on: connect succeeds, no reply.
	python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(30)' > "$TMP/port" &
	echo $! > "$TMP/mute.pid"
	for _ in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
	[ -s "$TMP/port" ]
	local t0=$(date +%s%N)
	run "$KEYLOCK" run --connect-timeout 300ms \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ]
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]
}

@test "bad URL, port or db: 64 with the reason" {
	run "$KEYLOCK" run --redis "http://127.0.0.1" job -- true
	assert_failure 64
	run "$KEYLOCK" run --redis "redis://127.0.0.1:99999" job -- true
	assert_failure 64
	assert_output --partial port
	run "$KEYLOCK" run --redis "redis://127.0.0.1:6379/x" job -- true
	assert_failure 64
	assert_output --partial database
	run "$KEYLOCK" run --redis "unix://relative.sock" job -- true
	assert_failure 64
	KEYLOCK_REDIS_URL="redis://u:se%zzcret@h" run "$KEYLOCK" run job -- true
	assert_failure 64
	refute_output --partial 'se%zzcret'
	# A password whose '@host' was forgotten is not echoed as a port.
	KEYLOCK_REDIS_URL="redis://admin:S3cretPw" run "$KEYLOCK" run job -- true
	assert_failure 64
	assert_output --partial port
	refute_output --partial S3cretPw
	# Nor a part of one holding "@/" in a unix URL.
	KEYLOCK_REDIS_URL="unix://u:ab@/cd@$TMP/none.sock" run "$KEYLOCK" run \
	    job -- true
	assert_failure 69
	refute_output --partial 'cd@'
}

@test "status and list over Redis" {
	hold job
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_success
	assert_output --partial "pid"
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	assert_success
	assert_output --regexp '"backend": *"redis"'
	assert_output --regexp '"held": *true'
	assert_output --regexp '"fence": *1'
	assert_output --regexp '"ttl_ms": *[1-9][0-9]*'
	run "$KEYLOCK" list --redis "$REDIS_URL"
	assert_success
	assert_output --partial job
	run "$KEYLOCK" list --redis "$REDIS_URL" --json
	assert_output --partial '"job"'
	# Another namespace sees nothing.
	run "$KEYLOCK" list --redis "$REDIS_URL" -N other
	refute_output --partial job
	unhold job
	wait_gone "$(cat "$TMP/job.pid")"
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_failure 1
	run "$KEYLOCK" list --redis "$REDIS_URL"
	refute_output --partial job
}

@test "list walks many keys with SCAN" {
	for i in $(seq 1 30); do
		rcli SET "keylock:{k$i}:lock" \
		    "0123456789abcdef0123456789abcdef h $i 1700000000000 $i" \
		    PX 60000 >/dev/null
	done
	rcli SET 'keylock:{k1}:memo:x' y >/dev/null
	run "$KEYLOCK" list --redis "$REDIS_URL"
	assert_success
	[ "$(printf '%s\n' "$output" | grep -c '^k[0-9]')" -eq 30 ]
}

@test "release --force deletes a stuck lease and the holder stops" {
	# A 1 s lease: one of 600 ms is gone by the EXISTS below when a
	# loaded machine stalls the heartbeat for 400 ms.
	hold job -t 1s -k 1s
	run "$KEYLOCK" release --redis "$REDIS_URL" job
	assert_failure
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 1
	run "$KEYLOCK" release --force --redis "$REDIS_URL" job
	assert_success
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
	# The holder notices at its next renewal and ends with 76.
	local rc=0
	wait "$(cat "$TMP/job.pid")" || rc=$?
	[ "$rc" -eq 76 ]
	grep -q 'lost the lock on job' "$TMP/job.err"
}

@test "a waiter starts as soon as the holder releases, not after a TTL" {
	hold job
	"$KEYLOCK" run --redis "$REDIS_URL" job -- sh -c 'date +%s%N > "$0"' \
	    "$TMP/started" &
	local waiter=$!
	# The waiter is subscribed once it retried and went to sleep.
	wait_subscribers 1 job
	local t0=$(date +%s%N)
	unhold job
	wait "$waiter"
	[ $(( ($(cat "$TMP/started") - t0) / 1000000 )) -lt 1000 ]
}

@test "-n and -w over Redis give the conflict code" {
	hold job
	run "$KEYLOCK" run --redis "$REDIS_URL" -n job -- touch "$TMP/ran"
	assert_failure 75
	run "$KEYLOCK" run --redis "$REDIS_URL" -w 200ms -E 9 job -- \
	    touch "$TMP/ran"
	assert_failure 9
	[ ! -e "$TMP/ran" ]
	unhold job
}

@test "cross-machine stress: no increment is lost" {
	echo 0 > "$TMP/count"
	local w pids=()
	for w in 1 2 3 4; do
		(
			export KEYLOCK_DIR="$TMP/machine$w"
			for _ in $(seq 1 20); do
				"$KEYLOCK" run --redis "$REDIS_URL" counter -- \
				    sh -c 'n=$(cat "$0"); echo $((n + 1)) > "$0"' \
				    "$TMP/count" || exit 1
			done
		) &
		pids+=($!)
	done
	for w in "${pids[@]}"; do
		wait "$w"
	done
	run cat "$TMP/count"
	assert_output 80
	run rcli GET 'keylock:{counter}:fence'
	assert_output 80
}

@test "memo over Redis: a second machine is served from the shared cache" {
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- \
	    sh -c 'echo computed; echo x >> "$0"' "$TMP/runs"
	assert_success
	assert_output computed
	KEYLOCK_DIR="$TMP/other" XDG_CACHE_HOME="$TMP/othercache" \
	    run "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- \
	    sh -c 'echo computed; echo x >> "$0"' "$TMP/runs"
	assert_success
	assert_output computed
	[ "$(wc -l < "$TMP/runs")" -eq 1 ]
	run "$KEYLOCK" forget --redis "$REDIS_URL" job
	assert_success
	run rcli --scan --pattern 'keylock:{job}:memo:*'
	assert_output ''
}

@test "keys of 10 KB, mostly escaped characters, work with --memo and status" {
	local key
	key=$(printf '{}%%%.0s' $(seq 1 3400))
	[ "${#key}" -eq 10200 ]
	# The capture outlives the TTL: the heartbeat renews its temp key.
	# It lasts 1.5 s, past the 1 s lease; a shorter lease is lost when
	# a loaded machine stalls the heartbeat for 200 ms.
	run "$KEYLOCK" run --redis "$REDIS_URL" -t 1s --memo 1m "$key" -- \
	    sh -c 'echo early; sleep 1.5; echo late; touch "$0/ran"' "$TMP"
	assert_success
	assert_output "early
late"
	rm "$TMP/ran"
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m "$key" -- \
	    sh -c 'echo early; sleep 1.5; echo late; touch "$0/ran"' "$TMP"
	assert_success
	assert_output "early
late"
	[ ! -e "$TMP/ran" ]
	run "$KEYLOCK" status --redis "$REDIS_URL" "$key"
	assert_failure 1
	[ "$(printf '%s\n' "$output" | grep -c '^  cached ')" -eq 1 ]
}

# --memo in Redis: the data and meta keys of an entry, capture temp keys,
# a tampered entry, memory use and an unreachable server.  The scenarios
# every backend shares are in memo.bats (run here as memo_redis.bats).

# Runs keylock over the test server with the rest of "$@".
kmemo() {
	"$KEYLOCK" run --redis "$REDIS_URL" "$@"
}

@test "an entry is a data and a meta key, both expiring with the memo TTL" {
	job_script 0
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	run memo_entries job
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	local data=${lines[0]} pttl
	pttl=$(rcli PTTL "$data")
	[ "$pttl" -gt 50000 ] || fail "data PTTL $pttl"
	[ "$pttl" -le 60000 ] || fail "data PTTL $pttl"
	pttl=$(rcli PTTL "$data:meta")
	[ "$pttl" -gt 50000 ] || fail "meta PTTL $pttl"
	[ "$pttl" -le 60000 ] || fail "meta PTTL $pttl"
	[ "$(rcli GET "$data")" = out ]
	# Stored for 300 ms: Redis expires data and meta.
	run --separate-stderr kmemo --memo 300ms job -- "$TMP/job.sh" x
	assert_success
	data=$(memo_entries job | grep -vxF "$data")
	[ -n "$data" ]
	for _ in $(seq 1 40); do
		[ "$(rcli EXISTS "$data" "$data:meta")" = 0 ] && break
		sleep 0.05
	done
	[ "$(rcli EXISTS "$data" "$data:meta")" = 0 ]
	no_tmp_keys
}

@test "another namespace keeps entries of its own" {
	run kmemo --memo 1m job -- echo a
	assert_output a
	run kmemo -N ci --memo 1m job -- echo a
	assert_output a
	run rcli --scan --pattern 'ci:{job}:memo:*'
	[ "${#lines[@]}" -eq 2 ]
	run memo_entries job
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	[ "$(rcli GET 'ci:{job}:fence')" = 1 ]
	no_tmp_keys
}

@test "a failing run with a large output leaves no temp key" {
	run kmemo --memo 1m job -- sh -c 'seq 1 100000; exit 3'
	assert_failure 3
	[ "${#lines[@]}" -eq 100000 ]
	run rcli --scan --pattern 'keylock:{job}:*'
	assert_output 'keylock:{job}:fence'
}

@test "a failing run whose connection was cut leaves no temp key" {
	kmemo --memo 1m job -- sh -c 'head -c 100000 /dev/zero; : >"$1/up"
	    while [ ! -e "$1/go" ]; do sleep 0.02; done; exit 3' x "$TMP" \
	    >/dev/null 2>&1 &
	local pid=$!
	wait_for_file "$TMP/up"
	rcli CLIENT KILL TYPE normal >/dev/null
	touch "$TMP/go"
	local st=0
	wait "$pid" || st=$?
	assert_equal "$st" 3
	no_tmp_keys
}

@test "--memo-max: the temp key goes once the output passes the cap" {
	kmemo --memo 1m --memo-max 1K job -- sh -c 'head -c 100000 /dev/zero
	    : >"$1/up"; while [ ! -e "$1/go" ]; do sleep 0.02; done' x "$TMP" \
	    >/dev/null 2>&1 &
	local pid=$! left
	wait_for_file "$TMP/up"
	for _ in $(seq 1 100); do
		left=$(rcli --scan --pattern '*:tmp:*')
		[ -z "$left" ] && break
		sleep 0.05
	done
	kill -0 "$pid"		# the command still runs
	[ -z "$left" ]
	touch "$TMP/go"
	wait "$pid"
}

@test "a tampered entry is never served" {
	job_script 0
	run kmemo --memo 1m job -- "$TMP/job.sh"
	local data
	data=$(memo_entries job)
	# Data grown behind keylock's back: size mismatch, a miss.
	rcli APPEND "$data" junk >/dev/null
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 2 ]
	# Meta gone: a miss too.
	rcli DEL "$data:meta" >/dev/null
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 3 ]
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 3 ]
	no_tmp_keys
}

@test "an entry with one changed byte is not served: dropped, the command runs" {
	job_script 0
	kmemo --memo 1m job -- "$TMP/job.sh" >/dev/null
	local data
	data=$(memo_entries job)
	# Same size, one byte changed ("out" -> "oat").
	rcli SETRANGE "$data" 1 a >/dev/null
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 2 ] || fail "the changed entry was served"
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 2 ]
}

@test "a large entry (read in chunks) with one changed byte prints nothing of it" {
	local cmd='head -c 600000 /dev/zero; echo ran >>"$0"'
	kmemo --memo 1m big -- sh -c "$cmd" "$TMP/runs" >/dev/null
	local data
	data=$(memo_entries big)
	# A byte in the last chunk: the first ones would already be out.
	rcli SETRANGE "$data" 599999 x >/dev/null
	kmemo --memo 1m big -- sh -c "$cmd" "$TMP/runs" >"$TMP/out"
	assert_equal "$(wc -l <"$TMP/runs")" 2
	assert_equal "$(wc -c <"$TMP/out")" 600000
	assert_equal "$(tr -d '\0' <"$TMP/out" | wc -c)" 0
}

@test "an entry stamped in the future (server clock set back) is not served" {
	job_script 0
	kmemo --memo 1h job -- "$TMP/job.sh" >/dev/null
	local data
	data=$(memo_entries job)
	rcli HSET "$data:meta" created $(( ($(date +%s) + 3600) * 1000 )) \
	    >/dev/null
	run --separate-stderr kmemo --memo 1h job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 2 ] || fail "the future entry was served"
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	refute_output --partial '"age_ms":-'
}

@test "flat memory: 128 MB streamed past the cap, 24 MB stored and served" {
	# Sanitized builds: a small quarantine, or freed chunks stay resident.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
	# The baseline: 1 MiB, stored.
	/usr/bin/time -f %M -o "$TMP/rss.small" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m small -- head -c 1M /dev/zero \
	    >/dev/null
	# Beyond --memo-max: passed through, not stored.
	/usr/bin/time -f %M -o "$TMP/rss.big" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m --memo-max 4M big -- \
	    head -c 128M /dev/zero | wc -c > "$TMP/n.big"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	[ "$(cat "$TMP/n.big")" -eq $((128 << 20)) ]
	run memo_entries big
	assert_success
	assert_output ''
	# Below the cap: stored, then served from Redis.
	/usr/bin/time -f %M -o "$TMP/rss.miss" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m mid -- head -c 24M /dev/zero |
	    wc -c > "$TMP/n.miss"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	/usr/bin/time -f %M -o "$TMP/rss.hit" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m mid -- head -c 24M /dev/zero |
	    wc -c > "$TMP/n.hit"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	[ "$(cat "$TMP/n.miss")" -eq $((24 << 20)) ]
	[ "$(cat "$TMP/n.hit")" -eq $((24 << 20)) ]
	[ "$(rcli STRLEN "$(memo_entries mid)")" -eq $((24 << 20)) ]
	local f small
	small=$(tail -1 "$TMP/rss.small")
	for f in big miss hit; do
		echo "peak RSS $f: $(tail -1 "$TMP/rss.$f") KiB," \
		    "$small KiB for 1 MiB" >&2
		[ "$(tail -1 "$TMP/rss.$f")" -lt $((small + 8192)) ]
		# Unsanitized builds start small; the whole run stays under 20 MB.
		if [ "$small" -lt 5000 ]; then
			[ "$(tail -1 "$TMP/rss.$f")" -lt 20480 ]
		fi
	done
	no_tmp_keys
}

@test "Redis unreachable with --memo: 69, the command not run" {
	local port
	port=$(free_port)
	run --separate-stderr "$KEYLOCK" run --redis "redis://127.0.0.1:$port" \
	    --memo 1m job -- touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ]
	[[ $stderr == *"127.0.0.1:$port"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

# ---- the queue (issue 9): Redis-only checks; tests/queue.bats has the
# scenarios both backends share.

# Starts holder NAME of key $2 (keylock options in $3...): its command
# records KEYLOCK_SLOT in $TMP/NAME.slot, touches $TMP/NAME.up and
# blocks until $TMP/NAME.go is written.
holdn() {
	local name=$1 key=$2
	shift 2
	mkfifo "$TMP/$name.go"
	"$KEYLOCK" run --redis "$REDIS_URL" "$@" "$key" -- \
	    sh -c 'echo $$ > "$0.cmd.pid"; echo "$KEYLOCK_SLOT" > "$0.slot"
	    touch "$0.up"; read x < "$0.go"' "$TMP/$name" \
	    2>"$TMP/$name.err" &
	echo $! > "$TMP/$name.pid"
	wait_for_file "$TMP/$name.up"
}

# Starts waiter NAME of key $2 (options in $3...), whose command
# appends NAME to $TMP/order; returns once it is in the queue ($N
# waiters in all, N given in WAITERS, default 1).
qwait() {
	local name=$1 key=$2
	shift 2
	"$KEYLOCK" run --redis "$REDIS_URL" "$@" "$key" -- \
	    sh -c 'echo "$0" >> "$1"' "$name" "$TMP/order" \
	    2>"$TMP/$name.err" &
	echo $! > "$TMP/$name.pid"
	wait_waiters "${WAITERS:-1}" "$key"
}

# Waits (bounded, 10 s) until key $2 has exactly $1 live waiters.
wait_waiters() {
	for _ in $(seq 1 200); do
		[ "$(waiters "$2")" = "$1" ] && return 0
		sleep 0.05
	done
	echo "key $2 never had $1 waiters (has $(waiters "$2"))" >&2
	return 1
}

# Prints the number of live waiters of key $1.
waiters() {
	"$KEYLOCK" status --redis "$REDIS_URL" --json "$1" |
	    jq '.waiters | length'
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

@test "queue: 10 waiters are served in arrival order" {
	holdn h job
	local i
	for i in $(seq 1 10); do
		WAITERS=$i qwait "w$i" job
	done
	echo > "$TMP/h.go"
	for i in $(seq 1 10); do
		wait "$(cat "$TMP/w$i.pid")"
	done
	run cat "$TMP/order"
	assert_output "$(printf 'w%s\n' $(seq 1 10))"
	# Nothing of the queue is left behind but its bounded keys.
	run rcli EXISTS 'keylock:{job}:q' 'keylock:{job}:qd'
	assert_output 0
}

@test "queue: a SIGKILLed waiter in the middle is dropped within about a second" {
	holdn h job
	WAITERS=1 qwait a job
	WAITERS=2 qwait b job
	WAITERS=3 qwait c job
	kill -9 "$(cat "$TMP/b.pid")"
	local t0
	t0=$(now_ms)
	wait_waiters 2 job
	local dt=$(( $(now_ms) - t0 ))
	# Its 1 s liveness lease, then the next refresh of a live waiter
	# (300 ms): 1.3 s.  The bound leaves room for a slow start and
	# stays under the 3 s that the queue keys outlive the last refresh.
	[ "$dt" -lt 2800 ] || fail "the dead waiter stayed $dt ms"
	echo > "$TMP/h.go"
	wait "$(cat "$TMP/a.pid")"
	wait "$(cat "$TMP/c.pid")"
	run cat "$TMP/order"
	assert_output "$(printf 'a\nc')"
}

@test "queue: a dead head waiter does not stall the next one" {
	holdn h job
	WAITERS=1 qwait a job
	WAITERS=2 qwait b job
	kill -9 "$(cat "$TMP/a.pid")"
	local t0
	t0=$(now_ms)
	# Released at once: the turn goes to the dead head, whose lease
	# runs out; b takes it at its next refresh.
	echo > "$TMP/h.go"
	wait "$(cat "$TMP/b.pid")"
	local dt=$(( $(now_ms) - t0 ))
	# a's 1 s liveness lease, then b's next refresh: 1.3 s.  The bound
	# leaves room for a slow start and stays under the 3 s that the
	# queue keys outlive the last refresh.
	[ "$dt" -lt 2800 ] || fail "b waited $dt ms"
	run cat "$TMP/order"
	assert_output b
}

@test "queue: -n and -w give up when someone is queued, and leave no entry" {
	local tok=0123456789abcdef0123456789abcdef
	rcli ZADD 'keylock:{job}:q' 1 "$tok" >/dev/null
	rcli ZADD 'keylock:{job}:qd' 99999999999999 "$tok" >/dev/null
	# Its ticket (1) taken, as a real first waiter leaves it: the next
	# one gets 2, not a tie that a token sorting first would win.
	rcli HSET 'keylock:{job}:qr' "$tok" "x $tok h 1 1700000000000 0" \
	    '#' 1 >/dev/null
	run "$KEYLOCK" run --redis "$REDIS_URL" -n job -- touch "$TMP/ran"
	assert_failure 75
	run "$KEYLOCK" run --redis "$REDIS_URL" -w 300ms job -- touch "$TMP/ran"
	assert_failure 75
	run rcli ZCARD 'keylock:{job}:q'
	assert_output 1
	run test -e "$TMP/ran"
	assert_failure
	rcli DEL 'keylock:{job}:q' >/dev/null
	run "$KEYLOCK" run --redis "$REDIS_URL" -n job -- touch "$TMP/ran"
	assert_success
}

@test "slots: 20 concurrent callers never over-book 3 slots" {
	mkdir "$TMP/s"
	local i pids=()
	for i in $(seq 1 20); do
		"$KEYLOCK" run --redis "$REDIS_URL" --slots 3 job -- sh -c '
		    d=$0
		    mkdir "$d/slot.$KEYLOCK_SLOT" 2>/dev/null ||
			echo "slot $KEYLOCK_SLOT twice" >> "$d/../bad"
		    case $KEYLOCK_SLOT in 0|1|2) ;; *) echo "slot $KEYLOCK_SLOT" >> "$d/../bad" ;; esac
		    touch "$d/act.$$"
		    ls "$d" | grep -c "^act\." >> "$d/../overlap"
		    # The first three in wait (bounded, 3 s) for each other:
		    # the slots are full once, however slowly callers start.
		    echo in >> "$d/../entered"
		    if [ "$(wc -l < "$d/../entered")" -le 3 ]; then
			n=0
			while [ "$(ls "$d" | grep -c "^act\.")" -lt 3 ] &&
			    [ $n -lt 300 ]; do
			    sleep 0.01
			    n=$((n + 1))
			done
		    fi
		    sleep 0.2
		    rm "$d/act.$$"
		    rmdir "$d/slot.$KEYLOCK_SLOT"' "$TMP/s" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run test -e "$TMP/bad"
	assert_failure
	run sort -n "$TMP/overlap"
	assert_line --index 19 3
	run wc -l < "$TMP/overlap"
	assert_output 20
}

@test "slots: a crashed holder frees only its own slot, at its lease expiry" {
	holdn a job --slots 2 -t 1s
	holdn b job --slots 2 -t 1s
	run cat "$TMP/a.slot" "$TMP/b.slot"
	assert_output "$(printf '0\n1')"
	kill -9 "$(cat "$TMP/a.pid")"
	local t0
	t0=$(now_ms)
	run "$KEYLOCK" run --redis "$REDIS_URL" --slots 2 -t 1s -w 5s job -- \
	    sh -c 'echo "$KEYLOCK_SLOT"'
	assert_success
	assert_output 0
	local dt=$(( $(now_ms) - t0 ))
	[ "$dt" -lt 3000 ] || fail "the slot came back after $dt ms"
	# b was never touched.
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	assert_output --regexp "\"pid\":$(cat "$TMP/b.pid")"
	assert_output --regexp '"slot":1'
	echo > "$TMP/b.go"
	wait "$(cat "$TMP/b.pid")"
}

@test "shared: readers share; a waiting writer is not starved by later readers" {
	holdn r1 job --shared
	run "$KEYLOCK" run --redis "$REDIS_URL" --shared -n job -- true
	assert_success
	WAITERS=1 qwait w job
	WAITERS=2 qwait r2 job --shared
	# r2 waits behind w although r1 only shares the key.
	run test -e "$TMP/order"
	assert_failure
	run "$KEYLOCK" run --redis "$REDIS_URL" --shared -n job -- true
	assert_failure 75
	echo > "$TMP/r1.go"
	wait "$(cat "$TMP/w.pid")"
	wait "$(cat "$TMP/r2.pid")"
	run cat "$TMP/order"
	assert_output "$(printf 'w\nr2')"
}

@test "supersede: each new --supersede waiter ends the previous one's wait, no one else's" {
	holdn h job
	WAITERS=1 qwait n job
	WAITERS=2 qwait s1 job --supersede
	WAITERS=2 qwait s2 job --supersede
	local rc=0
	wait "$(cat "$TMP/s1.pid")" || rc=$?
	[ "$rc" -eq 75 ] || fail "s1 exited $rc"
	run cat "$TMP/s1.err"
	assert_output --partial "superseded by pid $(cat "$TMP/s2.pid")"
	WAITERS=2 qwait s3 job --supersede
	rc=0
	wait "$(cat "$TMP/s2.pid")" || rc=$?
	[ "$rc" -eq 75 ] || fail "s2 exited $rc"
	echo > "$TMP/h.go"
	wait "$(cat "$TMP/n.pid")"
	wait "$(cat "$TMP/s3.pid")"
	run cat "$TMP/order"
	assert_output "$(printf 'n\ns3')"
}

@test "mixed kinds on one key: 64 naming both" {
	holdn a job --slots 3
	run "$KEYLOCK" run --redis "$REDIS_URL" --slots 2 -n job -- true
	assert_failure 64
	assert_output --partial 'job is used with --slots 3; this caller asked for --slots 2'
	run "$KEYLOCK" run --redis "$REDIS_URL" -n job -- true
	assert_failure 64
	assert_output --partial 'job is used with --slots 3; this caller asked for an exclusive lock'
	echo > "$TMP/a.go"
	wait "$(cat "$TMP/a.pid")"
	holdn b job
	run "$KEYLOCK" run --redis "$REDIS_URL" --slots 2 -n job -- true
	assert_failure 64
	assert_output --partial 'job is used with an exclusive lock; this caller asked for --slots 2'
}

@test "shared and slot callers of one key: 64 in the local backend's words" {
	holdn a job --shared
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL" --slots 2 -n job -- true
	assert_failure 64
	[ "$stderr" = "keylock: job: job is used with shared locks; this caller asked for --slots 2" ] ||
	    fail "stderr: $stderr"
	echo > "$TMP/a.go"
	wait "$(cat "$TMP/a.pid")"
	holdn b job --slots 3
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL" --shared -n job -- true
	assert_failure 64
	[ "$stderr" = "keylock: job: job is used with --slots 3; this caller asked for a shared lock" ] ||
	    fail "stderr: $stderr"
}

@test "a key written by another protocol: 69 naming both versions" {
	rcli SET 'keylock:{job}:v' 3 >/dev/null
	run "$KEYLOCK" run --redis "$REDIS_URL" job -- touch "$TMP/ran"
	assert_failure 69
	assert_output --partial 'job was written by keylock protocol 3; this keylock speaks 2'
	run test -e "$TMP/ran"
	assert_failure
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_failure 69
	assert_output --partial 'protocol 3'
	# What keylock 0.1 wrote (no version key) is ours to share.
	rcli DEL 'keylock:{job}:v' >/dev/null
	rcli SET 'keylock:{job}:lock' \
	    "0123456789abcdef0123456789abcdef old 1 1700000000000 4" \
	    PX 60000 >/dev/null
	run "$KEYLOCK" run --redis "$REDIS_URL" -n job -- true
	assert_failure 75
}

@test "status and list of a queue, text and JSON" {
	holdn h job
	WAITERS=1 qwait w1 job
	WAITERS=2 qwait w2 job --shared
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_success
	assert_line --index 0 --regexp "^job: held by pid $(cat "$TMP/h.pid") .*lease"
	assert_line --index 1 --regexp "^job: 1st in queue: pid $(cat "$TMP/w1.pid") "
	assert_line --index 2 --regexp "^job: 2nd in queue: pid $(cat "$TMP/w2.pid") .*shared"
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	assert_success
	run jq -c '[.holders[].pid, .holders[0].ttl_ms > 0, (.waiters[] |
	    [.position, .pid, .mode])]' <<<"$output"
	assert_output "[$(cat "$TMP/h.pid"),true,[1,$(cat "$TMP/w1.pid"),\"exclusive\"],[2,$(cat "$TMP/w2.pid"),\"shared\"]]"
	run "$KEYLOCK" list --redis "$REDIS_URL"
	assert_success
	assert_output --partial "job$(printf '\t')1 holder, 2 waiting"
	echo > "$TMP/h.go"
	wait "$(cat "$TMP/w1.pid")"
	wait "$(cat "$TMP/w2.pid")"
	run "$KEYLOCK" list --redis "$REDIS_URL"
	refute_output --partial 'job'
}

@test "a lost acquire reply leaves no phantom waiter: the next gets the key at once" {
	"$KEYLOCK" run --redis "$REDIS_URL" job -- true	# loads the scripts
	proxy lossy
	# Its first try takes the lease and loses the reply; the retry must
	# find its own lease without joining the queue behind it.
	mkfifo "$TMP/h.go"
	"$KEYLOCK" run --connect-timeout 500ms -w 10s \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- \
	    sh -c 'touch "$0.up"; read x < "$0.go"' "$TMP/h" \
	    2>"$TMP/h.err" &
	echo $! > "$TMP/h.pid"
	wait_for_file "$TMP/h.up"
	# A phantom would stay a live waiter for RD_LIVE_MS after the retry.
	[ "$(rcli ZCARD 'keylock:{job}:q')" = 0 ]
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_success
	refute_output --partial 'in queue'
	qwait w job -w 10s
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	run jq -c '[.waiters[].pid]' <<<"$output"
	assert_output "[$(cat "$TMP/w.pid")]"
	local t0
	t0=$(now_ms)
	echo > "$TMP/h.go"
	wait "$(cat "$TMP/w.pid")"
	# Told at the release, not after a dead head's lease (1.3 s).
	[ $(( $(now_ms) - t0 )) -lt 800 ] ||
	    fail "the next waiter took $(( $(now_ms) - t0 )) ms"
	wait "$(cat "$TMP/h.pid")"
	run cat "$TMP/order"
	assert_output w
}
