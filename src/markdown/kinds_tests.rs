//! The field tables of the knowledge-transfer kinds cover every field of their messages, each
//! field reads back what it wrote, a record with every field set goes through Markdown and back
//! unchanged, and it passes the record rules; records are made from command-line pairs.

use crate::fields::Described;
use crate::markdown;
use crate::record::{Body, Context, KindBody, PublisherId};
use crate::wire::{
    Activity, Contact, Endorsement, Engagement, Event, Link, Offer, Outcome, Place, Ref, Request, ResultIndicator,
    Stage,
};

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn other(slug: &str) -> Ref {
    Ref { publisher: vec![9; 32], slug: slug.into() }
}

fn contact() -> Option<Contact> {
    Some(Contact { role: "Head of unit".into(), channel: "mailto:unit@example.org".into(), name: "Ana".into() })
}

fn every_request() -> Request {
    Request {
        title: "Help with composting".into(),
        need: "We need help.".into(),
        themes: texts(&["solid-waste", "environment"]),
        sdg_targets: texts(&["11.6"]),
        formats: texts(&["study-visit", "webinar"]),
        languages: texts(&["pt", "en"]),
        start_date: "2027-01".into(),
        end_date: "2027-12-31".into(),
        regions: texts(&["BR", "419"]),
        costs: "shared".into(),
        practices: vec![other("hubs"), other("markets")],
        status: "in-progress".into(),
        contact: contact(),
    }
}

fn every_offer() -> Offer {
    Offer {
        title: "Composting advice".into(),
        summary: "We advise.".into(),
        themes: texts(&["solid-waste"]),
        sdg_targets: texts(&["11.6", "12.5"]),
        formats: texts(&["remote-advice"]),
        languages: texts(&["en"]),
        practices: vec![other("hubs")],
        capacity: "two visits a year".into(),
        costs: "provider".into(),
        available_from: "2027".into(),
        available_until: "2028-06".into(),
        regions: texts(&["035"]),
        status: "paused".into(),
        contact: contact(),
    }
}

fn every_event() -> Event {
    Event {
        title: "Study tour".into(),
        summary: "Three days.".into(),
        event_type: "study-tour".into(),
        start: "2027-03-10T09:00+07:00".into(),
        end: "2027-03-12T17:00:00+07:00".into(),
        time_zone: "Asia/Jakarta".into(),
        place: Some(Place { country: "ID".into(), name: "Surabaya".into(), ..Place::default() }),
        online_url: "https://meet.example.org/tour".into(),
        organisers: texts(&["City of Surabaya", "UCLG ASPAC"]),
        languages: texts(&["en", "id"]),
        themes: texts(&["solid-waste"]),
        capacity: 20,
        registration: contact(),
        practices: vec![other("hubs")],
        requests: vec![other("help")],
        status: "postponed".into(),
    }
}

fn every_engagement() -> Engagement {
    Engagement {
        counterpart: vec![9; 32],
        role: "recipient".into(),
        practice: Some(other("hubs")),
        request: Some(Ref { publisher: vec![3; 32], slug: "help".into() }),
        offer: Some(other("advice")),
        activities: vec![
            Activity { title: "First call".into(), date: "2026-11-20".into(), event: None },
            Activity { title: "Study tour".into(), date: "2027-03".into(), event: Some(other("tour")) },
        ],
        stages: vec![
            Stage { stage: "exploring".into(), date: "2026-11".into() },
            Stage { stage: "agreed".into(), date: "2026-12-01".into() },
        ],
        summary: "Taking up the hubs.".into(),
    }
}

fn every_outcome() -> Outcome {
    Outcome {
        engagement: "hubs-from-surabaya".into(),
        title: "Less waste to landfill".into(),
        summary: "It worked.".into(),
        indicators: vec![ResultIndicator {
            label: "Waste to landfill".into(),
            unit: "t/day".into(),
            baseline: "1500".into(),
            baseline_date: "2026".into(),
            target: "1000".into(),
            target_date: "2028".into(),
            actual: "1180.5".into(),
            actual_date: "2027-12".into(),
        }],
        results: "Three districts compost.".into(),
        lessons: "Train early.".into(),
        evidence: vec![Link { title: "Report".into(), url: "https://example.org/report.pdf".into() }],
    }
}

