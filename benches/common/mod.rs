//! What the benchmarks share: generated practice notes with ~2 KiB bodies of prose drawn from
//! the example notes' words, signed by 100 publishers, and the ceiling they are measured
//! against: a plain `verify_strict` loop.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use citymesh::record::{self, Body, Draft, Kind, PublisherKey};
use citymesh::wire::{Envelope, Header, Place, Practice};
use ed25519_dalek::{Signature, VerifyingKey};

pub const NOW: i64 = 1_767_225_600_000;

/// The words of the example notes in `config/examples/`, most frequent first, for prose that
/// compresses like real notes do (a text of a few words repeated would compress 50-fold).
fn vocabulary() -> &'static [String] {
    static WORDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let examples = [
            include_str!("../../config/examples/bus-rapid-transit.md"),
            include_str!("../../config/examples/community-composting.md"),
            include_str!("../../config/examples/participatory-budgeting.md"),
            include_str!("../../config/examples/composting-offer.md"),
            include_str!("../../config/examples/composting-request.md"),
            include_str!("../../config/examples/composting-study-tour.md"),
        ];
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for word in examples.iter().flat_map(|text| text.split(|c: char| !c.is_alphabetic())) {
            if word.len() > 1 {
                *counts.entry(word.to_lowercase()).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        words.into_iter().map(|(word, _)| word).collect()
    })
}

/// ~300 words of sentences drawn from [`vocabulary`], frequent words more often, the same for
/// the same `seed`.
fn prose(seed: usize) -> String {
    let words = vocabulary();
    let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::new();
    for i in 0..300 {
        // The product of two uniform draws favours the start of the list, as word use does.
        let (a, b) = (next() % 1000, next() % 1000);
        let word = &words[(a * b * words.len() as u64 / 1_000_000) as usize];
        text.push_str(word);
        text.push_str(if i % 17 == 16 { ". " } else { " " });
    }
    text
}

fn note(index: usize) -> Practice {
    let text = prose(index);
    Practice {
        title: format!("Practice number {index}"),
        summary: "Neighbourhood hubs turn kitchen waste into compost for city parks.".to_owned(),
        approach: text,
        themes: vec!["solid-waste".to_owned(), "environment".to_owned()],
        sdg_targets: vec!["11.6".to_owned()],
        status: "ongoing".to_owned(),
        location: Some(Place { country: "ID".to_owned(), name: "Surabaya".to_owned(), ..Place::default() }),
        language: "en".to_owned(),
        license: "CC-BY-4.0".to_owned(),
        ..Practice::default()
    }
}

#[allow(dead_code)] // the benchmark against git keeps the notes whole
pub fn make_envelopes(count: usize) -> Vec<Vec<u8>> {
    make_notes(count).into_iter().map(|note| note.envelope).collect()
}

/// A generated note: its text, where it would sit in a folder of Markdown files, and its record.
#[allow(dead_code)] // not every benchmark writes the notes as files
pub struct Note {
    /// `notes/<the first 16 hex digits of the publisher>/<slug>.md`.
    pub path: String,
    pub slug: String,
    pub practice: Practice,
    pub envelope: Vec<u8>,
}

fn publishers() -> Vec<PublisherKey> {
    (0..100u8).map(|seed| PublisherKey::from_seed([seed; 32])).collect()
}

fn signed(key: &PublisherKey, slug: String, revision: u64, timestamp_ms: i64, practice: Practice) -> Note {
    let draft = Draft {
        kind: Kind::Practice,
        slug: slug.clone(),
        revision,
        timestamp_ms,
        body: Body::Practice(practice.clone()),
    };
    let record = record::sign(key, draft).expect("a valid draft");
    let publisher = citymesh::hex::to_hex(&record.publisher().0);
    Note { path: format!("notes/{}/{slug}.md", &publisher[..16]), slug, practice, envelope: record.envelope_bytes() }
}

