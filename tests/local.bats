#!/usr/bin/env bats
# The local flock backend: mutual exclusion under stress, conflicts and
# timeouts, the waiting line, fencing tokens, the environment the
# command gets, the default directory's safety checks, and status/list
# never touching the lock.

load helper
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

# Runs keylock with the default directory: no KEYLOCK_DIR.
kl_default() {
	env -u KEYLOCK_DIR "$KEYLOCK" "$@"
}

@test "30 concurrent read-modify-write runs lose no increment" {
	local i pids=()
	echo 0 >"$TMP/counter"
	for i in $(seq 1 30); do
		"$KEYLOCK" run counter sh -c '
		    n=$(cat "$1/counter")
		    echo "$KEYLOCK_FENCE" >>"$1/fences"
		    sleep 0.01
		    echo $((n + 1)) >"$1/counter"' x "$TMP" 3>&- &
		pids+=($!)
		echo $! >"$TMP/w$i.pid"
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run cat "$TMP/counter"
	assert_output 30
	# Fences, logged under the lock, strictly increase in lock order.
	run sort -n -c -u "$TMP/fences"
	assert_success
	assert_equal "$(wc -l <"$TMP/fences")" 30
}

@test "--no-wait gives up at once while the key is held, holder unaffected" {
	hold_local k h
	run --separate-stderr "$KEYLOCK" run --no-wait k touch "$TMP/ran"
	assert_failure 75
	[[ "$stderr" == *"k is held by pid $(cat "$TMP/h.pid")"* ]] ||
	    fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
	kill -0 "$(cat "$TMP/h.pid")"
	release_local h
	run "$KEYLOCK" run -n k touch "$TMP/ran"
	assert_success
	[ -e "$TMP/ran" ]
}

@test "--wait times out with a message naming key and holder" {
	hold_local k h
	run --separate-stderr "$KEYLOCK" run --wait 0.5 k touch "$TMP/ran"
	assert_failure 75
	assert_output ""
	[[ "$stderr" == *"timed out"*k*"pid $(cat "$TMP/h.pid")"* ]] ||
	    fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
	release_local h
}

@test "a waiter runs after the holder's command has finished" {
	hold_local k h
	"$KEYLOCK" run k sh -c 'echo waiter >>"$1/order"' x "$TMP" 3>&- &
	echo $! >"$TMP/waiter.pid"
	echo holder >>"$TMP/order"
	release_local h
	wait "$(cat "$TMP/waiter.pid")"
	run cat "$TMP/order"
	assert_output "holder
waiter"
}

@test "-v prints one waiting line naming the holder's pid and host" {
	hold_local k h
	run --separate-stderr "$KEYLOCK" run -v -w 0.5 k true
	assert_failure 75
	assert_output ""
	run grep -c "^keylock: waiting for k (1st in queue; held by pid $(cat "$TMP/h.pid") on $(hostname) for " <<<"$stderr"
	assert_output 1
	release_local h
}

@test "without -v and without a terminal there is no waiting line" {
	hold_local k h
	run --separate-stderr "$KEYLOCK" run -w 1.5 k true
	assert_failure 75
	run grep -c "^keylock: waiting for" <<<"$stderr"
	assert_output 0
	release_local h
}

@test "on a terminal the waiting line appears after a second" {
	command -v script >/dev/null || skip "script(1) not installed"
	hold_local k h
	run script -qec "$KEYLOCK run -w 1.8 k true" /dev/null
	assert_failure 75
	assert_output --partial "waiting for k (1st in queue; held by pid $(cat "$TMP/h.pid")"
	release_local h
}

@test "KEYLOCK_KEY, KEYLOCK_BACKEND and KEYLOCK_FENCE reach the command" {
	run "$KEYLOCK" run "my key" sh -c \
	    'printf "%s|%s|%s" "$KEYLOCK_KEY" "$KEYLOCK_BACKEND" "$KEYLOCK_FENCE"'
	assert_success
	assert_output "my key|local|1"
}

