#!/bin/bash
# Starts the hub exactly as the z2jh hub pod would configure it (the chart's own jupyterhub_config.py and
# z2jh.py, our values.yaml merged over the chart's defaults, hub.extraConfig.bootcamp) WITHOUT a cluster:
# a real JupyterHub with KubeSpawner loaded, the Node proxy standing in for the proxy pod, a throwaway
# PostgreSQL for hub.db, and our managed services (grader on the queue, cohort, exchange, a formgrader).
# No trainee server is spawned (that needs a cluster). A manual check, not part of scripts/test: it needs
# root, the chart's source and a Python environment with KubeSpawner.
#
#   hub_config/kubernetes/smoke-hub.sh Z2JH_CHART_DIR [PYTHON_BIN_DIR]
#     Z2JH_CHART_DIR: the chart folder of a zero-to-jupyterhub-k8s checkout at tag 4.4.0 (".../jupyterhub")
#     PYTHON_BIN_DIR: bin/ of a venv with jupyterhub-kubespawner==7.0.0, pycurl and this package's [hub]
#
# Everything runs in private mount and network namespaces (unshare): the chart's files appear at
# /usr/local/etc/jupyterhub, "hub", "proxy-api" and "proxy-public" resolve to 127.0.0.1, and nothing
# listens on the host's network. It prints what the hub registered and exits non-zero when a check fails.
set -euo pipefail

if [[ "${1:-}" != --inside ]]; then
    [[ $# -ge 1 && -f "$1/files/hub/jupyterhub_config.py" ]] || {
        echo "usage: $0 Z2JH_CHART_DIR [PYTHON_BIN_DIR]  (the chart folder holding files/hub/jupyterhub_config.py)" >&2
        exit 2
    }
    [[ $(id -u) == 0 ]] || { echo "$0: needs root (unshare, a throwaway PostgreSQL as the postgres user)" >&2; exit 2; }
    exec unshare --mount --net --propagation private "$0" --inside "$(realpath "$1")" "$(realpath "${2:-$(dirname "$(command -v python3)")}")"
fi

CHART=$2
export PATH="$3:$PATH"
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=$(mktemp -d /tmp/bootcamp-smoke-hub.XXXXXX)
chmod 755 "$RUN"
ip link set lo up
mount -t tmpfs tmpfs /usr/local/etc
mkdir -p /usr/local/etc/jupyterhub/{config,secret} "$RUN/home" "$RUN/pg"
printf '127.0.0.1 localhost hub proxy-api proxy-public\n' >"$RUN/hosts"
mount --bind "$RUN/hosts" /etc/hosts

# What the chart mounts into the hub pod: its config files, the names of its resources, and a Secret
# holding the merged values plus the generated secrets.
cp "$CHART/files/hub/jupyterhub_config.py" "$CHART/files/hub/z2jh.py" /usr/local/etc/jupyterhub/
for name in hub proxy-api proxy-public user-scheduler priority singleuser; do
    printf '%s' "$name" >"/usr/local/etc/jupyterhub/config/$name"
done
python3 - "$CHART/values.yaml" "$HERE/values.yaml" /usr/local/etc/jupyterhub/secret "$RUN/env.sh" <<'PY'
import secrets, sys, yaml
from pathlib import Path
defaults, ours = (yaml.safe_load(Path(p).read_text()) for p in sys.argv[1:3])
def merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: merge(base[k], v) if k in base else v for k, v in over.items()}}
    return over
values = merge(defaults, ours)
values["Chart"] = {"Name": "jupyterhub", "Version": "4.4.0", "AppVersion": "5.5.0"}
values["Release"] = {"Name": "bootcamp", "Namespace": "bootcamp", "Service": "Helm"}
secret = Path(sys.argv[3])
(secret / "values.yaml").write_text(yaml.safe_dump(values))
for key in ("hub.config.JupyterHub.cookie_secret", "hub.config.CryptKeeper.keys"):
    (secret / key).write_text(secrets.token_hex(32))
