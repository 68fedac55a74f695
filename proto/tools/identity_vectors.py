#!/usr/bin/env python3
"""Adds the format-4 `identity-` vectors (organisation identities, proto/README.md §21) to
proto/test-vectors.json: envelope vectors, each checked by this program's own reading of §8
with the format-4 steps 9a to 9c, 17a and 18, and `identity_cases`, sequences of records whose
verdicts under the identity log's rules (§21) this program works out itself.

Written from proto/README.md and the field numbers of proto/citymesh.proto alone. It shares the
protobuf encoding and decoding, the point checks of §9.1 and §9.2 and the body checks of the
format-3 kinds with transfer_vectors.py (the same independent implementation, in Python with
PyNaCl), and shares no code with the Rust node. Run from the repository root (needs
`pip install pynacl`):

    python3 proto/tools/identity_vectors.py

It replaces any vectors whose names start with "identity-" and the whole `identity_cases`
list, and leaves the rest of the file as it is. Its output depends on nothing but the file it
reads (Ed25519 signatures are deterministic).
"""

import hashlib
import json
import os
import sys

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transfer_vectors as tv  # noqa: E402

PATH = tv.PATH
DAY = 24 * 60 * 60 * 1000
MAX_OPERATOR_MS = 396 * DAY
PREFIX = b"citymesh/header/v1\x00"

# Format 4 (citymesh.proto): Envelope field 4, Header field 10, and the identity messages.
tv.SCHEMAS["Envelope"][4] = ("signatures", "*KeySignature")
tv.SCHEMAS["Header"][10] = ("signer", "bytes")
tv.SCHEMAS["KeySignature"] = {1: ("key", "bytes"), 2: ("signature", "bytes")}
tv.SCHEMAS["Operator"] = {1: ("key", "bytes"), 2: ("scopes", "*string"), 3: ("expires_ms", "int64"),
                          4: ("label", "string")}
tv.SCHEMAS["Revocation"] = {1: ("operator", "Operator"), 2: ("reason", "string"), 3: ("since_ms", "int64")}
tv.SCHEMAS["Identity"] = {
    1: ("previous", "bytes"), 2: ("governance", "*bytes"), 3: ("threshold", "uint32"),
    4: ("operators", "*Operator"), 5: ("recovery_commitment", "bytes"), 6: ("revoked", "*Revocation"),
    7: ("domain", "string"),
}
KIND_FORMAT = dict(tv.KIND_FORMAT, identity=4)
FIXED_SLUG = {"profile": "profile", "identity": "identity"}
NOT_WITHDRAWABLE = {"profile", "identity"}
# The newest format read, and the body checks of kinds after format 4 (each given the decoded
# body and header): receipt_vectors.py adds format 5 here.
MAX_FORMAT = 4
LATER_CHECKS = {}
Reject = tv.Reject


def valid_point(key):
    point = tv.decode_point(key)
    return point is not None and not tv.small_order(point)


def signed_by(key, header, signature):
    if len(signature) != 64:
        raise Reject("signature-length")
    try:
        VerifyKey(key).verify(PREFIX + header, signature)
    except BadSignatureError:
        raise Reject("signature")