@test "KEYLOCK_FENCE strictly increases per key and survives a killed holder" {
	local a b c d
	a=$("$KEYLOCK" run k sh -c 'echo $KEYLOCK_FENCE')
	b=$("$KEYLOCK" run k sh -c 'echo $KEYLOCK_FENCE')
	"$KEYLOCK" run other true
	c=$("$KEYLOCK" run k sh -c 'echo $KEYLOCK_FENCE')
	[ "$a" -ge 1 ] && [ "$b" -gt "$a" ] && [ "$c" -gt "$b" ] ||
	    fail "fences $a $b $c"
	hold_local k h
	d=$(cat "$TMP/h.fence")
	[ "$d" -gt "$c" ] || fail "fence $d after $c"
	kill -9 "$(cat "$TMP/h.pid")"
	local st=0
	wait "$(cat "$TMP/h.pid")" || st=$?
	assert_equal "$st" 137
	run "$KEYLOCK" run -w 5 k sh -c 'echo $KEYLOCK_FENCE'
	assert_success
	[ "$output" -gt "$d" ] || fail "fence $output after $d"
}

@test "a waiter killed with SIGKILL leaves nothing that takes the lock later" {
	hold_local k h
	"$KEYLOCK" run k touch "$TMP/ran" 3>&- &
	echo $! >"$TMP/waiter.pid"
	# Once its waiting helper exists it is blocked in flock(): kill it.
	for _ in $(seq 1 100); do
		pgrep -P "$(cat "$TMP/waiter.pid")" >/dev/null && break
		sleep 0.05
	done
	pgrep -P "$(cat "$TMP/waiter.pid")" >/dev/null
	kill -9 "$(cat "$TMP/waiter.pid")"
	wait_gone "$(cat "$TMP/waiter.pid")"
	release_local h
	# No orphaned helper of the dead waiter may hold k now.
	run --separate-stderr "$KEYLOCK" run -w 2 k true
	assert_success
	run "$KEYLOCK" run -n k true
	assert_success
	[ ! -e "$TMP/ran" ]
}

@test "default directory under XDG_RUNTIME_DIR is created 0700" {
	mkdir -m 700 "$TMP/run"
	XDG_RUNTIME_DIR="$TMP/run" kl_default run k true
	[ -d "$TMP/run/keylock" ]
	run stat -c %a "$TMP/run/keylock"
	assert_output 700
	[ -f "$TMP/run/keylock/k" ]
	[ ! -e "$KEYLOCK_DIR" ]
}

@test "default directory without XDG_RUNTIME_DIR is \$TMPDIR/keylock-UID, 0700" {
	mkdir -m 700 "$TMP/tmp"
	run env -u XDG_RUNTIME_DIR -u KEYLOCK_DIR TMPDIR="$TMP/tmp" \
	    "$KEYLOCK" run k true
	assert_success
	run stat -c %a "$TMP/tmp/keylock-$(id -u)"
	assert_output 700
	[ -f "$TMP/tmp/keylock-$(id -u)/k" ]
}

@test "a default directory that is a symlink is refused, command not run" {
	mkdir -m 700 "$TMP/run" "$TMP/real"
	ln -s "$TMP/real" "$TMP/run/keylock"
	run --separate-stderr env -u KEYLOCK_DIR XDG_RUNTIME_DIR="$TMP/run" \
	    "$KEYLOCK" run k touch "$TMP/ran"
	assert_failure
	[ "$status" -ne 75 ]
	[[ "$stderr" == keylock:*"$TMP/run/keylock"*symlink* ]] ||
	    fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
	[ -z "$(ls -A "$TMP/real")" ]
	# A dangling symlink is refused too (and not created through).
	rm "$TMP/run/keylock"
	ln -s "$TMP/nowhere" "$TMP/run/keylock"
	run --separate-stderr env -u KEYLOCK_DIR XDG_RUNTIME_DIR="$TMP/run" \
	    "$KEYLOCK" run k touch "$TMP/ran"
	assert_failure
	[ ! -e "$TMP/ran" ]
	[ ! -e "$TMP/nowhere" ]
}

