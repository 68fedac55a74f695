//! Events as iCalendar (RFC 5545): one file per event, and the feed of every event held that
//! calendar programs subscribe to. Pure.
//!
//! Times are written in UTC (`DTSTART:20270310T020000Z`): an event's start and end carry their
//! offset, which fixes the instant, and UTC needs no `VTIMEZONE`. An event keeps its `UID`
//! across revisions (its slug and publisher) and its `SEQUENCE` grows with them, so calendars
//! update it in place; a cancelled one says `STATUS:CANCELLED`.

use crate::record::Record;
use crate::vocab::{Words, transfer};
use crate::wire::Event;

/// One event to write: the record (for its key, revision and time), its body, and who
/// published it.
pub struct Entry<'a> {
    pub record: &'a Record,
    pub event: &'a Event,
    pub publisher_name: &'a str,
}

/// A calendar of `entries`, named `name`.
pub fn calendar(name: &str, entries: &[Entry]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//citymesh//citymesh events//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    for entry in entries {
        event(&mut out, entry);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn event(out: &mut String, entry: &Entry) {
    let event = entry.event;
    let (Some(start), Some(end)) = (transfer::parse_time(&event.start), transfer::parse_time(&event.end)) else {
        // The record rules make both times readable; a record without them is skipped.
        return;
    };
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@{}.citymesh", entry.record.slug(), entry.record.publisher()));
    line(out, &format!("DTSTAMP:{}", utc(entry.record.timestamp_ms())));
    line(out, &format!("LAST-MODIFIED:{}", utc(entry.record.timestamp_ms())));
    line(out, &format!("SEQUENCE:{}", entry.record.revision().saturating_sub(1)));
    line(out, &format!("DTSTART:{}", utc(start)));
    line(out, &format!("DTEND:{}", utc(end)));
    line(out, &format!("SUMMARY:{}", text(&event.title)));
    let mut description = Vec::new();
    if !event.summary.is_empty() {
        description.push(event.summary.clone());
    }
    description.push(format!("{} by {}.", Words::EventType.label(&event.event_type), entry.publisher_name));
    description.push(format!("Local time: {} to {} ({}).", event.start, event.end, event.time_zone));
    if !event.languages.is_empty() {
        let languages: Vec<String> =
            event.languages.iter().map(|tag| Words::Language.label(tag).into_owned()).collect();
        description.push(format!("Languages: {}.", languages.join(", ")));
    }
    if let Some(contact) = &event.registration {
        description.push(format!("Registration: {} {}", contact.role, contact.channel));
    }
    line(out, &format!("DESCRIPTION:{}", text(&description.join("\n"))));
    if let Some(place) = &event.place {
        let country = Words::Country.label(&place.country);
        let parts: Vec<&str> = [place.name.as_str(), &country].into_iter().filter(|part| !part.is_empty()).collect();
        line(out, &format!("LOCATION:{}", text(&parts.join(", "))));
        if !place.latitude.is_empty()
            && crate::vocab::is_latitude(&place.latitude)
            && crate::vocab::is_longitude(&place.longitude)
        {
            line(out, &format!("GEO:{};{}", place.latitude, place.longitude));
        }
    } else if !event.online_url.is_empty() {
        line(out, "LOCATION:Online");
    }
    if !event.online_url.is_empty() {
        line(out, &format!("URL:{}", event.online_url));
    }
    line(out, &format!("CATEGORIES:{}", text(&Words::EventType.label(&event.event_type))));
    let status = match event.status.as_str() {
        "cancelled" => "CANCELLED",
        "postponed" => "TENTATIVE",
        _ => "CONFIRMED",
    };
    line(out, &format!("STATUS:{status}"));
    line(out, "END:VEVENT");
}

/// An instant as an iCalendar UTC date-time: `20270310T020000Z` (from the pages' UTC form,
/// `2027-03-10 02:00:00 UTC`).
fn utc(ms: i64) -> String {
    let shown = crate::view::format_time(ms);
    let digits: String = shown.trim_end_matches(" UTC").chars().filter(|c| c.is_ascii_digit() || *c == ' ').collect();
    format!("{}Z", digits.replace(' ', "T"))
}

/// A TEXT value escaped (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes a content line folded at 75 octets, never inside a character (§3.1), ending CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_utc() {
        assert_eq!(utc(0), "19700101T000000Z");
        assert_eq!(utc(transfer::parse_time("2027-03-10T09:00+07:00").unwrap()), "20270310T020000Z");
        assert_eq!(utc(transfer::parse_time("2024-02-29T23:59:59-01:00").unwrap()), "20240301T005959Z");
    }

    #[test]
    fn lines_fold_at_75_octets_and_text_is_escaped() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(60));
        line(&mut out, &long);
        for piece in out.split("\r\n").filter(|piece| !piece.is_empty()) {
            assert!(piece.len() <= 75, "{piece:?} is {} octets", piece.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
        assert_eq!(text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
