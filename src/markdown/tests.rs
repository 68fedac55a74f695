//! The Markdown format: the examples parse and sign, render and parse are inverses, and every
//! shape error names its line.

use super::*;
use crate::record::{Body, Draft, Kind, PublisherKey, sign};

const EXAMPLES: [(&str, &str); 3] = [
    ("community-composting", include_str!("../../config/examples/community-composting.md")),
    ("bus-rapid-transit", include_str!("../../config/examples/bus-rapid-transit.md")),
    ("participatory-budgeting", include_str!("../../config/examples/participatory-budgeting.md")),
];

fn error_of(text: &str) -> MarkdownError {
    parse(text, "CC-BY-4.0").unwrap_err()
}

const FRONT: &str = "---\nslug: s\ntitle: T\n---\n";

#[test]
fn the_examples_parse_and_sign() {
    for (slug, text) in EXAMPLES {
        let note = parse(text, "CC-BY-4.0").unwrap();
        assert_eq!(note.slug, slug);
        assert!(!note.practice.summary.is_empty() && note.practice.transferability.is_some());
        let draft = Draft {
            kind: Kind::Practice,
            slug: note.slug,
            revision: 1,
            timestamp_ms: 1,
            body: Body::Practice(note.practice),
        };
        sign(&PublisherKey::from_seed([1; 32]), draft).unwrap();
    }
}

#[test]
fn render_then_parse_gives_the_note_back() {
    for (_, text) in EXAMPLES {
        let note = parse(text, "CC-BY-4.0").unwrap();
        let again = parse(&render(&note.slug, &note.practice), "CC-BY-4.0").unwrap();
        assert_eq!(again, note);
    }
}

/// Found by the `markdown` fuzz target: a "\r\r\n" inside a section came back as "\r\n"
/// after rendering, because only the "\r" of a "\r\n" was taken as part of the line ending.
#[test]
fn every_line_ending_reads_as_one_and_survives_rendering() {
    let unix = parse(&format!("{FRONT}## Summary\n\nfirst\nsecond\n\n## Problem\n\nthird\n"), "CC0-1.0").unwrap();
    for ending in ["\r\n", "\r"] {
        let text = format!("{FRONT}## Summary\n\nfirst\nsecond\n\n## Problem\n\nthird\n").replace('\n', ending);
        assert_eq!(parse(&text, "CC0-1.0").unwrap(), unix, "{ending:?}");
    }
    let mixed = parse(&format!("{FRONT}## Summary\n\nx \r\r\ny\r\r\r\n"), "CC0-1.0").unwrap();
    let again = parse(&render(&mixed.slug, &mixed.practice), "CC0-1.0").unwrap();
    assert_eq!(again, mixed);
}

/// Found by the `markdown` fuzz target: the last field of the front matter, written as a block
/// scalar keeping its final line breaks (`|+`), lost one on reading.
#[test]
fn a_last_front_matter_field_ending_in_line_breaks_survives_rendering() {
    let mut practice = parse(&format!("{FRONT}## Summary\n\nx\n"), "CC0-1.0").unwrap().practice;
    practice.keywords = vec!["compost\n\n\n".to_owned()];
    practice.resources = Some(crate::wire::Resources { staff: "six\n\n".to_owned(), ..Default::default() });
    let rendered = render("s", &practice);
    assert_eq!(parse(&rendered, "CC0-1.0").unwrap().practice, practice, "{rendered}");
}

/// Found by the `markdown` fuzz target: a code fence left open in the last section took the
/// headings after it as text once the sections were written in their usual order.
#[test]
fn a_code_fence_left_open_is_an_error_naming_its_line() {
    let error = error_of(&format!("{FRONT}## Adaptable elements\n\n- a\n\n## Summary\n\n```\ncode\n"));
    assert_eq!(error.line, Some(11), "{error}");
    assert!(error.message.contains("never closed"), "{error}");
    let closed = parse(&format!("{FRONT}## Summary\n\n```\n## Problem\n```\n\n## Problem\n\np\n"), "CC0-1.0");
    let practice = closed.unwrap().practice;
    assert_eq!((practice.summary.as_str(), practice.problem.as_str()), ("```\n## Problem\n```", "p"));
}

