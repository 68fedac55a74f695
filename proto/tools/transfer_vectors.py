#!/usr/bin/env python3
"""Adds the format-3 `transfer-` vectors (request, offer, event, engagement, outcome and
endorsement records, §12.12 to §12.18) to proto/test-vectors.json.

Written from proto/README.md (sections 3 to 8, 10, 12, 13, 15 and 17) and the field numbers of
proto/citymesh.proto alone, with its own protobuf encoding and decoding and PyNaCl (libsodium)
signatures, so that the Rust node is checked against an implementation that shares no code
with it. Every vector is made, then verified again by this program's own reading of §8 (every
step but `envelope-size`, with the point decoding and small-order test of §9.1 and §9.2 and
libsodium for the signature), which must give the verdict the vector states: the valid ones
pass, each invalid one fails first at its rule (and field path). The lists of §13.19 and §13.20
are read from data/m49.tsv and data/time-zones.txt, as the specification says. Run from the
repository root (needs `pip install pynacl`):

    python3 proto/tools/transfer_vectors.py

It replaces any vectors whose names start with "transfer-" and the heads entries of the keys of
its valid vectors, and leaves the rest of the file as it is. Its output depends on nothing but
the file it reads (Ed25519 signatures are deterministic).
"""

import hashlib
import json
import re

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

PATH = "proto/test-vectors.json"
M49 = "data/m49.tsv"
TIME_ZONES = "data/time-zones.txt"

# ---------------------------------------------------------------------------------------------
# Messages (citymesh.proto). A type starting with "*" is repeated; a capitalised type is an
# embedded message.

SCHEMAS = {
    "Envelope": {1: ("header", "bytes"), 2: ("signature", "bytes"), 3: ("body", "bytes")},
    "Header": {
        1: ("format", "uint32"), 2: ("publisher", "bytes"), 3: ("kind", "string"), 4: ("slug", "string"),
        5: ("revision", "uint64"), 6: ("timestamp_ms", "int64"), 7: ("body_sha256", "bytes"),
        8: ("body_len", "uint64"), 9: ("tombstone", "bool"),
    },
    "Tombstone": {1: ("reason", "string")},
    "Place": {
        1: ("country", "string"), 2: ("name", "string"), 3: ("wikidata", "string"), 4: ("geonames", "string"),
        5: ("subdivision", "string"), 6: ("unlocode", "string"), 7: ("latitude", "string"),
        8: ("longitude", "string"),
    },
    "Contact": {1: ("role", "string"), 2: ("channel", "string"), 3: ("name", "string")},
    "Practice": {
        1: ("title", "string"), 2: ("summary", "string"), 12: ("themes", "*string"), 14: ("status", "string"),
        17: ("location", "Place"), 19: ("language", "string"),
    },
    "Ref": {1: ("publisher", "bytes"), 2: ("slug", "string")},
    "Link": {1: ("title", "string"), 2: ("url", "string")},
    "Request": {
        1: ("title", "string"), 2: ("need", "string"), 3: ("themes", "*string"), 4: ("sdg_targets", "*string"),
        5: ("formats", "*string"), 6: ("languages", "*string"), 7: ("start_date", "string"),
        8: ("end_date", "string"), 9: ("regions", "*string"), 10: ("costs", "string"),
        11: ("practices", "*Ref"), 12: ("status", "string"), 13: ("contact", "Contact"),
    },
    "Offer": {
        1: ("title", "string"), 2: ("summary", "string"), 3: ("themes", "*string"), 4: ("sdg_targets", "*string"),
        5: ("formats", "*string"), 6: ("languages", "*string"), 7: ("practices", "*Ref"),
        8: ("capacity", "string"), 9: ("costs", "string"), 10: ("available_from", "string"),
        11: ("available_until", "string"), 12: ("regions", "*string"), 13: ("status", "string"),
        14: ("contact", "Contact"),
    },
    "Event": {
        1: ("title", "string"), 2: ("summary", "string"), 3: ("event_type", "string"), 4: ("start", "string"),
        5: ("end", "string"), 6: ("time_zone", "string"), 7: ("place", "Place"), 8: ("online_url", "string"),
        9: ("organisers", "*string"), 10: ("languages", "*string"), 11: ("themes", "*string"),
        12: ("capacity", "uint32"), 13: ("registration", "Contact"), 14: ("practices", "*Ref"),
        15: ("requests", "*Ref"), 16: ("status", "string"),
    },
    "Activity": {1: ("title", "string"), 2: ("date", "string"), 3: ("event", "Ref")},
    "Stage": {1: ("stage", "string"), 2: ("date", "string")},
    "Engagement": {
        1: ("counterpart", "bytes"), 2: ("role", "string"), 3: ("practice", "Ref"), 4: ("request", "Ref"),
        5: ("offer", "Ref"), 6: ("activities", "*Activity"), 7: ("stages", "*Stage"), 8: ("summary", "string"),
    },
    "ResultIndicator": {
        1: ("label", "string"), 2: ("unit", "string"), 3: ("baseline", "string"), 4: ("baseline_date", "string"),
        5: ("target", "string"), 6: ("target_date", "string"), 7: ("actual", "string"),
        8: ("actual_date", "string"),
    },
    "Outcome": {
        1: ("engagement", "string"), 2: ("title", "string"), 3: ("summary", "string"),
        4: ("indicators", "*ResultIndicator"), 5: ("results", "string"), 6: ("lessons", "string"),
        7: ("evidence", "*Link"),
    },
    "Endorsement": {
        1: ("subject_kind", "string"), 2: ("subject", "Ref"), 3: ("grounds", "*string"), 4: ("comment", "string"),
    },
}

