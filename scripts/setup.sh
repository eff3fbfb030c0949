#!/usr/bin/env bash
# Installs what lvsrun, its lab and its tests need on a fresh Debian machine, then builds.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
# --bench also installs Ansible (Debian's package), the comparison `npm run bench` measures against.
extra=""; [ "${1:-}" = --bench ] && extra="ansible-playbook:ansible python3:python3 /usr/bin/time:time"
# ansible-vault (Debian's ansible-core): the vault tests check files both ways against it; tmux gives them a terminal.
# systemd is PID 1 of the lab hosts; openssl hashes the lab user's sudo password.
# ifupdown: the lab brings a persisted VIP stanza up with ifup, as a Debian boot does.
for pair in $extra ansible-vault:ansible-core tmux:tmux qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio ifup:ifupdown ping:iputils-ping iptables:iptables chromium:chromium sshd:openssh-server ssh-keygen:openssh-client sudo:sudo keepalived:keepalived nginx:nginx-light ipvsadm:ipvsadm ip:iproute2 unshare:util-linux curl:curl systemctl:systemd openssl:openssl; do
  bin=${pair%%:*}; pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need+=("$pkg")
done
# VM mode (lab up --vm) boots Debian's own kernel under QEMU for real IPVS.
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "setup: missing ${need[*]}; run as root to install them" >&2; exit 1; fi
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts the packaged nginx and keepalived on install; the lab runs its own per host.
# The machine's own sshd is left alone: the lab's sshds listen only on lab addresses.
for s in nginx keepalived; do [ -x /etc/init.d/$s ] && /etc/init.d/$s stop >/dev/null 2>&1 || true; done
# Reinstall when the lock file's content differs from what was installed (a checkout's file times say
# nothing: a new clone or worktree has a newer lock file than an install that matches it).
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.lvsrun-lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  # The lock file carries every platform's optional packages, so `npm ci` installs exactly what is locked.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.lvsrun-lock-sum
fi
# Incremental: its record lives in dist/, so an unchanged tree builds in a couple of seconds and a
# removed dist/ builds in full.
npx tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
# bin/lvsrun.js runs one bundle of what tsc just wrote (scripts/bundle.mjs).
node scripts/bundle.mjs
