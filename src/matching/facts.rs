//! What matching knows of each request, offer and practice note, and of each publisher: bit
//! sets of themes, SDG targets, formats and languages, and places as codes, read once from the
//! record so that ranking compares them without allocating.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::record::{Body, Key, Kind, Record};
use crate::transfers::Named;
use crate::vocab::{self, Words, transfer};
use crate::wire::Profile;

/// Languages as bits: one per ISO 639-1 code (184 of them), by primary subtag.
pub(super) type Languages = [u64; 3];

pub(super) static LANGUAGE_BITS: LazyLock<HashMap<&'static str, usize>> =
    LazyLock::new(|| Words::Language.choices().into_iter().enumerate().map(|(at, (code, _))| (code, at)).collect());

static SDG_BITS: LazyLock<HashMap<&'static str, usize>> =
    LazyLock::new(|| Words::Sdg.choices().into_iter().enumerate().map(|(at, (code, _))| (code, at)).collect());

/// A place as matching compares it: its country and that country's M49 region and sub-region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Where {
    pub(super) country: [u8; 2],
    pub(super) region: u16,
    pub(super) sub: u16,
}

impl Where {
    fn of(country: &str) -> Option<Where> {
        let code: [u8; 2] = country.as_bytes().try_into().ok()?;
        let (region, sub) = transfer::m49_of(country).unwrap_or(("0", "0"));
        Some(Where { country: code, region: region.parse().unwrap_or(0), sub: sub.parse().unwrap_or(0) })
    }

    pub(super) fn country(&self) -> &str {
        std::str::from_utf8(&self.country).unwrap_or_default()
    }
}

/// A region a request prefers or an offer serves: a country or an M49 region code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    Country([u8; 2]),
    M49(u16),
}

impl Region {
    fn of(code: &str) -> Option<Region> {
        match code.len() {
            2 => code.as_bytes().try_into().ok().map(Region::Country),
            _ => code.parse().ok().map(Region::M49),
        }
    }

    pub(super) fn code(&self) -> String {
        match self {
            Region::Country(code) => String::from_utf8_lossy(code).into_owned(),
            Region::M49(code) => format!("{code:03}"),
        }
    }
}

/// How near a place is to a list of regions (3 the same country, 2 the same M49 sub-region, 1
/// the same region), and the region that says so.
pub(super) fn nearness(place: &Where, regions: &[Region]) -> Option<(u8, Region)> {
    regions
        .iter()
        .filter_map(|region| {
            let level = match region {
                Region::Country(code) if *code == place.country => 3,
                Region::M49(code) if place.sub != 0 && *code == place.sub => 2,
                Region::M49(code) if place.region != 0 && *code == place.region => 1,
                _ => return None,
            };
            Some((level, *region))
        })
        .max_by_key(|(level, _)| *level)
}

/// What matching knows of one request, offer or practice note, compactly.
#[derive(Debug, Clone)]
pub struct Facts {
    pub key: Key,
    pub title: String,
    pub timestamp_ms: i64,
    /// Open requests and offers, and every practice note.
    pub open: bool,
    pub(super) themes: u16,
    pub(super) sdgs: [u64; 3],
    pub(super) formats: u8,
    pub(super) languages: Languages,
    /// Primary subtags that are not ISO 639-1 codes, lower case (rare: "fil", "yue").
    pub(super) other_languages: Vec<String>,
    /// The languages in the record's order, for naming the one shared.
    pub(super) language_order: Vec<String>,
    /// Where the note's practice happened (requests and offers: their publisher's place).
    pub(super) place: Option<Where>,
    /// Preferred regions of a request, regions served by an offer.
    pub(super) regions: Vec<Region>,
    /// The practice notes an offer rests on.
    pub(super) practices: Vec<Named>,
}

fn primary(tag: &str) -> String {
    tag.split('-').next().unwrap_or(tag).to_ascii_lowercase()
}

fn languages_of(tags: &[String]) -> (Languages, Vec<String>, Vec<String>) {
    let (mut bits, mut others, mut order) = ([0u64; 3], Vec::new(), Vec::new());
    for tag in tags {
        let language = primary(tag);
        match LANGUAGE_BITS.get(language.as_str()) {
            Some(at) => bits[at / 64] |= 1 << (at % 64),
            None if !others.contains(&language) => others.push(language.clone()),
            None => {}
        }
        if !order.contains(&language) {
            order.push(language);
        }
    }
    (bits, others, order)
}

