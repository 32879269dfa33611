#!/usr/bin/env bats
# rediss://: the Redis backend over TLS against a real redis-server with a
# TLS port (besides its plain port and unix socket), with a CA and server
# and client certificates made by openssl for this file.  Everything a
# user relies on over plain Redis, and the ways TLS refuses: bad CA, wrong
# name, missing client certificate, the wrong kind of port.

bats_require_minimum_version 1.5.0
load helper
load redis_suite

# Makes CA $1 (a self-signed certificate) in $CERTS.
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$CERTS/$1.key" -out "$CERTS/$1.crt" -days 2 \
	    -subj "/CN=keylock test $1" 2>/dev/null
}

# Makes certificate $1 signed by CA $2, with subjectAltName $3 if given.
make_cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$CERTS/$1.key" -out "$CERTS/$1.csr" \
	    -subj "/CN=keylock test $1" 2>/dev/null || return 1
	printf '%s\n' "${3:+subjectAltName=$3}" >"$CERTS/$1.ext"
	openssl x509 -req -in "$CERTS/$1.csr" -CA "$CERTS/$2.crt" \
	    -CAkey "$CERTS/$2.key" -CAcreateserial -out "$CERTS/$1.crt" \
	    -days 2 -extfile "$CERTS/$1.ext" 2>/dev/null
}

setup_file() {
	CERTS=$BATS_FILE_TMPDIR/certs
	mkdir -p "$CERTS"
	make_ca ca && make_ca other &&
	    make_cert server ca 'IP:127.0.0.1,DNS:localhost' &&
	    make_cert client ca || return 1
	local try
	# The TLS port can be taken before the server binds it: pick anew.
	for try in 1 2 3; do
		TLS_PORT=$(free_port)
		redis_start --tls-port "$TLS_PORT" \
		    --tls-cert-file "$CERTS/server.crt" \
		    --tls-key-file "$CERTS/server.key" \
		    --tls-ca-cert-file "$CERTS/ca.crt" \
		    --tls-auth-clients optional && break
		[ "$try" -lt 3 ] || return 1
	done
	TLS_URL="rediss://127.0.0.1:$TLS_PORT"
	CA="$CERTS/ca.crt"
	export CERTS TLS_PORT TLS_URL CA
}

setup() {
	redis_test_setup
	rcli CONFIG SET tls-auth-clients optional >/dev/null
	export KEYLOCK_REDIS_URL="$TLS_URL?cacert=$CA"
	# Saved TLS sessions go under the runtime directory: this test's.
	mkdir -m 700 "$TMP/run"
	export XDG_RUNTIME_DIR="$TMP/run"
}

# Milliseconds since the epoch.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

@test "run over TLS: the lock is in the server, released at exit" {
	run --separate-stderr "$KEYLOCK" run job -- sh -c \
	    'echo "$KEYLOCK_BACKEND $KEYLOCK_FENCE"
	    redis-cli -s "$0" EXISTS "keylock:{job}:lock"' "$REDIS_SOCK"
	assert_success
	assert_output $'redis 1\n1'
	assert_equal "$stderr" ""
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
	run "$KEYLOCK" --version
	assert_output --regexp '\(.*\btls\b.*\)'
}

@test "4 workers x 25 increments over TLS: none lost" {
	echo 0 >"$TMP/count"
	local w pids=()
	for w in 1 2 3 4; do
		(
			for _ in $(seq 1 25); do
				"$KEYLOCK" run counter -- sh -c \
				    'n=$(cat "$0"); echo $((n + 1)) >"$0"' \
				    "$TMP/count" || exit 1
			done
		) &
		pids+=($!)
	done
	for w in "${pids[@]}"; do
		wait "$w" || fail "a worker failed"
	done
	run cat "$TMP/count"
	assert_output 100
	run rcli GET 'keylock:{counter}:fence'
	assert_output 100
}

