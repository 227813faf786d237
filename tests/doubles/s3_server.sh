#!/usr/bin/env bash
# TEST STAND-IN -- an S3-compatible object store for Sextant's tests
# (artifacts_backend = s3): s3rver from the npm registry, installed on first
# use into $SX_VAR_DIR/npm (the stack's var/), listening on 127.0.0.1 only.
# It checks AWS Signature Version 4 (headers and presigned queries) against
# its fixed credentials, access key S3RVER, secret S3RVER.  It stands in for
# AWS S3 or MinIO, which no test here can reach; it never ships.
#
#   tests/doubles/s3_server.sh PORT DIR BUCKET    (runs in the foreground)
#   tests/doubles/s3_server.sh install            (install only)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
NPM_DIR=${SX_VAR_DIR:-$ROOT/var}/npm
S3RVER_VERSION=3.7.1
BIN=$NPM_DIR/node_modules/.bin/s3rver

install() {
	[[ -x $BIN ]] && return 0
	if ! command -v npm >/dev/null; then
		# A fresh CI machine runs as root: Debian's npm, as ./stack installs its packages.
		[[ $(id -u) == 0 ]] || { echo "s3_server.sh: npm is missing (apt-get install npm)" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm >&2
	fi
	mkdir -p "$NPM_DIR"
	npm install --no-audit --no-fund --silent --prefix "$NPM_DIR" "s3rver@$S3RVER_VERSION" >&2
}

install
[[ ${1:-} == install ]] && exit 0
(($# == 3)) || { echo "usage: s3_server.sh PORT DIR BUCKET | install" >&2; exit 2; }
mkdir -p "$2"
exec "$BIN" --silent --address 127.0.0.1 --port "$1" --directory "$2" \
	--no-vhost-buckets --configure-bucket "$3"
