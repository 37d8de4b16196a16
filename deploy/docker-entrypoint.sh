#!/bin/sh
# port-camel-agent container entrypoint (POSIX sh).
#
#   docker-entrypoint.sh [ARGS…]      imports custom CA certificates, then exec java -jar port-camel-agent.jar ARGS…
#   docker-entrypoint.sh healthcheck [PATH]
#                                     exit 0 when GET http://127.0.0.1:$AGENT_MANAGEMENT_PORT/PATH answers 200
#                                     (PATH defaults to /observe/health); for Docker's HEALTHCHECK
#
# Custom CA certificates — port-agent's self-signed-certificate option: every *.crt / *.pem file in $CA_CERTS_DIR
# (default $APP_HOME/certs, i.e. /app/certs) is imported into a copy of the JRE's truststore, which the agent then
# uses for every TLS connection (Port, Kafka, CI/CD targets). PEM bundles with several certificates are split; DER
# files are imported as they are. No certificate files, no copy: the JRE's own truststore is used.
#
# Environment: APP_HOME (/app), CA_CERTS_DIR ($APP_HOME/certs), AGENT_MANAGEMENT_PORT (9876), JAVA_OPTS (extra JVM
# flags, e.g. -XX:MaxRAMPercentage=75), TMPDIR (/tmp; the truststore copy goes there, so a read-only root filesystem
# with a writable /tmp works).
set -eu

APP_HOME=${APP_HOME:-/app}
CA_CERTS_DIR=${CA_CERTS_DIR:-$APP_HOME/certs}
JAR=$APP_HOME/port-camel-agent.jar
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    JAVA=$JAVA_HOME/bin/java
    KEYTOOL=$JAVA_HOME/bin/keytool
else
    JAVA=java
    KEYTOOL=keytool
fi
STOREPASS=changeit

log() {
    echo "port-camel-agent: $*" >&2
}

healthcheck() {
    port=${AGENT_MANAGEMENT_PORT:-9876}
    path=${1:-/observe/health}
    # the JRE image has neither curl nor (reliably) wget; bash's /dev/tcp needs nothing else
    if command -v bash >/dev/null 2>&1; then
        exec bash -c '
            exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
            printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$2" >&3
            IFS= read -r status <&3 || exit 1
            case "$status" in
                "HTTP/1."?" 200"*) exit 0 ;;
                *) echo "health: $status" >&2; exit 1 ;;
            esac' healthcheck "$port" "$path"
    elif command -v wget >/dev/null 2>&1; then
        exec wget -q -O /dev/null "http://127.0.0.1:$port$path"
    elif command -v curl >/dev/null 2>&1; then
        exec curl -fsS -o /dev/null "http://127.0.0.1:$port$path"
    fi
    log "healthcheck: neither bash, wget nor curl is available"
    exit 1
}

# Imports one certificate file (PEM, possibly a bundle, or DER) under aliases custom-<name>[-n]. Prints the count.
import_file() {
    file=$1
    name=$(basename "$file" | sed 's/\.[^.]*$//' | tr -c 'A-Za-z0-9_.\n-' '_')
    split=$(mktemp -d "${TMPDIR:-/tmp}/ca-split.XXXXXX")
    awk -v dir="$split" '
        /-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/%03d.pem", dir, n); inside = 1 }
        inside { print > f }
        /-----END CERTIFICATE-----/ { inside = 0; close(f) }
    ' "$file"
    count=0
    set -- "$split"/*.pem
    if [ ! -e "$1" ]; then
        set -- "$file" # no PEM block: a DER certificate
    fi
    total=$#
    for cert in "$@"; do
        count=$((count + 1))
        alias="custom-$name"
        [ "$total" -gt 1 ] && alias="$alias-$count"
        if ! "$KEYTOOL" -importcert -noprompt -trustcacerts -alias "$alias" -file "$cert" \
                -keystore "$TRUSTSTORE" -storetype PKCS12 -storepass "$STOREPASS" >/dev/null 2>&1; then
            rm -rf "$split"
            log "cannot import $file (certificate $count): not an X.509 certificate in PEM or DER form"
            exit 2
        fi
    done
    rm -rf "$split"
    echo "$count"
}

import_ca_certs() {
    [ -d "$CA_CERTS_DIR" ] || return 0
    found=""
    for f in "$CA_CERTS_DIR"/*.crt "$CA_CERTS_DIR"/*.pem; do
        [ -f "$f" ] && found="$found x"
    done
    [ -n "$found" ] || return 0

    java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v "$JAVA")")")")}
    TRUSTSTORE=${TMPDIR:-/tmp}/port-camel-agent-truststore.p12
    rm -f "$TRUSTSTORE"
    # the JRE's truststore stays untouched (read-only, owned by root); the agent gets a copy with the custom CAs
    cp "$java_home/lib/security/cacerts" "$TRUSTSTORE"
    chmod 600 "$TRUSTSTORE"
    imported=0
    for f in "$CA_CERTS_DIR"/*.crt "$CA_CERTS_DIR"/*.pem; do
        [ -f "$f" ] || continue
        n=$(import_file "$f")
        imported=$((imported + n))
        log "trusting $n CA certificate(s) from $f"
    done
    log "$imported custom CA certificate(s) added to the truststore $TRUSTSTORE"
    TRUST_OPTS="-Djavax.net.ssl.trustStore=$TRUSTSTORE -Djavax.net.ssl.trustStorePassword=$STOREPASS -Djavax.net.ssl.trustStoreType=PKCS12"
}

if [ "${1:-}" = "healthcheck" ]; then
    shift
    healthcheck "$@"
fi

TRUST_OPTS=""
import_ca_certs
cd "$APP_HOME"
# exec: java becomes the container's main process and gets SIGTERM from docker stop / Kubernetes directly
# shellcheck disable=SC2086 # JAVA_OPTS and TRUST_OPTS are lists of flags
exec "$JAVA" ${JAVA_OPTS:-} $TRUST_OPTS -jar "$JAR" "$@"
