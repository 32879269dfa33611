#!/usr/bin/env bats
# The supervisor: keylock stays the command's parent, forwards signals,
# exits 128+N when the command dies of signal N, takes the command down
# when it is SIGKILLed, hands the command only the descriptors it was
# given, and releases the lock on every exit path.

load helper
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	# A command that records every forwarded signal it gets, then exits
	# 7; 9 if none came.  It writes its pid and then "started".
	cat >"$TMP/trapper" <<'EOF'
#!/bin/sh
d=$1
got=0
for s in TERM INT HUP QUIT USR1 USR2; do
	trap "echo $s >>\"$d/got\"; got=1" "$s"
done
echo $$ >"$d/cmd.pid"
: >"$d/started"
i=0
while [ "$got" -eq 0 ] && [ "$i" -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ "$got" -eq 1 ] || exit 9
# Linger a little so that a duplicate delivery would be recorded.
sleep 0.3
exit 7
EOF
	chmod +x "$TMP/trapper"
}

teardown() { common_teardown; }

# Starts keylock on key k running COMMAND... in the background, with
# every forwarded signal at its default disposition.
start() {
	env --default-signal=TERM,INT,HUP,QUIT,USR1,USR2 \
	    "$KEYLOCK" run k "$@" 3>&- &
	echo $! >"$TMP/keylock.pid"
}

# Asserts that k is free: status says so and run -n takes it.
assert_released() {
	run "$KEYLOCK" status k
	assert_failure 1
	run "$KEYLOCK" run -n k true
	assert_success
}

# Sends signal $1 to keylock running the trapper and checks that the
# command got it exactly once and keylock exited with its status.
forward_check() {
	local sig=$1 st=0
	start "$TMP/trapper" "$TMP"
	wait_for_file "$TMP/started"
	kill -"$sig" "$(cat "$TMP/keylock.pid")"
	wait "$(cat "$TMP/keylock.pid")" || st=$?
	assert_equal "$st" 7
	run cat "$TMP/got"
	assert_output "$sig"
	assert_released
}

@test "SIGTERM is forwarded to the command" {
	forward_check TERM
}

@test "SIGINT is forwarded to the command" {
	forward_check INT
}

@test "SIGHUP is forwarded to the command" {
	forward_check HUP
}

@test "SIGQUIT is forwarded to the command" {
	forward_check QUIT
}

@test "SIGUSR1 is forwarded to the command" {
	forward_check USR1
}

@test "SIGUSR2 is forwarded to the command" {
	forward_check USR2
}

@test "a terminal's ^C reaches the command once, not twice" {
	command -v script >/dev/null || skip "script(1) not installed"
	run bash -c '
	    { while [ ! -e "$1/started" ]; do sleep 0.05; done
	      printf "\003"; sleep 2; } |
	    script -qec "exec $2 run k $1/trapper $1" /dev/null' x \
	    "$TMP" "$KEYLOCK"
	assert_equal "$status" 7
	run cat "$TMP/got"
	assert_output INT
}

@test "the command is keylock's child" {
	start sh -c 'echo $PPID >"$1/ppid"; : >"$1/started"; exec sleep 30' \
	    x "$TMP"
	wait_for_file "$TMP/started"
	assert_equal "$(cat "$TMP/ppid")" "$(cat "$TMP/keylock.pid")"
	kill "$(cat "$TMP/keylock.pid")"
	local st=0
	wait "$(cat "$TMP/keylock.pid")" || st=$?
	assert_equal "$st" 143
}

@test "a forwarded TERM the command does not catch: 143, nothing left" {
	local st=0
	start sh -c 'echo $$ >"$1/cmd.pid"; : >"$1/started"; exec sleep 30' \
	    x "$TMP"
	wait_for_file "$TMP/started"
	kill -TERM "$(cat "$TMP/keylock.pid")"
	wait "$(cat "$TMP/keylock.pid")" || st=$?
	assert_equal "$st" 143
	wait_gone "$(cat "$TMP/cmd.pid")"
	assert_released
}

@test "exit 128+N when the command dies of signal N" {
	run "$KEYLOCK" run k sh -c 'kill -KILL $$'
	assert_failure 137
	run "$KEYLOCK" run k sh -c 'kill -TERM $$'
	assert_failure 143
	run "$KEYLOCK" run k sh -c 'kill -USR1 $$'
	assert_failure 138
	run "$KEYLOCK" run k sh -c 'kill -SEGV $$'
	assert_failure 139
	# Ignored by keylock itself, SIGPIPE still kills the command.
	run "$KEYLOCK" run k sh -c 'kill -PIPE $$'
	assert_failure 141
}

@test "SIGKILL of keylock kills the command and frees the lock" {
	start sh -c 'echo $$ >"$1/cmd.pid"; : >"$1/started"; exec sleep 30' \
	    x "$TMP"
	wait_for_file "$TMP/started"
	kill -KILL "$(cat "$TMP/keylock.pid")"
	local st=0
	wait "$(cat "$TMP/keylock.pid")" || st=$?
	assert_equal "$st" 137
	wait_gone "$(cat "$TMP/cmd.pid")"
	assert_released
}

