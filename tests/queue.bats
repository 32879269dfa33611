#!/usr/bin/env bats
# Waiters in arrival order, --slots, --shared, --supersede and the queue
# in status and list.  This file runs once per backend, picked from its
# name: queue.bats is the local backend, queue_redis.bats (a symlink to
# it) the Redis one.
#
# Order is made, never hoped for: each waiter runs with -v, which prints
# its "waiting for" notice once it has joined the queue, and the next one
# starts only after that line is there.

bats_require_minimum_version 1.5.0
load helper
load backend

setup() {
	backend_setup
	backend_kl
}

teardown() {
	backend_teardown
}

# Holds KEY as NAME with options until release NAME; returns once held.
# The command writes its KEYLOCK_SLOT (or "-") to $TMP/NAME.slot.
# Usage: hold NAME [OPTION]... KEY
hold() {
	local name=$1
	shift
	"$KL" run "$@" -- sh -c 'echo "${KEYLOCK_SLOT:--}" >"$1.slot"
	    touch "$1.started"
	    while [ ! -e "$1.release" ]; do sleep 0.02; done' x "$TMP/$name" \
	    >/dev/null 2>"$TMP/$name.err" 3>&- &
	echo $! >"$TMP/$name.pid"
	wait_for_file "$TMP/$name.started"
}

# Lets holder NAME go and waits for it.
release() {
	touch "$TMP/$1.release"
	wait "$(cat "$TMP/$1.pid")"
}

# Starts a waiter NAME with options; it appends NAME to $TMP/order when
# it runs.  Returns once it has joined the queue (its notice is out).
# Usage: waiter NAME [OPTION]... KEY
waiter() {
	local name=$1
	shift
	"$KL" run -v "$@" -- sh -c 'echo "$1" >>"$2/order"' x "$name" "$TMP" \
	    >/dev/null 2>"$TMP/$name.err" 3>&- &
	echo $! >"$TMP/$name.pid"
	wait_for_line "$TMP/$name.err" 'waiting for'
}

# Waits for waiter NAME and checks its exit status is $2.
waited() {
	local rc=0
	wait "$(cat "$TMP/$1.pid")" || rc=$?
	[ "$rc" -eq "$2" ] || {
		echo "$1 exited $rc, not $2: $(cat "$TMP/$1.err")" >&2
		return 1
	}
}

@test "ten waiters run in the order they came" {
	local i
	hold h k
	for i in $(seq 1 10); do
		waiter "w$i" k
	done
	release h
	for i in $(seq 1 10); do
		waited "w$i" 0
	done
	run cat "$TMP/order"
	assert_output "$(printf 'w%s\n' $(seq 1 10))"
}

@test "the waiting notice gives the place in the queue and the holder" {
	hold h k
	waiter w1 k
	waiter w2 k
	waiter w3 k
	run cat "$TMP/w3.err"
	assert_output --regexp "waiting for k \(3rd in queue; held by pid $(cat "$TMP/h.pid") on [^ ]+ for [0-9.]+m?s\)"
	run cat "$TMP/w1.err"
	assert_output --partial "(1st in queue; held by pid"
	release h
	waited w1 0
	waited w2 0
	waited w3 0
}

@test "status shows every holder and every waiter in queue order" {
	hold h k
	waiter w1 k
	waiter w2 -s k
	run "$KL" status k
	assert_success
	assert_line --index 0 --regexp "^k: held by pid $(cat "$TMP/h.pid") on "
	assert_line --index 1 --regexp "^k: 1st in queue: pid [0-9]+ on .* since "
	assert_line --index 2 --regexp "^k: 2nd in queue: pid [0-9]+ on .*, shared$"
	run "$KL" status --json k
	assert_success
	run jq -c '[.held, .pid == (.holders[0].pid), (.holders | length),
	    [.waiters[] | [.position, .mode]]]' <<<"$output"
	assert_output '[true,true,1,[[1,"exclusive"],[2,"shared"]]]'
	run "$KL" list
	assert_success
	assert_output "k	1 holder, 2 waiting"
	run "$KL" list --json
	run jq -c '[.[] | [.key, .holder_count, .waiter_count]]' <<<"$output"
	assert_output '[["k",1,2]]'
	release h
	waited w1 0
	waited w2 0
}