def verify(envelope, now_ms):
    """§8 steps 2 to 20 with format 4 (and later formats added to MAX_FORMAT, KIND_FORMAT and
    LATER_CHECKS). Returns (header, signers, body)."""
    try:
        e = tv.decode("Envelope", envelope)
    except tv.DecodeError:
        raise Reject("envelope-decode")
    h_bytes, signature, body = e["header"], e["signature"], e["body"]
    if len(h_bytes) > 4096:
        raise Reject("header-size")
    try:
        h = tv.decode("Header", h_bytes)
    except tv.DecodeError:
        raise Reject("header-decode")
    fmt, kind = h["format"], h["kind"]
    if fmt == 0 or fmt > MAX_FORMAT:
        raise Reject("format")
    if len(h["publisher"]) != 32:
        raise Reject("publisher-length")
    point = tv.decode_point(h["publisher"])
    if point is None:
        raise Reject("publisher-key")
    if tv.small_order(point):
        raise Reject("weak-key")
    introduced = KIND_FORMAT.get(kind)
    if introduced is None or introduced > fmt or (kind in NOT_WITHDRAWABLE and h["tombstone"]):
        raise Reject("kind")
    if fmt > max(introduced, 4):  # step 9a
        raise Reject("format")
    signer = b""
    if fmt >= 4:  # step 9b
        signer = h["signer"]
        if kind == "identity" and signer:
            raise Reject("signer")
        own_key_allowed = introduced > 4 and not signer
        if kind != "identity" and not own_key_allowed and (len(signer) != 32 or signer == h["publisher"]):
            raise Reject("signer")
    if fmt > (max(introduced, 4) if signer else introduced):  # step 9c
        raise Reject("format")
    if not tv.SLUG.fullmatch(h["slug"]) or (kind in FIXED_SLUG and h["slug"] != FIXED_SLUG[kind]):
        raise Reject("slug")
    if h["revision"] == 0:
        raise Reject("revision")
    if h["timestamp_ms"] < 0 or h["timestamp_ms"] > now_ms + 600_000:
        raise Reject("timestamp")
    if len(h["body_sha256"]) != 32:
        raise Reject("body-hash-length")
    if h["body_len"] > 262_144 or len(body) > 262_144:
        raise Reject("body-size")
    if h["body_len"] != len(body):
        raise Reject("body-length")
    if hashlib.sha256(body).digest() != h["body_sha256"]:
        raise Reject("body-hash")
    if kind == "identity":  # step 17a
        entries = e["signatures"]
        if signature or not 1 <= len(entries) <= 16:
            raise Reject("signatures")
        keys = [entry["key"] for entry in entries]
        for index, key in enumerate(keys):
            if len(key) != 32 or key in keys[:index] or not valid_point(key):
                raise Reject("signatures")
        for entry in entries:
            signed_by(entry["key"], h_bytes, entry["signature"])
        signers = keys
    else:
        key = signer or h["publisher"]
        if len(signature) == 64 and signer and not valid_point(signer):
            raise Reject("signer")
        signed_by(key, h_bytes, signature)
        signers = [key]
    message = "Tombstone" if h["tombstone"] else "Identity" if kind == "identity" else tv.BODY_MESSAGE[kind]
    try:
        decoded = tv.decode(message, body)
    except tv.DecodeError:
        raise Reject("body-decode")
    if kind in LATER_CHECKS and not h["tombstone"]:
        LATER_CHECKS[kind](decoded, h)
    elif kind != "identity" and not h["tombstone"]:
        tv.BODY_CHECKS[kind](decoded, h["publisher"])
    return h, signers, decoded


# ---------------------------------------------------------------------------------------------
# The identity log (§21).

class Refused(Exception):
    def __init__(self, rule):
        super().__init__(rule)
        self.rule = rule


SCOPABLE = set(KIND_FORMAT) - {"identity"}


def check_body(rev):
    body, ts = rev["body"], rev["timestamp_ms"]
    if rev["revision"] > 1 and len(body["previous"]) != 32:
        raise Refused("identity-field")
    governance = body["governance"]
    if not 1 <= len(governance) <= 16 or len(set(governance)) != len(governance):
        raise Refused("identity-field")
    if any(len(k) != 32 for k in governance) or not 1 <= body["threshold"] <= len(governance):
        raise Refused("identity-field")
    operators = body["operators"]
    revoked_keys = [r["operator"]["key"] for r in body["revoked"] if r["operator"]]
    keys = [o["key"] for o in operators] + revoked_keys
    if len(operators) > 64 or len(set(keys)) != len(keys) or any(len(k) != 32 for k in keys):
        raise Refused("identity-field")
    for o in operators:
        scopes = o["scopes"]
        if not scopes or len(set(scopes)) != len(scopes) or not set(scopes) <= SCOPABLE:
            raise Refused("identity-field")
        if not ts < o["expires_ms"] <= ts + MAX_OPERATOR_MS or len(o["label"]) > 100:
            raise Refused("identity-field")
    if body["recovery_commitment"] and len(body["recovery_commitment"]) != 32:
        raise Refused("identity-field")
    for r in body["revoked"]:
        if not r["operator"] or r["reason"] not in ("retired", "compromised") or r["since_ms"] < 0:
            raise Refused("identity-field")