@test "a waiter over TLS starts as soon as the holder releases" {
	mkfifo "$TMP/h.go"
	"$KEYLOCK" run job -- sh -c 'touch "$0.up"; read x <"$0.go"' \
	    "$TMP/h" &
	local holder=$!
	wait_for_file "$TMP/h.up"
	"$KEYLOCK" run job -- sh -c 'date +%s%N >"$0"' "$TMP/started" &
	local waiter=$!
	wait_subscribers 1 job
	local t0
	t0=$(date +%s%N)
	echo >"$TMP/h.go"
	wait "$holder" || fail "holder failed"
	wait "$waiter" || fail "waiter failed"
	[ $(( ($(cat "$TMP/started") - t0) / 1000000 )) -lt 1000 ] ||
	    fail "handoff took $(( ($(cat "$TMP/started") - t0) / 1000000 )) ms"
}

@test "--memo over TLS: captured once, then a hit" {
	run "$KEYLOCK" run --memo 1m job -- sh -c 'echo computed; echo x >>"$0"' \
	    "$TMP/runs"
	assert_success
	assert_output computed
	run "$KEYLOCK" run --memo 1m job -- sh -c 'echo computed; echo x >>"$0"' \
	    "$TMP/runs"
	assert_success
	assert_output computed
	assert_equal "$(runs)" 1
	memo_entries job | grep -q . || fail "no memo entry in the server"
}

@test "renewals over TLS: -t 1s held for 2 s, still exclusive" {
	# A 600 ms lease is lost when a loaded machine stalls the heartbeat
	# for 400 ms; 1 s held for 2 s still takes several renewals.
	run "$KEYLOCK" run -t 1s job -- sh -c '
		sleep 2
		redis-cli -s "$0" PTTL "keylock:{job}:lock"
		"$1" run -n job -- echo stolen
		echo "other: $?"' "$REDIS_SOCK" "$KEYLOCK"
	assert_success
	assert_line --regexp '^[1-9][0-9]*$'
	assert_line 'other: 75'
	refute_output --partial stolen
	# The release went over the session opened before the heartbeat
	# forked: the child never wrote on it.
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
}

@test "a lease deleted under a TLS holder: 76" {
	# A 1 s lease, so that a renewal over TLS finds the key gone, not a
	# heartbeat stalled past a shorter lease's end.
	"$KEYLOCK" run -t 1s -k 1s job -- sh -c 'touch "$0"; sleep 30' \
	    "$TMP/up" 2>"$TMP/err" &
	local pid=$!
	wait_for_file "$TMP/up"
	rcli DEL 'keylock:{job}:lock' >/dev/null
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 76
	grep -q 'lost the lock on job' "$TMP/err" || fail "$(cat "$TMP/err")"
}

@test "status, list, release --force and forget over TLS" {
	"$KEYLOCK" run --memo 1m memo -- echo cached >/dev/null ||
	    fail "memo run failed"
	# A 1 s lease: status and list below need it still held, which a
	# 600 ms one is not once the heartbeat stalls for 400 ms.
	"$KEYLOCK" run -t 1s -k 1s job -- sh -c 'touch "$0"; sleep 30' \
	    "$TMP/up" 2>/dev/null &
	local pid=$!
	wait_for_file "$TMP/up"
	run "$KEYLOCK" status --json job
	assert_success
	assert_equal "$(jq -r .key <<<"$output")" job
	run "$KEYLOCK" list
	assert_success
	assert_output --partial job
	run "$KEYLOCK" release --force job
	assert_success
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 76
	run "$KEYLOCK" forget memo
	assert_success
	run memo_entries memo
	assert_success
	assert_output ""
}

@test "a CA that did not sign the server: 69, certificate verify failed" {
	run --separate-stderr "$KEYLOCK" run --redis "$TLS_URL" \
	    --cacert "$CERTS/other.crt" job -- touch "$TMP/ran"
	assert_failure 69
	assert_equal "$stderr" "keylock: redis 127.0.0.1:$TLS_PORT: TLS: certificate verify failed: self-signed certificate in certificate chain"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
	# Nor does the system CA store know the test CA.
	run --separate-stderr "$KEYLOCK" run --redis "$TLS_URL" job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"certificate verify failed"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

@test "a name the certificate does not carry: 69; localhost does" {
	run --separate-stderr "$KEYLOCK" run --sni wrong.example job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"certificate verify failed: hostname mismatch" ]] ||
	    fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
	run "$KEYLOCK" run --redis "rediss://localhost:$TLS_PORT" \
	    --cacert "$CA" job -- echo ok
	assert_success
	assert_output ok
	run "$KEYLOCK" run --sni localhost job -- echo ok
	assert_success
	assert_output ok
}

