#!/usr/bin/env bash
# `make test-distributed`: a throwaway Airflow with the CeleryExecutor and two Celery workers,
# then tests/distributed/ against it, then every process started here is stopped (also on failure).
#
# Started here, each in its own process group, all on loopback:
#   - redis-server (the Celery broker and result backend), installed from Debian when missing;
#   - PostgreSQL from Debian's packages, holding Airflow's metadata DB (`airflow`), the warehouse the
#     DAG writes (`warehouse`) and the single-machine reference warehouse (`warehouse_single`);
#   - one scheduler, one api-server, one dag-processor, sharing the control plane's AIRFLOW_HOME;
#   - two Celery workers, worker-a and worker-b, standing in for two machines: each has its own
#     working directory, HOME, AIRFLOW_HOME (task logs), TMPDIR (crawl scratch dirs), HKAI_DATA_DIR
#     and HKAI_OUT_DIR, its own Celery hostname and its own task-instance hostname
#     (`hkai.workers.task_hostname`), and no metadata-DB credentials (tasks use the Execution API).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$REPO/.venv/bin
PGPORT=${DIST_PGPORT:-55434}
REDIS_PORT=${DIST_REDIS_PORT:-56379}
API_PORT=${DIST_API_PORT:-58080}
WORKERS=(worker-a worker-b)
RUN=$(mktemp -d /tmp/hkai-distributed.XXXXXX)
chmod 755 "$RUN"
PIDS=()          # process-group leaders started here (setsid), stopped with their whole group
PGBIN=""
STARTED=$(date +%s)

