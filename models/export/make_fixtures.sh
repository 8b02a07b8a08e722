#!/bin/sh
# Rebuilds the random-weight Kronos and Toto fixtures (models/fixtures/*-tiny.*): a checkpoint in the
# authors' published layout is written to a temporary folder, then exported like a real one.
set -e
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 models/export/kronos.py --random-checkpoint "$tmp/kronos"
/usr/bin/python3 models/export/kronos.py --checkpoint "$tmp/kronos" --out models/fixtures/kronos-tiny --max-context 48 --min-context 16 --horizon 64
if [ -f models/export/toto.py ]; then
  /usr/bin/python3 models/export/toto.py --random-checkpoint "$tmp/toto"
  /usr/bin/python3 models/export/toto.py --checkpoint "$tmp/toto" --out models/fixtures/toto-tiny --max-context 64 --min-context 8 --horizon 64
fi
