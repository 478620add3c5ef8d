#!/usr/bin/env bash
# Make sure the system programs the tests and benchmark need are present:
#   sshd        (Debian package openssh-server)  — the SFTP tests start a real OpenSSH server
#   sftp, ssh-keygen (Debian package openssh-client) — host/client keys, the benchmark's reference client
#   chromium    (Debian package chromium)        — the browser tests of the web console (tests/browser/)
#   Noto CJK fonts (Debian package fonts-noto-cjk) — Japanese text in the console's screenshot
#
# As root: installs what is missing with apt-get (running `apt-get update` once first).
# Otherwise: prints what is missing and how to install it, and exits 1 if anything is.
# Exits 0 when everything is there. Safe to run again: it does nothing when all is present.
set -euo pipefail

find_program() {
    # sshd lives in /usr/sbin, which is not on every user's PATH
    command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true
}

# Things that are not programs: how to tell they are there.
find_item() {
    case "$1" in
        chromium)
            # the browser tests launch Debian's build at this path (never a downloaded one)
            [ -x /usr/bin/chromium ] && echo /usr/bin/chromium || true ;;
        fonts-noto-cjk)
            for font in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
                        /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc; do
                if [ -e "$font" ]; then echo "$font"; return; fi
            done ;;
        *)
            find_program "$1" ;;
    esac
}

items=(sshd sftp ssh-keygen chromium fonts-noto-cjk)
declare -A package_of=(
    [sshd]=openssh-server
    [sftp]=openssh-client
    [ssh-keygen]=openssh-client
    [chromium]=chromium
    [fonts-noto-cjk]=fonts-noto-cjk
)

missing_packages=()
missing_items=()
for item in "${items[@]}"; do
    if [ -z "$(find_item "$item")" ]; then
        missing_items+=("$item")
        package="${package_of[$item]}"
        case " ${missing_packages[*]-} " in
            *" $package "*) ;;
            *) missing_packages+=("$package") ;;
        esac
    fi
done

if [ ${#missing_items[@]} -eq 0 ]; then
    echo "ensure-system-packages: sshd, sftp, ssh-keygen, chromium and the Noto CJK fonts are present"
    exit 0
fi

echo "ensure-system-packages: missing ${missing_items[*]} (Debian packages: ${missing_packages[*]})"
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-system-packages: not root; install them with:"
    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing_packages[*]}"
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# policy-rc.d 101: do not start the system's sshd service from the package's postinst
# (the tests start their own sshd on a free port as the current user).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 0755 "$policy"
    created_policy=1
fi
status=0
apt-get install -y --no-install-recommends "${missing_packages[@]}" || status=$?
if [ "$created_policy" -eq 1 ]; then
    rm -f "$policy"
fi
if [ "$status" -ne 0 ]; then
    echo "ensure-system-packages: apt-get install failed (exit $status)" >&2
    exit "$status"
fi

for item in "${missing_items[@]}"; do
    if [ -z "$(find_item "$item")" ]; then
        echo "ensure-system-packages: $item still missing after installing ${missing_packages[*]}" >&2
        exit 1
    fi
done
echo "ensure-system-packages: installed ${missing_packages[*]}"
