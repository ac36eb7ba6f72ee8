#!/usr/bin/env bash
# Makes local/busybox:1 from the static busybox: a tiny base image for the
# examples, the tests and the benchmarks, since no registry can be pulled from.
set -euo pipefail
docker_cli=$("$(dirname "$0")/docker-cli.sh")
image=${1:-local/busybox:1}
if "$docker_cli" image inspect "$image" >/dev/null 2>&1; then exit 0; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,root,www,app}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | "$docker_cli" import \
  --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$image" >/dev/null
echo "base-image: built $image" >&2
