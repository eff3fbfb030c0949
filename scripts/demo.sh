#!/usr/bin/env bash
# The main job against the built-in lab: bring the lab up, build the DR cluster with the
# shipped playbook, run it again (changed=0), and show the cluster answering through the VIP.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/lvsrun.js lab up
node bin/lvsrun.js playbooks/site.yaml -i lab
echo; echo "== second run: nothing to change =="
node bin/lvsrun.js playbooks/site.yaml -i lab | tail -n 8
echo; echo "== who holds the VIP (VRRP elects within a few seconds) =="
for i in $(seq 1 40); do
  node bin/lvsrun.js lab ssh lb1 "ip -o -4 addr show dev eth0" | grep -q ' 10.77.0.100/' && break; sleep 0.5
done
for h in lb1 lb2; do printf '%s: ' "$h"; node bin/lvsrun.js lab ssh "$h" "ip -o -4 addr show dev eth0 | grep -q ' 10.77.0.100/' && echo MASTER holds the VIP || echo backup"; done
echo; echo "== the real servers answer (from client1) =="
for rs in 10.77.2.1 10.77.2.2; do node bin/lvsrun.js lab ssh client1 "curl -s --max-time 3 http://$rs/"; echo; done
echo "This kernel has no IPVS: the VIP moves by VRRP, but forwarding through it needs the VM mode (not built yet)."
echo "Stop the lab with: node bin/lvsrun.js lab down"
