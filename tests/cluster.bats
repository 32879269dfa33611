#!/usr/bin/env bats
# Redis Cluster: a three-master cluster on loopback, started once for the
# file.  Every KEY's keys live on the master of its slot; keylock is
# pointed at any node (or a list of seeds) and must follow the cluster's
# redirects there, wake waiters over shard channels on that master, and
# walk every master for list.

bats_require_minimum_version 1.5.0
load helper

# Prints a port p with p and its cluster bus port p + 10000 both free.
cluster_port() {
	local p
	for _ in $(seq 1 50); do
		p=$(free_port) || return 1
		if [ "$p" -lt 55000 ] &&
		    ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null
		then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Makes a CA and a server certificate for 127.0.0.1 in $CLUSTER_DIR.
make_certs() {
	local d=$CLUSTER_DIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
	    -subj "/CN=keylock test ca" 2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/server.key" -out "$d/server.csr" \
	    -subj "/CN=keylock test node" 2>/dev/null || return 1
	echo 'subjectAltName=IP:127.0.0.1' >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.crt" -days 2 \
	    -extfile "$d/server.ext" 2>/dev/null
}

# Starts one cluster node on a free plain port and a free TLS port (its
# cluster bus, over TLS, on the TLS port + 10000) and prints them;
# bounded, 3 tries.
node_start() {
	local p t d=$CLUSTER_DIR
	for _ in 1 2 3; do
		p=$(free_port) && t=$(cluster_port) || return 1
		redis-server --port "$p" --tls-port "$t" --bind 127.0.0.1 \
		    --save '' --appendonly no --cluster-enabled yes \
		    --tls-cluster yes --tls-auth-clients no \
		    --tls-cert-file "$d/server.crt" \
		    --tls-key-file "$d/server.key" \
		    --tls-ca-cert-file "$d/ca.crt" \
		    --cluster-config-file "$d/nodes-$p.conf" \
		    --dir "$d" --daemonize yes --pidfile "$d/$p.pid" \
		    --logfile "$d/$p.log" >/dev/null
		for _ in $(seq 1 100); do
			if redis-cli -p "$p" ping 2>/dev/null | grep -q PONG; then
				echo "$p $t"
				return 0
			fi
			sleep 0.05
		done
		[ -s "$d/$p.pid" ] && kill "$(cat "$d/$p.pid")" 2>/dev/null
	done
	echo "a cluster node did not start" >&2
	return 1
}

setup_file() {
	local p ok n1 n2 n3
	CLUSTER_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/keylock-cluster.XXXXXX")
	make_certs || return 1
	n1=$(node_start) && n2=$(node_start) && n3=$(node_start) || return 1
	read -r P1 T1 <<<"$n1"
	read -r P2 T2 <<<"$n2"
	read -r P3 T3 <<<"$n3"
	CA=$CLUSTER_DIR/ca.crt
	export CLUSTER_DIR P1 P2 P3 T1 T2 T3 CA
	redis-cli --tls --cacert "$CA" --cluster create "127.0.0.1:$T1" \
	    "127.0.0.1:$T2" "127.0.0.1:$T3" --cluster-replicas 0 \
	    --cluster-yes >/dev/null || return 1
	for _ in $(seq 1 200); do
		ok=0
		for p in "$P1" "$P2" "$P3"; do
			redis-cli -p "$p" CLUSTER INFO |
			    grep -q '^cluster_state:ok' && ok=$((ok + 1))
		done
		[ "$ok" -eq 3 ] && break
		sleep 0.05
	done
	[ "$ok" -eq 3 ] || { echo "the cluster did not come up" >&2; return 1; }
	# A KEY on each master.
	K1=$(key_on "$P1") && K2=$(key_on "$P2") && K3=$(key_on "$P3") ||
	    return 1
	export K1 K2 K3
}

teardown_file() {
	local f
	for f in "$CLUSTER_DIR"/*.pid; do
		[ -f "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null &&
		    kill "$(cat "$f")" 2>/dev/null
	done
	sleep 0.2
	rm -rf "$CLUSTER_DIR"
	return 0
}

setup() {
	local p
	common_setup
	# Saved TLS sessions go under the runtime directory: this test's.
	mkdir -m 700 "$TMP/run"
	export XDG_RUNTIME_DIR="$TMP/run"
	for p in "$P1" "$P2" "$P3"; do
		redis-cli -p "$p" FLUSHALL >/dev/null
	done
}

teardown() {
	common_teardown
}

# Prints the port of the master of KEY $1's keys (the one that does not
# answer MOVED).
owner() {
	local p
	for p in "$P1" "$P2" "$P3"; do
		if ! redis-cli -p "$p" EXISTS "keylock:{$1}:lock" | grep -q MOVED
		then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Prints a KEY whose master is port $1.
key_on() {
	local i
	for i in $(seq 1 100); do
		[ "$(owner "k$i")" = "$1" ] && { echo "k$i"; return 0; }
	done
	return 1
}

# Prints the KEY of setup_file on the master at port $1.
key_of() {
	case $1 in
	"$P1") echo "$K1" ;;
	"$P2") echo "$K2" ;;
	*) echo "$K3" ;;
	esac
}

# Prints the TLS port of the node with plain port $1.
tls_of() {
	case $1 in
	"$P1") echo "$T1" ;;
	"$P2") echo "$T2" ;;
	*) echo "$T3" ;;
	esac
}

# Prints a node other than port $1.
other() {
	if [ "$1" = "$P1" ]; then echo "$P2"; else echo "$P1"; fi
}

# Holds KEY $1 through node $2 until unhold $1; returns once held.
hold() {
	mkfifo "$TMP/$1.go"
	"$KEYLOCK" run --redis "redis://127.0.0.1:$2" "$1" -- \
	    sh -c 'touch "$0.up"; read x < "$0.go"' "$TMP/$1" \
	    2>"$TMP/$1.err" &
	echo $! > "$TMP/$1.pid"
	wait_for_file "$TMP/$1.up"
}

unhold() {
	echo > "$TMP/$1.go"
	wait "$(cat "$TMP/$1.pid")"
}

@test "run through a node that is not the key's master: the lease is on the master" {
	local m k n
	for m in "$P1" "$P2" "$P3"; do
		k=$(key_of "$m")
		for n in "$P1" "$P2" "$P3"; do
			run "$KEYLOCK" run --redis "redis://127.0.0.1:$n" "$k" -- \
			    redis-cli -p "$m" EXISTS "keylock:{$k}:lock"
			assert_success
			assert_output 1
		done
		# Three acquisitions, one fence counter, on the master.
		run redis-cli -p "$m" GET "keylock:{$k}:fence"
		assert_output 3
	done
}

@test "status through any node" {
	local k=$K3
	hold "$k" "$P1"
	run "$KEYLOCK" status --redis "redis://127.0.0.1:$P2" "$k"
	assert_success
	assert_output --partial "$k: held by pid"
	unhold "$k"
	run "$KEYLOCK" status --redis "redis://127.0.0.1:$P2" "$k"
	assert_output --partial "$k: free"
}

@test "exclusion under load: 20 workers through all three nodes lose no increment" {
	local w pids=() ports=("$P1" "$P2" "$P3")
	echo 0 > "$TMP/count"
	for w in $(seq 1 20); do
		(
			export KEYLOCK_DIR="$TMP/machine$w"
			for _ in 1 2 3; do
				"$KEYLOCK" run --redis \
				    "redis://127.0.0.1:${ports[$((w % 3))]}" \
				    counter -- sh -c 'n=$(cat "$0")
				    echo $((n + 1)) > "$0"' "$TMP/count" || exit 1
			done
		) &
		pids+=($!)
	done
	for w in "${pids[@]}"; do
		wait "$w"
	done
	run cat "$TMP/count"
	assert_output 60
}

@test "a waiter on another node is woken by the release at once" {
	local m w t0
	m=$(owner job)
	hold job "$(other "$m")"
	w=$P3
	[ "$m" = "$P3" ] && w=$P2
	"$KEYLOCK" run --redis "redis://127.0.0.1:$w" job -- \
	    sh -c 'date +%s%N > "$0"' "$TMP/started" &
	local waiter=$!
	# It subscribed to its shard channel on the key's master.
	for _ in $(seq 1 200); do
		[ -n "$(redis-cli -p "$m" PUBSUB SHARDCHANNELS \
		    'keylock:{job}:w:*')" ] && break
		sleep 0.05
	done
	[ -n "$(redis-cli -p "$m" PUBSUB SHARDCHANNELS 'keylock:{job}:w:*')" ]
	t0=$(date +%s%N)
	unhold job
	wait "$waiter"
	[ $(( ($(cat "$TMP/started") - t0) / 1000000 )) -lt 1000 ]
}

@test "a deleted lease on the master stops the command with 76" {
	local m st=0
	m=$(owner job)
	"$KEYLOCK" run --redis "redis://127.0.0.1:$(other "$m")" -t 600ms \
	    -k 1s job -- sh -c 'touch "$0"; exec sleep 30' "$TMP/up" \
	    2>"$TMP/err" &
	local kl=$!
	wait_for_file "$TMP/up"
	redis-cli -p "$m" DEL 'keylock:{job}:lock' >/dev/null
	wait "$kl" || st=$?
	assert_equal "$st" 76
	grep -q 'lost the lock on job' "$TMP/err"
}

@test "the heartbeat renews on the master past the TTL" {
	local m
	m=$(owner job)
	# It runs 1.5 s, past the 1 s lease; a shorter lease is lost when a
	# loaded machine stalls the heartbeat for 270 ms.
	run "$KEYLOCK" run --redis "redis://127.0.0.1:$(other "$m")" \
	    -t 1s job -- sh -c 'sleep 1.5
	    redis-cli -p "$0" EXISTS "keylock:{job}:lock"' "$m"
	assert_success
	assert_output 1
}

@test "list shows the keys of all three masters" {
	local a=$K1 b=$K2 c=$K3
	hold "$a" "$P2"
	hold "$b" "$P3"
	hold "$c" "$P1"
	run "$KEYLOCK" list --redis "redis://127.0.0.1:$P2"
	unhold "$a"
	unhold "$b"
	unhold "$c"
	assert_success
	assert_line --regexp "^$a	"
	assert_line --regexp "^$b	"
	assert_line --regexp "^$c	"
	assert_equal "${#lines[@]}" 3
}

@test "forget clears the memo entries on the key's master" {
	local m
	m=$(owner job)
	"$KEYLOCK" run --redis "redis://127.0.0.1:$P1" --memo 1m job -- \
	    echo one >/dev/null
	"$KEYLOCK" run --redis "redis://127.0.0.1:$P2" --memo 1m job -- \
	    sh -c 'echo two; true' >/dev/null
	[ -n "$(redis-cli -p "$m" --scan --pattern 'keylock:{job}:memo:*')" ]
	run "$KEYLOCK" forget --redis "redis://127.0.0.1:$(other "$m")" job
	assert_success
	assert_equal "$(redis-cli -p "$m" --scan --pattern 'keylock:{job}:memo:*')" ""
}

@test "--memo stampede across nodes: 5 callers, the command runs once" {
	local i st ports=("$P1" "$P2" "$P3")
	for i in 1 2 3 4 5; do
		KEYLOCK_DIR="$TMP/machine$i" "$KEYLOCK" run --redis \
		    "redis://127.0.0.1:${ports[$((i % 3))]}" --memo 1m storm -- \
		    sh -c 'echo run >>"$0/runs"; sleep 0.5; echo result' \
		    "$TMP" >"$TMP/out.$i" &
		echo $! > "$TMP/c$i.pid"
	done
	for i in 1 2 3 4 5; do
		st=0
		wait "$(cat "$TMP/c$i.pid")" || st=$?
		assert_equal "$st" 0
		assert_equal "$(cat "$TMP/out.$i")" result
	done
	assert_equal "$(wc -l < "$TMP/runs")" 1
}

@test "a seed list whose first seed is dead: the next one answers" {
	local dead m
	dead=$(free_port)
	m=$(owner job)
	run "$KEYLOCK" run --redis \
	    "redis://127.0.0.1:$dead,127.0.0.1:$(other "$m")" job -- \
	    redis-cli -p "$m" EXISTS 'keylock:{job}:lock'
	assert_success
	assert_output 1
	run "$KEYLOCK" list --redis "redis://127.0.0.1:$dead,127.0.0.1:$P3"
	assert_success
	# None answers: 69, naming the list and the last reason.
	run "$KEYLOCK" run --redis "redis://127.0.0.1:$dead,127.0.0.1:$dead" \
	    job -- true
	assert_failure 69
	assert_output --partial "no seed answered"
	assert_output --partial "Connection refused"
}

@test "a seed list of plain servers: the first that answers is used" {
	local dead p
	dead=$(free_port)
	p=$(free_port)
	redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
	    --daemonize yes --dir "$TMP" --pidfile "$TMP/plain.pid" \
	    --logfile "$TMP/plain.log" >/dev/null
	for _ in $(seq 1 100); do
		redis-cli -p "$p" ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
	run "$KEYLOCK" run --redis "redis://127.0.0.1:$dead,127.0.0.1:$p" \
	    job -- redis-cli -p "$p" EXISTS 'keylock:{job}:lock'
	assert_success
	assert_output 1
	hold job "$dead,127.0.0.1:$p"
	run "$KEYLOCK" list --redis "redis://127.0.0.1:$dead,127.0.0.1:$p"
	unhold job
	assert_output --regexp '^job	'
}

@test "rediss:// through a node that is not the master: verified, renewed there, listed" {
	local m n
	m=$(owner job)
	n=$(tls_of "$(other "$m")")
	# It runs 1.5 s, past the 1 s lease renewed over TLS; a 300 ms one
	# is lost when a loaded machine stalls the heartbeat for 200 ms.
	run "$KEYLOCK" run --redis "rediss://127.0.0.1:$n?cacert=$CA" \
	    -t 1s job -- sh -c 'sleep 1.5
	    redis-cli -p "$0" EXISTS "keylock:{job}:lock"' "$m"
	assert_success
	assert_output 1
	hold "$K1" "$P2"
	hold "$K3" "$P2"
	run "$KEYLOCK" list --redis \
	    "rediss://127.0.0.1:$(free_port),127.0.0.1:$T2?cacert=$CA"
	unhold "$K1"
	unhold "$K3"
	assert_success
	assert_line --regexp "^$K1	"
	assert_line --regexp "^$K3	"
	# The nodes' certificates are checked: a CA that did not sign them
	# is refused.
	run "$KEYLOCK" run --redis \
	    "rediss://127.0.0.1:$n?cacert=$CLUSTER_DIR/server.crt" job -- true
	assert_failure 69
}

@test "a slot in migration: ASK and TRYAGAIN are waited out, then it runs on the new master" {
	local m t slot mid tid p mover
	m=$(owner job)
	t=$(other "$m")
	slot=$(redis-cli -p "$m" CLUSTER KEYSLOT 'keylock:{job}:lock')
	mid=$(redis-cli -p "$m" CLUSTER MYID)
	tid=$(redis-cli -p "$t" CLUSTER MYID)
	redis-cli -p "$t" CONFIG RESETSTAT >/dev/null
	redis-cli -p "$t" CLUSTER SETSLOT "$slot" IMPORTING "$mid" >/dev/null
	redis-cli -p "$m" CLUSTER SETSLOT "$slot" MIGRATING "$tid" >/dev/null
	# The old master sends the new key's commands on (ASK), where they
	# touch keys not all there yet (TRYAGAIN) until the slot is moved.
	# The slot moves once keylock is there, mid-way: its ASKING counted
	# on the new master (bounded, 10 s; then the check below fails).
	(
		for _ in $(seq 1 200); do
			redis-cli -p "$t" INFO commandstats |
			    grep -q '^cmdstat_asking:' && break
			sleep 0.05
		done
		for p in "$t" "$m" "$P1" "$P2" "$P3"; do
			redis-cli -p "$p" CLUSTER SETSLOT "$slot" NODE "$tid"
		done >/dev/null
	) &
	mover=$!
	run "$KEYLOCK" run --redis "redis://127.0.0.1:$m" job -- \
	    redis-cli -p "$t" EXISTS 'keylock:{job}:lock'
	# Every node told, before owner asks them (and before the next test).
	wait "$mover"
	assert_success
	assert_output 1
	# It came by ASK (ASKING sent there), and the slot moved.
	redis-cli -p "$t" INFO commandstats | grep -q '^cmdstat_asking:'
	[ "$(owner job)" = "$t" ]
	run "$KEYLOCK" status --redis "redis://127.0.0.1:$m" job
	assert_output --partial 'job: free'
}

@test "--slots 2 through all three nodes: never more than two at once" {
	local i st ports=("$P1" "$P2" "$P3")
	# The first two in wait (bounded, 3 s) for each other: both slots
	# are held at once, however slowly callers start.
	for i in 1 2 3 4 5 6; do
		"$KEYLOCK" run --redis "redis://127.0.0.1:${ports[$((i % 3))]}" \
		    --slots 2 gpu -- sh -c 'echo in >>"$0/log"
		    n=$(grep -c in "$0/log"); o=$(grep -c out "$0/log" || true)
		    echo $((n - o)) >>"$0/max"
		    i=0
		    while [ "$n" -le 2 ] && [ "$(grep -c in "$0/log")" -lt 2 ] &&
			[ $i -lt 300 ]; do
			sleep 0.01
			i=$((i + 1))
		    done
		    sleep 0.3; echo out >>"$0/log"' \
		    "$TMP" 2>"$TMP/err.$i" &
		echo $! > "$TMP/c$i.pid"
	done
	for i in 1 2 3 4 5 6; do
		st=0
		wait "$(cat "$TMP/c$i.pid")" || st=$?
		assert_equal "$st" 0
	done
	assert_equal "$(grep -c in "$TMP/log")" 6
	assert_equal "$(sort -n "$TMP/max" | tail -1)" 2
}
