#!/bin/bash
# Install the CongoDB test server next to this script (needs node >= 18 and the npm registry).
# A plain `npm install @push.rocks/smartmongo@2.2.0` fails (it pulls mongodb-memory-server and
# private build tools), so: unpack the published tarball, keep its compiled CongoDB server
# (dist_ts/congodb) and install only the packages that server imports.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "npm not found: the MongoDB-wire tests will be skipped"; exit 0; }
tarball=$(npm pack --silent @push.rocks/smartmongo@2.2.0)
rm -rf congodb package
tar xzf "$tarball"
mv package/dist_ts/congodb congodb
rm -rf package "$tarball"
npm install --no-audit --no-fund --silent
echo "CongoDB test server installed in $(pwd)"
