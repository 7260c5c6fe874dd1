#!/usr/bin/env bash
# lvsfleet on Mosquitto's dynamic-security plugin.
#
#   setup-dynsec.sh init FILE PASSWORD
#       Before the broker's first start: makes FILE (plugin_opt_config_file) with the admin
#       client "lvsfleet-cloud" (the cloud's user for publisher, ingest and enrollment).
#   setup-dynsec.sh bootstrap HOST PORT PASSWORD
#       Once, with the broker running: default deny, and the role "lvsfleet-cloud" that may
#       publish/receive/subscribe under lvsfleet/v1/nodes/#. Safe to repeat.
#
# Then run the cloud with --mqtt-url mqtt://lvsfleet-cloud:PASSWORD@HOST:PORT; enrollment
# creates each node's client and role over $CONTROL/dynamic-security/v1 (cloud/src/mqtt/dynsec.ts).
set -euo pipefail

cmd=${1:-}
case "$cmd" in
  init)
    file=${2:?FILE}; pw=${3:?PASSWORD}
    mosquitto_ctrl dynsec init "$file" lvsfleet-cloud "$pw"
    if id mosquitto >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown mosquitto: "$file"; fi
    ;;
  bootstrap)
    host=${2:?HOST}; port=${3:?PORT}; pw=${4:?PASSWORD}
    ctl() { mosquitto_ctrl -h "$host" -p "$port" -u lvsfleet-cloud -P "$pw" dynsec "$@" 2>&1 | grep -v -i -e 'without encryption' -e 'visible on the network' -e '^$' || true; }
    ctl setDefaultACLAccess publishClientSend deny
    ctl setDefaultACLAccess publishClientReceive deny
    ctl setDefaultACLAccess subscribe deny
    ctl setDefaultACLAccess unsubscribe allow
    ctl createRole lvsfleet-cloud
    for t in publishClientSend publishClientReceive subscribePattern unsubscribePattern; do
      ctl addRoleACL lvsfleet-cloud "$t" 'lvsfleet/v1/nodes/#' allow
    done
    # Mosquitto disconnects lvsfleet-cloud when its roles change: do this last.
    ctl addClientRole lvsfleet-cloud lvsfleet-cloud 10
    ;;
  *)
    sed -n '2,15p' "$0"; exit 2 ;;
esac