# Only the parts of Practice that the one practice vector uses are listed above: it is rejected
# at step 9, before its body is read.
BODY_MESSAGE = {
    "practice": "Practice", "request": "Request", "offer": "Offer", "event": "Event",
    "engagement": "Engagement", "outcome": "Outcome", "endorsement": "Endorsement",
}
SCALAR_WIRE = {"uint32": 0, "uint64": 0, "int64": 0, "bool": 0, "bytes": 2, "string": 2}

# ---------------------------------------------------------------------------------------------
# Encoding (§3.5, canonical).


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


def key(number, wire):
    return varint(number << 3 | wire)


def encode(message, values):
    """The canonical encoding of `values` (a dict by field name; an embedded message is a dict,
    present even when empty, or None for absent) as `message`."""
    schema = SCHEMAS[message]
    names = {name for name, _ in schema.values()}
    assert set(values) <= names, set(values) - names
    out = b""
    for number in sorted(schema):
        name, kind = schema[number]
        value = values.get(name)
        repeated = kind.startswith("*")
        kind = kind.lstrip("*")
        for element in (value or []) if repeated else [value]:
            if kind[0].isupper():
                if element is not None:
                    payload = encode(kind, element)
                    out += key(number, 2) + varint(len(payload)) + payload
            elif kind in ("uint32", "uint64", "bool"):
                if element:
                    out += key(number, 0) + varint(int(element))
            elif kind == "int64":
                if element:
                    out += key(number, 0) + varint(element % 2**64)
            else:
                payload = (element or "").encode() if kind == "string" else (element or b"")
                if payload or repeated:
                    out += key(number, 2) + varint(len(payload)) + payload
    return out


# ---------------------------------------------------------------------------------------------
# Decoding (§3).


class DecodeError(Exception):
    pass


def read_varint(data, at, end):
    value = 0
    for i in range(10):
        if at >= end:
            raise DecodeError("input ends inside a varint")
        byte = data[at]
        at += 1
        if i == 9 and byte > 1:
            raise DecodeError("varint over 2^64 - 1")
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, at
    raise DecodeError("varint longer than 10 bytes")


def read_fields(data, at, end, level, group=None):
    """Yields (number, wire, value) for the fields of data[at:end]; with `group` set, reads up to
    and including the end-group key of that field number and returns where it ends."""
    out = []
    while at < end:
        k, at = read_varint(data, at, end)
        if k > 2**32 - 1:
            raise DecodeError("key over 2^32 - 1")
        number, wire = k >> 3, k & 7
        if wire in (6, 7) or number == 0:
            raise DecodeError(f"bad key {k}")
        if wire == 4:
            if group == number:
                return out, at
            raise DecodeError("end group outside its group")
        if level >= 100:
            raise DecodeError("nesting too deep")
        if wire == 0:
            value, at = read_varint(data, at, end)
        elif wire == 1 or wire == 5:
            size = 8 if wire == 1 else 4
            if end - at < size:
                raise DecodeError("truncated fixed field")
            value, at = data[at:at + size], at + size
        elif wire == 2:
            length, at = read_varint(data, at, end)
            if end - at < length:
                raise DecodeError("truncated length-delimited field")
            value, at = data[at:at + length], at + length
        else:
            _, at = read_fields(data, at, end, level + 1, group=number)
            value = None
        out.append((number, wire, value))
    if group is not None:
        raise DecodeError("group never ends")
    return out, at


def decode(message, data, level=0):
    schema = SCHEMAS[message]
    values, merged = {}, {}
    for name, kind in schema.values():
        values[name] = [] if kind.startswith("*") else None if kind[0].isupper() else (
            "" if kind == "string" else b"" if kind == "bytes" else False if kind == "bool" else 0)
    fields, _ = read_fields(data, 0, len(data), level)
    for number, wire, value in fields:
        if number not in schema:
            continue
        name, kind = schema[number]
        repeated = kind.startswith("*")
        kind = kind.lstrip("*")
        expected = 2 if repeated or kind[0].isupper() else SCALAR_WIRE[kind]
        if wire != expected:
            raise DecodeError(f"{name}: wire type {wire}")
        if kind[0].isupper():
            if repeated:
                values[name].append(decode(kind, value, level + 1))
            else:
                merged[name] = merged.get(name, b"") + value
                values[name] = decode(kind, merged[name], level + 1)
            continue
        if kind == "string":
            try:
                value = value.decode("utf-8", errors="strict")
            except UnicodeDecodeError:
                raise DecodeError(f"{name}: invalid UTF-8")
        elif kind == "uint32":
            value &= 0xFFFFFFFF
        elif kind == "int64":
            value = value - 2**64 if value >= 2**63 else value
        elif kind == "bool":
            value = value != 0
        if repeated:
            values[name].append(value)
        else:
            values[name] = value
    return values