@test "a group- or world-writable default directory is refused" {
	local mode
	mkdir -m 700 "$TMP/run"
	for mode in 770 720 703 777 1777; do
		rm -rf "$TMP/run/keylock"
		mkdir "$TMP/run/keylock"
		chmod "$mode" "$TMP/run/keylock"
		run --separate-stderr env -u KEYLOCK_DIR \
		    XDG_RUNTIME_DIR="$TMP/run" "$KEYLOCK" run k touch "$TMP/ran"
		assert_failure
		[[ "$stderr" == keylock:*"$TMP/run/keylock"*writable* ]] ||
		    fail "mode $mode: stderr: $stderr"
		[ ! -e "$TMP/ran" ]
	done
}

@test "a default directory owned by someone else is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown"
	mkdir -m 700 "$TMP/run" "$TMP/run/keylock"
	chown 4242:4242 "$TMP/run/keylock"
	run --separate-stderr env -u KEYLOCK_DIR XDG_RUNTIME_DIR="$TMP/run" \
	    "$KEYLOCK" run k touch "$TMP/ran"
	assert_failure
	[[ "$stderr" == keylock:*"$TMP/run/keylock"*owned* ]] ||
	    fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
}

@test "the TMPDIR default is vetted the same way" {
	mkdir -m 700 "$TMP/tmp"
	mkdir -m 777 "$TMP/tmp/keylock-$(id -u)"
	run --separate-stderr env -u XDG_RUNTIME_DIR -u KEYLOCK_DIR \
	    TMPDIR="$TMP/tmp" "$KEYLOCK" run k touch "$TMP/ran"
	assert_failure
	[[ "$stderr" == *writable* ]] || fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
}

@test "status and list racing with run -n never cause a false conflict" {
	local i fails=0
	"$KEYLOCK" run k true
	(
		while [ ! -e "$TMP/stop" ]; do
			# Held (0) or free (1); anything else ends the racer.
			"$KEYLOCK" status k >/dev/null || [ $? -eq 1 ] || exit 1
			"$KEYLOCK" list >/dev/null
			"$KEYLOCK" status --json k >/dev/null || [ $? -eq 1 ] ||
			    exit 1
			echo >>"$TMP/rounds"
		done
		exit 0
	) 3>&- &
	echo $! >"$TMP/racer.pid"
	for i in $(seq 1 40); do
		"$KEYLOCK" run -n -q k true || fails=$((fails + 1))
	done
	touch "$TMP/stop"
	wait "$(cat "$TMP/racer.pid")"
	assert_equal "$fails" 0
	# The race really happened.
	[ "$(wc -l <"$TMP/rounds")" -ge 5 ]
}

@test "status and list do not create lock files" {
	"$KEYLOCK" run seen true
	run "$KEYLOCK" status never
	assert_failure 1
	"$KEYLOCK" list >/dev/null
	run ls -A "$KEYLOCK_DIR"
	assert_output seen
}

@test "a symlink planted as a lock file is not followed" {
	mkdir -p "$KEYLOCK_DIR"
	chmod 700 "$KEYLOCK_DIR"
	ln -s "$TMP/target" "$KEYLOCK_DIR/k"
	run --separate-stderr "$KEYLOCK" run k touch "$TMP/ran"
	assert_failure
	[[ "$stderr" == keylock:* ]] || fail "stderr: $stderr"
	[ ! -e "$TMP/target" ]
	[ ! -e "$TMP/ran" ]
}

@test "a signal while waiting ends the wait: 128+N, command not run" {
	local st=0
	hold_local k h
	env --default-signal=TERM "$KEYLOCK" run k touch "$TMP/ran" 3>&- &
	echo $! >"$TMP/waiter.pid"
	for _ in $(seq 1 100); do
		pgrep -P "$(cat "$TMP/waiter.pid")" >/dev/null && break
		sleep 0.05
	done
	pgrep -P "$(cat "$TMP/waiter.pid")" >/dev/null
	kill -TERM "$(cat "$TMP/waiter.pid")"
	wait "$(cat "$TMP/waiter.pid")" || st=$?
	assert_equal "$st" 143
	release_local h
	run "$KEYLOCK" run -n k true
	assert_success
	[ ! -e "$TMP/ran" ]
}