def threshold(body, signers):
    if len([k for k in body["governance"] if k in signers]) < body["threshold"]:
        raise Refused("identity-threshold")


def check_first(rev):
    if rev["body"]["previous"]:
        raise Refused("identity-field")
    check_body(rev)
    if rev["body"]["governance"][0] != rev["organisation"]:
        raise Refused("identity-founder")
    threshold(rev["body"], rev["signers"])


def check_follows(before, rev):
    follows_unsigned(before, rev)
    threshold(before["body"], rev["signers"])


def follows_unsigned(before, rev):
    if rev["body"]["previous"] != before["id"]:
        raise Refused("identity-previous")
    check_body(rev)
    if rev["timestamp_ms"] < before["timestamp_ms"]:
        raise Refused("identity-time")
    now_revoked = {r["operator"]["key"] for r in rev["body"]["revoked"]}
    if any(r["operator"]["key"] not in now_revoked for r in before["body"]["revoked"]):
        raise Refused("identity-revoked-kept")
    kept = {o["key"] for o in rev["body"]["operators"]} | now_revoked
    if any(o["key"] not in kept for o in before["body"]["operators"]):
        raise Refused("identity-removed")


RECOVERY_WINDOW_MS = 7 * DAY


def signed_threshold(body, signers):
    try:
        threshold(body, signers)
        return True
    except Refused:
        return False


def by_recovery_key(before, rev):
    commitment = before["body"]["recovery_commitment"]
    return len(commitment) == 32 and any(hashlib.sha256(k).digest() == commitment for k in rev["signers"])


class Log:
    def __init__(self):
        self.line, self.fork, self.pending = [], None, None

    def settle(self, now):
        if self.pending and now >= self.pending[1] + RECOVERY_WINDOW_MS:
            self.line.append(self.pending[0])
            self.pending = None
            return "recovered"
        return "waiting"

    def apply(self, rev):
        held = self.line + ([self.fork] if self.fork else []) + ([self.pending[0]] if self.pending else [])
        if any(r["id"] == rev["id"] for r in held):
            return "known"
        if not self.line:
            if rev["revision"] != 1:
                raise Refused("identity-unknown")
            check_first(rev)
            self.line = [rev]
            return "head"
        head = self.line[-1]["revision"]
        if rev["revision"] == head + 1:
            last = self.line[-1]
            if not self.fork and not signed_threshold(last["body"], rev["signers"]) and by_recovery_key(last, rev):
                # A recovery: every rule but the threshold, then the contest window.
                if self.pending:
                    raise Refused("identity-recovery-pending")
                follows_unsigned(last, rev)
                self.pending = (rev, rev["timestamp_ms"])
                return "pending"
            if self.fork and rev["body"]["previous"] == self.fork["id"]:
                check_follows(self.fork, rev)
                self.line[-1] = self.fork
            else:
                check_follows(self.line[-1], rev)
            forked, self.fork, self.pending = self.fork is not None, None, None
            self.line.append(rev)
            return "settled" if forked else "head"
        if rev["revision"] == head and not self.fork:
            if len(self.line) >= 2:
                before = self.line[-2]
                if by_recovery_key(before, rev) and not signed_threshold(before["body"], rev["signers"]):
                    raise Refused("identity-recovery-cancelled")
            if len(self.line) == 1:
                check_first(rev)
            else:
                check_follows(self.line[-2], rev)
            self.fork = rev
            return "fork"
        raise Refused("identity-unknown" if rev["revision"] > head else "identity-stale")

    def authorise(self, signer, kind, ts):
        if not self.line:
            raise Refused("identity-missing")
        if self.fork:
            raise Refused("identity-frozen")
        for r in self.line[-1]["body"]["revoked"]:
            if r["operator"]["key"] == signer and ts >= r["since_ms"]:
                raise Refused("operator-revoked")
        in_force = next((r for r in reversed(self.line) if r["timestamp_ms"] <= ts), self.line[0])["body"]
        candidates = in_force["operators"] + [r["operator"] for r in in_force["revoked"]]
        operator = next((o for o in candidates if o["key"] == signer), None)
        if operator is None:
            raise Refused("operator")
        if kind not in operator["scopes"]:
            raise Refused("operator-scope")
        if ts > operator["expires_ms"]:
            raise Refused("operator-expiry")
        return "ok"


