//! The fields of the records that follow a transfer: each side's engagement, its outcomes
//! (in the shape of IATI results) and third parties' endorsements.

use super::{
    Access, Column, DATE_HINT, Described, Field, Group, Input, Searched, Show, cells, column, group, optional_ref,
    required_column, set_optional_ref,
};
use crate::vocab::Words;
use crate::wire::{Activity, Endorsement, Engagement, Link, Outcome, ResultIndicator, Stage};

const TRANSFER: &str = "The transfer";
const STAGES: &str = "Stages reached";
const ACTIVITIES: &str = "Activities";
const OUTCOME: &str = "The outcome";
const INDICATORS: &str = "Indicators";
const EVIDENCE: &str = "Evidence";
const ENDORSED: &str = "What you vouch for";

const REF_HINT: &str = "The publisher's key (64 hex characters), '/', the slug, as its page shows it.";

const STAGE_COLUMNS: &[Column] = &[
    Column {
        hint: "exploring, agreed, learning, piloting, then adopted, adapted or abandoned.",
        ..required_column("stage", "Stage")
    },
    Column { hint: DATE_HINT, ..required_column("date", "Date") },
];

const ACTIVITY_COLUMNS: &[Column] = &[
    required_column("title", "Activity"),
    Column { hint: DATE_HINT, ..required_column("date", "Date") },
    Column { hint: "The event it was, if one was published.", ..column("event", "Event") },
];

const INDICATOR_COLUMNS: &[Column] = &[
    required_column("label", "Indicator"),
    column("unit", "Unit"),
    column("baseline", "Baseline"),
    column("baseline_date", "Baseline date"),
    column("target", "Target"),
    column("target_date", "Target date"),
    required_column("actual", "Actual"),
    column("actual_date", "Actual date"),
];

const LINK_COLUMNS: &[Column] = &[required_column("title", "Title"), required_column("url", "Address")];

fn hex_key(bytes: &[u8]) -> String {
    crate::hex::to_hex(bytes)
}

fn parse_key(text: &str, what: &str) -> Result<Vec<u8>, String> {
    match text.trim() {
        "" => Ok(Vec::new()),
        text => crate::hex::parse_hex32(text)
            .map(|key| key.to_vec())
            .map_err(|_| format!("{what}: {text:?} is not a publisher key (64 hex characters)")),
    }
}

impl Described for Engagement {
    const KIND: crate::record::Kind = crate::record::Kind::Engagement;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Engagement(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Engagement(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Engagement>] = &[
        Field::new(
            "counterpart",
            "The other organisation",
            TRANSFER,
            Access::Text {
                get: |body: &Engagement| hex_key(&body.counterpart),
                set: |body, text| {
                    body.counterpart = parse_key(&text, "counterpart")?;
                    Ok(())
                },
            },
        )
        .hint("Its publisher key (64 hex characters), as its profile shows it.")
        .required("is required")
        .front_required("counterpart")
        .input(Input::Line),
        Field::new("role", "Your role", TRANSFER, text!(Engagement: role))
            .required("is required")
            .front_required("role")
            .input(Input::Choice)
            .words(Words::Role)
            .show(Show::Fact("Role"))
            .facet("role"),
        Field::new("practice", "The practice note transferred", TRANSFER, one_ref!(Engagement: practice))
            .hint(REF_HINT)
            .required("is required")
            .front_required("practice")
            .input(Input::Line),
        Field::new("request", "The request it answers", TRANSFER, one_ref!(Engagement: request))
            .hint(REF_HINT)
            .front("request")
            .input(Input::Line),
        Field::new("offer", "The offer it answers", TRANSFER, one_ref!(Engagement: offer))
            .hint(REF_HINT)
            .front("offer")
            .input(Input::Line),
        Field::new(
            "stages",
            "Stages reached",
            STAGES,
            Access::Rows {
                columns: STAGE_COLUMNS,
                get: |body: &Engagement| body.stages.iter().map(|s| vec![s.stage.clone(), s.date.clone()]).collect(),
                set: |body, rows| {
                    body.stages = rows
                        .into_iter()
                        .map(|row| {
                            let [stage, date] = cells(row);
                            Stage { stage, date }
                        })
                        .collect();
                    Ok(())
                },
            },
        )
        .required("give at least the stage you are at")
        .front("stages")
        .input(Input::Rows { singular: "Stage" })
        .show(Show::Table("Stages reached"))
        .facet("stage"),
        Field::new(
            "activities",
            "Activities",
            ACTIVITIES,
            Access::Rows {
                columns: ACTIVITY_COLUMNS,
                get: |body: &Engagement| {
                    let row = |a: &Activity| vec![a.title.clone(), a.date.clone(), optional_ref(&a.event)];
                    body.activities.iter().map(row).collect()
                },
                set: |body, rows| {
                    let mut activities = Vec::with_capacity(rows.len());
                    for (index, row) in rows.into_iter().enumerate() {
                        let [title, date, event] = cells(row);
                        let event = set_optional_ref(&event, &format!("activities[{index}].event"))?;
                        activities.push(Activity { title, date, event });
                    }
                    body.activities = activities;
                    Ok(())
                },
            },
        )
        .front("activities")
        .input(Input::Rows { singular: "Activity" })
        .show(Show::Table("Activities"))
        .search(Searched::Body),
        Field::new("summary", "In short", TRANSFER, text!(Engagement: summary))
            .hint("What is being transferred and how, in at most 250 words.")
            .section("Summary")
            .input(Input::Area)
            .show(Show::Section("In short"))
            .search(Searched::Summary),
    ];
    const GROUPS: &'static [Group] = &[
        group(TRANSFER),
        Group { hint: "One row per stage, in order; the last is where the transfer stands.", ..group(STAGES) },
        group(ACTIVITIES),
    ];

