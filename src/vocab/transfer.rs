//! The vocabularies of the knowledge-transfer kinds (format 3: requests, offers, events,
//! engagements, outcomes, endorsements), the UN M49 regions that say which places are near,
//! IANA time zone names and RFC 3339 times. Each list is `(code, words)`: the codes are what
//! the record rules accept, the words what pages show.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

/// Formats of a transfer (DESIGN §8).
pub const FORMATS: &[(&str, &str)] = &[
    ("study-visit", "Study visit"),
    ("expert-mission", "Expert mission"),
    ("staff-exchange", "Staff exchange"),
    ("training", "Training"),
    ("webinar", "Webinar"),
    ("remote-advice", "Remote advice"),
    ("documents", "Documents and guides"),
    ("twinning", "Twinning"),
];

/// Who covers the costs of a transfer.
pub const COSTS: &[(&str, &str)] = &[
    ("requester", "The requesting city pays"),
    ("provider", "The offering organisation pays"),
    ("shared", "Costs are shared"),
    ("external", "An outside funder pays"),
    ("to-agree", "To be agreed"),
];

pub const REQUEST_STATUSES: &[(&str, &str)] = &[("open", "Open"), ("in-progress", "In progress"), ("closed", "Closed")];

pub const OFFER_STATUSES: &[(&str, &str)] = &[("open", "Open"), ("paused", "Paused"), ("closed", "Closed")];

pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("seminar", "Seminar"),
    ("training", "Training"),
    ("conference", "Conference"),
    ("webinar", "Webinar"),
    ("workshop", "Workshop"),
    ("exchange-visit", "Exchange visit"),
    ("study-tour", "Study tour"),
    ("staff-exchange", "Staff exchange"),
];

pub const EVENT_STATUSES: &[(&str, &str)] =
    &[("scheduled", "Scheduled"), ("postponed", "Postponed"), ("cancelled", "Cancelled"), ("held", "Held")];

/// An organisation's role in an engagement.
pub const ROLES: &[(&str, &str)] = &[("provider", "Shares the practice"), ("recipient", "Takes up the practice")];

/// The stages of an engagement, in the order they are reached; the last three end it.
pub const STAGES: &[(&str, &str)] = &[
    ("exploring", "Exploring"),
    ("agreed", "Agreed"),
    ("learning", "Learning"),
    ("piloting", "Piloting"),
    ("adopted", "Adopted"),
    ("adapted", "Adapted"),
    ("abandoned", "Abandoned"),
];

/// Stages that end an engagement: nothing comes after them.
pub const FINAL_STAGES: &[&str] = &["adopted", "adapted", "abandoned"];

/// What an endorser did.
pub const GROUNDS: &[(&str, &str)] =
    &[("visited", "Visited it"), ("applied", "Applied it"), ("verified-results", "Verified the results")];

/// Kinds an endorsement can be about.
pub const ENDORSED_KINDS: &[&str] = &["practice", "outcome"];

/// Whether `code` is one of the codes of `list`.
pub fn listed(list: &[(&str, &str)], code: &str) -> bool {
    list.iter().any(|(listed, _)| *listed == code)
}

/// A country's UN M49 region and sub-region: `(region code, region, sub-region code, sub-region)`.
type Regions = (&'static str, &'static str, &'static str, &'static str);

static M49: LazyLock<HashMap<&'static str, Regions>> = LazyLock::new(|| {
    super::words::rows(include_str!("../../data/m49.tsv"))
        .filter_map(|row| match row.as_slice() {
            [country, region, region_name, sub, sub_name] if !region.is_empty() => {
                Some((*country, (*region, *region_name, *sub, *sub_name)))
            }
            _ => None,
        })
        .collect()
});

/// Every M49 region and sub-region code a country belongs to, with its name.
pub static M49_NAMES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let mut names: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (region, region_name, sub, sub_name) in M49.values() {
        names.insert((region, region_name));
        names.insert((sub, sub_name));
    }
    names.into_iter().collect()
});