# ---------------------------------------------------------------------------------------------
# Ed25519 point decoding and small order (§9.1, §9.2).

P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decode_point(b):
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = (n % 2**255) % P
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x2 = u * pow(v, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if x * x % P != x2:
        x = x * SQRT_M1 % P
    if x * x % P != x2:
        return None
    if x & 1:
        x = P - x
    if sign:
        x = (P - x) % P
    return x, y


def add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def small_order(point):
    for _ in range(3):
        point = add(point, point)
    return point == (0, 1)


# ---------------------------------------------------------------------------------------------
# Vocabularies (§13).

THEMES = {
    "urban-governance", "service-delivery", "environment", "infrastructure", "solid-waste", "water-sanitation",
    "transport", "housing", "energy", "climate-resilience", "health", "local-economy", "social-inclusion",
}
SDG = set()
for goal, numbers, letters in [
    (1, 5, "ab"), (2, 5, "abc"), (3, 9, "abcd"), (4, 7, "abc"), (5, 6, "abc"), (6, 6, "ab"), (7, 3, "ab"),
    (8, 10, "ab"), (9, 5, "abc"), (10, 7, "abc"), (11, 7, "abc"), (12, 8, "abc"), (13, 3, "ab"),
    (14, 7, "abc"), (15, 9, "abc"), (16, 10, "ab"), (17, 19, ""),
]:
    SDG |= {f"{goal}.{n}" for n in range(1, numbers + 1)} | {f"{goal}.{c}" for c in letters}
assert len(SDG) == 169
COUNTRIES = set("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())
assert len(COUNTRIES) == 249
FORMATS = {"study-visit", "expert-mission", "staff-exchange", "training", "webinar", "remote-advice", "documents",
           "twinning"}
COSTS = {"requester", "provider", "shared", "external", "to-agree"}
REQUEST_STATUS = {"open", "in-progress", "closed"}
OFFER_STATUS = {"open", "paused", "closed"}
EVENT_STATUS = {"scheduled", "postponed", "cancelled", "held"}
EVENT_TYPES = {"seminar", "training", "conference", "webinar", "workshop", "exchange-visit", "study-tour",
               "staff-exchange"}
ROLES = {"provider", "recipient"}
STAGES = ["exploring", "agreed", "learning", "piloting", "adopted", "adapted", "abandoned"]
FINAL = {"adopted", "adapted", "abandoned"}
GROUNDS = {"visited", "applied", "verified-results"}
SUBJECT_KINDS = {"practice", "outcome"}


def load_regions():
    regions = set(COUNTRIES)
    with open(M49) as f:
        for line in f:
            if line.startswith("#") or not line.strip("\n"):
                continue
            columns = line.rstrip("\n").split("\t")
            regions |= {c for c in (columns[1], columns[3]) if c}
    assert all(re.fullmatch(r"[0-9]{3}|[A-Z]{2}", r) for r in regions)
    return regions


def load_time_zones():
    with open(TIME_ZONES) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


REGIONS = load_regions()
ZONES = load_time_zones()

# §2: the 25 White_Space characters; Cc.
WHITESPACE = "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680" + "".join(
    chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
assert len(WHITESPACE) == 25
CONTROL = {chr(c) for c in list(range(0x00, 0x20)) + list(range(0x7F, 0xA0))}
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
BCP47 = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"
    r"|x(?:-[a-z0-9]{1,8})+"
)
DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]{1,4})?")
TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|([+-])([0-9]{2}):([0-9]{2}))")


def words(text):
    return len([w for w in re.split("[" + re.escape(WHITESPACE) + "]+", text) if w])


def is_bcp47(tag):
    # Case-insensitive, ASCII classes only: lower-case ASCII letters and nothing else.
    return bool(BCP47.fullmatch("".join(c.lower() if "A" <= c <= "Z" else c for c in tag)))