/// The notes [`make_envelopes`] signs, with their text: note `index` is `note-{index / 100}` of
/// publisher `index % 100`, so slugs repeat across publishers.
pub fn make_notes(count: usize) -> Vec<Note> {
    let keys = publishers();
    (0..count)
        .map(|index| {
            let timestamp = NOW - (count - index) as i64;
            signed(&keys[index % keys.len()], format!("note-{}", index / keys.len()), 1, timestamp, note(index))
        })
        .collect()
}

/// Revision 2 of note `index` of [`make_notes`], signed at `timestamp_ms`: a paragraph added to
/// its approach and its status changed, as an editor would.
#[allow(dead_code)] // not every benchmark edits notes
pub fn revise(index: usize, timestamp_ms: i64) -> Note {
    let keys = publishers();
    let mut practice = note(index);
    practice.approach.push_str("\n\nAfter the second year: ");
    let more = prose(index + 7_000_000);
    let paragraph: Vec<&str> = more.split(' ').take(100).collect();
    practice.approach.push_str(&paragraph.join(" "));
    practice.status = "completed".to_owned();
    signed(&keys[index % keys.len()], format!("note-{}", index / keys.len()), 2, timestamp_ms, practice)
}

/// The ceiling: decode just enough to find the signed bytes, then parse the signing key and
/// `verify_strict` on one thread.
#[allow(dead_code)] // not every benchmark measures against this ceiling
pub fn plain_verify(envelopes: &[Vec<u8>]) -> f64 {
    let prepared = prepare(envelopes);
    let started = Instant::now();
    verify_prepared(&prepared);
    prepared.len() as f64 / started.elapsed().as_secs_f64()
}

/// The machine's ceiling: the same loop on every core at once, each over its share of the
/// records, timed from a common start to the last thread's end.
#[allow(dead_code)] // not every benchmark measures against this ceiling
pub fn plain_verify_every_core(envelopes: &[Vec<u8>]) -> f64 {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let prepared = prepare(envelopes);
    let share = prepared.len().div_ceil(cores);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for chunk in prepared.chunks(share) {
            scope.spawn(move || verify_prepared(chunk));
        }
    });
    prepared.len() as f64 / started.elapsed().as_secs_f64()
}

type Prepared = ([u8; 32], Vec<u8>, Signature);

fn verify_prepared(prepared: &[Prepared]) {
    for (key, signed, signature) in prepared {
        let key = VerifyingKey::from_bytes(key).expect("a valid key");
        key.verify_strict(signed, signature).expect("valid signature");
    }
}

fn prepare(envelopes: &[Vec<u8>]) -> Vec<Prepared> {
    envelopes
        .iter()
        .map(|bytes| {
            let envelope: Envelope = citymesh::wire::decode(bytes).unwrap();
            let header: Header = citymesh::wire::decode(&envelope.header).unwrap();
            // The signing key: an operator's in format 4 (`Header.signer`), else the publisher's.
            let signer = if header.signer.is_empty() { &header.publisher } else { &header.signer };
            let key: [u8; 32] = signer.as_slice().try_into().unwrap();
            let signed = [&b"citymesh/header/v1\0"[..], &envelope.header].concat();
            (key, signed, Signature::from_slice(&envelope.signature).unwrap())
        })
        .collect()
}

/// A field of `/proc/PID/status` in kB (`VmHWM:`, `RssAnon:`…); 0 once the process is gone.
#[allow(dead_code)] // only the benchmarks that run a node as its own process
pub fn proc_status(pid: u32, name: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_default()
}

/// Stops a node as an operator would (SIGTERM) and waits for it up to `within`: its exit
/// status, or `None` if it is still running then.
#[allow(dead_code)] // only the benchmarks that run a node as its own process
pub fn terminate(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    // SAFETY: signals a child of this process that has not been waited for.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let asked = Instant::now();
    while asked.elapsed() < within {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