@test "a lock file of the earlier layout keeps its fence and gets its key back" {
	local key f
	key=$(printf 'k%.0s' $(seq 300))	# too long for a name: hashed
	"$KEYLOCK" run "$key" true
	f=$(ls "$KEYLOCK_DIR")
	# The earlier layout: the fence, then the key at once.
	printf '%020d\n%s' 7 "$key" >"$KEYLOCK_DIR/$f"
	run "$KEYLOCK" run "$key" sh -c '"$1" list; echo "fence $KEYLOCK_FENCE"' \
	    x "$KEYLOCK"
	assert_success
	assert_output "$(printf '%s\t1 holder\nfence 8' "$key")"
}

# --memo with the local cache: its directory, memory use, its entry
# files.  The scenarios every backend shares are in memo.bats.

# Peak RSS in kB of keylock running --memo on COMMAND... to /dev/null,
# read by the command from /proc/$PPID/status just before it ends.
peak_rss() {
	"$KEYLOCK" run --memo 1m "$@" >/dev/null 2>"$TMP/hwm" || return 1
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "$TMP/hwm"
}

@test "the cache directory is created 0700" {
	"$KEYLOCK" run --memo 1m k true
	run stat -c %a "$XDG_CACHE_HOME/keylock"
	assert_output 700
}

@test "an unsafe cache directory is refused, nothing run" {
	job_script 0
	mkdir -p "$XDG_CACHE_HOME/keylock"
	chmod 777 "$XDG_CACHE_HOME/keylock"
	run --separate-stderr "$KEYLOCK" run --memo 1m k "$TMP/job.sh"
	assert_failure
	[[ "$stderr" == keylock:*"$XDG_CACHE_HOME/keylock"* ]] ||
	    fail "stderr: $stderr"
	assert_equal "$(runs)" 0
	rmdir "$XDG_CACHE_HOME/keylock"
	mkdir -m 700 "$TMP/elsewhere"
	ln -s "$TMP/elsewhere" "$XDG_CACHE_HOME/keylock"
	run --separate-stderr "$KEYLOCK" run --memo 1m k "$TMP/job.sh"
	assert_failure
	assert_equal "$(runs)" 0
	[ -z "$(ls -A "$TMP/elsewhere")" ]
}

@test "peak RSS stays flat while 1 GiB of output goes through --memo" {
	local small big
	small=$(peak_rss small sh -c \
	    'head -c 1M /dev/zero; cat /proc/$PPID/status >&2')
	big=$(peak_rss big sh -c \
	    'head -c 1G /dev/zero; cat /proc/$PPID/status >&2')
	[ -n "$small" ] && [ -n "$big" ] || fail "no VmHWM: $(cat "$TMP/hwm")"
	[ "$big" -lt $((small + 8192)) ] ||
	    fail "peak RSS ${big} kB for 1 GiB, ${small} kB for 1 MiB"
	# Unsanitized builds start small; the whole run stays under 20 MB.
	if [ "$small" -lt 5000 ]; then
		[ "$big" -lt 20000 ] || fail "peak RSS ${big} kB"
	fi
}

@test "peak RSS stays flat capturing 256 MiB into the cache and serving it" {
	local small big hit1 hit2
	small=$(peak_rss small sh -c \
	    'head -c 1M /dev/zero; cat /proc/$PPID/status >&2')
	big=$(peak_rss --memo-max 512M k sh -c \
	    'head -c 256M /dev/zero; cat /proc/$PPID/status >&2')
	[ -n "$small" ] && [ -n "$big" ] || fail "no VmHWM: $(cat "$TMP/hwm")"
	[ "$big" -lt $((small + 8192)) ] ||
	    fail "peak RSS ${big} kB capturing 256 MiB, ${small} kB for 1 MiB"
	run "$KEYLOCK" status --json k
	assert_output --partial '"size":268435456'
	# Serving it: compare with serving the 1 MiB entry.
	command -v /usr/bin/time >/dev/null || skip "/usr/bin/time not installed"
	/usr/bin/time -f %M -o "$TMP/rss1" "$KEYLOCK" run --memo 1m small \
	    sh -c 'head -c 1M /dev/zero; cat /proc/$PPID/status >&2' >/dev/null
	/usr/bin/time -f %M -o "$TMP/rss2" "$KEYLOCK" run --memo 1m \
	    --memo-max 512M k sh -c \
	    'head -c 256M /dev/zero; cat /proc/$PPID/status >&2' >"$TMP/hit"
	assert_equal "$(wc -c <"$TMP/hit")" 268435456
	hit1=$(tail -1 "$TMP/rss1")
	hit2=$(tail -1 "$TMP/rss2")
	[ "$hit2" -lt $((hit1 + 8192)) ] ||
	    fail "peak RSS ${hit2} kB serving 256 MiB, ${hit1} kB for 1 MiB"
}