say() { printf '[%4ss] %s\n' "$(($(date +%s) - STARTED))" "$*"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Start "$@" in its own session and process group (pgid = pid), output to $RUN/logs/<name>.log.
start() {
	local name=$1 dir=$2
	shift 2
	(cd "$dir" && HKAI_CLUSTER_RUN=$RUN exec setsid "$@") >"$RUN/logs/$name.log" 2>&1 &
	PIDS+=("$!")
	echo "$! $name" >>"$RUN/pids"
}

# A member of the process group still runs (zombies, awaiting their reaper, have finished).
group_alive() { ps -o stat= -g "$1" 2>/dev/null | grep -qv '^Z'; }

postmaster_pid() { [ -f "$RUN/pg/data/postmaster.pid" ] && head -1 "$RUN/pg/data/postmaster.pid" || true; }

# A process that still runs (zombies waiting for init to reap them have finished).
running() { local stat; stat=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$stat" ] && [ "${stat:0:1}" != Z ]; }

# Every process started here, and the test's single-machine run, carry HKAI_CLUSTER_RUN=$RUN in their
# environment (as do their children, except crawl processes, which get a filtered environment but stay
# in their parent's process group).
marked() { grep -lzsx "HKAI_CLUSTER_RUN=$RUN" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | while read -r p; do running "$p" && echo "$p"; done; }

cleanup() {
	local status=$? pg_pid leftovers="" pid
	trap - EXIT INT TERM
	say "stopping everything started here"
	for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
	for _ in $(seq 1 40); do
		local alive=0
		for pid in "${PIDS[@]}"; do group_alive "$pid" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.5
	done
	for pid in "${PIDS[@]}"; do group_alive "$pid" && kill -KILL -- "-$pid" 2>/dev/null || true; done
	# anything else carrying the marker (the test's own single-machine run, if pytest was killed)
	local own_group pgid
	own_group=$(ps -o pgid= -p $$ | tr -d ' ')
	for pid in $(marked); do
		pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
		if [ -n "$pgid" ] && [ "$pgid" != "$own_group" ]; then kill -TERM -- "-$pgid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
	done
	sleep 1
	for pid in $(marked); do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pg_pid=$(postmaster_pid)
	if [ -n "$PGBIN" ] && [ -n "$pg_pid" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null 2>&1 || kill -TERM "$pg_pid" 2>/dev/null || true
		for _ in $(seq 1 20); do running "$pg_pid" || break; sleep 0.5; done
	fi
	# Nothing may be left: no process started here (by pid, process group or environment marker),
	# and no postmaster.
	for pid in "${PIDS[@]}"; do
		if group_alive "$pid"; then leftovers+=" $(ps -o pid= -g "$pid" | tr -s ' \n' ' ')"; fi
	done
	for pid in $(marked); do leftovers+=" $pid"; done
	if [ -n "${pg_pid:-}" ] && running "$pg_pid"; then leftovers+=" postgres:$pg_pid"; fi
	if [ -n "$leftovers" ]; then
		echo "LEFTOVER PROCESSES:$leftovers"
		status=1
	else
		say "all ${#PIDS[@]} process groups and PostgreSQL stopped; no leftover pids"
	fi
	if [ $status = 0 ]; then
		rm -rf "$RUN"
	else
		echo "logs kept in $RUN/logs (worker task logs in $RUN/<worker>/airflow/logs)"
	fi
	say "make test-distributed: exit $status"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RUN/logs"
for port in "$PGPORT" "$REDIS_PORT" "$API_PORT"; do
	port_free "$port" || { echo "port $port is in use (set DIST_PGPORT / DIST_REDIS_PORT / DIST_API_PORT)"; exit 1; }
done

# --- Redis ------------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null; then
	say "installing redis-server from Debian's packages"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null; }
fi
mkdir -p "$RUN/redis"
start redis "$RUN/redis" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
	--dir "$RUN/redis" --daemonize no

# --- PostgreSQL ---------------------------------------------------------------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "PostgreSQL is not installed: apt-get install postgresql"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "make test-distributed runs PostgreSQL as the postgres user: run it as root"; exit 1; }
mkdir -p "$RUN/pg"
chown postgres "$RUN/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$RUN/pg/data" -U postgres --auth=trust --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$RUN/pg/data" -l "$RUN/pg/postgres.log" -w start \
	-o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >/dev/null
for db in airflow warehouse warehouse_single; do
	runuser -u postgres -- "$PGBIN/psql" -q -h /tmp -p "$PGPORT" -U postgres -c "CREATE DATABASE $db" >/dev/null
done
PG=postgresql+psycopg://postgres@127.0.0.1:$PGPORT
say "PostgreSQL on 127.0.0.1:$PGPORT (airflow, warehouse, warehouse_single), Redis on 127.0.0.1:$REDIS_PORT"

# --- Airflow: settings every component shares ---------------------------------------------------
export HKAI_CRAWL_MODE=replay
export HKAI_SNAPSHOT_DIR=$REPO/snapshots/demo
export HKAI_WAREHOUSE_URL=$PG/warehouse
export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
export AIRFLOW__CORE__DAGS_FOLDER=$REPO/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True
export AIRFLOW__CORE__HOSTNAME_CALLABLE=hkai.workers.task_hostname
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$API_PORT/execution/
export AIRFLOW__CORE__FERNET_KEY
AIRFLOW__CORE__FERNET_KEY=$("$BIN/python" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")
export AIRFLOW__API_AUTH__JWT_SECRET
AIRFLOW__API_AUTH__JWT_SECRET=$("$BIN/python" -c "import secrets; print(secrets.token_hex(32))")
export AIRFLOW__CELERY__BROKER_URL=redis://127.0.0.1:$REDIS_PORT/0
export AIRFLOW__CELERY__RESULT_BACKEND=redis://127.0.0.1:$REDIS_PORT/1
# Sized for 2 cores: one task at a time per worker (a crawl task runs a Scrapy child process), so
# two tasks at once across the cluster; no task prefetched behind a long one.
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=4
export AIRFLOW__CELERY__WORKER_CONCURRENCY=1
export AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER=1
export AIRFLOW__CELERY__SYNC_PARALLELISM=1
# Only the runs the test triggers: no cron runs, whatever the time.
export AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False
export AIRFLOW__LOGGING__LOGGING_LEVEL=INFO
unset AIRFLOW__DATABASE__SQL_ALCHEMY_CONN HKAI_REPLAY_URL HKAI_DATA_DIR HKAI_OUT_DIR

# The control plane (scheduler, api-server, dag-processor): the metadata DB is theirs only.
CONTROL=$RUN/control
mkdir -p "$CONTROL"
control_env=(env "AIRFLOW_HOME=$CONTROL/airflow" "HOME=$CONTROL" "TMPDIR=$CONTROL"
	"HKAI_DATA_DIR=$CONTROL/data" "HKAI_OUT_DIR=$CONTROL/out"
	"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=$PG/airflow")
say "migrating Airflow's metadata database"
"${control_env[@]}" "$BIN/airflow" db migrate >"$RUN/logs/db-migrate.log" 2>&1 ||
	{ tail -30 "$RUN/logs/db-migrate.log"; exit 1; }
start api-server "$CONTROL" "${control_env[@]}" "$BIN/airflow" api-server --host 127.0.0.1 --port "$API_PORT" --workers 1
start scheduler "$CONTROL" "${control_env[@]}" "$BIN/airflow" scheduler
start dag-processor "$CONTROL" "${control_env[@]}" "$BIN/airflow" dag-processor

# The two "machines".
for worker in "${WORKERS[@]}"; do
	dir=$RUN/$worker
	mkdir -p "$dir/home" "$dir/tmp"
	start "$worker" "$dir" env "AIRFLOW_HOME=$dir/airflow" "HOME=$dir/home" "TMPDIR=$dir/tmp" \
		"HKAI_DATA_DIR=$dir/data" "HKAI_OUT_DIR=$dir/out" "AIRFLOW__HKAI__WORKER_NAME=$worker" \
		"$BIN/airflow" celery worker --celery-hostname "$worker@%h" --concurrency 1 --skip-serve-logs
done

# --- wait until the cluster is up ---------------------------------------------------------------
wait_for() {
	local what=$1 seconds=$2
	shift 2
	for _ in $(seq 1 $((seconds * 2))); do
		"$@" && return 0
		while read -r pid name; do
			group_alive "$pid" || { echo "$name exited early:"; tail -40 "$RUN/logs/$name.log"; exit 1; }
		done <"$RUN/pids"
		sleep 0.5
	done
	echo "timed out waiting for $what"
	exit 1
}
api_up() { "$BIN/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$API_PORT/api/v2/monitor/health', timeout=2)" 2>/dev/null; }
workers_ready() { for w in "${WORKERS[@]}"; do grep -q "$w@.* ready\." "$RUN/logs/$w.log" || return 1; done; }
wait_for "the api-server" 120 api_up
wait_for "both Celery workers" 120 workers_ready
say "cluster up: scheduler, api-server, dag-processor, ${WORKERS[*]}"

# --- the test -----------------------------------------------------------------------------------
set +e
HKAI_CLUSTER_RUN=$RUN HKAI_DISTRIBUTED_RUN_DIR=$RUN \
	HKAI_DISTRIBUTED_AIRFLOW_DB=$PG/airflow \
	HKAI_DISTRIBUTED_WAREHOUSE=$PG/warehouse \
	HKAI_DISTRIBUTED_REFERENCE=$PG/warehouse_single \
	HKAI_DISTRIBUTED_WORKERS=$(IFS=,; echo "${WORKERS[*]}") \
	"${control_env[@]}" "$BIN/python" -m pytest -q -s -p no:cacheprovider tests/distributed
status=$?
set -e
exit $status
