#!/usr/bin/env bats
# Packaging: debian/changelog carries configure's version, and a built
# .deb (its path in KEYLOCK_DEB, as .ci/run sets it) installs a keylock
# that runs, with its manual page and completions, and depends on nothing
# the binary does not link.

bats_require_minimum_version 1.5.0

load helper

SRCDIR=$BATS_TEST_DIRNAME/..

setup() { common_setup; }
teardown() { common_teardown; }

# Prints the version of the newest debian/changelog entry.
changelog_version() {
	sed -n '1s/^keylock (\([^)]*\)).*/\1/p' "$SRCDIR/debian/changelog"
}

# Extracts $KEYLOCK_DEB into $TMP/root, or skips the test without one.
extract_deb() {
	[ -n "${KEYLOCK_DEB:-}" ] ||
	    skip "no KEYLOCK_DEB: .ci/run builds the package and sets it"
	[ -f "$KEYLOCK_DEB" ] || fail "KEYLOCK_DEB=$KEYLOCK_DEB: no such file"
	dpkg -x "$KEYLOCK_DEB" "$TMP/root"
}

@test "debian/changelog's version is configure's" {
	local v
	v=$(changelog_version)
	[ -n "$v" ] || fail "no version in the first line of debian/changelog"
	run "$KEYLOCK" --version --json
	assert_success
	assert_equal "$(jq -r .version <<<"$output")" "$v"
}

@test "the .deb: keylock --version and a run from the installed binary" {
	extract_deb
	local kl=$TMP/root/usr/bin/keylock
	run --separate-stderr "$kl" --version
	assert_success
	assert_output --regexp "^keylock $(changelog_version) \(local, redis"
	run --separate-stderr "$kl" run -d "$TMP/locks" pkgtest -- \
	    sh -c 'echo "ran $KEYLOCK_KEY fence $KEYLOCK_FENCE"'
	assert_success
	assert_output "ran pkgtest fence 1"
	assert_equal "$(dpkg-deb -f "$KEYLOCK_DEB" Version)" \
	    "$(changelog_version)"
}

@test "the .deb: manual page, completions, and only libc and libssl as dependencies" {
	extract_deb
	local r=$TMP/root
	zcat "$r/usr/share/man/man1/keylock.1.gz" | mandoc -Tlint -Wwarning
	[ -f "$r/usr/share/bash-completion/completions/keylock" ]
	[ -f "$r/usr/share/zsh/vendor-completions/_keylock" ]
	[ -f "$r/usr/share/fish/vendor_completions.d/keylock.fish" ]
	run bash --norc --noprofile -c 'source "$1"; complete -p keylock' _ \
	    "$r/usr/share/bash-completion/completions/keylock"
	assert_output "complete -F _keylock keylock"
	# hiredis, libmd and libxxhash are linked statically, and the
	# binary links libc alone: libssl is dlopen(3)ed by rediss:// runs
	# only, so dpkg-shlibdeps cannot see it and debian/control names it
	# (with --without-tls, nothing does).
	run readelf -d "$r/usr/bin/keylock"
	assert_success
	assert_equal "$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$output")" \
	    "libc.so.6"
	run dpkg-deb -f "$KEYLOCK_DEB" Depends
	assert_success
	local deps
	deps=$(tr ',' '\n' <<<"$output" | sed -E 's/^ *//; s/ .*//' | sort |
	    tr '\n' ' ')
	if "$r/usr/bin/keylock" --version | grep -qw tls; then
		[[ $deps =~ ^libc6\ libssl3(t64)?\ $ ]] ||
		    fail "Depends: $output"
		[[ $output == *"libssl3 | libssl3t64"* ]] ||
		    fail "Depends: $output"
	else
		assert_equal "$deps" "libc6 "
	fi
}

@test "README's Install section: the package command, and the .deb's files" {
	local install
	install=$(sed -n '/^### Debian package/,/^### From source/p' \
	    "$SRCDIR/README.md")
	[ -n "$install" ] || fail "README has no Debian package section"
	grep -qF 'dpkg-buildpackage -us -uc -b' <<<"$install"
	extract_deb
	local f missing=
	for f in $(grep -oE '`/usr/[^`]+`' <<<"$install" | tr -d '`'); do
		[ -f "$TMP/root$f" ] || missing="$missing $f"
	done
	assert_equal "missing:$missing" "missing:"
}
