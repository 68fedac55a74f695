#!/usr/bin/env python3
"""Adds the format-2 `partnership` vectors to proto/test-vectors.json.

Written from proto/README.md (sections 4, 5, 6, 7, 8, 11, 12.11 and 17) alone, with its own
protobuf encoding and PyNaCl (libsodium) signatures, so that the Rust node is checked against
an implementation that shares no code with it. Run from the repository root:

    python3 proto/tools/partnership_vectors.py

It replaces any vectors whose names start with "partnership" and the heads entry of the
partnership key, and leaves the rest of the file as it is.
"""

import hashlib
import json

from nacl.signing import SigningKey

PATH = "proto/test-vectors.json"


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value) if value else b""


def field_bytes(number, value):
    return varint(number << 3 | 2) + varint(len(value)) + value if value else b""


def header(fmt, publisher, kind, slug, revision, timestamp_ms, body, tombstone=False):
    return (
        field_varint(1, fmt)
        + field_bytes(2, publisher)
        + field_bytes(3, kind.encode())
        + field_bytes(4, slug.encode())
        + field_varint(5, revision)
        + field_varint(6, timestamp_ms)
        + field_bytes(7, hashlib.sha256(body).digest())
        + field_varint(8, len(body))
        + field_varint(9, 1 if tombstone else 0)
    )


def envelope(key, head, body):
    signature = key.sign(b"citymesh/header/v1\x00" + head).signature
    return field_bytes(1, head) + field_bytes(2, signature) + field_bytes(3, body)


def main():
    with open(PATH) as f:
        data = json.load(f)
    key = SigningKey(bytes.fromhex(data["publisher_seed_hex"]))
    publisher = bytes(key.verify_key)
    assert publisher.hex() == data["publisher_hex"]
    partner = bytes(SigningKey(bytes(range(32, 64))).verify_key)
    now = data["now_ms"]
    body = field_bytes(1, partner)
    stone = field_bytes(1, b"partnership ended")

    def vector(name, fmt, slug, body, valid, rule=None, field=None, note="", revision=1, tombstone=False,
               kind="partnership"):
        head = header(fmt, publisher, kind, slug, revision, now, body, tombstone)
        out = {"name": name, "envelope_hex": envelope(key, head, body).hex(), "valid": valid}
        if valid:
            out.update({
                "id": hashlib.sha256(head).hexdigest(), "publisher": publisher.hex(), "kind": kind, "slug": slug,
                "revision": revision, "timestamp_ms": now, "tombstone": tombstone,
            })
        else:
            out["rule"] = rule
            if field:
                out["field"] = field
        out["note"] = note
        return out

    vectors = [
        vector("partnership", 2, partner.hex(), body, True,
               note="Format 2: the publisher names a partner; the slug is the partner's key in hex."),
        vector("partnership-withdrawn", 2, partner.hex(), stone, True, revision=2, tombstone=True,
               note="The partnership ended: a tombstone revision, format 2."),
        vector("partnership-format-1", 1, partner.hex(), body, False, rule="kind",
               note="Kind partnership is reserved in format 1."),
        vector("partnership-practice-format-2", 2, "community-composting", b"", False, rule="format",
               kind="practice", note="A practice note in format 2: it must be signed in format 1."),
        vector("partnership-self", 2, publisher.hex(), field_bytes(1, publisher), False, rule="body-field",
               field="partner", note="Naming itself."),
        vector("partnership-slug-mismatch", 2, "sister-city", body, False, rule="body-field", field="partner",
               note="The slug is not the partner's key in hex."),
        vector("partnership-partner-length", 2, partner.hex(), field_bytes(1, partner[:31]), False,
               rule="body-field", field="partner", note="A 31-byte partner key."),
    ]
    data["description"] = data["description"].replace("wire format 1 test vectors", "wire format 1 and 2 test vectors")
    data["vectors"] = [v for v in data["vectors"] if not v["name"].startswith("partnership")] + vectors
    ids = [v["id"] for v in vectors if v["valid"]]
    heads = [h for h in data["heads"] if h["kind"] != "partnership"]
    heads.append({"publisher": publisher.hex(), "kind": "partnership", "slug": partner.hex(), "head": ids[1],
                  "ids": ids})
    data["heads"] = heads
    with open(PATH, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
