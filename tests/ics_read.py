#!/usr/bin/env python3
"""Reads iCalendar files with Python's icalendar (an independent RFC 5545 parser) and prints
each calendar's name and events as JSON, for tests/it/learning.rs.

    PYTHONPATH=target/python python3 tests/ics_read.py FILE...
"""

import json
import sys

import icalendar


def main():
    out = []
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            calendar = icalendar.Calendar.from_ical(f.read())
        events = []
        for event in calendar.walk("VEVENT"):
            events.append({
                "uid": str(event["UID"]),
                "summary": str(event["SUMMARY"]),
                "start": event.decoded("DTSTART").isoformat(),
                "end": event.decoded("DTEND").isoformat(),
                "status": str(event.get("STATUS", "")),
                "location": str(event.get("LOCATION", "")),
                "url": str(event.get("URL", "")),
                "sequence": int(event.get("SEQUENCE", 0)),
                "description": str(event.get("DESCRIPTION", "")),
            })
        out.append({"name": str(calendar.get("X-WR-CALNAME", "")), "version": str(calendar["VERSION"]), "events": events})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