fn bits_of<const N: usize>(codes: &[String], table: &HashMap<&'static str, usize>) -> [u64; N] {
    let mut bits = [0u64; N];
    for code in codes {
        if let Some(at) = table.get(code.as_str()) {
            bits[at / 64] |= 1 << (at % 64);
        }
    }
    bits
}

fn themes_of(themes: &[String]) -> u16 {
    themes
        .iter()
        .filter_map(|theme| vocab::THEMES.iter().position(|known| known == theme))
        .fold(0, |bits, at| bits | 1 << at)
}

fn formats_of(formats: &[String]) -> u8 {
    let position = |format: &String| transfer::FORMATS.iter().position(|(code, _)| code == format);
    formats.iter().filter_map(position).fold(0, |bits, at| bits | 1 << at)
}

pub(super) fn overlap(a: &[u64; 3], b: &[u64; 3]) -> u32 {
    (0..3).map(|at| (a[at] & b[at]).count_ones()).sum()
}

impl Facts {
    /// The facts of a current head (none for withdrawals and other kinds).
    pub fn of(record: &Record) -> Option<Facts> {
        if record.is_tombstone() {
            return None;
        }
        let body = record.parse_body().ok()?;
        let mut facts = Facts {
            key: record.key(),
            title: body.title(),
            timestamp_ms: record.timestamp_ms(),
            open: true,
            themes: 0,
            sdgs: [0; 3],
            formats: 0,
            languages: [0; 3],
            other_languages: Vec::new(),
            language_order: Vec::new(),
            place: None,
            regions: Vec::new(),
            practices: Vec::new(),
        };
        let (themes, sdgs, formats, languages, regions) = match &body {
            Body::Request(request) => {
                facts.open = request.status == "open";
                (&request.themes, &request.sdg_targets, &request.formats[..], &request.languages, &request.regions[..])
            }
            Body::Offer(offer) => {
                facts.open = offer.status == "open";
                facts.practices = offer.practices.iter().filter_map(Named::of).collect();
                (&offer.themes, &offer.sdg_targets, &offer.formats[..], &offer.languages, &offer.regions[..])
            }
            Body::Practice(note) => {
                facts.place = note.location.as_ref().and_then(|place| Where::of(&place.country));
                (&note.themes, &note.sdg_targets, &[][..], &vec![note.language.clone()], &[][..])
            }
            _ => return None,
        };
        facts.themes = themes_of(themes);
        facts.sdgs = bits_of(sdgs, &SDG_BITS);
        facts.formats = formats_of(formats);
        (facts.languages, facts.other_languages, facts.language_order) = languages_of(languages);
        facts.regions = regions.iter().filter_map(|code| Region::of(code)).collect();
        Some(facts)
    }

    pub fn kind(&self) -> Kind {
        self.key.kind
    }
}

/// What matching knows of a publisher: its name, where it is and the languages it works in.
#[derive(Debug, Clone, Default)]
pub struct Organisation {
    pub name: String,
    pub(super) place: Option<Where>,
    pub(super) languages: Languages,
    pub(super) other_languages: Vec<String>,
}

impl Organisation {
    pub fn of(profile: &Profile) -> Organisation {
        let (languages, other_languages, _) = languages_of(&profile.languages);
        Organisation {
            name: profile.name.clone(),
            place: profile.place.as_ref().and_then(|place| Where::of(&place.country)),
            languages,
            other_languages,
        }
    }

    /// Its country, when its profile names one.
    pub fn country(&self) -> Option<&str> {
        self.place.as_ref().map(Where::country)
    }

    /// An organisation in `country` working in `languages`, for tests and benchmarks.
    pub fn new(name: &str, country: &str, languages: &[&str]) -> Organisation {
        let tags: Vec<String> = languages.iter().map(|tag| (*tag).to_owned()).collect();
        let (languages, other_languages, _) = languages_of(&tags);
        Organisation { name: name.to_owned(), place: Where::of(country), languages, other_languages }
    }
}
