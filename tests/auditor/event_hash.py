"""An auditor's recomputation of run-ledger event hashes, written from
docs/hash-chain.md alone, with the `rfc8785` package (Trail of Bits) for
RFC 8785: no code of the ledger is used.

    python3 event_hash.py < envelopes.json   # {"events": [...]} as GET /v1/runs/{id}/events returns

prints one line per event, `ok` or `MISMATCH`, and exits 1 on a mismatch.
"""

import hashlib
import json
import struct
import sys
import uuid
from datetime import datetime, timezone

import rfc8785


def put_str(out, data: bytes):
    out += struct.pack(">Q", len(data)) + data


def canonical_v1(value) -> bytes:
    # serde_json's compact printing with keys sorted by UTF-8 bytes. Only for
    # the pinned v1 example; v1 number printing is serde_json's own.
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode())
        return b"{" + b",".join(json.dumps(k, ensure_ascii=False).encode() + b":" + canonical_v1(v) for k, v in items) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(canonical_v1(v) for v in value) + b"]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def recorded_at(text: str) -> str:
    # RFC 3339 in UTC, exactly six fractional digits, "Z".
    at = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: dict) -> str:
    version = event.get("hash_version", 1)
    out = bytearray()
    out += f"run-ledger/event/v{version}".encode() + b"\0"
    put_str(out, event["stream_id"].encode())
    out += struct.pack(">Q", event["stream_version"])
    out += struct.pack(">Q", event["global_position"])
    out += uuid.UUID(event["event_id"]).bytes
    put_str(out, event["event_type"].encode())
    out += struct.pack(">I", event["schema_version"])
    for document in (event["data"], event["metadata"]):
        put_str(out, rfc8785.dumps(document) if version == 2 else canonical_v1(document))
    put_str(out, recorded_at(event["recorded_at"]).encode())
    out += bytes.fromhex(event["prev_hash"])
    return hashlib.sha256(bytes(out)).hexdigest()


def number(text: str):
    # A JSON number is an IEEE 754 double (I-JSON); Python keeps integers
    # exact, so those beyond 2^53 - 1, which the ledger stores only when a
    # double holds them exactly, become that double for RFC 8785.
    value = int(text)
    return value if abs(value) <= 2**53 - 1 else float(value)


def main():
    events = json.load(sys.stdin, parse_int=number)["events"]
    bad = 0
    for event in events:
        ok = event_hash(event) == event["hash"]
        bad += not ok
        print(event["global_position"], "ok" if ok else "MISMATCH")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