@test "-n gives up when anyone waits, even for a mode it could share" {
	hold r1 -s k
	waiter w k
	run "$KL" run -n -s k -- echo overtook
	assert_failure 75
	refute_output --partial overtook
	release r1
	waited w 0
}

@test "a waiter that gives up leaves the queue" {
	hold h k
	run "$KL" run -w 100ms k -- true
	assert_failure 75
	run "$KL" status --json k
	run jq -c '.waiters' <<<"$output"
	assert_output '[]'
	release h
}

@test "a killed waiter in the middle of the queue does not stall it" {
	local t0
	hold h k
	waiter w1 k
	waiter w2 k
	waiter w3 k
	kill -KILL "$(cat "$TMP/w2.pid")"
	wait "$(cat "$TMP/w2.pid")" || true
	t0=$(date +%s%N)
	release h
	waited w1 0
	waited w3 0
	# Redis drops a dead waiter within about a second.
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ] || return 1
	run cat "$TMP/order"
	assert_output "$(printf 'w1\nw3')"
}

@test "shared holders hold together; an exclusive caller waits for them" {
	hold r1 -s k
	hold r2 -s k
	run "$KL" run -n k -- true
	assert_failure 75
	run "$KL" status --json k
	run jq -c '[.holders[] | .mode]' <<<"$output"
	assert_output '["shared","shared"]'
	release r1
	release r2
	run "$KL" run -n k -- true
	assert_success
}

@test "a writer is not starved by readers that come after it" {
	hold r1 -s k
	waiter w k
	# A reader that comes now could share with r1, but w came first.
	waiter r2 -s k
	run cat "$TMP/r2.err"
	assert_output --partial "(2nd in queue; held by"
	release r1
	waited w 0
	waited r2 0
	run cat "$TMP/order"
	assert_output "$(printf 'w\nr2')"
}

@test "readers behind a writer go in together" {
	local r
	hold h k
	# Each reader, once in, waits (bounded) for the other to be in too
	# and logs "both NAME" if it is: readers taken one after the other
	# log nothing.
	for r in r1 r2; do
		"$KL" run -v -s k -- sh -c 'touch "$1/in.$2"; i=0
		    while [ ! -e "$1/in.$3" ] && [ $i -lt 250 ]; do
			sleep 0.02; i=$((i + 1))
		    done
		    [ -e "$1/in.$3" ] && echo "both $2" >>"$1/log"; :' x \
		    "$TMP" "$r" "$([ "$r" = r1 ] && echo r2 || echo r1)" \
		    >/dev/null 2>"$TMP/$r.err" 3>&- &
		echo $! >"$TMP/$r.pid"
		wait_for_line "$TMP/$r.err" 'waiting for'
	done
	release h
	waited r1 0
	waited r2 0
	run sort "$TMP/log"
	assert_output "$(printf 'both r1\nboth r2')"
}

@test "--slots: never more holders than slots, and no two share a slot" {
	local i
	mkdir "$TMP/active"
	cat >"$TMP/slot.sh" <<'EOF'
#!/bin/sh
d=$1
case $KEYLOCK_SLOT in
0|1|2) ;;
*) echo "bad slot '$KEYLOCK_SLOT'" >>"$d/bad" ;;
esac
mkdir "$d/active/$KEYLOCK_SLOT" 2>/dev/null || echo "slot $KEYLOCK_SLOT taken twice" >>"$d/bad"
ls "$d/active" | wc -l >>"$d/overlap"
# The first three in wait (bounded, 3 s) for each other: the slots are
# full once, however slowly callers start.
echo in >>"$d/entered"
if [ "$(wc -l <"$d/entered")" -le 3 ]; then
	i=0
	while [ "$(ls "$d/active" | wc -l)" -lt 3 ] && [ $i -lt 300 ]; do
		sleep 0.01
		i=$((i + 1))
	done
