#!/usr/bin/env bash
# Installs scanrig from this source tree on a Raspberry Pi (or any Debian
# system), as the .deb would: the binary, the systemd unit, the udev rule,
# /etc/scanrig (config.toml and profiles, only those not there yet), the
# system user scanrig with the groups gpio and plugdev; then reloads udev and
# systemd and enables and starts the service. Safe to run again: it updates
# the binary, unit and rule and keeps your configuration.
#
#   sudo deploy/install.sh                  build (cargo build --release --features pi) and install
#   sudo deploy/install.sh --binary FILE    install FILE instead of building (e.g. a cross build)
#   deploy/install.sh --dry-run             print what it would do, change nothing
#
# Building needs Rust and libgphoto2-dev, libclang-dev, pkg-config (.ci/deps).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
dry_run=0
binary=""

usage() { sed -n '9,11s/^#   //p' "$0"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --binary) binary=${2:?--binary needs a file}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

# Runs a command, or only prints it with --dry-run.
run() {
    if [ "$dry_run" = 1 ]; then
        printf '+'; printf ' %q' "$@"; printf '\n'
    else
        "$@"
    fi
}
note() { echo "== $*"; }

if [ "$dry_run" = 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (sudo $0), or with --dry-run" >&2
    exit 1
fi

# 1. Build, as the user who called sudo (not as root) when there is one.
if [ -z "$binary" ]; then
    binary=$src/target/release/scanrig
    note "building $binary"
    build="cd $(printf %q "$src") && cargo build --release --locked --features pi"
    if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
        # A login shell, so that rustup's ~/.cargo/bin is on PATH.
        run runuser -u "$SUDO_USER" -- bash -lc "$build"
    else
        run bash -c "$build"
    fi
fi
if [ "$dry_run" = 0 ] && [ ! -x "$binary" ]; then
    echo "install.sh: $binary is not an executable" >&2
    exit 1
fi

# 2. Groups and the service's user (as the package's postinst).
note "user scanrig, groups gpio and plugdev"
for g in gpio plugdev; do
    getent group "$g" >/dev/null || run addgroup --system "$g"
done
if ! getent passwd scanrig >/dev/null; then
    run adduser --system --group --home /var/lib/scanrig \
        --gecos "scanrig photogrammetry rig" scanrig
fi
for g in gpio plugdev; do
    id -nG scanrig 2>/dev/null | tr ' ' '\n' | grep -qx "$g" || run adduser scanrig "$g"
done

# 3. Files. /etc/scanrig is yours: only what is missing is added.
note "files"
run install -D -m 755 "$binary" /usr/bin/scanrig
run install -D -m 644 "$src/deploy/scanrig.service" /lib/systemd/system/scanrig.service
run install -D -m 644 "$src/deploy/60-scanrig.rules" /lib/udev/rules.d/60-scanrig.rules
run install -d -m 755 /etc/scanrig/profiles /usr/share/doc/scanrig
if [ -e /etc/scanrig/config.toml ]; then
    echo "keeping /etc/scanrig/config.toml (the new default is $src/deploy/config.toml)"
else
    run install -m 644 "$src/deploy/config.toml" /etc/scanrig/config.toml
fi
for p in "$src"/config/profiles/*.toml; do
    dest=/etc/scanrig/profiles/$(basename "$p")
    if [ -e "$dest" ]; then
        echo "keeping $dest"
    else
        run install -m 644 "$p" "$dest"
    fi
done
run install -m 644 "$src/README.md" "$src/deploy/HARDWARE.md" "$src/deploy/INSTALL.md" "$src/deploy/DRIVE.md" \
    /usr/share/doc/scanrig/

# 4. udev and systemd: only where they run (not in a chroot or image build).
note "udev and systemd"
if [ -S /run/udev/control ]; then
    run udevadm control --reload
    run udevadm trigger --action=change --subsystem-match=usb --subsystem-match=gpio
else
    echo "udev is not running: the rule applies from the next boot"
fi
if [ -d /run/systemd/system ]; then
    run systemctl daemon-reload
    run systemctl enable scanrig.service
    # restart, so that a running service picks up the new binary.
    run systemctl restart scanrig.service ||
        echo "scanrig did not start; see: journalctl -u scanrig" >&2
else
    run systemctl enable scanrig.service
    echo "systemd is not running: scanrig starts at the next boot"
fi
note "done; check with: systemctl status scanrig; journalctl -u scanrig"