def days_in_month(year, month):
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_date(text):
    m = re.fullmatch(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?", text)
    if not m or not 1000 <= int(m[1]) <= 9999:
        return False
    if m[2] is not None and not 1 <= int(m[2]) <= 12:
        return False
    return m[3] is None or 1 <= int(m[3]) <= days_in_month(int(m[1]), int(m[2]))


def ends_before(end, start):
    """§13.21."""
    n = min(len(end), len(start))
    return end[:n] < start[:n]


def instant(text):
    """Seconds since 1970-01-01T00:00:00Z of a time (§13.20), or None when it is not one."""
    m = TIME.fullmatch(text)
    if not m or not (len(m[1]) == 10 and is_date(m[1])):
        return None
    hour, minute, second = int(m[2]), int(m[3]), int(m[4] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    if m[5] != "Z":
        oh, om = int(m[7]), int(m[8])
        if oh > 23 or om > 59:
            return None
        offset = (oh * 60 + om) * 60 * (1 if m[6] == "+" else -1)
    year, month, day = (int(x) for x in m[1].split("-"))
    # Days since the epoch in the proleptic Gregorian calendar.
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second - offset


def is_channel(text):
    for scheme in ("mailto:", "tel:", "https://", "http://"):
        if text.startswith(scheme) and len(text) > len(scheme):
            return not any(c in WHITESPACE or c in CONTROL for c in text)
    return False


def is_url(text):
    for scheme in ("https://", "http://"):
        if text.startswith(scheme) and len(text) > len(scheme):
            return not any(c in WHITESPACE or c in CONTROL for c in text)
    return False


# ---------------------------------------------------------------------------------------------
# Verification (§8, §12).


class Reject(Exception):
    def __init__(self, rule, field=None):
        super().__init__(rule, field)
        self.rule, self.field = rule, field


def bad(path):
    raise Reject("body-field", path)


def chars(body, name, path, low, high):
    if not low <= len(body[name]) <= high:
        bad(path + name)


def optional_chars(body, name, path, low, high):
    if body[name]:
        chars(body, name, path, low, high)


def word_count(body, name, path, low, high):
    if not low <= words(body[name]) <= high:
        bad(path + name)


def one_of(body, name, path, allowed):
    if body[name] not in allowed:
        bad(path + name)


def optional_one_of(body, name, path, allowed):
    if body[name]:
        one_of(body, name, path, allowed)


def string_list(body, name, path, ok, required):
    elements = body[name]
    if required and not elements:
        bad(path + name)
    for i, element in enumerate(elements):
        if not ok(element) or element in elements[:i]:
            bad(f"{path}{name}[{i}]")


def optional_date(body, name, path, after=None):
    if body[name]:
        if not is_date(body[name]):
            bad(path + name)
        if after and body[after] and ends_before(body[name], body[after]):
            bad(path + name)


def check_ref(ref, path):
    if len(ref["publisher"]) != 32:
        bad(path + ".publisher")
    if not SLUG.fullmatch(ref["slug"]):
        bad(path + ".slug")


def check_refs(body, name, path):
    for i, ref in enumerate(body[name]):
        check_ref(ref, f"{path}{name}[{i}]")


def check_place(place, path):
    if place["country"] not in COUNTRIES:
        bad(path + "country")
    if place["wikidata"] and not re.fullmatch(r"Q[1-9][0-9]*", place["wikidata"]):
        bad(path + "wikidata")
    if place["geonames"] and not re.fullmatch(r"[1-9][0-9]{0,9}", place["geonames"]):
        bad(path + "geonames")
    sub = place["subdivision"]
    if sub and not (re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}", sub) and sub[:2] == place["country"]):
        bad(path + "subdivision")
    loc = place["unlocode"]
    if loc and not (re.fullmatch(r"[A-Z]{2}[A-Z2-9]{3}", loc) and loc[:2] == place["country"]):
        bad(path + "unlocode")


def check_contact(body, name, path):
    """A contact of a request, offer or event: if present, role 1-200 characters and a channel."""
    contact = body[name]
    if contact is None:
        return
    chars(contact, "role", f"{path}{name}.", 1, 200)
    if not is_channel(contact["channel"]):
        bad(f"{path}{name}.channel")


def check_link(link, path):
    chars(link, "title", path + ".", 1, 200)
    if not is_url(link["url"]):
        bad(path + ".url")


def check_request(b, publisher):
    chars(b, "title", "", 1, 200)
    word_count(b, "need", "", 1, 250)
    string_list(b, "themes", "", THEMES.__contains__, True)
    string_list(b, "sdg_targets", "", SDG.__contains__, False)
    string_list(b, "formats", "", FORMATS.__contains__, True)
    string_list(b, "languages", "", is_bcp47, True)
    optional_date(b, "start_date", "")
    optional_date(b, "end_date", "", after="start_date")
    string_list(b, "regions", "", REGIONS.__contains__, False)
    optional_one_of(b, "costs", "", COSTS)
    check_refs(b, "practices", "")
    one_of(b, "status", "", REQUEST_STATUS)
    check_contact(b, "contact", "")


def check_offer(b, publisher):
    chars(b, "title", "", 1, 200)
    word_count(b, "summary", "", 1, 250)
    string_list(b, "themes", "", THEMES.__contains__, True)
    string_list(b, "sdg_targets", "", SDG.__contains__, False)
    string_list(b, "formats", "", FORMATS.__contains__, True)
    string_list(b, "languages", "", is_bcp47, True)
    check_refs(b, "practices", "")
    optional_chars(b, "capacity", "", 1, 200)
    optional_one_of(b, "costs", "", COSTS)
    optional_date(b, "available_from", "")
    optional_date(b, "available_until", "", after="available_from")
    string_list(b, "regions", "", REGIONS.__contains__, False)
    one_of(b, "status", "", OFFER_STATUS)
    check_contact(b, "contact", "")


def check_event(b, publisher):
    chars(b, "title", "", 1, 200)
    word_count(b, "summary", "", 0, 250)
    one_of(b, "event_type", "", EVENT_TYPES)
    start = instant(b["start"])
    if start is None:
        bad("start")
    end = instant(b["end"])
    if end is None or end < start:
        bad("end")
    one_of(b, "time_zone", "", ZONES)
    if b["place"] is None and not b["online_url"]:
        bad("place.country")
    if b["place"] is not None:
        check_place(b["place"], "place.")
    if b["online_url"] and not is_url(b["online_url"]):
        bad("online_url")
    for i, organiser in enumerate(b["organisers"]):
        if not 1 <= len(organiser) <= 200:
            bad(f"organisers[{i}]")
    string_list(b, "languages", "", is_bcp47, True)
    string_list(b, "themes", "", THEMES.__contains__, False)
    check_contact(b, "registration", "")
    check_refs(b, "practices", "")
    check_refs(b, "requests", "")
    one_of(b, "status", "", EVENT_STATUS)


def check_engagement(b, publisher):
    if len(b["counterpart"]) != 32 or b["counterpart"] == publisher:
        bad("counterpart")
    one_of(b, "role", "", ROLES)
    if b["practice"] is None:
        bad("practice.slug")
    check_ref(b["practice"], "practice")
    for name in ("request", "offer"):
        if b[name] is not None:
            check_ref(b[name], name)
    for i, activity in enumerate(b["activities"]):
        chars(activity, "title", f"activities[{i}].", 1, 200)
        if not is_date(activity["date"]):
            bad(f"activities[{i}].date")
        if activity["event"] is not None:
            check_ref(activity["event"], f"activities[{i}].event")
    if not b["stages"]:
        bad("stages")
    previous = None
    for i, stage in enumerate(b["stages"]):
        if stage["stage"] not in STAGES:
            bad(f"stages[{i}].stage")
        if previous is not None:
            if previous["stage"] in FINAL:
                bad(f"stages[{i}].stage")
            if stage["stage"] != "abandoned" and STAGES.index(stage["stage"]) <= STAGES.index(previous["stage"]):
                bad(f"stages[{i}].stage")
        if not is_date(stage["date"]):
            bad(f"stages[{i}].date")
        if previous is not None and is_date(previous["date"]) and ends_before(stage["date"], previous["date"]):
            bad(f"stages[{i}].date")
        previous = stage
    word_count(b, "summary", "", 0, 250)


def check_outcome(b, publisher):
    if not SLUG.fullmatch(b["engagement"]):
        bad("engagement")
    chars(b, "title", "", 1, 200)
    word_count(b, "summary", "", 0, 250)
    for i, indicator in enumerate(b["indicators"]):
        path = f"indicators[{i}]."
        chars(indicator, "label", path, 1, 200)
        if not indicator["actual"]:
            bad(path + "actual")
        for name in ("baseline", "target", "actual"):
            if indicator[name] and not DECIMAL.fullmatch(indicator[name]):
                bad(path + name)
            if indicator[name + "_date"] and not is_date(indicator[name + "_date"]):
                bad(path + name + "_date")
    for i, link in enumerate(b["evidence"]):
        check_link(link, f"evidence[{i}]")


def check_endorsement(b, publisher):
    one_of(b, "subject_kind", "", SUBJECT_KINDS)
    if b["subject"] is None:
        bad("subject.slug")
    if b["subject"]["publisher"] == publisher:
        bad("subject.publisher")
    check_ref(b["subject"], "subject")
    string_list(b, "grounds", "", GROUNDS.__contains__, True)
    optional_chars(b, "comment", "", 1, 1000)


BODY_CHECKS = {
    "request": check_request, "offer": check_offer, "event": check_event, "engagement": check_engagement,
    "outcome": check_outcome, "endorsement": check_endorsement,
}
KIND_FORMAT = {"practice": 1, "profile": 1, "partnership": 2, **{k: 3 for k in BODY_CHECKS}}


def verify(envelope, now_ms):
    """§8, steps 2 to 20 (the envelopes made here are far below the size of step 1). Returns the
    decoded header; raises Reject with the first rule broken."""
    try:
        e = decode("Envelope", envelope)
    except DecodeError:
        raise Reject("envelope-decode")
    h_bytes, signature, body = e["header"], e["signature"], e["body"]
    if len(h_bytes) > 4096:
        raise Reject("header-size")
    try:
        h = decode("Header", h_bytes)
    except DecodeError:
        raise Reject("header-decode")
    if h["format"] == 0 or h["format"] > 3:  # format 4 (§21) is checked by identity_vectors.py
        raise Reject("format")
    if len(h["publisher"]) != 32:
        raise Reject("publisher-length")
    point = decode_point(h["publisher"])
    if point is None:
        raise Reject("publisher-key")
    if small_order(point):
        raise Reject("weak-key")
    introduced = KIND_FORMAT.get(h["kind"])
    if introduced is None or introduced > h["format"] or (h["kind"] == "profile" and h["tombstone"]):
        raise Reject("kind")
    if introduced < h["format"]:
        raise Reject("format")
    if not SLUG.fullmatch(h["slug"]) or (h["kind"] == "profile" and h["slug"] != "profile"):
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
    if len(signature) != 64:
        raise Reject("signature-length")
    try:
        VerifyKey(h["publisher"]).verify(b"citymesh/header/v1\x00" + h_bytes, signature)
    except BadSignatureError:
        raise Reject("signature")
    if h["kind"] not in BODY_CHECKS and not h["tombstone"]:
        raise NotImplementedError(f"body of kind {h['kind']}")
    try:
        decoded = decode("Tombstone" if h["tombstone"] else BODY_MESSAGE[h["kind"]], body)
    except DecodeError:
        raise Reject("body-decode")
    if h["tombstone"]:
        if not 1 <= len(decoded["reason"]) <= 1000:
            bad("reason")
    else:
        BODY_CHECKS[h["kind"]](decoded, h["publisher"])
    return h


# ---------------------------------------------------------------------------------------------
# The vectors.


def ref(publisher, slug):
    return {"publisher": publisher, "slug": slug}


def main():
    with open(PATH) as f:
        data = json.load(f)
    key = SigningKey(bytes.fromhex(data["publisher_seed_hex"]))
    me = bytes(key.verify_key)
    assert me.hex() == data["publisher_hex"]
    other = bytes(SigningKey(bytes(range(32, 64))).verify_key)
    now = data["now_ms"]
    composting = ref(other, "community-composting")

    request = {
        "title": "Neighbourhood composting for informal settlements",
        "need": "The city wants to start neighbourhood composting in three informal settlements and needs "
                "advice on organising residents, siting composting houses and selling the compost.",
        "themes": ["solid-waste"],
        "sdg_targets": ["11.6"],
        "formats": ["study-visit", "remote-advice"],
        "languages": ["pt", "en"],
        "start_date": "2027-01",
        "end_date": "2027-06-30",
        "regions": ["BR", "419"],
        "costs": "shared",
        "practices": [composting],
        "status": "open",
        "contact": {"role": "Head of solid waste unit", "channel": "mailto:residuos@example.org",
                    "name": "Ana Souza"},
    }
    offer = {
        "title": "Advice on neighbourhood composting",
        "summary": "Staff of the solid waste unit advise cities on setting up neighbourhood composting "
                   "houses run by residents' groups.",
        "themes": ["solid-waste"],
        "sdg_targets": ["11.6", "12.5"],
        "formats": ["remote-advice", "study-visit"],
        "languages": ["id", "en"],
        "practices": [composting],
        "capacity": "two study visits a year",
        "costs": "provider",
        "available_from": "2027-01",
        "available_until": "2027-12-31",
        "regions": ["035"],
        "status": "open",
        "contact": {"role": "International cooperation office", "channel": "https://example.org/contact",
                    "name": "Budi Santoso"},
    }
    event = {
        "title": "Study tour: neighbourhood composting in Surabaya",
        "summary": "Three days of visits to composting houses and meetings with residents' groups.",
        "event_type": "study-tour",
        "start": "2027-03-10T09:00+07:00",
        "end": "2027-03-12T17:00:00+07:00",
        "time_zone": "Asia/Jakarta",
        "place": {"country": "ID", "name": "Surabaya"},
        "online_url": "https://example.org/live/composting-tour",
        "organisers": ["City of Surabaya", "Residents' composting network"],
        "languages": ["id", "en"],
        "themes": ["solid-waste", "environment"],
        "capacity": 30,
        "registration": {"role": "Study tour secretariat", "channel": "mailto:tour@example.org"},
        "practices": [composting],
        "requests": [ref(me, "transfer-request")],
        "status": "scheduled",
    }
    engagement = {
        "counterpart": other,
        "role": "recipient",
        "practice": composting,
        "request": ref(me, "transfer-request"),
        "offer": ref(other, "composting-advice"),
        "activities": [
            {"title": "Video call with the solid waste unit", "date": "2027-01-20"},
            {"title": "Study tour in Surabaya", "date": "2027-03-10", "event": ref(me, "transfer-event")},
        ],
        "stages": [
            {"stage": "exploring", "date": "2027-01"},
            {"stage": "agreed", "date": "2027-02-15"},
            {"stage": "learning", "date": "2027-03"},
        ],
        "summary": "The city takes up neighbourhood composting with the help of the second publisher.",
    }
    outcome = {
        "engagement": "transfer-engagement",
        "title": "Composting houses in three settlements",
        "summary": "Three composting houses run by residents' groups opened after the study tour.",
        "indicators": [
            {"label": "Organic waste composted", "unit": "t/month", "baseline": "0", "baseline_date": "2027-01",
             "target": "30", "target_date": "2027-12", "actual": "18.5", "actual_date": "2027-09-30"},
            {"label": "Change in waste sent to landfill", "actual": "-12.5"},
        ],
        "results": "Residents' groups run three composting houses; the compost is sold to a nursery.",
        "lessons": "Start with the settlements whose residents' groups already meet regularly.",
        "evidence": [{"title": "Monitoring report, September 2027", "url": "https://example.org/reports/2027-09"}],
    }
    endorsement = {
        "subject_kind": "practice",
        "subject": composting,
        "grounds": ["visited", "applied"],
        "comment": "We visited the composting houses in 2027 and now run three of our own.",
    }
    practice = {
        "title": "Community composting",
        "summary": "Residents compost organic household waste in neighbourhood composting houses.",
        "themes": ["solid-waste"],
        "status": "ongoing",
        "location": {"country": "ID", "name": "Surabaya"},
        "language": "en",
    }

    def changed(base, **fields):
        out = dict(base)
        out.update(fields)
        return out

    vectors = []

    def vector(name, kind, body, rule=None, field=None, note="", fmt=3, slug=None, revision=1):
        slug = slug or name
        body_bytes = encode(BODY_MESSAGE[kind], body)
        head = encode("Header", {
            "format": fmt, "publisher": me, "kind": kind, "slug": slug, "revision": revision, "timestamp_ms": now,
            "body_sha256": hashlib.sha256(body_bytes).digest(), "body_len": len(body_bytes), "tombstone": False,
        })
        signature = key.sign(b"citymesh/header/v1\x00" + head).signature
        envelope = encode("Envelope", {"header": head, "signature": signature, "body": body_bytes})
        # Every vector here carries a valid signature, whatever its verdict.
        VerifyKey(me).verify(b"citymesh/header/v1\x00" + head, signature)
        try:
            h = verify(envelope, now)
            verdict = (None, None)
        except Reject as e:
            verdict = (e.rule, e.field)
        assert verdict == (rule, field), (name, verdict, (rule, field))
        out = {"name": name, "envelope_hex": envelope.hex(), "valid": rule is None}
        if rule is None:
            assert (h["kind"], h["slug"], h["revision"], h["timestamp_ms"]) == (kind, slug, revision, now)
            out.update({
                "id": hashlib.sha256(head).hexdigest(), "publisher": h["publisher"].hex(), "kind": kind,
                "slug": slug, "revision": revision, "timestamp_ms": now, "tombstone": h["tombstone"],
            })
        else:
            out["rule"] = rule
            if field:
                out["field"] = field
        out["note"] = note
        vectors.append(out)

    # Valid.
    vector("transfer-request", "request", request,
           note="Format 3: a request with every field set; it names a practice note of the second publisher "
                "(§12.13).")
    vector("transfer-offer", "offer", offer, note="Format 3: an offer with every field set (§12.14).")
    vector("transfer-event", "event", event,
           note="Format 3: an event with every field set, held in a place and online; start without seconds, "
                "end with seconds (§12.15, §13.20).")
    vector("transfer-event-offset-order", "event",
           changed(event, start="2027-03-10T09:00+07:00", end="2027-03-10T03:00Z"),
           note="Valid: end 2027-03-10T03:00Z is the instant 10:00+07:00, one hour after the start "
                "2027-03-10T09:00+07:00. Times are compared as instants, not as text (as text the end would "
                "sort first).")
    vector("transfer-engagement", "engagement", engagement,
           note="Format 3: the recipient's side of a transfer from the second publisher: the practice, the "
                "request it answers (vector transfer-request), the offer, two activities (one the event of "
                "vector transfer-event), and the stages exploring, agreed, learning (§12.16).")
    vector("transfer-engagement-abandoned", "engagement",
           changed(engagement, stages=[{"stage": "exploring", "date": "2027-01"},
                                       {"stage": "abandoned", "date": "2027-04"}]),
           note="Stages exploring then abandoned: abandoned may follow any stage that is not final.")
    vector("transfer-outcome", "outcome", outcome,
           note="Format 3: the outcome of the engagement of vector transfer-engagement, with an indicator with "
                "baseline, target, actual and their dates, and one with a label and a negative actual only "
                "(§12.17).")
    vector("transfer-endorsement", "endorsement", endorsement,
           note="Format 3: the publisher endorses the second publisher's practice note (§12.18).")
    vector("transfer-request-closed-rev2", "request", changed(request, status="closed"), slug="transfer-request",
           revision=2, note="Revision 2 of the key of vector transfer-request, now closed: the key's head.")

    # Invalid.
    vector("transfer-request-format-2", "request", request, rule="kind", fmt=2,
           note="A valid request body in format 2: kind request is reserved in formats 1 and 2.")
    vector("transfer-practice-format-3", "practice", practice, rule="format",
           note="A valid practice note in format 3: it must be signed in format 1.")
    vector("transfer-format-5", "request", request, rule="format", fmt=5, note="Format 5 does not exist yet.")
    vector("transfer-request-status-unknown", "request", changed(request, status="pending"), rule="body-field",
           field="status", note="'pending' is not a status of requests.")
    vector("transfer-request-no-language", "request", changed(request, languages=[]), rule="body-field",
           field="languages", note="A request needs at least one language.")
    vector("transfer-request-end-before-start", "request", changed(request, start_date="2027-03",
                                                                   end_date="2027-02-28"),
           rule="body-field", field="end_date",
           note="2027-02-28 ends before 2027-03 (their first 7 characters compared, §13.21).")
    vector("transfer-event-end-before-start", "event",
           changed(event, start="2027-03-10T09:00+07:00", end="2027-03-10T08:00+07:00"), rule="body-field",
           field="end", note="The end is an hour before the start.")
    vector("transfer-event-time-zone", "event", changed(event, time_zone="Asia/Atlantis"), rule="body-field",
           field="time_zone", note="Not a name of the IANA time zone database.")
    vector("transfer-event-time-syntax", "event", changed(event, start="2027-03-10 09:00+07:00"),
           rule="body-field", field="start", note="A space instead of T: not a time of §13.20.")
    vector("transfer-event-nowhere", "event", changed(event, place=None, online_url=""), rule="body-field",
           field="place.country", note="Neither a place nor an online address.")
    vector("transfer-engagement-self", "engagement", changed(engagement, counterpart=me), rule="body-field",
           field="counterpart", note="The counterpart is the publisher itself.")
    vector("transfer-engagement-stage-order", "engagement",
           changed(engagement, stages=[{"stage": "agreed", "date": "2027-01"},
                                       {"stage": "exploring", "date": "2027-02"}]),
           rule="body-field", field="stages[1].stage", note="exploring after agreed: stages only go forward.")
    vector("transfer-engagement-after-final", "engagement",
           changed(engagement, stages=[{"stage": "adopted", "date": "2027-01"},
                                       {"stage": "piloting", "date": "2027-02"}]),
           rule="body-field", field="stages[1].stage", note="Nothing may follow a final stage (adopted).")
    vector("transfer-engagement-stage-date", "engagement",
           changed(engagement, stages=[{"stage": "exploring", "date": "2027-03"},
                                       {"stage": "agreed", "date": "2027-02"}]),
           rule="body-field", field="stages[1].date", note="The second stage is dated before the first.")
    vector("transfer-engagement-role", "engagement", changed(engagement, role="mentor"), rule="body-field",
           field="role", note="'mentor' is not a role (provider, recipient).")
    vector("transfer-outcome-no-actual", "outcome",
           changed(outcome, indicators=[{"label": "Organic waste composted", "unit": "t/month", "baseline": "0",
                                         "target": "30"}]),
           rule="body-field", field="indicators[0].actual", note="An indicator without its actual value.")
    vector("transfer-outcome-engagement-slug", "outcome", changed(outcome, engagement="Not A Slug"),
           rule="body-field", field="engagement", note="The engagement is not a slug.")
    vector("transfer-endorsement-self", "endorsement", changed(endorsement, subject=ref(me, "community-composting")),
           rule="body-field", field="subject.publisher", note="A publisher cannot endorse its own record.")
    vector("transfer-endorsement-kind", "endorsement", changed(endorsement, subject_kind="request"),
           rule="body-field", field="subject_kind", note="Only practice notes and outcomes can be endorsed.")
    vector("transfer-offer-region", "offer", changed(offer, regions=["999"]), rule="body-field",
           field="regions[0]", note="999 is not a UN M49 region code of data/m49.tsv.")

    data["description"] = data["description"].replace("wire format 1 and 2 test vectors",
                                                      "wire format 1, 2 and 3 test vectors")
    data["vectors"] = [v for v in data["vectors"] if not v["name"].startswith("transfer-")] + vectors

    # §10: heads of the keys of the valid vectors.
    keys = {}
    for v in vectors:
        if v["valid"]:
            keys.setdefault((v["publisher"], v["kind"], v["slug"]), []).append(v)
    heads = [h for h in data["heads"] if (h["publisher"], h["kind"], h["slug"]) not in keys]
    for (publisher, kind, slug), records in keys.items():
        top = max(r["revision"] for r in records)
        head = min(r["id"] for r in records if r["revision"] == top)
        heads.append({"publisher": publisher, "kind": kind, "slug": slug, "head": head,
                      "ids": sorted(r["id"] for r in records)})
    data["heads"] = heads
    with open(PATH, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
