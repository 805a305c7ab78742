#!/usr/bin/env bash
# Starts and stops the outside programs that provkit's integration tests
# talk to, each on 127.0.0.1 with a free port:
#
#   distribution  Debian docker-registry (distribution 2.8), no referrers API
#   olareg        olareg registry with the OCI referrers API
#   tsa           sigstore timestamp-server with an in-memory signer
#   postgres      a throw-away PostgreSQL cluster with database "provkit"
#
# Usage: services.sh start|stop|env|status
#
#   start   start everything, wait until each answers, write $STATE/env
#   stop    stop everything started by start and remove $STATE
#   env     print $STATE/env (source it, or: eval "$(services.sh env)")
#   status  tell which of the recorded processes are alive
#
# Environment:
#   PROVKIT_TEST_STATE  state dir (default /tmp/provkit-test): pids, logs,
#                       data, the env file
#   PROVKIT_TOOLS_BIN   where install.sh put the Go tools
#                       (default $HOME/.cache/provkit/bin)
set -euo pipefail

STATE="${PROVKIT_TEST_STATE:-/tmp/provkit-test}"
BIN="${PROVKIT_TOOLS_BIN:-$HOME/.cache/provkit/bin}"
ENV_FILE="$STATE/env"
PIDS="$STATE/pids"
LOGS="$STATE/logs"
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
READY_TIMEOUT="${PROVKIT_SERVICES_TIMEOUT:-60}"