@test "SIGKILL of keylock while the command ignores TERM still kills it" {
	start sh -c 'trap "" TERM INT HUP; echo $$ >"$1/cmd.pid"
	    : >"$1/started"; exec sleep 30' x "$TMP"
	wait_for_file "$TMP/started"
	kill -KILL "$(cat "$TMP/keylock.pid")"
	wait_gone "$(cat "$TMP/cmd.pid")"
	assert_released
}

# Starts keylock with only fds 0, 1, 2 and 9 open (extra arguments go
# before KEY) running "sleep 30", prints the descriptors that sleep has
# (seen from outside, so that nothing of the test's is among them) and
# their targets into $TMP/fds.long, then stops keylock.
fds_of_command() {
	local kl cmd="" st=0
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && [ "$fd" -ne 9 ] && eval "exec $fd>&-"
		done
		exec "$KEYLOCK" run "$@" k sleep 30
	) 9>"$TMP/nine" >/dev/null &
	kl=$!
	echo "$kl" >"$TMP/fdkl.pid"
	for _ in $(seq 1 200); do
		cmd=$(pgrep -P "$kl" -x sleep) && break
		sleep 0.05
	done
	[ -n "$cmd" ] || { echo "no command"; return 1; }
	ls -l "/proc/$cmd/fd" >"$TMP/fds.long"
	(cd "/proc/$cmd/fd" && ls | sort -n | tr "\n" " ")
	kill -TERM "$kl"
	wait "$kl" || st=$?
	[ "$st" -eq 143 ] || { echo "keylock exited $st"; return 1; }
}

@test "the command inherits 0, 1, 2 and the caller's fd 9, nothing else" {
	run fds_of_command
	assert_success
	assert_output "0 1 2 9 "
	run grep -e "$KEYLOCK_DIR" -e "$TMP/locks" "$TMP/fds.long"
	assert_failure
	run grep -c "$TMP/nine" "$TMP/fds.long"
	assert_output 1
}

@test "no extra descriptor with -v, -w, or --memo either" {
	run fds_of_command -v -w 5
	assert_success
	assert_output "0 1 2 9 "
	run fds_of_command --memo 1m
	assert_success
	assert_output "0 1 2 9 "
	run grep -e "$XDG_CACHE_HOME" -e socket "$TMP/fds.long"
	assert_failure
}

@test "no extra descriptor after waiting for the lock" {
	"$KEYLOCK" run k sh -c ': >"$1/held"
	    while [ ! -e "$1/go" ]; do sleep 0.05; done' x "$TMP" 3>&- &
	echo $! >"$TMP/holder.pid"
	wait_for_file "$TMP/held"
	fds_of_command -w 10 >"$TMP/waiter.out" 3>&- &
	echo $! >"$TMP/waiter.pid"
	# The waiter is blocked once its waiting helper (a second process
	# with the same command line) exists.
	for _ in $(seq 1 100); do
		[ "$(pgrep -fc "$KEYLOCK run -w 10 k")" -ge 2 ] && break
		sleep 0.05
	done
	[ "$(pgrep -fc "$KEYLOCK run -w 10 k")" -ge 2 ]
	touch "$TMP/go"
	wait "$(cat "$TMP/waiter.pid")"
	run cat "$TMP/waiter.out"
	assert_output "0 1 2 9 "
}

@test "stdin, stdout and stderr are the caller's own, not copies" {
	echo in >"$TMP/in"
	"$KEYLOCK" run k sh -c 'a=$(readlink /proc/$$/fd/0)
	    b=$(readlink /proc/$$/fd/1)
	    c=$(readlink /proc/$$/fd/2)
	    echo "$a $b $c" >"$0/fds"' "$TMP" \
	    <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
	run cat "$TMP/fds"
	assert_output "$TMP/in $TMP/out $TMP/err"
}

@test "stdin passes through byte for byte" {
	head -c 1000000 /dev/urandom >"$TMP/blob"
	"$KEYLOCK" run k cat <"$TMP/blob" >"$TMP/copy"
	cmp "$TMP/blob" "$TMP/copy"
	run bash -c 'printf "line1\nline2" | "$1" run k cat' x "$KEYLOCK"
	assert_success
	assert_output "line1
line2"
}

@test "the lock is released after every exit path" {
	run "$KEYLOCK" run k true
	assert_success
	assert_released
	run "$KEYLOCK" run k sh -c 'exit 3'
	assert_failure 3
	assert_released
	run "$KEYLOCK" run k sh -c 'kill -KILL $$'
	assert_failure 137
	assert_released
	run -127 "$KEYLOCK" run k "$TMP/not-there"
	assert_released
	touch "$TMP/plain"
	run -126 "$KEYLOCK" run k "$TMP/plain"
	assert_released
}