fi
sleep 0.1
ls "$d/active" | wc -l >>"$d/overlap"
rmdir "$d/active/$KEYLOCK_SLOT"
EOF
	chmod +x "$TMP/slot.sh"
	for i in $(seq 1 20); do
		"$KL" run --slots 3 k -- "$TMP/slot.sh" "$TMP" 2>>"$TMP/err" &
	done
	wait
	run cat "$TMP/err"
	assert_output ''
	run cat "$TMP/bad"
	assert_failure
	run wc -l <"$TMP/overlap"
	assert_output 40
	run sort -n "$TMP/overlap"
	assert_line --index 39 3
}

@test "--slots: each holder gets its own slot, and the fence still counts" {
	hold a --slots 2 k
	hold b --slots 2 k
	run sort "$TMP/a.slot" "$TMP/b.slot"
	assert_output "$(printf '0\n1')"
	run "$KL" run -n --slots 2 k -- true
	assert_failure 75
	run "$KL" status --json k
	run jq -c '[.holders[] | [.mode, .slots, .fence]] | sort' <<<"$output"
	assert_output '[["slots",2,1],["slots",2,2]]'
	release a
	run "$KL" run -n --slots 2 k -- sh -c 'echo "$KEYLOCK_SLOT $KEYLOCK_FENCE"'
	assert_success
	assert_output "$(cat "$TMP/a.slot") 3"
	release b
}

@test "a caller whose --slots differs from the holders' gets 64 naming both" {
	hold a --slots 3 k
	run "$KL" run -n --slots 2 k -- echo ran
	assert_failure 64
	assert_output --regexp "slots 3.*slots 2|slots 2.*slots 3"
	refute_output --partial ran
	run "$KL" run -n k -- echo ran
	assert_failure 64
	assert_output --partial "slots 3"
	release a
}

@test "KEYLOCK_SLOT is set only for --slots" {
	run "$KL" run k -- sh -c 'echo "${KEYLOCK_SLOT-unset}"'
	assert_success
	assert_output unset
	KEYLOCK_SLOT=9 run "$KL" run --slots 4 k -- sh -c 'echo "$KEYLOCK_SLOT"'
	assert_success
	assert_output 0
}

@test "--supersede: each newcomer ends the wait of the one before, never the holder" {
	local s2
	hold h k
	waiter plain k
	waiter s1 --supersede k
	waiter s2 --supersede k
	s2=$(cat "$TMP/s2.pid")
	waited s1 75
	run cat "$TMP/s1.err"
	assert_output --regexp "superseded by pid $s2 on "
	waiter s3 --supersede -E 3 k
	waiter s4 --supersede k
	waited s3 3
	waited s2 75
	run test -e "$TMP/h.release"
	assert_failure
	release h
	waited plain 0
	waited s4 0
	run cat "$TMP/order"
	assert_output "$(printf 'plain\ns4')"
}

@test "--shared, --slots and --supersede refuse --memo; --shared refuses --slots" {
	run "$KL" run -s --memo 1m k -- true
	assert_failure 64
	assert_output --partial "--shared does not combine with --memo"
	run "$KL" run --slots 2 --memo 1m k -- true
	assert_failure 64
	run "$KL" run --supersede --memo 1m k -- true
	assert_failure 64
	run "$KL" run -s --slots 2 k -- true
	assert_failure 64
	run "$KL" run --slots 0 k -- true
	assert_failure 64
	assert_output --partial "invalid --slots"
}

@test "acquire --slots prints the slot, and release --token frees just it" {
	local out
	out=$("$KL" acquire --slots 2 k)
	run grep -c '^KEYLOCK_SLOT=0$' <<<"$out"
	assert_output 1
	eval "$out"
	"$KL" status --json k | jq -r '.holders[0].pid' >"$TMP/keeper.pid"
	hold b --slots 2 k
	run "$KL" release --token "$KEYLOCK_TOKEN" k
	assert_success
	run "$KL" status --json k
	run jq -c '[.holders[] | .slot]' <<<"$output"
	assert_output '[1]'
	release b
}
