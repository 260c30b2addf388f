# bash completion for flowtop(8)                                  -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/flowtop.
# The lists below follow `flowtop --help`, the sort keys of --sort and the terms of --filter:
# tests/unit/app/docs_test.cpp and tests/docs/test_completions.py check them against the program.

_flowtop()
{
    local cur prev prefix=
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

    # --opt=value: bash splits the word at '=' when '=' is in COMP_WORDBREAKS (the default) ...
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        # ... and keeps it in one word otherwise: complete the value, keep the option.
        prev=${cur%%=*}
        prefix=$prev=
        cur=${cur#*=}
    fi

    local words=
    case $prev in
        -t | --interval | -c | --iterations | --linger)
            return 0 # a number: nothing to offer
            ;;
        --sort)
            words='owner pid user proto state age dir address port nat geo country
                country-name asn org flows bytes-out rate-out bytes-in rate-in
                total-out total-in packets-out packets-in process name time direction
                host service bytes rate total as packets'
            ;;
        --filter)
            words='proc process pid user host addr address ip port service country
                city asn as org proto protocol family state mark zone bytes bytes.out
                bytes.in packets packets.out packets.in rate rate.out rate.in age dir
                direction local remote nat mac'
            compopt -o nospace 2>/dev/null # the operator follows: proto=udp, rate>1MB/s
            ;;
        --tab)
            words='flows owners hosts countries as'
            ;;
        --redact)
            words='local remote all'
            ;;
        --window)
            words='2 10 40 off'
            ;;
        --netns)
            # Named network namespaces, as `ip netns` keeps them.
            local ns
            for ns in /run/netns/*; do
                [[ -e $ns ]] && words+=" ${ns##*/}"
            done
            ;;
        --leases)
            compopt -o filenames 2>/dev/null
            local IFS=$'\n'
            COMPREPLY=($(compgen -f -P "$prefix" -- "$cur"))
            return 0
            ;;
        --geoip-dir)
            compopt -o filenames 2>/dev/null
            local IFS=$'\n'
            COMPREPLY=($(compgen -d -P "$prefix" -- "$cur"))
            return 0
            ;;
    esac
    if [[ -n $words || $prev == --netns ]]; then
        COMPREPLY=($(compgen -P "$prefix" -W "$words" -- "$cur"))
        return 0
    fi

    if [[ $cur == -* ]]; then
        local opts='-4 --ipv4 -6 --ipv6 -T --tcp -U --udp -D --dccp -I --icmp -S --sctp
            --other --loopback --dns-flows -n --no-dns -G --no-geoip -s --show-src
            -b --bits --redact --window -t --interval --sort --filter --tab --batch --json --events --linger
            -c --iterations
            --stats --no-sysctl --track --read-only --netns --leases --geoip-dir -u --update -v --version
            -h --help'
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
    return 0
} &&
    complete -F _flowtop flowtop

# ex: filetype=sh