@test "an entry stamped in the future (the clock stepped back) is not served" {
	"$KEYLOCK" run --memo 1h k echo first >/dev/null
	local f
	f=$(ls "$XDG_CACHE_HOME/keylock/k/")
	# CREATED_MS is the second field of the header: make it a day ahead.
	printf '%020d' $(( ($(date +%s) + 86400) * 1000 )) |
	    dd of="$XDG_CACHE_HOME/keylock/k/$f" bs=1 seek=5 conv=notrunc \
	    2>/dev/null
	run "$KEYLOCK" run --memo 1h k echo first
	assert_output first
	run "$KEYLOCK" status --json k
	refute_output --partial '"age_ms":-'
}

@test "a cached entry with one changed byte is not served: dropped, the command runs" {
	"$KEYLOCK" run --memo 1h k sh -c 'echo hello world; echo ran >>"$0"' \
	    "$TMP/runs" >/dev/null
	local f off
	f="$XDG_CACHE_HOME/keylock/k/$(ls "$XDG_CACHE_HOME/keylock/k/")"
	# Turn "hello" into "jello", after the header, whatever its length.
	off=$(grep -abo 'hello world' "$f" | cut -d: -f1)
	printf 'j' | dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null
	run "$KEYLOCK" run --memo 1h k sh -c 'echo hello world; echo ran >>"$0"' \
	    "$TMP/runs"
	assert_success
	assert_output "hello world"
	assert_equal "$(wc -l <"$TMP/runs")" 2
	# The good entry the run stored is served again.
	run "$KEYLOCK" run --memo 1h k sh -c 'echo hello world; echo ran >>"$0"' \
	    "$TMP/runs"
	assert_output "hello world"
	assert_equal "$(wc -l <"$TMP/runs")" 2
}

@test "a FIFO in place of a cached entry is a miss, never a hang" {
	echo first >"$TMP/in"
	"$KEYLOCK" run --memo 1h k cat "$TMP/in" >/dev/null
	local f
	f="$XDG_CACHE_HOME/keylock/k/$(ls "$XDG_CACHE_HOME/keylock/k/")"
	rm "$f"
	mkfifo "$f"
	echo second >"$TMP/in"
	run timeout 10 "$KEYLOCK" run --memo 1h k cat "$TMP/in"
	assert_success
	assert_output second
	# The run stored a real entry in its place.
	[ -f "$f" ] && [ ! -p "$f" ] || fail "no regular entry stored"
}

@test "temp files of a killed run are swept by the next run and by forget" {
	mkdir -p "$XDG_CACHE_HOME/keylock/k"
	chmod 700 "$XDG_CACHE_HOME" "$XDG_CACHE_HOME/keylock" \
	    "$XDG_CACHE_HOME/keylock/k"
	: >"$XDG_CACHE_HOME/keylock/k/.0123~99999"
	"$KEYLOCK" run --memo 1m k echo hi >/dev/null
	[ ! -e "$XDG_CACHE_HOME/keylock/k/.0123~99999" ]
	: >"$XDG_CACHE_HOME/keylock/k/.4567~99999"
	run "$KEYLOCK" forget -v k
	assert_output 'keylock: k: dropped 1 cached result'
	run ls -A "$XDG_CACHE_HOME/keylock/k"
	assert_output ''
}

# Starts waiter NAME, `keylock run -v ARGS... -- KEY` appending NAME to
# $TMP/order, and returns once its waiting notice is out: it has joined
# the queue.  Usage: qwaiter NAME [OPTION]... KEY
qwaiter() {
	local name=$1
	shift
	"$KEYLOCK" run -v "$@" -- sh -c 'echo "$1" >>"$2/order"' x "$name" \
	    "$TMP" >/dev/null 2>"$TMP/$name.err" 3>&- &
	echo $! >"$TMP/$name.pid"
	wait_for_line "$TMP/$name.err" 'waiting for'
}

