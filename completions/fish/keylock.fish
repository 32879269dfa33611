# fish completion for keylock(1): subcommands, the options each takes with
# their argument kinds, the held keys for status, release and forget (from
# "keylock list" of the backend the line names, at most one second), and
# the command of "run" after KEY.

set -l keylock_cmds run acquire release renew status list forget
set -l keylock_argopts -d --dir -N --namespace --redis --connect-timeout -E --conflict-exit-code -k --kill-after -t --ttl -w --wait --on-lost --memo --memo-max --memo-env --memo-file --memo-failures --memo-stale --note --cooldown --hold --owner --token --slots --min-replicas

# Prints the words after the subcommand that are not options or their
# values: the operands so far.
function __keylock_operands
    set -l tokens (commandline -opc)
    set -e tokens[1..2]
    set -l skip 0
    for t in $tokens
        if test $skip -eq 1
            set skip 0
        else if contains -- $t -d --dir -N --namespace --redis --connect-timeout -E --conflict-exit-code -k --kill-after -t --ttl -w --wait --on-lost --memo --memo-max --memo-env --memo-file --memo-failures --memo-stale --min-replicas --slots --note --cooldown --hold --owner --token
            set skip 1
        else if not string match -q -- '-*' $t
            echo $t
        end
    end
end

# Succeeds while the subcommand is one of $argv and it has no KEY yet.
function __keylock_needs_key
    set -l tokens (commandline -opc)
    set -q tokens[2]; and contains -- $tokens[2] $argv
    and test (count (__keylock_operands)) -eq 0
end

# Succeeds once "run" has its KEY: what follows is the command.
function __keylock_in_command
    set -l tokens (commandline -opc)
    set -q tokens[2]; and test $tokens[2] = run
    and test (count (__keylock_operands)) -ge 1
end

# Prints the keys held in the backend the command line names.  list
# creates a missing lock directory: completion lists none instead.
function __keylock_keys
    set -l tokens (commandline -opc)
    set -l args
    set -l dir $KEYLOCK_DIR
    set -l redis $KEYLOCK_REDIS_URL
    for i in (seq 3 (count $tokens))
        set -l t $tokens[$i]
        set -l v
        set -q tokens[(math $i + 1)]; and set v $tokens[(math $i + 1)]
        switch $t
            case -d --dir
                set -a args $t $v; set dir $v
            case --redis
                set -a args $t $v; set redis $v
            case -N --namespace --connect-timeout
                set -a args $t $v
            case '--dir=*'
                set -a args $t; set dir (string replace -- --dir= '' $t)
            case '--redis=*'
                set -a args $t; set redis (string replace -- --redis= '' $t)
            case '--namespace=*' '--connect-timeout=*'
                set -a args $t
        end
    end
    if test -z "$redis" -a -n "$dir"; and not test -d "$dir"
        return
    end
    # Each line is KEY, a tab and its counts.
    timeout -k 0.2 1 $tokens[1] list --connect-timeout 500ms $args </dev/null 2>/dev/null | cut -f1
end

complete -c keylock -f
complete -c keylock -n __fish_use_subcommand -a run -d 'run a command while holding the lock of a key'
complete -c keylock -n __fish_use_subcommand -a acquire -d 'take a key and leave it held by a keeper process'
complete -c keylock -n __fish_use_subcommand -a renew -d 'extend the lease a token holds'
complete -c keylock -n __fish_use_subcommand -a status -d 'show whether a key is held, and by whom'
complete -c keylock -n __fish_use_subcommand -a list -d 'list the held keys'
complete -c keylock -n __fish_use_subcommand -a release -d 'let go of a lock by its token, or delete it with --force'
complete -c keylock -n __fish_use_subcommand -a forget -d 'delete the cached results of a key'
complete -c keylock -n __fish_use_subcommand -s V -l version -d 'print the version and the features built in'
complete -c keylock -n '__fish_seen_subcommand_from -V --version' -l json -d 'print JSON'

# Options every subcommand takes.
set -l sub "__fish_seen_subcommand_from $keylock_cmds; and not __keylock_in_command"
complete -c keylock -n "$sub" -s h -l help -d 'print the usage'
complete -c keylock -n "$sub" -s d -l dir -x -a '(__fish_complete_directories)' -d 'local lock directory'
complete -c keylock -n "$sub" -s N -l namespace -x -d 'Redis key prefix'
complete -c keylock -n "$sub" -s q -l quiet -d 'no warnings or conflict messages'
complete -c keylock -n "$sub" -s v -l verbose -d 'say what happens, on stderr'
complete -c keylock -n "$sub" -l redis -x -a 'redis:// unix:// redis+unix://' -d 'Redis URL'
complete -c keylock -n "$sub" -l connect-timeout -x -a '500ms 2s 5s' -d 'Redis timeout (DURATION)'

