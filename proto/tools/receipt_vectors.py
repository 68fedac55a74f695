#!/usr/bin/env python3
"""Adds the format-5 `receipt-` and `erasure-` vectors (partners' receipts of identity revisions
and erasures, proto/README.md §12.19, §12.20 and §21) to proto/test-vectors.json, each checked by this program's own
reading of §8 with format 5: the format-4 verifier of identity_vectors.py (the same independent
implementation, in Python with PyNaCl, sharing no code with the Rust node) told of format 5,
kinds `receipt` and `erasure` and their field rules, written from proto/README.md and the field numbers of
proto/citymesh.proto alone. Run from the repository root, after identity_vectors.py (needs
`pip install pynacl`):

    python3 proto/tools/receipt_vectors.py

It replaces any vectors whose names start with "receipt-", "erasure-" or "domain-" and leaves the rest of the file as
it is. Its output depends on nothing but the file it reads.
"""

import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import identity_vectors as iv  # noqa: E402
import transfer_vectors as tv  # noqa: E402

DAY = iv.DAY
HEX_ID = re.compile(r"[0-9a-f]{64}")
RECEIPTED_KINDS = ["identity", "erasure"]

# Format 5 (citymesh.proto): kind receipt and its message.
tv.SCHEMAS["Receipt"] = {1: ("organisation", "bytes"), 2: ("subject_kind", "string"), 3: ("revision", "uint64")}
tv.SCHEMAS["Erasure"] = {1: ("ids", "*bytes"), 2: ("reason", "string")}
tv.BODY_MESSAGE.update(receipt="Receipt", erasure="Erasure")
iv.KIND_FORMAT.update(receipt=5, erasure=5)
iv.MAX_FORMAT = 5
iv.NOT_WITHDRAWABLE.update({"receipt", "erasure"})


def check_receipt(body, header):
    """§12.19, in the order of its fields; the slug is the id receipted."""
    if not HEX_ID.fullmatch(header["slug"]):
        tv.bad("slug")
    if len(body["organisation"]) != 32 or body["organisation"] == header["publisher"]:
        tv.bad("organisation")
    if body["subject_kind"] not in RECEIPTED_KINDS:
        tv.bad("subject_kind")
    if body["revision"] == 0:
        tv.bad("revision")


def check_erasure(body, header):
    """§12.20, in field-number order."""
    ids = body["ids"]
    if not 1 <= len(ids) <= 1000:
        tv.bad("ids")
    for index, id in enumerate(ids):
        if len(id) != 32 or id in ids[:index]:
            tv.bad(f"ids[{index}]")
    if len(body["reason"]) > 500:
        tv.bad("reason")


iv.LATER_CHECKS.update(receipt=check_receipt, erasure=check_erasure)