@test "--insecure connects without a CA, with one warning" {
	run --separate-stderr "$KEYLOCK" run --redis "$TLS_URL" --insecure \
	    job -- echo ok
	assert_success
	assert_output ok
	assert_equal "$(grep -c 'not verified' <<<"$stderr")" 1
	assert_equal "$(wc -l <<<"$stderr")" 1
	run --separate-stderr "$KEYLOCK" run --redis "$TLS_URL?insecure=1" \
	    --sni wrong.example -q job -- echo ok
	assert_success
	assert_equal "$stderr" ""
}

@test "a server that requires a client certificate: 69 without, runs with" {
	rcli CONFIG SET tls-auth-clients yes >/dev/null
	run --separate-stderr "$KEYLOCK" run job -- touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"certificate required"*"--cert"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
	run "$KEYLOCK" run --cert "$CERTS/client.crt" \
	    --key "$CERTS/client.key" job -- echo ok
	assert_success
	assert_output ok
	run "$KEYLOCK" run --redis "$TLS_URL?cacert=$CA&cert=$CERTS/client.crt&key=$CERTS/client.key" \
	    job -- echo ok
	assert_success
	assert_output ok
	# A certificate from another CA is refused by the server.
	make_cert stranger other
	run "$KEYLOCK" run --cert "$CERTS/stranger.crt" \
	    --key "$CERTS/stranger.key" job -- touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

@test "rediss:// to a plain port: 69 within the connect timeout" {
	local t0
	t0=$(now_ms)
	run --separate-stderr "$KEYLOCK" run --connect-timeout 1s \
	    --redis "rediss://127.0.0.1:$REDIS_PORT" --cacert "$CA" job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[ $(( $(now_ms) - t0 )) -lt 2500 ] ||
	    fail "took $(( $(now_ms) - t0 )) ms"
	[[ $stderr == *"TLS"*"plain port"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

@test "redis:// to a TLS port: 69 within the connect timeout" {
	local t0
	t0=$(now_ms)
	run --separate-stderr "$KEYLOCK" run --connect-timeout 1s \
	    --redis "redis://127.0.0.1:$TLS_PORT" job -- touch "$TMP/ran"
	assert_failure 69
	[ $(( $(now_ms) - t0 )) -lt 2500 ] ||
	    fail "took $(( $(now_ms) - t0 )) ms"
	[[ $stderr == *"127.0.0.1:$TLS_PORT"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

@test "URL query parameters, and flags over them" {
	# The URL's CA is wrong; the flag's wins.
	run "$KEYLOCK" run --redis "$TLS_URL?cacert=$CERTS/other.crt" \
	    --cacert "$CA" job -- echo ok
	assert_success
	assert_output ok
	# The URL's CA is right; the flag's wins and fails.
	run "$KEYLOCK" run --cacert "$CERTS/other.crt" job -- echo ok
	assert_failure 69
	# %-escapes in values; sni from the URL, overridden by the flag.
	run "$KEYLOCK" run --redis \
	    "$TLS_URL?cacert=${CA//\//%2F}&sni=wrong.example" job -- echo ok
	assert_failure 69
	run "$KEYLOCK" run --redis "$TLS_URL?cacert=$CA&sni=wrong.example" \
	    --sni localhost job -- echo ok
	assert_success
	assert_output ok
}

@test "TLS settings that cannot work: 64 naming them" {
	run --separate-stderr "$KEYLOCK" run --redis "$TLS_URL?cafile=/x" \
	    job -- touch "$TMP/ran"
	assert_failure 64
	[[ $stderr == *"unknown query parameter 'cafile'"* ]] || fail "$stderr"
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL" \
	    --cacert "$CA" job -- touch "$TMP/ran"
	assert_failure 64
	[[ $stderr == *"need a rediss:// URL"* ]] || fail "$stderr"
	run --separate-stderr "$KEYLOCK" run --cacert "$TMP/none.pem" job -- \
	    touch "$TMP/ran"
	assert_failure 64
	[[ $stderr == *"$TMP/none.pem"*"No such file"* ]] || fail "$stderr"
	run --separate-stderr "$KEYLOCK" run --key "$CERTS/client.key" job -- \
	    touch "$TMP/ran"
	assert_failure 64
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

@test "a password over TLS (an ACL user), never shown" {
	rcli ACL SETUSER tlsuser on '>s3cr3t' '~*' '&*' '+@all' >/dev/null
	KEYLOCK_REDIS_URL="rediss://tlsuser:s3cr3t@127.0.0.1:$TLS_PORT?cacert=$CA" \
	    run --separate-stderr "$KEYLOCK" run job -- echo ok
	assert_success
	assert_output ok
	KEYLOCK_REDIS_URL="rediss://tlsuser:wrong@127.0.0.1:$TLS_PORT?cacert=$CA" \
	    run --separate-stderr "$KEYLOCK" run job -- echo ok
	assert_failure 69
	[[ $stderr == *AUTH* ]] || fail "$stderr"
	[[ $stderr != *wrong* ]] || fail "password shown: $stderr"
	rcli ACL DELUSER tlsuser >/dev/null
}

@test "libssl is mapped by a rediss:// run only" {
	run readelf -d "$KEYLOCK"
	assert_success
	[[ $output != *libssl* && $output != *libcrypto* ]] ||
	    fail "linked: $(grep NEEDED <<<"$output")"
	# The command's parent is keylock, waiting for it.
	KEYLOCK_REDIS_URL= run --separate-stderr "$KEYLOCK" run job -- sh -c \
	    'grep -c "libssl\|libcrypto" /proc/$PPID/maps'
	assert_output 0
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL" job -- sh -c \
	    'grep -c "libssl\|libcrypto" /proc/$PPID/maps'
	assert_output 0
	run --separate-stderr "$KEYLOCK" run job -- sh -c \
	    'grep -c "libssl\.so\.3" /proc/$PPID/maps'
	assert_success
	[ "$output" -ge 1 ] || fail "libssl not mapped: $output"
}

@test "a libssl that cannot be loaded: 69 naming it, the command not run" {
	mkdir "$TMP/lib"
	echo 'not a library' >"$TMP/lib/libssl.so.3"
	LD_LIBRARY_PATH=$TMP/lib run --separate-stderr "$KEYLOCK" run job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == "keylock: redis 127.0.0.1:$TLS_PORT: TLS: cannot load"\
" libssl.so.3: "*"$TMP/lib/libssl.so.3"* ]] || fail "$stderr"
	[ "$(wc -l <<<"$stderr")" -eq 1 ] || fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
	# A libssl.so.3 without OpenSSL's functions in it.
	command -v cc >/dev/null || skip "no cc for a library without symbols"
	echo 'int keylock_test;' >"$TMP/lib.c"
	cc -shared -fPIC -Wl,-soname,libssl.so.3 -o "$TMP/lib/libssl.so.3" \
	    "$TMP/lib.c" || fail "cc failed"
	LD_LIBRARY_PATH=$TMP/lib run --separate-stderr "$KEYLOCK" run job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"TLS: cannot load libssl.so.3: "*"undefined symbol: "* ]] ||
	    fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

# Prints the inode of the saved session of the TLS port, or "none".
session_inode() {
	stat -c %i "$TMP/run/keylock/tls/127.0.0.1:$TLS_PORT" 2>/dev/null ||
	    echo none
}

@test "a session is saved (0600) and resumed by the next run, not rewritten" {
	run --separate-stderr "$KEYLOCK" run job -- true
	assert_success
	local f="$TMP/run/keylock/tls/127.0.0.1:$TLS_PORT" ino
	assert_equal "$(stat -c %a "$TMP/run/keylock/tls")" 700
	assert_equal "$(stat -c %a "$f")" 600
	ino=$(session_inode)
	# Resumed: the session, still young, stays as it is.
	run --separate-stderr "$KEYLOCK" run job -- true
	assert_success
	assert_equal "$(session_inode)" "$ino"
	# Other settings (another CA file, --insecure) are another session.
	cp "$CA" "$TMP/ca-copy.crt"
	run --separate-stderr "$KEYLOCK" run --cacert "$TMP/ca-copy.crt" job \
	    -- true
	assert_success
	[ "$(session_inode)" != "$ino" ] || fail "the session was not replaced"
}

@test "a bad, foreign or symlinked session file is ignored and replaced" {
	local f="$TMP/run/keylock/tls/127.0.0.1:$TLS_PORT" ino
	mkdir -p -m 700 "$TMP/run/keylock/tls"
	head -c 2000 /dev/urandom >"$f"
	chmod 600 "$f"
	ino=$(session_inode)
	run --separate-stderr "$KEYLOCK" run job -- echo ran
	assert_success
	assert_output ran
	assert_equal "$stderr" ""
	[ "$(session_inode)" != "$ino" ] || fail "not replaced"
	# Readable by others: not trusted, replaced by a private one.
	chmod 644 "$f"
	run --separate-stderr "$KEYLOCK" run job -- echo ran
	assert_success
	assert_equal "$(stat -c %a "$f")" 600
	# A symlink is neither followed nor written through.
	echo target >"$TMP/target"
	rm "$f"
	ln -s "$TMP/target" "$f"
	run --separate-stderr "$KEYLOCK" run job -- echo ran
	assert_success
	assert_equal "$(cat "$TMP/target")" target
	[ -f "$f" ] && [ ! -L "$f" ] || fail "the symlink is still there"
}

@test "the system CA store: its hashed directory, else its bundle" {
	local dir="$TMP/certdir"
	mkdir "$dir"
	cp "$CA" "$dir/ca.pem"
	openssl rehash "$dir" 2>/dev/null || skip "no openssl rehash"
	unset KEYLOCK_REDIS_URL
	SSL_CERT_DIR=$dir SSL_CERT_FILE=$TMP/none.pem run --separate-stderr \
	    "$KEYLOCK" run --redis "$TLS_URL" job -- echo ran
	assert_success
	assert_output ran
	rm -rf "$TMP/run/keylock"
	SSL_CERT_DIR=$TMP/empty SSL_CERT_FILE=$CA run --separate-stderr \
	    "$KEYLOCK" run --redis "$TLS_URL" job -- echo ran
	assert_success
	assert_output ran
	rm -rf "$TMP/run/keylock"
	SSL_CERT_DIR=$TMP/empty SSL_CERT_FILE=$TMP/none.pem \
	    run --separate-stderr "$KEYLOCK" run --redis "$TLS_URL" job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"certificate verify failed"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ] || fail "the command ran"
}

@test "rediss-sentinel://: TLS to a sentinel and to the master it names" {
	local sp try
	for try in 1 2 3; do
		sp=$(free_port)
		cat >"$TMP/sentinel.conf" <<-EOF
		port 0
		tls-port $sp
		bind 127.0.0.1
		dir $TMP
		tls-cert-file $CERTS/server.crt
		tls-key-file $CERTS/server.key
		tls-ca-cert-file $CERTS/ca.crt
		tls-auth-clients optional
		tls-replication yes
		sentinel monitor tlsm 127.0.0.1 $TLS_PORT 1
		EOF
		redis-server "$TMP/sentinel.conf" --sentinel --daemonize yes \
		    --pidfile "$TMP/sentinel.pid" --logfile "$TMP/sentinel.log"
		wait_for_line "$TMP/sentinel.log" 'monitor master tlsm' && break
	done
	run "$KEYLOCK" run --redis \
	    "rediss-sentinel://127.0.0.1:$sp?master=tlsm&cacert=$CA" job -- \
	    sh -c 'redis-cli -s "$0" EXISTS "keylock:{job}:lock"' "$REDIS_SOCK"
	assert_success
	assert_output 1
	# The sentinel's certificate is verified too.
	run --separate-stderr "$KEYLOCK" run --redis \
	    "rediss-sentinel://127.0.0.1:$sp?master=tlsm" job -- \
	    touch "$TMP/ran"
	[ "$status" -eq 69 ]
	[[ $stderr == *"sentinel 127.0.0.1:$sp: TLS: certificate verify failed"* ]] ||
	    fail "$stderr"
	[ ! -e "$TMP/ran" ]
}