# Waits for waiter NAME and checks its exit status is $2.
qwaited() {
	local rc=0
	wait "$(cat "$TMP/$1.pid")" || rc=$?
	[ "$rc" -eq "$2" ] || fail "$1 exited $rc, not $2: $(cat "$TMP/$1.err")"
}

@test "ten waiters run in arrival order and leave only the ticket counter" {
	local i
	hold_local k h
	for i in $(seq 1 10); do
		qwaiter "w$i" k
	done
	run cat "$TMP/w10.err"
	assert_output --partial "(10th in queue; held by pid $(cat "$TMP/h.pid")"
	release_local h
	for i in $(seq 1 10); do
		qwaited "w$i" 0
	done
	run cat "$TMP/order"
	assert_output "$(printf 'w%s\n' $(seq 1 10))"
	run ls -A "$KEYLOCK_DIR/.q.k"
	assert_output next
}

@test "a queued waiter keeps a free key from newcomers until it goes" {
	local q=$KEYLOCK_DIR/.q.k
	# A waiter between its wakeup and its flock: a live entry, key free.
	mkdir -p -m 700 "$q"
	printf '%020d\n' 2 >"$q/next"
	mkfifo "$TMP/go"
	flock "$q/00000000000000000001" sh -c 'touch "$1/up"; read -r x <"$1/go"' \
	    x "$TMP" 3>&- &
	echo $! >"$TMP/entry.pid"
	wait_for_file "$TMP/up"
	run "$KEYLOCK" run -n k -- echo ran
	assert_failure 75
	refute_output --partial ran
	run "$KEYLOCK" run -n -s k -- echo ran
	assert_failure 75
	qwaiter w k
	run cat "$TMP/w.err"
	assert_output --partial "(2nd in queue)"
	echo go >"$TMP/go"
	qwaited w 0
	# The dead entry was swept by the waiter that looked past it.
	run ls -A "$q"
	assert_output next
}

@test "a SIGKILLed waiter in the middle of the queue is skipped and swept" {
	hold_local k h
	qwaiter w1 k
	qwaiter w2 k
	qwaiter w3 k
	kill -KILL "$(cat "$TMP/w2.pid")"
	wait_gone "$(cat "$TMP/w2.pid")"
	release_local h
	qwaited w1 0
	qwaited w3 0
	run cat "$TMP/order"
	assert_output "$(printf 'w1\nw3')"
	run ls -A "$KEYLOCK_DIR/.q.k"
	assert_output next
}

@test "a slot whose holder is SIGKILLed goes to the waiting head at once" {
	local t0
	hold_local k a --slots 2
	hold_local k b --slots 2
	qwaiter w --slots 2 k
	t0=$(date +%s%N)
	kill -KILL "$(cat "$TMP/a.pid")"
	qwaited w 0
	run test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1500
	assert_success
	touch "$TMP/a.release"
	release_local b
}

@test "shared and --slots callers of one key: 64 naming both" {
	hold_local k r -s
	run "$KEYLOCK" run -n --slots 2 k -- echo ran
	assert_failure 64
	assert_output --partial "k is used with shared locks; this caller asked for --slots 2"
	refute_output --partial ran
	release_local r
	hold_local k a --slots 3
	run "$KEYLOCK" run -w 1 -s k -- echo ran
	assert_failure 64
	assert_output --partial "k is used with --slots 3; this caller asked for a shared lock"
	run "$KEYLOCK" run -n k -- echo ran
	assert_failure 64
	assert_output --partial "k is used with --slots 3; this caller asked for an exclusive lock"
	release_local a
}

# Waits (bounded, 10 s) until $1 processes are blocked in flock(2) on
# $TMP/gate.
gate_waiters() {
	local ino
	ino=$(stat -c %i "$TMP/gate")
	for _ in $(seq 1 200); do
		[ "$(grep -c -- "-> FLOCK .*:$ino " /proc/locks)" -ge "$1" ] &&
		    return 0
		sleep 0.05
	done
	echo "timed out waiting for $1 processes at the gate" >&2
	return 1
}

