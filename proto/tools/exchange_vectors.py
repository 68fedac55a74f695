#!/usr/bin/env python3
"""Writes proto/exchange-vectors.json: answer frames of /citymesh/sync/2 and /citymesh/fetch/2
(proto/README.md §19.1 and §19.8) and what a reader makes of each. Written from the spec and
the field numbers of proto/citymesh.proto alone, with its own protobuf encoding and Python's
`zstandard` for compression; it shares no code with the Rust node. The fetch answers carry
valid envelopes of proto/test-vectors.json. Run from the repository root (needs
`pip install zstandard`):

    python3 proto/tools/exchange_vectors.py

Its output depends on nothing but test-vectors.json and the zstandard library's level-19
output, which the node never compares byte for byte (it reads what it is given).
"""

import json
import os

import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "test-vectors.json")
OUT = os.path.join(HERE, "..", "exchange-vectors.json")
MAX_RESPONSE = 5 * 1024 * 1024
SYNC, FETCH = "/citymesh/sync/2", "/citymesh/fetch/2"


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


def field_bytes(number, value):
    """A length-delimited field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(value)) + value


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


# citymesh.proto: FetchResponse { repeated bytes envelopes = 1; }
def fetch_response(envelopes):
    return b"".join(field_bytes(1, envelope) for envelope in envelopes)


# SyncResponse { bytes negentropy = 1; repeated uint32 versions = 2; } (packed, as proto3 writes it)
def sync_response(negentropy, versions=()):
    out = field_bytes(1, negentropy) if negentropy else b""
    if versions:
        out += field_bytes(2, b"".join(varint(v) for v in versions))
    return out


# Refusal { string reason = 1; uint32 retry_after_ms = 2; }
def refusal(reason, retry_after_ms):
    out = field_bytes(1, reason.encode()) if reason else b""
    if retry_after_ms:
        out += field_varint(2, retry_after_ms)
    return out


# Answer { bytes response = 1; Refusal refused = 2; }
def answer(response=None, refused=None):
    out = b""
    if response:
        out += field_bytes(1, response)
    if refused is not None:
        out += field_bytes(2, refused)
    return out


def frame(payload):
    """§19.1: a 4-byte big-endian length, then the bytes."""
    assert len(payload) <= MAX_RESPONSE
    return len(payload).to_bytes(4, "big") + payload


def compress(data, level=19):
    return zstandard.ZstdCompressor(level=level).compress(data)


def read(protocol, frame_bytes):
    """This program's own reader of §19.8: the verdict a conforming node must reach."""
    length = int.from_bytes(frame_bytes[:4], "big")
    payload = frame_bytes[4:]
    if length != len(payload) or length > MAX_RESPONSE:
        return {"fault": "frame"}
    fields = parse(payload)
    if fields is None:
        return {"fault": "answer does not decode"}
    if 2 in fields:
        refused = parse(fields[2][-1])
        reason = refused.get(1, [b""])[-1].decode()
        retry = refused.get(2, [0])[-1]
        return {"refused": {"reason": reason, "retry_after_ms": retry}}
    response = fields.get(1, [b""])[-1]
    if protocol == FETCH:
        if not response:
            return {"fault": "neither an answer nor a refusal"}
        content = decompress(response)
        if content is None:
            return {"fault": "does not decompress"}
        if len(content) > MAX_RESPONSE:
            return {"fault": "decompresses past 5 MiB"}
        envelopes = parse(content).get(1, [])
        return {"answer": {"envelopes": [e.hex() for e in envelopes]}}
    sync = parse(response)
    negentropy = sync.get(1, [b""])[-1]
    versions = []
    for packed in sync.get(2, []):
        versions += unpack_varints(packed)
    if not negentropy and not versions:
        return {"fault": "neither a message nor versions"}
    return {"answer": {"negentropy": negentropy.hex(), "versions": versions}}


def decompress(data):
    """Every frame of `data`, each complete; None if one is not a Zstandard frame or is cut short."""
    content = b""
    try:
        while data:
            frame_reader = zstandard.ZstdDecompressor().decompressobj()
            content += frame_reader.decompress(data)
            if not frame_reader.eof:
                return None
            data = frame_reader.unused_data
    except zstandard.ZstdError:
        return None
    return content


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def unpack_varints(data):
    out, at = [], 0
    while at < len(data):
        value, at = read_varint(data, at)
        out.append(value)
    return out


