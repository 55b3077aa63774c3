#!/usr/bin/env bash
# Starts and stops the local backends: moto (the AWS emulator, DynamoDB
# requests serialised by scripts/moto_server.py) and redis-server, each on a
# free loopback port.
#
#   scripts/backends.sh start [STATE_DIR]        start both, wait until they answer
#   scripts/backends.sh stop  [STATE_DIR]        stop what `start` started (by pid)
#   scripts/backends.sh run   [STATE_DIR] -- CMD run CMD with the backends' variables
#                                                 exported; stop them when CMD ends;
#                                                 exit with CMD's status
#
# STATE_DIR (default .fk) receives backends.env (pids, ports and the URLs
# FK_AWS_ENDPOINT, FK_REDIS_URL, FK_TEST_AWS_ENDPOINT, FK_TEST_REDIS_URL) and
# the servers' logs. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${FK_PYTHON:-.tools/venv/bin/python}
STARTUP_TIMEOUT_S=30

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_until NAME PID CHECK...: poll CHECK until it succeeds, the server
# dies, or the timeout passes.
wait_until() {
    local name=$1 pid=$2 deadline=$((SECONDS + STARTUP_TIMEOUT_S))
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "backends: $name exited during start-up; see $STATE/$name.log" >&2
            return 1
        fi
        if ((SECONDS > deadline)); then
            echo "backends: $name did not answer within ${STARTUP_TIMEOUT_S}s; see $STATE/$name.log" >&2
            return 1
        fi
        sleep 0.1
    done
}

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

moto_answers() {
    "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$1/moto-api/"
}

start() {
    [[ -x $PYTHON ]] || { echo "backends: $PYTHON not found; run scripts/setup.sh" >&2; exit 1; }
    command -v redis-server >/dev/null || { echo "backends: redis-server not found; run scripts/setup.sh" >&2; exit 1; }
    if [[ -f $STATE/backends.env ]]; then
        if [[ -n $(live_pids) ]]; then
            echo "backends: already running for $STATE (pids $(live_pids | xargs)); stop them with" \
                "\`scripts/backends.sh stop $STATE\` or use another state dir" >&2
            exit 1
        fi
        rm -f "$STATE/backends.env"
    fi
    mkdir -p "$STATE"

    # setsid: a Ctrl-C meant for the foreground command must not reach the
    # servers; `stop` ends them.
    local moto_port redis_port moto_pid redis_pid
    moto_port=$(free_port)
    setsid "$PYTHON" scripts/moto_server.py -H 127.0.0.1 -p "$moto_port" \
        </dev/null >"$STATE/moto.log" 2>&1 &
    moto_pid=$!
    redis_port=$(free_port)
    # The same split of rights as the production Redis store: the
    # distributor may write (and run its script), clients may only read;
    # the default user is off. Passwords are new for every run.
    local admin_pw distributor_pw client_pw
    admin_pw=$(secret) distributor_pw=$(secret) client_pw=$(secret)
    (
        umask 077
        cat >"$STATE/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
save ""
appendonly no
dir $STATE
user default off
user fk-admin on >$admin_pw ~* &* +@all
user fk-distributor on >$distributor_pw ~* +@read +@write +@scripting +@transaction +@connection -@dangerous
user fk-client on >$client_pw ~* +@read +@transaction +@connection -@dangerous
EOF
    )
    setsid redis-server "$STATE/redis.conf" </dev/null >"$STATE/redis.log" 2>&1 &
    redis_pid=$!
    local redis=127.0.0.1:$redis_port
    (
        umask 077
        cat >"$STATE/backends.env" <<EOF
MOTO_PID=$moto_pid
MOTO_PORT=$moto_port
REDIS_PID=$redis_pid
REDIS_PORT=$redis_port
FK_AWS_ENDPOINT=http://127.0.0.1:$moto_port
FK_REDIS_URL=redis://fk-distributor:$distributor_pw@$redis
FK_REDIS_READ_URL=redis://fk-client:$client_pw@$redis
FK_TEST_AWS_ENDPOINT=http://127.0.0.1:$moto_port
FK_TEST_REDIS_URL=redis://fk-admin:$admin_pw@$redis
FK_TEST_REDIS_WRITE_URL=redis://fk-distributor:$distributor_pw@$redis
FK_TEST_REDIS_READ_URL=redis://fk-client:$client_pw@$redis
AWS_ACCESS_KEY_ID=test
AWS_SECRET_ACCESS_KEY=test
AWS_REGION=us-east-1
EOF
    )
    wait_until moto "$moto_pid" moto_answers "$moto_port" || { stop; exit 1; }
    wait_until redis "$redis_pid" redis-cli -p "$redis_port" --user fk-admin --pass "$admin_pw" \
        --no-auth-warning ping || { stop; exit 1; }
    echo "backends: moto http://127.0.0.1:$moto_port (pid $moto_pid), redis 127.0.0.1:$redis_port with ACL users fk-distributor (read-write) and fk-client (read-only) (pid $redis_pid); $STATE/backends.env"
}

# The recorded pids that are still our servers (a pid may have been reused).
live_pids() {
    local MOTO_PID='' REDIS_PID=''
    # shellcheck disable=SC1091
    . "$STATE/backends.env"
    ours "$MOTO_PID" moto_server.py
    ours "$REDIS_PID" redis-server
}
ours() { # ours PID WORD: print PID if it is alive and its command line has WORD
    [[ -n $1 && -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "$2" && echo "$1"
    return 0
}

stop() {
    [[ -f $STATE/backends.env ]] || return 0
    local pids pid
    pids=$(live_pids)
    for pid in $pids; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    done
    rm -f "$STATE/backends.env" "$STATE/redis.conf"
    echo "backends: stopped"
}

run() {
    start
    trap stop EXIT
    set -a
    # shellcheck disable=SC1091
    . "$STATE/backends.env"
    set +a
    local rc=0
    "$@" || rc=$?
    exit "$rc"
}

verb=${1:-}
shift || true
STATE=.fk
if [[ $# -gt 0 && $1 != -- ]]; then STATE=$1; shift; fi
case $verb in
start) start ;;
stop) stop ;;
run)
    [[ ${1:-} == -- ]] && shift
    [[ $# -gt 0 ]] || usage
    run "$@"
    ;;
*) usage ;;
esac