fn every_endorsement() -> Endorsement {
    Endorsement {
        subject_kind: "practice".into(),
        subject: Some(other("hubs")),
        grounds: texts(&["visited", "applied"]),
        comment: "We saw it work.".into(),
    }
}

fn covers<T: Described + KindBody + std::fmt::Debug>(example: T) {
    let mut copy = T::default();
    for field in T::FIELDS {
        field.set(&mut copy, field.get(&example)).unwrap();
    }
    copy.tidy();
    assert_eq!(copy, example, "{}: a field is missing from the table or reads back otherwise", T::KIND);
    let paths: Vec<&str> = T::FIELDS.iter().map(|field| field.path).collect();
    let unique: std::collections::BTreeSet<&str> = paths.iter().copied().collect();
    assert_eq!(unique.len(), paths.len(), "{}: a path is listed twice", T::KIND);
    for field in T::FIELDS {
        assert!(T::GROUPS.iter().any(|group| group.legend == field.group), "{}: {} has no group", T::KIND, field.path);
    }
    let body = example.clone().into_body();
    let text = markdown::render_record("the-slug", &body).expect("a written kind");
    let read = markdown::parse_record(&text, "CC-BY-4.0").unwrap_or_else(|error| panic!("{text}\n{error}"));
    assert_eq!((read.kind, read.slug.as_str(), &read.body), (T::KIND, "the-slug", &body), "{text}");
    let context = Context { publisher: PublisherId([1; 32]), slug: "the-slug" };
    assert_eq!(example.problems(&context), Vec::new(), "{}", T::KIND);
}

#[test]
fn every_kind_has_every_field_in_its_table_and_goes_through_markdown_unchanged() {
    covers(every_request());
    covers(every_offer());
    covers(every_event());
    covers(every_engagement());
    covers(every_outcome());
    covers(every_endorsement());
}

#[test]
fn a_form_names_every_problem_of_a_request_at_once() {
    let mut request = every_request();
    request.status = "pending".into();
    request.languages.clear();
    request.end_date = "2026-12".into();
    request.formats = texts(&["picnic"]);
    let problems: Vec<String> = request
        .problems(&Context { publisher: PublisherId([1; 32]), slug: "s" })
        .iter()
        .map(|problem| problem.to_string())
        .collect();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    for (at, field) in ["formats[0]", "languages", "end_date", "status"].iter().enumerate() {
        assert!(problems[at].starts_with(&format!("rule body-field: {field}: ")), "{}", problems[at]);
    }
    assert!(problems[0].contains("allowed: study-visit, expert-mission"), "{}", problems[0]);
}

#[test]
fn kinds_and_fields_read_from_the_command_line() {
    let pairs = [
        ("title", "Help"),
        ("need", "Advice on hubs."),
        ("themes", "solid-waste, environment"),
        ("formats", "study-visit"),
        ("languages", "pt"),
        ("contact", "Head of unit|unit@example.org|Ana"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    let text = markdown::from_pairs(crate::record::Kind::Request, "help", &pairs).unwrap();
    let read = markdown::parse_record(&text, "CC-BY-4.0").unwrap();
    let Body::Request(request) = read.body else { panic!("{text}") };
    assert_eq!(request.themes, texts(&["solid-waste", "environment"]));
    assert_eq!(request.status, "open", "a request is open unless said otherwise");
    assert_eq!(request.contact.unwrap().channel, "mailto:unit@example.org");
    let wrong = [("colour".to_owned(), "red".to_owned())];
    let error = markdown::from_pairs(crate::record::Kind::Request, "help", &wrong).unwrap_err().to_string();
    assert!(error.contains("request has no field \"colour\"; it has title, themes"), "{error}");
    let unknown = markdown::kind_of("---\nslug: x\nkind: adoption\n---\n").unwrap_err().to_string();
    assert!(unknown.contains("kind \"adoption\" is not a kind of record"), "{unknown}");
}