def parse(data):
    """Fields by number: varints as ints, length-delimited as bytes; None if it does not decode."""
    fields, at = {}, 0
    try:
        while at < len(data):
            tag, at = read_varint(data, at)
            number, wire = tag >> 3, tag & 7
            if wire == 0:
                value, at = read_varint(data, at)
            elif wire == 2:
                length, at = read_varint(data, at)
                if at + length > len(data):
                    return None
                value, at = data[at : at + length], at + length
            elif wire == 5:
                value, at = data[at : at + 4], at + 4
            elif wire == 1:
                value, at = data[at : at + 8], at + 8
            else:
                return None
            if number == 0:
                return None
            fields.setdefault(number, []).append(value)
    except ValueError:
        return None
    return fields


def main():
    source = json.load(open(VECTORS))
    envelopes = {v["name"]: bytes.fromhex(v["envelope_hex"]) for v in source["vectors"] if v["valid"]}
    three = [envelopes[name] for name in ("practice", "profile", "practice-all-fields")]
    whole = fetch_response(three)
    half = len(whole) // 2
    cases = [
        ("fetch-answer", FETCH, answer(compress(whole)),
         "three valid envelopes (practice, profile, practice-all-fields), compressed at level 19"),
        ("fetch-answer-two-frames", FETCH, answer(compress(whole[:half]) + compress(whole[half:], 1)),
         "the same FetchResponse as two concatenated Zstandard frames, read as one"),
        ("fetch-answer-no-records", FETCH, answer(compress(b"")),
         "an empty FetchResponse (no record held), compressed: a frame of nothing"),
        ("fetch-answer-unknown-field", FETCH, answer(compress(whole)) + field_varint(15, 7),
         "an Answer with a field this version does not know, which a reader skips"),
        ("sync-answer", SYNC, answer(sync_response(bytes([0x61]))),
         "a SyncResponse whose message is the version byte alone: nothing differs"),
        ("sync-unsupported-version", SYNC, answer(sync_response(b"", [0x61])),
         "the answer to a round in another Negentropy version: no message, the versions spoken (97 = 0x61)"),
        ("refusal-busy", FETCH, answer(refused=refusal("too many requests are waiting", 1000)),
         "a refusal: ask again in 1 s"),
        ("refusal-banned", SYNC,
         answer(refused=refusal("this node has banned yours for a while for breaking the sync protocol", 600000)),
         "a refusal of a banned peer: ask again in 10 minutes"),
        ("refusal-at-once", SYNC, answer(refused=refusal("", 0)),
         "a refusal with no reason and retry_after_ms 0 (both fields absent): still a refusal"),
        ("refusal-beside-a-response", FETCH,
         answer(compress(whole), refusal("too many requests are waiting", 1000)),
         "both fields set: the refusal wins"),
        ("fault-not-protobuf", FETCH, b"\xff\xff\xff", "the frame is not an Answer"),
        ("fault-empty-answer", FETCH, b"", "an Answer with neither a response nor a refusal"),
        ("fault-not-zstandard", FETCH, answer(b"not a zstandard frame"), "the response does not decompress"),
        ("fault-truncated-zstandard", FETCH, answer(compress(whole)[:-9]), "the Zstandard frame is cut short"),
        ("fault-past-5-mib", FETCH, answer(compress(b"\x00" * (MAX_RESPONSE + 1))),
         "a small frame that decompresses to 5 MiB and one byte"),
        ("fault-sync-empty", SYNC, answer(sync_response(b"")), "a SyncResponse with neither a message nor versions"),
    ]
    vectors = []
    for name, protocol, payload, note in cases:
        framed = frame(payload)
        vector = {"name": name, "protocol": protocol, "frame_hex": framed.hex(), "note": note}
        vector.update(read(protocol, framed))
        if "answer" in vector and "envelopes" in vector["answer"]:
            by_hex = {e.hex(): n for n, e in envelopes.items()}
            vector["answer"]["names"] = [by_hex.get(e) for e in vector["answer"]["envelopes"]]
        vectors.append(vector)
    expected = {
        "fetch-answer": "answer", "fetch-answer-two-frames": "answer", "fetch-answer-no-records": "answer",
        "fetch-answer-unknown-field": "answer", "sync-answer": "answer", "sync-unsupported-version": "answer",
        "refusal-busy": "refused", "refusal-banned": "refused", "refusal-at-once": "refused",
        "refusal-beside-a-response": "refused",
    }
    for vector in vectors:
        verdict = next(k for k in ("answer", "refused", "fault") if k in vector)
        assert verdict == expected.get(vector["name"], "fault"), (vector["name"], verdict)
    out = {
        "description": "Answer frames of /citymesh/sync/2 and /citymesh/fetch/2 (proto/README.md §19.8), "
        "made by proto/tools/exchange_vectors.py, with the verdict a reader must reach.",
        "vectors": vectors,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
