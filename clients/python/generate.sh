#!/usr/bin/env bash
# Regenerates the Python client from the document the service serves.
#   clients/python/generate.sh [openapi.json]
# Without an argument it asks the tests to write target/tmp/openapi.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
document="${1:-target/tmp/openapi.json}"
if [ "$#" -eq 0 ]; then
    cargo test --quiet --test api openapi::write_the_document -- --ignored >/dev/null
fi
python3 -m pip show openapi-python-client 2>/dev/null | grep -q '^Version: 0.29.1$' ||
    python3 -m pip install --quiet openapi-python-client==0.29.1
out="$(mktemp -d)"
python3 -m openapi_python_client generate --meta uv --config clients/python/generator.yaml \
    --path "$document" --output-path "$out/client"
# ledger.py is the package's one hand-written module: it stays.
cp clients/python/run_ledger_client/ledger.py "$out/ledger.py"
rm -rf clients/python/run_ledger_client
cp -r "$out/client/run_ledger_client" clients/python/
cp "$out/ledger.py" clients/python/run_ledger_client/ledger.py
cp "$out/client/pyproject.toml" "$out/client/README.md" clients/python/
rm -rf "$out"