# ---------------------------------------------------------------------------------------------
# The vectors.

def seed(byte):
    return SigningKey(bytes([byte]) * 32)


def public(key):
    return bytes(key.verify_key)


def main():
    with open(PATH) as f:
        data = json.load(f)
    now = data["now_ms"]
    a, b, c, d = seed(0xA1), seed(0xB2), seed(0xC3), seed(0xD4)
    o1, o2, o3, x = seed(0x01), seed(0x02), seed(0x03), seed(0x58)
    recovery = seed(0x5E)
    org = public(a)
    t0 = now - 40 * DAY
    records = {}
    vectors = []

    def header(kind, slug, revision, ts, body_bytes, fmt=4, signer=b"", tombstone=False, publisher=org):
        return tv.encode("Header", {
            "format": fmt, "publisher": publisher, "kind": kind, "slug": slug, "revision": revision,
            "timestamp_ms": ts, "body_sha256": hashlib.sha256(body_bytes).digest(), "body_len": len(body_bytes),
            "tombstone": tombstone, "signer": signer,
        })

    def key_signature(key, head):
        return {"key": public(key), "signature": key.sign(PREFIX + head).signature}

    def identity(name, revision, ts, body, signers, fmt=4, slug="identity", signer=b"", tombstone=False,
                 signatures=None, signature=b""):
        body_bytes = tv.encode("Identity", body)
        head = header("identity", slug, revision, ts, body_bytes, fmt=fmt, signer=signer, tombstone=tombstone)
        if signatures is None:
            signatures = [key_signature(key, head) for key in signers]
        envelope = tv.encode("Envelope", {"header": head, "signature": signature, "body": body_bytes,
                                          "signatures": signatures})
        records[name] = envelope
        return hashlib.sha256(head).digest()

    def operated(name, kind, slug, ts, body, key, signer=None, fmt=4):
        body_bytes = tv.encode(tv.BODY_MESSAGE[kind], body)
        signer = public(key) if signer is None else signer
        head = header(kind, slug, 1, ts, body_bytes, fmt=fmt, signer=signer)
        envelope = tv.encode("Envelope", {"header": head, "signature": key.sign(PREFIX + head).signature,
                                          "body": body_bytes})
        records[name] = envelope

    def operator(key, scopes, expires, label):
        return {"key": public(key), "scopes": scopes, "expires_ms": expires, "label": label}

    request = {
        "title": "Advice on neighbourhood composting", "need": "The city needs advice on organising residents "
        "and siting composting houses.", "themes": ["solid-waste"], "formats": ["remote-advice"],
        "languages": ["en"], "status": "open", "contact": {"role": "Solid waste unit", "channel": "mailto:waste@example.org"},
    }
    offer = {
        "title": "Study visits to composting houses", "summary": "Staff show visiting cities how residents "
        "run composting houses.", "themes": ["solid-waste"], "formats": ["study-visit"], "languages": ["en"],
        "status": "open", "contact": {"role": "Solid waste unit", "channel": "mailto:waste@example.org"},
    }
    first_body = {
        "previous": b"", "governance": [org, public(b), public(c)], "threshold": 2,
        "operators": [operator(o1, ["request", "offer"], t0 + MAX_OPERATOR_MS, "city hall node"),
                      operator(o2, ["request"], t0 + 30 * DAY, "visiting officer's laptop")],
        "recovery_commitment": hashlib.sha256(public(recovery)).digest(), "revoked": [],
    }
    first = identity("identity-founding", 1, t0, first_body, [a, b])
    t2 = now - 5 * DAY
    second_body = {
        "previous": first, "governance": [org, public(b), public(d)], "threshold": 2,
        "operators": [operator(o3, ["request"], t2 + 365 * DAY, "new server")],
        "recovery_commitment": first_body["recovery_commitment"],
        "revoked": [
            {"operator": first_body["operators"][0], "reason": "compromised", "since_ms": now - 6 * DAY},
            {"operator": first_body["operators"][1], "reason": "retired", "since_ms": t0 + 30 * DAY},
        ],
    }
    second = identity("identity-rotation", 2, t2, second_body, [b, c])
    identity("identity-rotation-one-signature", 2, t2, second_body, [b])
    identity("identity-rotation-new-keys-only", 2, t2, second_body, [d, o3])
    identity("identity-rotation-wrong-previous", 2, t2, dict(second_body, previous=bytes(32)), [a, b])
    identity("identity-rotation-drops-operator", 2, t2, dict(second_body, revoked=second_body["revoked"][:1]),
             [a, b])
    early = [operator(o3, ["request"], t0 + 300 * DAY, "new server")]
    identity("identity-rotation-before-founding", 2, t0 - 1, dict(second_body, operators=early), [a, b])
    third_body = dict(second_body, previous=second, operators=[operator(o3, ["request", "offer"],
                                                                        now + 300 * DAY, "new server")])
    third = identity("identity-widened-scopes", 3, now - DAY, third_body, [a, d])
    identity("identity-drops-revocation", 4, now, dict(third_body, previous=third, revoked=[]), [a, b])
    fork_body = dict(second_body, operators=[operator(x, ["offer"], t2 + 365 * DAY, "someone's laptop")],
                     revoked=second_body["revoked"])
    fork = identity("identity-fork", 2, t2, fork_body, [a, c])
    identity("identity-settles-fork", 3, now - DAY, dict(fork_body, previous=fork), [a, b])
    identity("identity-founder-not-first", 1, t0, dict(first_body, governance=[public(b), org, public(c)]), [a, b])
    t_recovery = t0 + 2 * DAY
    recovered_body = dict(first_body, previous=first, governance=[public(d), public(b)], threshold=1)
    identity("identity-recovery", 2, t_recovery, recovered_body, [recovery])
    identity("identity-recovery-by-stranger", 2, t_recovery, recovered_body, [x])

    operated("identity-request-by-operator", "request", "composting-advice", now - 30 * DAY, request, o1)
    operated("identity-request-after-compromise", "request", "composting-advice-2", now, request, o1)
    operated("identity-offer-out-of-scope", "offer", "study-visits", now - 30 * DAY, offer, o2)
    operated("identity-request-expired", "request", "advice-after-expiry", t0 + 31 * DAY, request, o2)
    operated("identity-request-by-stranger", "request", "advice-from-stranger", now - 30 * DAY, request, x)
    operated("identity-request-by-new-server", "request", "advice-from-new-server", now, request, o3)
    operated("identity-offer-by-new-server", "offer", "visits-from-new-server", now, offer, o3)
    operated("identity-offer-by-fork-operator", "offer", "visits-from-fork", now, offer, x)

    notes = {
        "identity-founding": "Revision 1 of the identity of publisher A (seed a1…): governance keys A, B, C, "
                             "threshold 2, two operators (one for requests and offers, one for requests "
                             "expiring after 30 days) and a recovery commitment; signed by A and B in "
                             "Envelope.signatures (§21).",
        "identity-rotation": "Revision 2: C replaced by D, the first operator revoked as compromised six days "
                             "ago, the second retired at its expiry, a new operator; signed by B and C, the "
                             "threshold of revision 1.",
        "identity-request-by-operator": "A format-3 kind in format 4, signed by operator 01 for publisher A "
                                        "(Header.signer).",
    }
    checks = {}
    for name, envelope in records.items():
        h, signers, body = verify(envelope, now)
        checks[name] = (h, signers, body)
        out = {"name": name, "envelope_hex": envelope.hex(), "valid": True,
               "id": hashlib.sha256(tv.decode("Envelope", envelope)["header"]).hexdigest(),
               "publisher": h["publisher"].hex(), "kind": h["kind"], "slug": h["slug"],
               "revision": h["revision"], "timestamp_ms": h["timestamp_ms"], "tombstone": h["tombstone"],
               "signers": [s.hex() for s in signers],
               "note": notes.get(name, "Valid by §8; its verdict in the identity log is in identity_cases.")}
        vectors.append(out)

    # Envelopes that §8 rejects.
    founding = records["identity-founding"]
    env = tv.decode("Envelope", founding)
    head, body_bytes = env["header"], env["body"]

    def rejected(name, envelope, rule, note):
        try:
            verify(envelope, now)
            verdict = None
        except Reject as e:
            verdict = e.rule
        assert verdict == rule, (name, verdict, rule)
        vectors.append({"name": name, "envelope_hex": envelope.hex(), "valid": False, "rule": rule, "note": note})

    def with_parts(signature=b"", signatures=None, h=head):
        signatures = env["signatures"] if signatures is None else signatures
        return tv.encode("Envelope", {"header": h, "signature": signature, "body": body_bytes,
                                      "signatures": signatures})

    def reheaded(**changes):
        h = tv.decode("Header", head)
        h.update(changes)
        new = tv.encode("Header", h)
        return with_parts(signatures=[key_signature(a, new), key_signature(b, new)], h=new)

    good = env["signatures"]
    flipped = dict(good[1], signature=bytes([good[1]["signature"][0] ^ 1]) + good[1]["signature"][1:])
    weak = bytes([1]) + bytes(31)
    rejected("identity-x-format-3", reheaded(format=3), "kind", "Kind identity before format 4 is reserved.")
    rejected("identity-x-signer-set", reheaded(signer=public(o1)), "signer",
             "An identity revision's Header.signer must be empty (step 9b).")
    rejected("identity-x-slug", reheaded(slug="identity-2"), "slug", "An identity revision's slug is identity.")
    rejected("identity-x-tombstone", reheaded(tombstone=True), "kind", "An identity cannot be withdrawn.")
    rejected("identity-x-single-signature-field", with_parts(signature=good[0]["signature"]), "signatures",
             "Envelope.signature must be empty in an identity revision (step 17a).")
    rejected("identity-x-no-signatures", with_parts(signatures=[]), "signatures",
             "An identity revision needs at least one signature.")
    rejected("identity-x-same-key-twice", with_parts(signatures=[good[0], good[0]]), "signatures",
             "Each key signs once.")
    rejected("identity-x-weak-key", with_parts(signatures=[good[0], {"key": weak, "signature": bytes(64)}]),
             "signatures", "A signing key of small order.")
    rejected("identity-x-bad-cosignature", with_parts(signatures=[good[0], flipped]), "signature",
             "The second signature does not verify.")
    rejected("identity-x-short-cosignature", with_parts(signatures=[dict(good[1], signature=bytes(63))]),
             "signature-length", "A 63-byte signature.")

    req = tv.decode("Envelope", records["identity-request-by-operator"])
    req_head = tv.decode("Header", req["header"])

    def request_with(name, rule, note, key=o1, **changes):
        h = tv.encode("Header", dict(req_head, **changes))
        envelope = tv.encode("Envelope", {"header": h, "signature": key.sign(PREFIX + h).signature,
                                          "body": req["body"]})
        rejected(name, envelope, rule, note)

    request_with("identity-x-operator-no-signer", "signer", "Format 4 and not identity: Header.signer is "
                 "required.", signer=b"")
    request_with("identity-x-signer-is-publisher", "signer", "Header.signer names the publisher: sign in the "
                 "kind's own format instead.", key=a, signer=org)
    request_with("identity-x-signer-short", "signer", "Header.signer of 31 bytes.", signer=public(o1)[:31])
    request_with("identity-x-signer-weak", "signer", "Header.signer is a point of small order (step 18).",
                 signer=weak)
    request_with("identity-x-signer-did-not-sign", "signature", "Header.signer names operator 02, but "
                 "operator 01 signed.", signer=public(o2))
    request_with("identity-x-format-5", "format", "An operator's request in format 5, later than both 4 and "
                 "the kind's format 3 (step 9a; step 5 where format 5 is unknown).", format=5)

    # The log's verdicts, record after record (§21).
    def case(name, steps, note):
        log = Log()
        out = []
        for record, expected in steps:
            if isinstance(record, int):
                verdict = log.settle(record)
                assert verdict == expected, (name, record, verdict, expected)
                out.append({"settle_at_ms": record, "verdict": verdict})
                continue
            h, signers, body = checks[record]
            try:
                if h["kind"] == "identity":
                    verdict = log.apply({"id": hashlib.sha256(tv.decode("Envelope", records[record])["header"])
                                         .digest(), "organisation": h["publisher"], "revision": h["revision"],
                                         "timestamp_ms": h["timestamp_ms"], "signers": signers, "body": body})
                else:
                    verdict = log.authorise(signers[0], h["kind"], h["timestamp_ms"])
            except Refused as e:
                verdict = e.rule
            assert verdict == expected, (name, record, verdict, expected)
            out.append({"record": record, "verdict": verdict})
        return {"name": name, "steps": out, "note": note}

    cases = [
        case("rotation", [
            ("identity-request-by-operator", "identity-missing"),
            ("identity-founding", "head"),
            ("identity-founding", "known"),
            ("identity-request-by-operator", "ok"),
            ("identity-offer-out-of-scope", "operator-scope"),
            ("identity-request-expired", "operator-expiry"),
            ("identity-request-by-stranger", "operator"),
            ("identity-rotation-one-signature", "identity-threshold"),
            ("identity-rotation-new-keys-only", "identity-threshold"),
            ("identity-rotation-wrong-previous", "identity-previous"),
            ("identity-rotation-drops-operator", "identity-removed"),
            ("identity-rotation-before-founding", "identity-time"),
            ("identity-widened-scopes", "identity-unknown"),
            ("identity-rotation", "head"),
            ("identity-request-after-compromise", "operator-revoked"),
            ("identity-request-by-operator", "ok"),
            ("identity-request-by-new-server", "ok"),
            ("identity-offer-by-new-server", "operator-scope"),
            ("identity-widened-scopes", "head"),
            ("identity-offer-by-new-server", "ok"),
            ("identity-founding", "known"),
            ("identity-fork", "identity-stale"),
            ("identity-drops-revocation", "identity-revoked-kept"),
        ], "Operators judged by the revision in force; a rotation needs the old threshold; replays change "
           "nothing; a compromised key's later records are refused, its earlier ones kept."),
        case("fork", [
            ("identity-founding", "head"),
            ("identity-rotation", "head"),
            ("identity-fork", "fork"),
            ("identity-request-by-new-server", "identity-frozen"),
            ("identity-settles-fork", "settled"),
            ("identity-offer-by-fork-operator", "ok"),
            ("identity-request-by-new-server", "operator"),
        ], "Two revisions 2 with the same predecessor freeze the identity; a revision 3 that follows one of "
           "them, with its threshold, settles it."),
        case("recovery", [
            ("identity-founding", "head"),
            ("identity-recovery-by-stranger", "identity-threshold"),
            ("identity-recovery", "pending"),
            ("identity-recovery", "known"),
            (t_recovery + RECOVERY_WINDOW_MS - 1, "waiting"),
            ("identity-request-by-operator", "ok"),
            (t_recovery + RECOVERY_WINDOW_MS, "recovered"),
            ("identity-rotation", "fork"),
        ], "Revision 1 commits to the recovery key (seed 5e…); a revision 2 signed by it alone waits 7 days from "
           "when the node received it (here: its own time) and then replaces the governance keys. Another key "
           "is no recovery. A revision 2 the old threshold signs after the window forks the identity (as any "
           "second revision with the same predecessor does): the window is when to answer."),
        case("recovery-cancelled", [
            ("identity-founding", "head"),
            ("identity-recovery", "pending"),
            ("identity-rotation", "head"),
            ("identity-recovery", "identity-recovery-cancelled"),
            (t_recovery + 30 * DAY, "waiting"),
        ], "A revision signed by the old threshold inside the window cancels the recovery."),
        case("founder", [
            ("identity-founder-not-first", "identity-founder"),
            ("identity-rotation", "identity-unknown"),
        ], "A first revision lists the organisation first; a later revision waits for the ones before it."),
    ]

    data["vectors"] = [v for v in data["vectors"] if not v["name"].startswith("identity-")] + vectors
    data["identity_cases"] = cases
    with open(PATH, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
