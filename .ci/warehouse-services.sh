# Sourced by .ci/run: what tests/test_warehouse_engines.py needs, from Debian's packages.
# PostgreSQL is initialised in a temporary folder and listens on a unix socket there only (no
# TCP port); Java runs the pyspark the test extras install. Both are left alone when present.
# The tests find the server through AUDITOR_TEST_POSTGRES_DSN and skip without it.
warehouse_started=$SECONDS
if ! command -v java >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql default-jre-headless >/dev/null
fi
WAREHOUSE_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
WAREHOUSE_PG_DIR=$(mktemp -d /tmp/auditor-ci-pg.XXXXXX)
chown postgres "$WAREHOUSE_PG_DIR"  # initdb and the server refuse to run as root
su postgres -c "$WAREHOUSE_PG_BIN/initdb -D $WAREHOUSE_PG_DIR/data -U auditor --auth=trust \
    -E UTF8 --locale=C.UTF-8" >/dev/null
su postgres -c "$WAREHOUSE_PG_BIN/pg_ctl -D $WAREHOUSE_PG_DIR/data -l $WAREHOUSE_PG_DIR/log -w \
    -o \"-c listen_addresses='' -k $WAREHOUSE_PG_DIR\" start" >/dev/null
stop_warehouse_services() {
    su postgres -c "$WAREHOUSE_PG_BIN/pg_ctl -D $WAREHOUSE_PG_DIR/data -m fast -w stop" \
        >/dev/null 2>&1 || true
    rm -rf "$WAREHOUSE_PG_DIR"
}
trap stop_warehouse_services EXIT
export AUDITOR_TEST_POSTGRES_DSN="host=$WAREHOUSE_PG_DIR user=auditor dbname=postgres"
echo "warehouse services ready in $((SECONDS - warehouse_started)) s (PostgreSQL in $WAREHOUSE_PG_DIR)"