@test "no holder record is left behind after the run" {
	"$KEYLOCK" run k true
	run "$KEYLOCK" run k sh -c 'exit 1'
	assert_failure 1
	run ls -A "$KEYLOCK_DIR"
	assert_output k
}

@test "background processes the command leaves behind are stopped, then the lock is free" {
	run --separate-stderr "$KEYLOCK" run k sh -c \
	    '(trap "" HUP; exec sleep 30) & echo $! >"$1/bg.pid"' x "$TMP"
	assert_success
	[[ "$stderr" == *"stopped 1 process the command left running"* ]]
	run kill -0 "$(cat "$TMP/bg.pid")"
	assert_failure
	assert_released
}

@test "a leftover that ignores TERM is killed after --kill-after" {
	run --separate-stderr "$KEYLOCK" run -k 300ms k sh -c \
	    '(trap "" TERM; : >"$1/bg.ready"; exec sleep 30) &
	     echo $! >"$1/bg.pid"
	     while [ ! -e "$1/bg.ready" ]; do sleep 0.02; done' x "$TMP"
	assert_success
	run kill -0 "$(cat "$TMP/bg.pid")"
	assert_failure
	assert_released
}

@test "a stalled stdout reader under --memo does not stop signal forwarding" {
	mkfifo "$TMP/out"
	# Nobody reads the fifo after the first byte: the pipe fills up.
	exec 5<>"$TMP/out"
	env --default-signal=TERM "$KEYLOCK" run --memo 1m k sh -c \
	    'head -c 1000000 /dev/zero; : >"$1/started"; exec sleep 30' \
	    x "$TMP" >"$TMP/out" 3>&- 5>&- &
	echo $! >"$TMP/keylock.pid"
	# The writer blocks before "started" exists; wait for the pipe to fill
	# (to within a page: partly filled pages may count as full).
	for _ in $(seq 1 100); do
		pipe_full 5 && break
		sleep 0.05
	done
	pipe_full 5 || fail "the pipe to the reader did not fill up"
	kill -TERM "$(cat "$TMP/keylock.pid")"
	wait_gone "$(cat "$TMP/keylock.pid")"
	st=0
	wait "$(cat "$TMP/keylock.pid")" || st=$?
	exec 5>&-
	assert_equal "$st" 143
	assert_released
}

@test "closed stdin and stdout at start: the command gets /dev/null, not our files" {
	"$KEYLOCK" run k sh -c 'echo "$(readlink /proc/$$/fd/0)" \
	    "$(readlink /proc/$$/fd/1)" >"$1/fds"' x "$TMP" <&- >&-
	run cat "$TMP/fds"
	assert_output '/dev/null /dev/null'
}

@test "a signal the command survives does not cut its --memo output short" {
	# The command ignores HUP, then writes more than the pipes hold to a
	# reader that takes 4 KiB every 5 ms: keylock must wait for it.
	local cmd='trap "" HUP; : >"$1/ready"
	    while [ ! -e "$1/go" ]; do sleep 0.02; done
	    head -c 400000 /dev/zero'
	{
		"$KEYLOCK" run --memo 1m k sh -c "$cmd" x "$TMP" 3>&- &
		echo $! >"$TMP/keylock.pid"
		wait $! && echo 0 >"$TMP/status" || echo $? >"$TMP/status"
	} | python3 -c '
import sys, time
n = 0
while True:
    b = sys.stdin.buffer.read1(4096)
    if not b:
        break
    n += len(b)
    time.sleep(0.005)
print(n)' >"$TMP/n" &
	wait_for_file "$TMP/ready"
	kill -HUP "$(cat "$TMP/keylock.pid")"
	touch "$TMP/go"
	wait_for_file "$TMP/status"
	wait
	assert_equal "$(cat "$TMP/status")" 0
	assert_equal "$(cat "$TMP/n")" 400000
	# ... and stored whole: the next caller is served from the cache.
	rm "$TMP/ready"
	"$KEYLOCK" run --memo 1m k sh -c "$cmd" x "$TMP" >"$TMP/again"
	assert_equal "$(wc -c <"$TMP/again")" 400000
	[ ! -e "$TMP/ready" ]
}

@test "orphans that end while the command runs are reaped at once" {
	"$KEYLOCK" run k sh -c 'for i in $(seq 50); do (sleep 0.01 &); done
	    : >"$1/spawned"; while [ ! -e "$1/go" ]; do sleep 0.02; done' \
	    x "$TMP" 3>&- &
	echo $! >"$TMP/keylock.pid"
	wait_for_file "$TMP/spawned"
	local z
	for _ in $(seq 1 100); do
		z=$(ps -o stat= --ppid "$(cat "$TMP/keylock.pid")" | grep -c Z || :)
		[ "$z" -eq 0 ] && break
		sleep 0.05
	done
	touch "$TMP/go"
	wait "$(cat "$TMP/keylock.pid")"
	assert_equal "$z" 0
}