/// The M49 region and sub-region codes of a country (`("142", "035")` for Indonesia); none for
/// Antarctica, which M49 puts in no region.
pub fn m49_of(country: &str) -> Option<(&'static str, &'static str)> {
    M49.get(country).map(|(region, _, sub, _)| (*region, *sub))
}

/// A region of a request or an offer: an ISO 3166-1 country or an M49 region or sub-region.
pub fn is_region(code: &str) -> bool {
    super::is_country(code) || M49_NAMES.iter().any(|(listed, _)| *listed == code)
}

static TIME_ZONES: LazyLock<BTreeSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/time-zones.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// An IANA time zone name (a zone or a link of tzdata, as `data/time-zones.txt` lists them).
pub fn is_time_zone(name: &str) -> bool {
    TIME_ZONES.contains(name)
}

/// A time written `YYYY-MM-DDTHH:MM[:SS]±HH:MM` or `...Z` (RFC 3339 without fractions), read
/// as milliseconds since the Unix epoch.
pub fn parse_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let (date, rest) = (text.get(..10)?, text.get(10..)?);
    if !super::is_date(date) || date.len() != 10 || bytes.get(10) != Some(&b'T') {
        return None;
    }
    let rest = &rest[1..];
    let (clock, offset) = match rest.find(['+', '-', 'Z']) {
        Some(at) => rest.split_at(at),
        None => return None,
    };
    let mut parts = clock.split(':');
    let hour = number(parts.next()?, 2).filter(|hour| *hour < 24)?;
    let minute = number(parts.next()?, 2).filter(|minute| *minute < 60)?;
    let second = match parts.next() {
        Some(second) => number(second, 2).filter(|second| *second < 60)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let offset_minutes = match offset {
        "Z" => 0,
        _ => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = offset.get(1..)?.split_once(':')?;
            let (hours, minutes) = (number(hours, 2).filter(|h| *h < 24)?, number(minutes, 2).filter(|m| *m < 60)?);
            sign * (hours * 60 + minutes)
        }
    };
    let (year, month, day) = (number(&date[..4], 4)?, number(&date[5..7], 2)?, number(&date[8..10], 2)?);
    let days = days_from_civil(year, month, day);
    let local = ((days * 24 + hour) * 60 + minute) * 60 + second;
    Some((local - offset_minutes * 60) * 1000)
}

fn number(text: &str, digits: usize) -> Option<i64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Whether a date range written with partial dates (YYYY, YYYY-MM, YYYY-MM-DD) ends before it
/// starts: compared on the parts both give, so 2027 does not end before 2027-03.
pub fn ends_before(start: &str, end: &str) -> bool {
    let common = start.len().min(end.len());
    !start.is_empty() && !end.is_empty() && end[..common] < start[..common]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_with_their_offset() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("1970-01-01T07:00:00+07:00"), Some(0));
        assert_eq!(parse_time("2026-01-01T00:00Z"), Some(1_767_225_600_000));
        assert_eq!(parse_time("2025-12-31T19:00:00-05:00"), Some(1_767_225_600_000));
        assert_eq!(parse_time("2024-02-29T12:00:00+00:00"), Some(1_709_208_000_000));
        for bad in ["2027-03-10", "2027-03-10T09:00", "2027-02-30T09:00Z", "2027-03-10T24:00Z", "2027-03-10 09:00Z"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(parse_time("2027-03-10T09:00+7:00"), None);
    }

    #[test]
    fn regions_and_zones() {
        assert_eq!(m49_of("ID"), Some(("142", "035")));
        assert_eq!(m49_of("AQ"), None);
        assert!(
            is_region("035")
                && is_region("419")
                && !is_region("005")
                && is_region("BR")
                && !is_region("999")
                && !is_region("br")
        );
        assert!(is_time_zone("Asia/Jakarta") && is_time_zone("UTC") && !is_time_zone("Mars/Olympus"));
    }

    #[test]
    fn partial_date_ranges() {
        assert!(ends_before("2027-03", "2027-02-28"));
        assert!(!ends_before("2027-03", "2027"));
        assert!(!ends_before("2027", "2027-01"));
        assert!(!ends_before("", "2020"));
        assert!(ends_before("2027", "2026-12"));
    }
}