literal = {k: v for k, v in ours["hub"]["extraEnv"].items() if isinstance(v, str)}
Path(sys.argv[4]).write_text("".join(f"export {k}='{v}'\n" for k, v in literal.items()))
PY
# shellcheck disable=SC1091
. "$RUN/env.sh"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
chown postgres "$RUN/pg"
su postgres -s /bin/sh -c "$PGBIN/initdb -D $RUN/pg/data -A trust -U postgres >/dev/null \
    && $PGBIN/pg_ctl -D $RUN/pg/data -o '-k $RUN/pg -h 127.0.0.1 -p 5432' -l $RUN/pg/log -w start >/dev/null \
    && $PGBIN/createdb -h 127.0.0.1 -U postgres jupyterhub"

# The pod's environment: what Kubernetes injects, and the Secret's URLs (one database serves all three here).
export POD_IP=127.0.0.1 POD_NAMESPACE=bootcamp HUB_SERVICE_PORT=8081 PROXY_API_SERVICE_PORT=8001
export BOOTCAMP_HOME=$RUN/home BOOTCAMP_HUB_STATE_DIR=$RUN/home/hub HOME=$RUN/home
export BOOTCAMP_HUB_CURRICULUM_DIR="$HERE/../../curriculum"
export BOOTCAMP_HUB_DB_URL=postgresql://postgres@127.0.0.1:5432/jupyterhub
export BOOTCAMP_HUB_QUEUE_URL=$BOOTCAMP_HUB_DB_URL
export CONFIGPROXY_AUTH_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
python3 -c "from graders.hub import scenario; from graders.settings import Settings
scenario.create_cohort(Settings.load(), 'north', ['alice'], ['ines'])" 2>/dev/null

cleanup() {
    kill "${HUB:-}" "${CHP:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $RUN/pg/data -m fast stop >/dev/null" || true
    rm -rf "$RUN/pg/data"
    echo "hub log: $RUN/hub.log"
}
trap cleanup EXIT
configurable-http-proxy --ip 127.0.0.1 --port 8000 --api-ip 127.0.0.1 --api-port 8001 \
    --default-target http://hub:8081 >"$RUN/proxy.log" 2>&1 &
CHP=$!
(cd "$RUN" && exec jupyterhub --config /usr/local/etc/jupyterhub/jupyterhub_config.py) >"$RUN/hub.log" 2>&1 &
HUB=$!
for _ in $(seq 120); do
    grep -q "JupyterHub is now running" "$RUN/hub.log" && break
    kill -0 "$HUB" 2>/dev/null || { echo "FAIL: the hub exited"; tail -30 "$RUN/hub.log"; exit 1; }
    sleep 1
done

failures=0
check() {  # check DESCRIPTION COMMAND...: prints PASS/FAIL
    if "${@:2}" >/dev/null 2>&1; then echo "PASS $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}
ROUTES=$(curl -s -H "Authorization: token $CONFIGPROXY_AUTH_TOKEN" http://127.0.0.1:8001/api/routes)
echo "proxy routes: $(python3 -c 'import json,sys; print({k: v["target"] for k, v in json.loads(sys.argv[1]).items()})' "$ROUTES")"
check "JupyterHub is running with the chart's config and ours" grep -q "Loading extra config: bootcamp" "$RUN/hub.log"
check "KubeSpawner is the spawner" grep -q "Using Spawner: kubespawner" "$RUN/hub.log"
for service in cohort exchange formgrader-north; do
    check "proxy routes /services/$service to the pod address" grep -q "\"/services/$service\".*127.0.0.1:101" <<<"$ROUTES"
done
check "grading service started on the PostgreSQL queue" grep -q "graders.hub.grading.*grading queue" "$RUN/hub.log"
check "exchange service started" grep -q "exchange service on http://127.0.0.1:10102" "$RUN/hub.log"
check "cohort pages answer through the proxy (hub sign-in)" \
    bash -c "curl -s -o /dev/null -w '%{redirect_url}' http://127.0.0.1:8000/services/cohort/ | grep -q oauth2/authorize"
check "hub login page answers" curl -sf http://127.0.0.1:8000/hub/login
check "hub database is PostgreSQL" bash -c "su postgres -s /bin/sh -c \"$PGBIN/psql -h 127.0.0.1 -U postgres -d jupyterhub -Atc 'select count(*) from users'\""
check "the bootcamp CLI in the pod reaches the hub API (hub sync)" bootcamp hub sync --cohort north
check "no traceback in the hub log" bash -c "! grep -q Traceback $RUN/hub.log"
echo "$failures check(s) failed"
exit $((failures > 0))