# run
set -l run "__fish_seen_subcommand_from run; and not __keylock_in_command"
complete -c keylock -n "$run" -s n -l no-wait -d 'give up at once if KEY is held'
complete -c keylock -n "$run" -s w -l wait -x -a '10s 1m 10m 1h' -d 'give up after DURATION'
complete -c keylock -n "$run" -s E -l conflict-exit-code -x -a '0 75' -d 'exit status when giving up'
complete -c keylock -n "$run" -s k -l kill-after -x -a '1s 10s 1m' -d 'SIGKILL this long after SIGTERM'
complete -c keylock -n "$run" -s t -l ttl -x -a '10s 30s 1m' -d 'Redis lease (DURATION)'
complete -c keylock -n "$run" -l on-lost -x -a 'kill warn' -d 'on a lost lease, stop or warn'
complete -c keylock -n "$run" -l memo -x -a '1m 10m 1h 1d' -d 'serve a cached stdout younger than TTL'
complete -c keylock -n "$run" -l memo-max -x -a '1M 64M 1G' -d 'cache at most SIZE bytes'
complete -c keylock -n "$run" -l memo-cwd -d 'the working directory is part of the cache key'
complete -c keylock -n "$run" -l memo-env -x -a '(set -n)' -d 'a variable is part of the cache key'
complete -c keylock -n "$run" -l memo-file -r -F -d "a file's content is part of the cache key"
complete -c keylock -n "$run" -l memo-failures -x -a '10s 1m' -d 'cache a non-zero exit for DURATION'
complete -c keylock -n "$run" -l memo-refresh -d 'run now and replace the entry'
complete -c keylock -n "$run" -l memo-stale -x -a '1m 1h' -d 'serve stale, refresh in the background'
complete -c keylock -n "$run" -l memo-stderr -d 'cache stderr too'
complete -c keylock -n "$run" -l note -x -d 'a short note shown with the holder'
complete -c keylock -n "$run" -l cooldown -x -a '30s 1m 10m 1h' -d 'keep KEY closed after a run that succeeded'
complete -c keylock -n "$run" -s s -l shared -d 'share KEY with other shared holders'
complete -c keylock -n "$run" -l slots -x -a '2 3 4 8' -d 'up to N holders at once'
complete -c keylock -n "$run" -l supersede -d 'give up waiting when a newer --supersede caller comes'
complete -c keylock -n "$run" -l min-replicas -x -a '1 2' -d 'count the lock once N replicas have it'

# acquire
set -l acq "__fish_seen_subcommand_from acquire"
complete -c keylock -n "$acq" -s n -l no-wait -d 'give up at once if KEY is held'
complete -c keylock -n "$acq" -s w -l wait -x -a '10s 1m 10m 1h' -d 'give up after DURATION'
complete -c keylock -n "$acq" -s E -l conflict-exit-code -x -a '0 75' -d 'exit status when giving up'
complete -c keylock -n "$acq" -s t -l ttl -x -a '30s 10m 30m' -d 'Redis lease (DURATION)'
complete -c keylock -n "$acq" -l note -x -d 'a short note shown with the holder'
complete -c keylock -n "$acq" -l cooldown -x -a '30s 1m 10m 1h' -d 'keep KEY closed after its release'
complete -c keylock -n "$acq" -l hold -x -a '10m 1h 6h' -d 'let go after DURATION'
complete -c keylock -n "$acq" -l owner -x -a '(__fish_complete_pids)' -d 'let go when this process ends'
complete -c keylock -n "$acq" -s s -l shared -d 'share KEY with other shared holders'
complete -c keylock -n "$acq" -l slots -x -a '2 3 4 8' -d 'up to N holders at once'
complete -c keylock -n "$acq" -l supersede -d 'give up waiting when a newer --supersede caller comes'
complete -c keylock -n "$acq" -l min-replicas -x -a '1 2' -d 'count the lock once N replicas have it'
complete -c keylock -n "__fish_seen_subcommand_from release renew" -l token -x -d 'the token acquire printed'
complete -c keylock -n "__fish_seen_subcommand_from renew" -s t -l ttl -x -a '30s 10m 30m' -d 'lease (DURATION)'
complete -c keylock -n "__fish_seen_subcommand_from renew" -l min-replicas -x -a '1 2' -d 'count the renewal once N replicas have it'
complete -c keylock -n __keylock_in_command -x -a "(__fish_complete_subcommand --fcs-skip=3 $keylock_argopts)"

# status, list, release, forget
complete -c keylock -n "__fish_seen_subcommand_from status list; and not __keylock_in_command" -l json -d 'print JSON'
complete -c keylock -n "__fish_seen_subcommand_from release" -l force -d 'take the lock from its holder'
complete -c keylock -n '__keylock_needs_key status release renew forget' -x -a '(__keylock_keys)' -d 'held key'