log() { printf 'services.sh: %s\n' "$*"; }
die() {
	printf 'services.sh: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- helpers

USED_PORTS=" "

port_in_use() {
	# A connection that succeeds means something listens there.
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port prints a port on 127.0.0.1 that nothing listens on, below the
# kernel's ephemeral range so that outgoing connections do not take it.
free_port() {
	local lo=20000 hi=32000 p i
	for ((i = 0; i < 200; i++)); do
		p=$((lo + RANDOM % (hi - lo)))
		[[ "$USED_PORTS" == *" $p "* ]] && continue
		if ! port_in_use "$p"; then
			USED_PORTS+="$p "
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

http_ok() {
	curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
}

alive() {
	[[ -n "$1" ]] && kill -0 "$1" 2>/dev/null
}

# ours PIDFILE tells whether the process recorded in PIDFILE still runs the
# program recorded with it (a pid may have been reused since).
ours() {
	local pid exe now
	{
		read -r pid || true
		read -r exe || true
	} <"$1"
	alive "$pid" || return 1
	[[ -z "$exe" ]] && return 0
	now="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
	[[ -z "$now" || "$now" == "$exe" ]]
}

show_log() {
	local f="$LOGS/$1.log"
	if [[ -f "$f" ]]; then
		printf -- '----- last lines of %s -----\n' "$f" >&2
		tail -n 40 "$f" >&2 || true
		printf -- '-----\n' >&2
	fi
}

# fail prints the log of the named service, stops what was started, exits 1.
fail() {
	local name="$1"
	shift
	printf 'services.sh: %s: %s\n' "$name" "$*" >&2
	show_log "$name"
	stop_all >/dev/null 2>&1 || true
	exit 1
}

# record_pid NAME PID EXE writes the pid and the program it runs.
record_pid() {
	printf '%s\n%s\n' "$2" "$(readlink -f "$3")" >"$PIDS/$1.pid"
}

pid_of() { head -n 1 "$PIDS/$1.pid"; }

# launch NAME EXE CMD... starts CMD (a program, not a shell function) in
# the background with its output in the service's log, and records its pid
# with EXE, the program that pid ends up running. The background job execs
# CMD, so $! is the program's own pid.
launch() {
	local name="$1" exe="$2"
	shift 2
	"$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
	record_pid "$name" "$!" "$exe"
}

# wait_ready NAME PID CHECK... runs CHECK until it succeeds, while PID lives.
wait_ready() {
	local name="$1" pid="$2"
	shift 2
	local deadline=$((SECONDS + READY_TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! alive "$pid"; then
			return 1
		fi
		if "$@"; then
			return 0
		fi
		sleep 0.2
	done
	fail "$name" "did not answer within ${READY_TIMEOUT} s"
}

tool() { # name: absolute path of an installed tool, or empty
	local p="$BIN/$1"
	if [[ -x "$p" ]]; then
		readlink -f "$p"
	fi
}

need_tool() {
	local p
	p="$(tool "$1")"
	[[ -n "$p" ]] || die "$1 not found in $BIN: run internal/tools/install.sh first"
	echo "$p"
}

pg_bindir() {
	local d
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
	if [[ -n "$d" && -x "$d/initdb" ]]; then
		echo "$d"
		return
	fi
	d="$(command -v initdb || true)"
	[[ -n "$d" ]] || die "PostgreSQL not found: run internal/tools/install.sh first"
	dirname "$(readlink -f "$d")"
}

# AS_PG_USER runs a program as the user that owns the PostgreSQL cluster
# (postgres refuses to run as root). setpriv execs the program, so the
# pid stays the program's own.
PG_USER=""
AS_PG_USER=()

# ---------------------------------------------------------------- services

# Each start_* tries a few ports: another program may take the chosen port
# between the check and the bind.

start_distribution() {
	local exe port try pid dir="$STATE/distribution"
	exe="$(command -v docker-registry || true)"
	[[ -n "$exe" ]] || die "docker-registry not found: run internal/tools/install.sh first"
	mkdir -p "$dir/data"
	for try in 1 2 3; do
		port="$(free_port)"
		cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
EOF
		launch distribution "$exe" "$exe" serve "$dir/config.yml"
		pid="$(pid_of distribution)"
		if wait_ready distribution "$pid" http_ok "http://127.0.0.1:$port/v2/"; then
			DISTRIBUTION_ADDR="127.0.0.1:$port"
			log "distribution (docker-registry) on $DISTRIBUTION_ADDR, pid $pid"
			return
		fi
		log "distribution: exited on port $port (try $try)"
	done
	fail distribution "could not start"
}

start_olareg() {
	local exe port try pid dir="$STATE/olareg"
	exe="$(need_tool olareg)"
	mkdir -p "$dir"
	for try in 1 2 3; do
		port="$(free_port)"
		launch olareg "$exe" "$exe" serve --addr 127.0.0.1 --port "$port" --dir "$dir" \
			--api-delete --api-blob-delete
		pid="$(pid_of olareg)"
		if wait_ready olareg "$pid" http_ok "http://127.0.0.1:$port/v2/"; then
			OLAREG_ADDR="127.0.0.1:$port"
			log "olareg on $OLAREG_ADDR, pid $pid"
			return
		fi
		log "olareg: exited on port $port (try $try)"
	done
	fail olareg "could not start"
}

start_tsa() {
	local exe port try pid
	exe="$(need_tool timestamp-server)"
	for try in 1 2 3; do
		port="$(free_port)"
		# Metrics on a port of its own choosing (the build from install.sh
		# reads this; upstream always takes :2112).
		launch tsa "$exe" env TIMESTAMP_SERVER_METRICS_ADDR=127.0.0.1:0 \
			"$exe" serve --host 127.0.0.1 --port "$port" \
			--timestamp-signer memory --disable-ntp-monitoring --graceful-timeout 2s
		pid="$(pid_of tsa)"
		if wait_ready tsa "$pid" http_ok "http://127.0.0.1:$port/api/v1/timestamp/certchain"; then
			TSA_URL="http://127.0.0.1:$port/api/v1/timestamp"
			log "timestamp-server at $TSA_URL, pid $pid"
			return
		fi
		log "tsa: exited on port $port (try $try)"
	done
	fail tsa "could not start"
}

pg_ready() {
	"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres
}

start_postgres() {
	local port try pid dir="$STATE/postgres"
	PG_BIN="$(pg_bindir)"
	if [[ "$(id -u)" == 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root and there is no postgres user to run PostgreSQL"
		PG_USER=postgres
		AS_PG_USER=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env)
	fi
	mkdir -p "$dir"
	[[ -n "$PG_USER" ]] && chown "$PG_USER" "$dir"
	chmod 700 "$dir"
	if ! "${AS_PG_USER[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C --no-sync >>"$LOGS/postgres.log" 2>&1; then
		fail postgres "initdb failed"
	fi
	for try in 1 2 3; do
		port="$(free_port)"
		# No Unix socket: clients use TCP on 127.0.0.1. Durability is not
		# wanted for a throw-away test database.
		launch postgres "$PG_BIN/postgres" "${AS_PG_USER[@]}" "$PG_BIN/postgres" -D "$dir/data" \
			-c listen_addresses=127.0.0.1 -c port="$port" \
			-c unix_socket_directories= \
			-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
			-c max_connections=200
		pid="$(pid_of postgres)"
		if wait_ready postgres "$pid" pg_ready "$port"; then
			if ! "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres provkit >>"$LOGS/postgres.log" 2>&1; then
				fail postgres "createdb provkit failed"
			fi
			POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/provkit?sslmode=disable"
			log "postgres on 127.0.0.1:$port, pid $pid, database provkit"
			return
		fi
		log "postgres: exited on port $port (try $try)"
	done
	fail postgres "could not start"
}

# ---------------------------------------------------------------- commands

running_pids() {
	local f pid
	[[ -d "$PIDS" ]] || return 0
	for f in "$PIDS"/*.pid; do
		[[ -e "$f" ]] || continue
		if ours "$f"; then
			echo "$(basename "$f" .pid) $(head -n 1 "$f")"
		fi
	done
}

write_env() {
	local tmp="$ENV_FILE.tmp" name var path
	{
		echo "# Written by internal/tools/services.sh start; removed by stop."
		echo "export PROVKIT_TEST_STATE='$STATE'"
		echo "export PROVKIT_TEST_DISTRIBUTION='$DISTRIBUTION_ADDR'"
		echo "export PROVKIT_TEST_OLAREG='$OLAREG_ADDR'"
		echo "export PROVKIT_TEST_TSA_URL='$TSA_URL'"
		echo "export PROVKIT_TEST_POSTGRES='$POSTGRES_DSN'"
		for name in cosign oras crane fulcio rekor-server; do
			case "$name" in
			rekor-server) var=PROVKIT_TEST_REKOR_V2 ;;
			*) var="PROVKIT_TEST_$(echo "$name" | tr '[:lower:]' '[:upper:]')" ;;
			esac
			path="$(tool "$name")"
			if [[ -n "$path" ]]; then
				echo "export $var='$path'"
			else
				log "warning: $name not found in $BIN; tests that need it will skip" >&2
			fi
		done
		if [[ -f "$SOFTHSM_MODULE" ]]; then
			echo "export PROVKIT_TEST_SOFTHSM='$SOFTHSM_MODULE'"
		fi
	} >"$tmp"
	mv -f "$tmp" "$ENV_FILE"
}

cmd_start() {
	local running
	running="$(running_pids)"
	if [[ -n "$running" ]]; then
		die "already running in $STATE ($(echo "$running" | tr '\n' ' ')): run 'services.sh stop' first, or set PROVKIT_TEST_STATE to another dir"
	fi
	command -v curl >/dev/null 2>&1 || die "curl is needed"
	# Leftovers of a run whose processes are gone.
	rm -rf "$STATE"
	mkdir -p "$STATE" "$PIDS" "$LOGS"
	# The postgres user must be able to reach its data dir below $STATE.
	chmod 755 "$STATE"
	local start=$SECONDS
	start_distribution
	start_olareg
	start_tsa
	start_postgres
	write_env
	log "all started in $((SECONDS - start)) s; env file $ENV_FILE"
}

# stop_all signals every recorded process that is still ours, waits up to
# 15 s for them all to go, kills what is left, and removes $STATE.
stop_all() {
	local f name pid sig i names=() pids=() left
	if [[ -d "$PIDS" ]]; then
		for f in "$PIDS"/*.pid; do
			[[ -e "$f" ]] || continue
			ours "$f" || continue
			name="$(basename "$f" .pid)"
			pid="$(head -n 1 "$f")"
			sig=TERM
			# Fast shutdown: roll back open transactions, do not wait for clients.
			[[ "$name" == postgres ]] && sig=INT
			kill "-$sig" "$pid" 2>/dev/null || true
			names+=("$name")
			pids+=("$pid")
		done
	fi
	for ((i = 0; i < 150; i++)); do
		left=0
		for pid in "${pids[@]}"; do
			alive "$pid" && left=1
		done
		((left)) || break
		sleep 0.1
	done
	for i in "${!pids[@]}"; do
		if alive "${pids[$i]}"; then
			kill -KILL "${pids[$i]}" 2>/dev/null || true
			log "killed ${names[$i]} (pid ${pids[$i]})"
		else
			log "stopped ${names[$i]} (pid ${pids[$i]})"
		fi
	done
	# Reap background children of this shell, if any.
	wait 2>/dev/null || true
	rm -rf "$STATE"
}

cmd_stop() {
	if [[ ! -d "$STATE" ]]; then
		log "nothing to stop ($STATE does not exist)"
		return 0
	fi
	stop_all
	log "stopped; removed $STATE"
}

cmd_env() {
	[[ -f "$ENV_FILE" ]] || die "$ENV_FILE not found: run 'services.sh start' first"
	cat "$ENV_FILE"
}

cmd_status() {
	local running
	running="$(running_pids)"
	if [[ -z "$running" ]]; then
		log "nothing running in $STATE"
		return 1
	fi
	echo "$running"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
status) cmd_status ;;
*)
	echo "usage: $0 start|stop|env|status" >&2
	exit 2
	;;
esac
