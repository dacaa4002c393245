#!/usr/bin/env bash
# Installs what the tests beyond the build need on Debian bookworm, skipping
# what is already there: Prometheus's promtool (the /metrics exposition check),
# and for the OpenAPI contract test (tests/openapi/contract_test.py) PyYAML and
# jsonschema with JSON Schema 2020-12 (bookworm's python3-jsonschema 4.10 has
# Draft202012Validator), PostgreSQL's server for the cluster tests, and
# RabbitMQ's server with pika for the broker subscriber tests. Used by test.sh only.
set -euo pipefail

packages=()
command -v promtool >/dev/null || packages+=(prometheus)
# PostgreSQL's server, for the cluster tests (tests/support/postgres_server.py).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
# RabbitMQ's server and a Python AMQP client, for the broker subscriber tests
# (tests/support/rabbitmq_server.py, amqp_consumer.py). The tests start their
# own broker (own node, ports and epmd) and never use or collide with the
# system-wide one the package may start (containers' policy-rc.d denies it).
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || packages+=(rabbitmq-server)
# pika from Debian serves another python3 too (tests/support/amqp_consumer.py).
python3 -c 'import pika' 2>/dev/null || [ -f /usr/lib/python3/dist-packages/pika/__init__.py ] ||
    packages+=(python3-pika)
# A Python that already has both (from Debian or otherwise) will do.
if ! python3 -c 'import yaml, jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
    packages+=(python3-yaml python3-jsonschema)
fi
[ ${#packages[@]} -gt 0 ] || exit 0
SRMI_SETUP_NAME=setup-tests exec "$(dirname "$0")/apt-ensure.sh" "${packages[@]}"