@test "shared and --slots callers that come at once never hold together" {
	local i a b ra rb
	# Each is in for a moment and notes whether the other is in too.
	cat >"$TMP/in.sh" <<'EOS'
#!/bin/sh
touch "$1/in.$2"
i=0
while [ $i -lt 10 ]; do
	[ -e "$1/in.$3" ] && echo "overlap $2" >>"$1/log"
	sleep 0.01
	i=$((i + 1))
done
rm "$1/in.$2"
EOS
	chmod +x "$TMP/in.sh"
	: >"$TMP/log"
	: >"$TMP/gate"
	for i in $(seq 1 12); do
		export KEYLOCK_DIR=$TMP/locks$i
		# Both start when the gate opens: the kernel wakes both
		# flock(1)s, blocked on it, at once.
		exec 8<"$TMP/gate"
		flock 8
		flock -s "$TMP/gate" "$KEYLOCK" run -s k -- "$TMP/in.sh" \
		    "$TMP" s l 2>/dev/null 3>&- 8<&- &
		a=$!
		flock -s "$TMP/gate" "$KEYLOCK" run --slots 2 k -- \
		    "$TMP/in.sh" "$TMP" l s 2>/dev/null 3>&- 8<&- &
		b=$!
		gate_waiters 2
		exec 8<&-
		ra=0 rb=0
		wait "$a" || ra=$?
		wait "$b" || rb=$?
		echo "$ra $rb" >>"$TMP/rcs"
	done
	run cat "$TMP/log"
	assert_output ''
	# One of each pair is refused, or they ran one after the other.
	run grep -vxE '0 64|64 0|0 0' "$TMP/rcs"
	assert_failure 1
	assert_output ''
}

@test "a SIGKILLed shared holder's record and temp files are swept" {
	local q=$KEYLOCK_DIR/.q.k
	hold_local k r -s
	run sh -c "ls -A '$q' | grep -c '^h'"
	assert_output 1
	# What a crash between create and rename leaves without O_TMPFILE.
	: >"$q/~h00000000000000000099"
	kill -KILL "$(cat "$TMP/r.pid")"
	wait_gone "$(cat "$TMP/r.pid")"
	touch "$TMP/r.release"
	run "$KEYLOCK" run -n -s k -- true
	assert_success
	run ls -A "$q"
	assert_output next
}

@test "a --slots head gets in when the key frees with no slot event" {
	local t0
	run "$KEYLOCK" run k -- true
	assert_success
	# Held exclusively from outside: its end closes no slot file.
	flock "$KEYLOCK_DIR/k" sh -c 'touch "$1/up"
	    while [ ! -e "$1/go" ]; do sleep 0.02; done' x "$TMP" 3>&- &
	echo $! >"$TMP/ex.pid"
	wait_for_file "$TMP/up"
	qwaiter w -w 5 --slots 2 k
	t0=$(date +%s%N)
	touch "$TMP/go"
	qwaited w 0
	run test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000
	assert_success
}

@test "newcomers joining the queue do not wake the --slots head" {
	local helper i
	hold_local k a --slots 2
	hold_local k b --slots 2
	qwaiter w --slots 2 k
	# The head's helper, which rings it when a slot file is closed.
	helper=$(heartbeat_of "$(cat "$TMP/w.pid")")
	for i in 1 2 3; do
		qwaiter "j$i" --slots 2 k
	done
	run heartbeat_of "$(cat "$TMP/w.pid")"
	assert_output "$helper"
	release_local a
	release_local b
	qwaited w 0
	for i in 1 2 3; do
		qwaited "j$i" 0
	done
}

@test "a --supersede waiter gives up promptly, leaving the queue" {
	hold_local k h
	qwaiter s1 --supersede k
	qwaiter s2 --supersede k
	qwaited s1 75
	run cat "$TMP/s1.err"
	assert_output --partial "superseded by pid $(cat "$TMP/s2.pid")"
	run "$KEYLOCK" status --json k
	run jq -c '[.waiters[] | .pid]' <<<"$output"
	assert_output "[$(cat "$TMP/s2.pid")]"
	release_local h
	qwaited s2 0
}

@test "--cooldown is refused for shared and slot locks" {
	run "$KEYLOCK" run -s --cooldown 1m k -- echo ran
	assert_failure 64
	assert_output --partial "exclusive locks only"
	refute_output --partial ran
}