    fn tidy(&mut self) {}
}

impl Described for Outcome {
    const KIND: crate::record::Kind = crate::record::Kind::Outcome;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Outcome(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Outcome(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Outcome>] = &[
        Field::new("engagement", "Engagement", OUTCOME, text!(Outcome: engagement))
            .hint("The slug of your engagement this outcome is of.")
            .required("is required")
            .front_required("engagement")
            .input(Input::Line),
        Field::new("title", "Title", OUTCOME, text!(Outcome: title))
            .hint("At most 200 characters.")
            .required("is required")
            .front_required("title")
            .input(Input::Line)
            .search(Searched::Title),
        Field::new(
            "indicators",
            "Indicators",
            INDICATORS,
            Access::Rows {
                columns: INDICATOR_COLUMNS,
                get: |body: &Outcome| {
                    let row = |i: &ResultIndicator| {
                        vec![
                            i.label.clone(),
                            i.unit.clone(),
                            i.baseline.clone(),
                            i.baseline_date.clone(),
                            i.target.clone(),
                            i.target_date.clone(),
                            i.actual.clone(),
                            i.actual_date.clone(),
                        ]
                    };
                    body.indicators.iter().map(row).collect()
                },
                set: |body, rows| {
                    body.indicators = rows
                        .into_iter()
                        .map(|row| {
                            let [label, unit, baseline, baseline_date, target, target_date, actual, actual_date] =
                                cells(row);
                            ResultIndicator {
                                label,
                                unit,
                                baseline,
                                baseline_date,
                                target,
                                target_date,
                                actual,
                                actual_date,
                            }
                        })
                        .collect();
                    Ok(())
                },
            },
        )
        .front("indicators")
        .input(Input::Rows { singular: "Indicator" })
        .show(Show::Table("Indicators"))
        .search(Searched::Body),
        Field::new(
            "evidence",
            "Evidence",
            EVIDENCE,
            Access::Rows {
                columns: LINK_COLUMNS,
                get: |body: &Outcome| body.evidence.iter().map(|l| vec![l.title.clone(), l.url.clone()]).collect(),
                set: |body, rows| {
                    body.evidence = rows
                        .into_iter()
                        .map(|row| {
                            let [title, url] = cells(row);
                            Link { title, url }
                        })
                        .collect();
                    Ok(())
                },
            },
        )
        .front("evidence")
        .input(Input::Rows { singular: "Link" })
        .show(Show::Table("Evidence")),
        Field::new("summary", "Summary", OUTCOME, text!(Outcome: summary))
            .hint("At most 250 words.")
            .section("Summary")
            .input(Input::Area)
            .show(Show::Section("Summary"))
            .search(Searched::Summary),
        Field::new("results", "Results", OUTCOME, text!(Outcome: results))
            .section("Results")
            .input(Input::Area)
            .show(Show::Section("Results"))
            .search(Searched::Body),
        Field::new("lessons", "Lessons", OUTCOME, text!(Outcome: lessons))
            .section("Lessons")
            .input(Input::Area)
            .show(Show::Section("Lessons"))
            .search(Searched::Body),
    ];
    const GROUPS: &'static [Group] = &[
        group(OUTCOME),
        Group { hint: "Numbers such as 1500 or 12.5; the actual value is required.", ..group(INDICATORS) },
        group(EVIDENCE),
    ];

    fn tidy(&mut self) {}
}

impl Described for Endorsement {
    const KIND: crate::record::Kind = crate::record::Kind::Endorsement;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Endorsement(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Endorsement(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Endorsement>] = &[
        Field::new("subject_kind", "You vouch for a", ENDORSED, text!(Endorsement: subject_kind))
            .hint("practice or outcome.")
            .required("is required")
            .front_required("subject_kind")
            .input(Input::Line)
            .show(Show::Fact("Vouches for a")),
        Field::new("subject", "The practice or outcome", ENDORSED, one_ref!(Endorsement: subject))
            .hint(REF_HINT)
            .required("is required")
            .front_required("subject")
            .input(Input::Line),
        Field::new("grounds", "On what grounds", ENDORSED, list!(Endorsement: grounds))
            .required("choose at least one")
            .front("grounds")
            .input(Input::Choices)
            .words(Words::Grounds)
            .show(Show::Fact("Grounds")),
        Field::new("comment", "Comment", ENDORSED, text!(Endorsement: comment))
            .hint("At most 1000 characters.")
            .section("Comment")
            .input(Input::Area)
            .show(Show::Section("Comment"))
            .search(Searched::Summary),
    ];
    const GROUPS: &'static [Group] = &[group(ENDORSED)];

    fn tidy(&mut self) {}
}
