#!/usr/bin/env bash
# The main job against the built-in lab: bring the lab up (directors as QEMU guests with a real
# IPVS kernel), build the DR cluster with the shipped playbook, run it again (changed=0), and show
# the cluster answering through the VIP, alternating between the real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VIP=10.77.0.100
node bin/lvsrun.js lab up --vm
node bin/lvsrun.js playbooks/site.yaml -i lab
echo; echo "== second run: nothing to change =="
node bin/lvsrun.js playbooks/site.yaml -i lab | tail -n 8
echo; echo "== who holds the VIP (VRRP elects within a few seconds) =="
# Each `lab ssh` to a guest pays a connection; the waits run inside the guest, one command each.
node bin/lvsrun.js lab ssh lb1 "for i in \$(seq 60); do ip -o -4 addr show dev eth0 | grep -q ' $VIP/' && break; sleep 0.5; done"
for h in lb1 lb2; do printf '%s: ' "$h"; node bin/lvsrun.js lab ssh "$h" "ip -o -4 addr show dev eth0 | grep -q ' $VIP/' && echo MASTER holds the VIP || echo backup"; done
echo; echo "== the IPVS table on lb1 (programmed by keepalived) =="
node bin/lvsrun.js lab ssh lb1 "for i in \$(seq 30); do ipvsadm -S -n | grep -q 10.77.2.2 && break; sleep 0.5; done; ipvsadm -L -n"
echo; echo "== six requests from client1 to the VIP: round robin over the real servers =="
node bin/lvsrun.js lab ssh client1 "for i in 1 2 3 4 5 6; do curl -s --max-time 3 http://$VIP/ | grep -o '<h1>[a-z0-9]*</h1>'; done"
echo; echo "Try a failover drill: node bin/lvsrun.js drill failover -i lab --probe http"
echo "Stop the lab with:     node bin/lvsrun.js lab down"