def main():
    with open(iv.PATH) as f:
        data = json.load(f)
    now = data["now_ms"]
    by_name = {vector["name"]: vector for vector in data["vectors"]}
    founding = by_name["identity-founding"]
    subject, organisation = founding["id"], bytes.fromhex(founding["publisher"])
    witness, operator = iv.seed(0x77), iv.seed(0x78)
    ts = now - 30 * DAY
    vectors = []

    def envelope(body, slug=subject, fmt=5, key=witness, signer=b"", kind="receipt", tombstone=False,
                 publisher=None):
        body_bytes = tv.encode(tv.BODY_MESSAGE[kind], body)
        publisher = iv.public(witness) if publisher is None else publisher
        head = tv.encode("Header", {
            "format": fmt, "publisher": publisher, "kind": kind, "slug": slug, "revision": 1, "timestamp_ms": ts,
            "body_sha256": hashlib.sha256(body_bytes).digest(), "body_len": len(body_bytes),
            "tombstone": tombstone, "signer": signer,
        })
        return tv.encode("Envelope", {"header": head, "signature": key.sign(iv.PREFIX + head).signature,
                                      "body": body_bytes})

    receipt = {"organisation": organisation, "subject_kind": "identity", "revision": 1}

    def valid(name, env, note):
        h, _, _ = iv.verify(env, now)
        vectors.append({"name": name, "envelope_hex": env.hex(), "valid": True,
                        "id": hashlib.sha256(tv.decode("Envelope", env)["header"]).hexdigest(),
                        "publisher": h["publisher"].hex(), "kind": h["kind"], "slug": h["slug"],
                        "revision": h["revision"], "timestamp_ms": h["timestamp_ms"], "tombstone": h["tombstone"],
                        "note": note})

    def rejected(name, env, rule, note, field=None):
        try:
            iv.verify(env, now)
            verdict = (None, None)
        except tv.Reject as e:
            verdict = (e.rule, e.field)
        assert verdict == (rule, field), (name, verdict, rule, field)
        out = {"name": name, "envelope_hex": env.hex(), "valid": False, "rule": rule, "note": note}
        if field is not None:
            out["field"] = field
        vectors.append(out)

    valid("receipt-of-identity", envelope(receipt),
          "Witness 77… (its own key, format 5, Header.signer empty) receipts revision 1 of organisation A "
          "(identity-founding); the slug is that revision's id.")
    valid("receipt-by-operator", envelope(receipt, key=operator, signer=iv.public(operator)),
          "The same receipt signed by operator key 78… for witness 77… (format 5, Header.signer set). Any "
          "operator of the witness may sign a receipt, whatever its scopes (§21).")
    rejected("receipt-x-format-4", envelope(receipt, fmt=4, key=operator, signer=iv.public(operator)), "kind",
             "Kind receipt before format 5 is reserved.")
    rejected("receipt-x-signer-is-publisher", envelope(receipt, signer=iv.public(witness)), "signer",
             "Header.signer names the publisher: leave it empty when the publisher signs.")
    rejected("receipt-x-tombstone", envelope(receipt, tombstone=True), "kind", "A receipt cannot be withdrawn.")
    rejected("receipt-x-slug-not-an-id", envelope(receipt, slug="identity"), "body-field",
             "The slug must be the id of the record receipted (64 lowercase hex characters).", "slug")
    rejected("receipt-x-own-organisation", envelope(dict(receipt, organisation=iv.public(witness))), "body-field",
             "A receipt witnesses another organisation's record, not its publisher's.", "organisation")
    rejected("receipt-x-short-organisation", envelope(dict(receipt, organisation=organisation[:31])),
             "body-field", "The organisation is a 32-byte key.", "organisation")
    rejected("receipt-x-practice", envelope(dict(receipt, subject_kind="practice")), "body-field",
             "Format 5 receipts identity revisions only.", "subject_kind")
    rejected("receipt-x-revision-0", envelope(dict(receipt, revision=0)), "body-field",
             "Revisions start at 1.", "revision")
    rejected("receipt-x-format-6", envelope(receipt, fmt=6), "format", "Format 6 is not defined.")

    # Erasures, by organisation A (seed a1…) of two revisions (their ids need not be held to verify).
    a = iv.seed(0xA1)
    erased = [bytes([0xE1]) * 32, bytes([0xE2]) * 32]
    erasure = {"ids": erased, "reason": "personal data in contacts"}

    def erasure_envelope(body, **options):
        options = dict({"slug": "erasure-1", "key": a, "kind": "erasure", "publisher": organisation}, **options)
        return envelope(body, **options)

    valid("erasure-of-two", erasure_envelope(erasure),
          "Organisation A asks nodes to drop the bodies of two of its superseded revisions (ids e1… and e2…).")
    erasure_id = hashlib.sha256(tv.decode("Envelope", erasure_envelope(erasure))["header"]).hexdigest()
    valid("erasure-receipt", envelope(dict(receipt, subject_kind="erasure"), slug=erasure_id),
          "Witness 77… says it dropped what erasure-of-two lists.")
    rejected("erasure-x-format-4", erasure_envelope(erasure, fmt=4, key=operator, signer=iv.public(operator)),
             "kind", "Kind erasure before format 5 is reserved.")
    rejected("erasure-x-tombstone", erasure_envelope(erasure, tombstone=True), "kind",
             "An erasure cannot be withdrawn: what was erased stays erased.")
    rejected("erasure-x-no-ids", erasure_envelope(dict(erasure, ids=[])), "body-field", "An erasure lists 1 to "
             "1,000 ids.", "ids")
    rejected("erasure-x-short-id", erasure_envelope(dict(erasure, ids=[erased[0], erased[1][:31]])), "body-field",
             "A record id is 32 bytes.", "ids[1]")
    rejected("erasure-x-id-twice", erasure_envelope(dict(erasure, ids=[erased[0], erased[0]])), "body-field",
             "Each id once.", "ids[1]")
    many = [index.to_bytes(32, "big") for index in range(1001)]
    rejected("erasure-x-too-many", erasure_envelope(dict(erasure, ids=many)), "body-field",
             "1,001 ids: at most 1,000.", "ids")
    rejected("erasure-x-long-reason", erasure_envelope(dict(erasure, reason="x" * 501)), "body-field",
             "A reason of 501 characters.", "reason")

    # An identity naming its website (Identity.domain, added to format 4 in this edition).
    city = iv.seed(0xE7)
    body = {"previous": b"", "governance": [iv.public(city)], "threshold": 1, "operators": [
        {"key": iv.public(city), "scopes": ["practice"], "expires_ms": ts + 300 * DAY, "label": "city node"}],
        "recovery_commitment": b"", "revoked": [], "domain": "surabaya.go.id"}
    body_bytes = tv.encode("Identity", body)
    head = tv.encode("Header", {
        "format": 4, "publisher": iv.public(city), "kind": "identity", "slug": "identity", "revision": 1,
        "timestamp_ms": ts, "body_sha256": hashlib.sha256(body_bytes).digest(), "body_len": len(body_bytes),
        "tombstone": False, "signer": b""})
    signature = {"key": iv.public(city), "signature": city.sign(iv.PREFIX + head).signature}
    valid("domain-identity", tv.encode("Envelope", {"header": head, "signature": b"", "body": body_bytes,
                                                    "signatures": [signature]}),
          "Revision 1 of the identity of key e7…, naming its website surabaya.go.id (Identity.domain, field 7).")

    prefixes = ("receipt-", "erasure-", "domain-")
    data["vectors"] = [v for v in data["vectors"] if not v["name"].startswith(prefixes)] + vectors
    with open(iv.PATH, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
