#!/usr/bin/env python3
"""Adds the `place-` vectors (coordinates in `Place`, §12.4) to proto/test-vectors.json.

Written from proto/README.md (sections 3, 4, 5, 6, 7, 8, 12.1, 12.4 and 15) alone, with its own
protobuf reading and writing and PyNaCl (libsodium) signatures, so that the Rust node is
checked against an implementation that shares no code with it. It takes the body of the vector
`practice`, changes nothing but the `location` (field 17 of Practice) by adding `latitude`
(field 7) and `longitude` (field 8), and signs it under a new slug with the default publisher's
seed. Run from the repository root (needs `pip install pynacl`):

    python3 proto/tools/place_vectors.py

It replaces any vectors whose names start with "place-" and adds a heads entry for each new
key, and leaves the rest of the file as it is.
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


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def fields(data):
    """The (number, wire type, value) of every field of a message, in order (varint and
    length-delimited fields only, which is all these messages use)."""
    out, at = [], 0
    while at < len(data):
        key, at = read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = read_varint(data, at)
        elif wire == 2:
            length, at = read_varint(data, at)
            value, at = data[at:at + length], at + length
        else:
            raise ValueError(f"wire type {wire} in field {number}")
        out.append((number, wire, value))
    return out


def write(message_fields):
    out = b""
    for number, wire, value in message_fields:
        if wire == 0:
            out += varint(number << 3) + varint(value)
        else:
            out += varint(number << 3 | 2) + varint(len(value)) + value
    return out


def replace(message_fields, number, value):
    return [(n, w, value if n == number else v) for n, w, v in message_fields]


def vector(file, name, slug, latitude, longitude, note):
    practice = next(v for v in file["vectors"] if v["name"] == "practice")
    envelope = fields(bytes.fromhex(practice["envelope_hex"]))
    header = fields(dict((n, v) for n, _, v in envelope)[1])
    body = fields(dict((n, v) for n, _, v in envelope)[3])
    location = fields(dict((n, v) for n, _, v in body)[17])
    location = [f for f in location if f[0] not in (7, 8)]
    for number, text in ((7, latitude), (8, longitude)):
        if text:
            location.append((number, 2, text.encode()))
    body_bytes = write(replace(body, 17, write(location)))
    header = replace(header, 4, slug.encode())
    header = replace(header, 7, hashlib.sha256(body_bytes).digest())
    header = replace(header, 8, len(body_bytes))
    header_bytes = write(header)
    key = SigningKey(bytes.fromhex(file["publisher_seed_hex"]))
    signature = key.sign(b"citymesh/header/v1\x00" + header_bytes).signature
    envelope_bytes = write([(1, 2, header_bytes), (2, 2, signature), (3, 2, body_bytes)])
    values = dict((n, v) for n, _, v in header)
    return {
        "name": name,
        "envelope_hex": envelope_bytes.hex(),
        "valid": True,
        # §5: the id is SHA-256 of the header bytes as signed.
        "id": hashlib.sha256(header_bytes).hexdigest(),
        "publisher": values[2].hex(),
        "kind": values[3].decode(),
        "slug": slug,
        "revision": values[5],
        "timestamp_ms": values[6],
        "tombstone": bool(values.get(9, 0)),
        "note": note,
    }


def main():
    with open(PATH) as f:
        file = json.load(f)
    new = [
        vector(
            file,
            "place-coordinates",
            "place-coordinates",
            "-7.2575",
            "112.7521",
            "The practice note of `practice` with location.latitude -7.2575 and location.longitude 112.7521 (§12.4).",
        ),
        vector(
            file,
            "place-coordinates-malformed",
            "place-coordinates-malformed",
            "123.4",
            "",
            "A latitude out of range and no longitude: valid all the same, since verifiers do not check coordinates (§12.4, §17); readers show no coordinates.",
        ),
    ]
    file["vectors"] = [v for v in file["vectors"] if not v["name"].startswith("place-")] + new
    slugs = {v["slug"] for v in new}
    file["heads"] = [h for h in file["heads"] if h.get("slug") not in slugs]
    for v in new:
        file["heads"].append(
            {"publisher": v["publisher"], "kind": v["kind"], "slug": v["slug"], "head": v["id"], "ids": [v["id"]]}
        )
    with open(PATH, "w") as f:
        json.dump(file, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