/// Found by the `markdown` fuzz target: a section's first line "\u{c}## Core elements" lost its
/// form feed to trimming and came back as a heading.
#[test]
fn a_sections_first_line_keeps_what_leads_it() {
    for lead in ["\u{c}", "  ", "\t"] {
        let note = parse(&format!("{FRONT}## Summary\n\n{lead}## Core elements\nx\n"), "CC0-1.0").unwrap();
        assert_eq!(note.practice.summary, format!("{lead}## Core elements\nx"));
        assert_eq!(parse(&render(&note.slug, &note.practice), "CC0-1.0").unwrap(), note, "{lead:?}");
    }
}

#[test]
fn a_missing_license_gets_the_default() {
    let note = parse(&format!("{FRONT}## Summary\n\nx\n"), "CC0-1.0").unwrap();
    assert_eq!(note.practice.license, "CC0-1.0");
}

#[test]
fn dates_and_sdg_codes_written_without_quotes_stay_text() {
    let note = parse("---\nslug: s\ntitle: T\nstart_date: 2021-03-01\nsdg_targets: [11.6, 6.b]\n---\n", "").unwrap();
    assert_eq!(note.practice.start_date, "2021-03-01");
    assert_eq!(note.practice.sdg_targets, ["11.6", "6.b"]);
}

#[test]
fn front_matter_problems_name_the_line() {
    assert_eq!(error_of("# Title\n").line, Some(1));
    assert!(error_of("---\nslug: s\n").message.contains("not closed"));
    let error = error_of("---\nslug: s\ntitle: [unclosed\nthemes: x\n---\n");
    assert!(error.line.is_some_and(|line| line >= 3), "{error}");
    let error = error_of("---\nslug: s\n---\n");
    assert!(error.message.contains("missing field `title`"), "{error}");
    let error = error_of("---\nslug: s\ntitle: T\ntheme: [water-sanitation]\n---\n");
    assert_eq!(error.line, Some(4), "{error}");
    assert!(error.message.contains("unknown field `theme`") && error.message.contains("themes"), "{error}");
    let error = error_of("---\nslug: Bad Slug\ntitle: T\n---\n");
    assert!(error.message.contains("slug"), "{error}");
    let error = error_of("---\nslug: s\ntitle: T\nbased_on: abc\n---\n");
    assert!(error.message.contains("based_on"), "{error}");
}

#[test]
fn section_problems_name_the_line() {
    let error = error_of(&format!("{FRONT}\n## Summery\n"));
    assert_eq!(error.line, Some(6));
    assert!(error.message.contains("Summary") && error.message.contains("Lessons learned"), "{error}");
    let error = error_of(&format!("{FRONT}loose text\n## Summary\n"));
    assert_eq!(error.line, Some(5));
    let error = error_of(&format!("{FRONT}## Summary\na\n## summary\nb\n"));
    assert_eq!(error.line, Some(7));
    assert!(error.message.contains("twice"), "{error}");
}

#[test]
fn sections_fill_their_fields() {
    let text = format!(
        "{FRONT}## Summary\n\nShort.\n\n## Approach\n\nSteps:\n\n```\n## not a heading\n```\n\n### Detail\n\nMore.\n\n\
         ## Core elements\n\n- one\n  continued\n* two\n\n## preconditions\n- ready\n"
    );
    let note = parse(&text, "CC-BY-4.0").unwrap();
    assert_eq!(note.practice.summary, "Short.");
    assert_eq!(note.practice.approach, "Steps:\n\n```\n## not a heading\n```\n\n### Detail\n\nMore.");
    let transferability = note.practice.transferability.unwrap();
    assert_eq!(transferability.core_elements, ["one continued", "two"]);
    assert_eq!(transferability.preconditions, ["ready"]);
}
