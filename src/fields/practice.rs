//! The practice note's fields (UN-Habitat's best-practice format, URBACT's good practices, UN
//! DESA's SDG good practices), in the order a Markdown file writes its front matter and then its
//! sections. The form and the note page lay them out by [`GROUPS`].

use super::{
    Access, Column, DATE_HINT, Described, Field, Group, Input, Item, Searched, Show, cells, channel, column,
    contact_item, group, required_column,
};
use crate::vocab::Words;
use crate::wire::{Attachment, Contact, Indicator, Partner, Place, Practice, Resources, Transferability};

/// The hidden facet naming the record a note adapts (`based_on`): a note's page lists the
/// notes adapting it by searching for it.
pub const ADAPTS: &str = "adapts";

const NOTE: &str = "The note";
const THEMES: &str = "Themes";
const WHERE: &str = "Where, when and in what language";
const TRANSFER: &str = "Transferability: what another city would need to copy it";
const INDICATORS: &str = "Indicators";
const RESOURCES: &str = "Resources";
const PARTNERS: &str = "Partners in the practice";
const CONTACTS: &str = "Contacts";
/// Fields the form does not edit (an edit keeps them as they were).
const FILES: &str = "Attachments";

fn dates(note: &Practice) -> String {
    match (note.start_date.as_str(), note.end_date.as_str()) {
        ("", "") => String::new(),
        (start, "") => format!("since {start}"),
        ("", end) => format!("until {end}"),
        (start, end) => format!("{start} to {end}"),
    }
}

fn place(note: &Practice) -> String {
    let Some(place) = &note.location else { return String::new() };
    let country = Words::Country.label(&place.country);
    let parts: Vec<&str> = [place.name.as_str(), &country].into_iter().filter(|part| !part.is_empty()).collect();
    parts.join(", ")
}

fn place_ids(note: &Practice) -> String {
    let Some(place) = &note.location else { return String::new() };
    let mut ids: Vec<String> = [
        ("ISO 3166-2", &place.subdivision),
        ("Wikidata", &place.wikidata),
        ("GeoNames", &place.geonames),
        ("UN/LOCODE", &place.unlocode),
    ]
    .into_iter()
    .filter(|(_, id)| !id.is_empty())
    .map(|(name, id)| format!("{name} {id}"))
    .collect();
    if !place.latitude.is_empty() {
        ids.push(format!("coordinates {}, {}", place.latitude, place.longitude));
    }
    ids.join(", ")
}

fn budget(note: &Practice) -> String {
    match &note.resources {
        Some(resources) if !resources.budget.is_empty() => format!("{} {}", resources.budget, resources.currency),
        _ => String::new(),
    }
}

fn partner_item(row: &[String]) -> Item {
    let [name, role, support] = cells(row.to_vec());
    let role = if role.is_empty() { String::new() } else { format!(", {role}") };
    let support = match support.as_str() {
        "" => String::new(),
        code => format!(" ({} support)", Words::Support.label(code).to_lowercase()),
    };
    Item { text: format!("{name}{role}{support}"), link: None }
}

/// A file as a reader sees it: its name, its type and size in words, and where to get it.
fn attachment_item(row: &[String]) -> Item {
    let [sha256, size, name, media_type] = cells(row.to_vec());
    let kind = match media_type.as_str() {
        "application/pdf" => "PDF".to_owned(),
        "" => "file".to_owned(),
        other => match other.split_once('/') {
            Some(("image", subtype)) => format!("{} image", subtype.to_uppercase()),
            _ => other.to_owned(),
        },
    };
    let size = size.parse::<u64>().map_or(size, size_in_words);
    Item { text: format!("{name} ({kind}, {size}) "), link: Some(format!("/api/v1/blobs/{sha256}")) }
}

/// A number of bytes as people write it: "812 bytes", "48 kB", "3.2 MB".
fn size_in_words(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{} kB", bytes.div_ceil(1_000)),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

const CONTACT_COLUMNS: &[Column] = &[
    Column { hint: "Such as project lead.", ..required_column("role", "Role") },
    Column {
        hint: "An e-mail address, a phone number as tel:+62..., or a web address.",
        ..required_column("channel", "Address")
    },
    column("name", "Name"),
];

const PARTNER_COLUMNS: &[Column] = &[
    required_column("name", "Name"),
    column("role", "Role"),
    Column { hint: "financial, technical, in-kind, political or other.", ..column("support", "Support") },
];

const INDICATOR_COLUMNS: &[Column] = &[
    required_column("label", "Indicator"),
    column("baseline", "Baseline"),
    column("value", "Value"),
    column("unit", "Unit"),
    column("date", "Date"),
];

const ATTACHMENT_COLUMNS: &[Column] = &[
    required_column("sha256", "SHA-256"),
    Column { number: true, ..required_column("size", "Size") },
    required_column("name", "Name"),
    column("media_type", "Media type"),
];

impl Described for Practice {
    const KIND: crate::record::Kind = crate::record::Kind::Practice;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Practice(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Practice(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Practice>] = &[
        Field::new("title", "Title", NOTE, text!(Practice: title))
            .hint("At most 200 characters.")
            .required("is required")
            .front_required("title")
            .input(Input::Line)
            .search(Searched::Title),
        Field::new("themes", "Themes", THEMES, list!(Practice: themes))
            .required("choose at least one theme")
            .front("themes")
            .input(Input::Choices)
            .words(Words::Theme)
            .show(Show::Fact("Themes"))
            .facet("theme"),
        Field::new("sdg_targets", "SDG targets", WHERE, list!(Practice: sdg_targets))
            .hint("Separated by commas, such as 11.6, 12.5.")
            .front("sdg_targets")
            .input(Input::Codes)
            .words(Words::Sdg)
            .show(Show::Fact("SDG targets"))
            .facet("sdg"),
        Field::new("status", "Status", WHERE, text!(Practice: status))
            .required("is required")
            .front("status")
            .input(Input::Choice)
            .words(Words::Status)
            .show(Show::Fact("Status"))
            .facet("status"),
        Field::new("start_date", "Started", WHERE, text!(Practice: start_date))
            .hint(DATE_HINT)
            .front("start_date")
            .input(Input::Line)
            .show(Show::FactOf("Dates", dates)),
        Field::new("end_date", "Ended", WHERE, text!(Practice: end_date))
            .hint(DATE_HINT)
            .front("end_date")
            .input(Input::Line),
        Field::new("location.country", "Country", WHERE, text!(Practice: location.country))
            .required("is required")
            .front("country")
            .input(Input::Choice)
            .words(Words::Country)
            .show(Show::FactOf("Place", place))
            .search(Searched::Words)
            .facet("country"),
        Field::new("location.name", "Place", WHERE, text!(Practice: location.name))
            .hint("The city or area, such as Surabaya.")
            .front("place")
            .input(Input::Line)
            .search(Searched::Words),
        Field::new("location.subdivision", "Region code", WHERE, text!(Practice: location.subdivision))
            .hint("ISO 3166-2, such as ID-JI.")
            .front("subdivision")
            .input(Input::Line)
            .search(Searched::Words),
        Field::new("location.wikidata", "Wikidata id", WHERE, text!(Practice: location.wikidata))
            .hint("Such as Q8686.")
            .front("wikidata")
            .input(Input::Line)
            .show(Show::FactOf("Place ids", place_ids)),
        Field::new("location.geonames", "GeoNames id", WHERE, text!(Practice: location.geonames))
            .hint("Digits, such as 1625822.")
            .front("geonames")
            .input(Input::Line),
        Field::new("location.unlocode", "UN/LOCODE", WHERE, text!(Practice: location.unlocode))
            .front("unlocode")
            .search(Searched::Words),
        Field::new("location.latitude", "Latitude", WHERE, text!(Practice: location.latitude))
            .hint("Decimal degrees, such as -7.2575 (south is negative); with a longitude.")
            .front("latitude")
            .input(Input::Line),
        Field::new("location.longitude", "Longitude", WHERE, text!(Practice: location.longitude))
            .hint("Decimal degrees, such as 112.7521 (west is negative).")
            .front("longitude")
            .input(Input::Line),
        Field::new("language", "Language of the note", WHERE, text!(Practice: language))
            .front("language")
            .input(Input::Choice)
            .words(Words::Language)
            .show(Show::Fact("Language"))
            .facet("language"),
        Field::new("license", "Licence", WHERE, text!(Practice: license))
            .hint("Who may reuse the note, and how.")
            .front("license")
            .input(Input::Choice)
            .words(Words::Licence)
            .show(Show::Fact("Licence")),
        Field::new("keywords", "Keywords", WHERE, list!(Practice: keywords))
            .hint("Separated by commas.")
            .front("keywords")
            .input(Input::Commas)
            .show(Show::Fact("Keywords"))
            .search(Searched::Words),
        Field::new(
            "contacts",
            "Contacts",
            CONTACTS,
            Access::Rows {
                columns: CONTACT_COLUMNS,
                get: |body: &Practice| {
                    body.contacts.iter().map(|c| vec![c.role.clone(), c.channel.clone(), c.name.clone()]).collect()
                },
                set: |body: &mut Practice, rows| {
                    body.contacts = rows
                        .into_iter()
                        .map(|row| {
                            let [role, address, name] = cells(row);
                            Contact { role, channel: channel(address), name }
                        })
                        .collect();
                    Ok(())
                },
            },
        )
        .front("contacts")
        .input(Input::Rows { singular: "Contact" })
        .show(Show::Items("Contacts", contact_item)),
        Field::new(
            "partners",
            "Partners in the practice",
            PARTNERS,
            Access::Rows {
                columns: PARTNER_COLUMNS,
                get: |body: &Practice| {
                    body.partners.iter().map(|p| vec![p.name.clone(), p.role.clone(), p.support.clone()]).collect()
                },
                set: |body: &mut Practice, rows| {
                    body.partners = rows
                        .into_iter()
                        .map(|row| {
                            let [name, role, support] = cells(row);
                            Partner { name, role, support }
                        })
                        .collect();
                    Ok(())
                },
            },
        )
        .front("partners")
        .input(Input::Rows { singular: "Partner" })
        .show(Show::Items("Partners in the practice", partner_item))
        .search(Searched::Body),
        Field::new(
            "indicators",
            "Indicators",
            INDICATORS,
            Access::Rows {
                columns: INDICATOR_COLUMNS,
                get: |body: &Practice| {
                    let row = |i: &Indicator| {
                        vec![i.label.clone(), i.baseline.clone(), i.value.clone(), i.unit.clone(), i.date.clone()]
                    };
                    body.indicators.iter().map(row).collect()
                },
                set: |body: &mut Practice, rows| {
                    body.indicators = rows
                        .into_iter()
                        .map(|row| {
                            let [label, baseline, value, unit, date] = cells(row);
                            Indicator { label, baseline, value, unit, date }
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
        Field::new("resources.budget", "Budget", RESOURCES, text!(Practice: resources.budget))
            .hint("An amount, such as 250000.")
            .front_in("resources", "budget")
            .input(Input::Line)
            .show(Show::FactOf("Budget", budget)),
        Field::new("resources.currency", "Currency", RESOURCES, text!(Practice: resources.currency))
            .hint("ISO 4217 code, such as IDR or USD; required with a budget.")
            .front_in("resources", "currency")
            .input(Input::Upper),
        Field::new(
            "resources.funding_sources",
            "Funding sources",
            RESOURCES,
            list!(Practice: resources.funding_sources),
        )
        .hint("Separated by commas.")
        .front_in("resources", "funding_sources")
        .input(Input::Commas)
        .show(Show::Fact("Funding"))
        .search(Searched::Body),
        Field::new("resources.staff", "Staff", RESOURCES, text!(Practice: resources.staff))
            .hint("Such as 3 full-time.")
            .front_in("resources", "staff")
            .input(Input::Line)
            .show(Show::Fact("Staff")),
        Field::new(
            "attachments",
            "Attachments",
            FILES,
            Access::Rows {
                columns: ATTACHMENT_COLUMNS,
                get: |body: &Practice| {
                    let row = |a: &Attachment| {
                        vec![crate::hex::to_hex(&a.sha256), a.size.to_string(), a.name.clone(), a.media_type.clone()]
                    };
                    body.attachments.iter().map(row).collect()
                },
                set: |body: &mut Practice, rows| {
                    let mut attachments = Vec::with_capacity(rows.len());
                    for (index, row) in rows.into_iter().enumerate() {
                        let [sha256, size, name, media_type] = cells(row);
                        let sha256 = crate::hex::parse_hex32(&sha256)
                            .map_err(|_| format!("attachments[{index}].sha256 must be 64 hex characters"))?;
                        let size = size.parse().map_err(|_| {
                            format!("attachments[{index}].size must be a whole number of bytes, not {size:?}")
                        })?;
                        attachments.push(Attachment { sha256: sha256.to_vec(), size, name, media_type });
                    }
                    body.attachments = attachments;
                    Ok(())
                },
            },
        )
        .front("attachments")
        .show(Show::Items("Attachments", attachment_item)),
        Field::new(
            "based_on",
            "Adapted from",
            FILES,
            Access::Text {
                get: |body: &Practice| crate::hex::to_hex(&body.based_on),
                set: |body: &mut Practice, value| {
                    body.based_on = match value.as_str() {
                        "" => Vec::new(),
                        text => crate::hex::parse_hex32(text).map_err(|error| format!("based_on: {error}"))?.to_vec(),
                    };
                    Ok(())
                },
            },
        )
        .front("based_on")
        .show(Show::Fact("Adapted from"))
        .facet(ADAPTS),
        Field::new("summary", "Summary", NOTE, text!(Practice: summary))
            .hint("What was done and what came of it, in at most 250 words.")
            .required("is required")
            .section("Summary")
            .input(Input::Area)
            .show(Show::Section("Summary"))
            .search(Searched::Summary),
        Field::new("problem", "Problem", NOTE, text!(Practice: problem))
            .hint("The situation before.")
            .section("Problem")
            .input(Input::Area)
            .show(Show::Section("Problem"))
            .search(Searched::Body),
        Field::new("objectives", "Objectives", NOTE, text!(Practice: objectives))
            .section("Objectives")
            .input(Input::Area)
            .show(Show::Section("Objectives"))
            .search(Searched::Body),
        Field::new("approach", "Approach", NOTE, text!(Practice: approach))
            .hint("What was done, step by step.")
            .section("Approach")
            .input(Input::Area)
            .show(Show::Section("Approach"))
            .search(Searched::Body),
        Field::new("results", "Results", NOTE, text!(Practice: results))
            .section("Results")
            .input(Input::Area)
            .show(Show::Section("Results"))
            .search(Searched::Body),
        Field::new("lessons_learned", "Lessons learned", NOTE, text!(Practice: lessons_learned))
            .section("Lessons learned")
            .input(Input::Area)
            .show(Show::Section("Lessons learned"))
            .search(Searched::Body),
        Field::new("transferability.summary", "In short", TRANSFER, text!(Practice: transferability.summary))
            .section("Transferability")
            .input(Input::Area)
            .show(Show::Section("Transferability"))
            .search(Searched::Body),
        Field::new(
            "transferability.core_elements",
            "Core elements",
            TRANSFER,
            list!(Practice: transferability.core_elements),
        )
        .hint("One per line: what must stay the same.")
        .section("Core elements")
        .input(Input::Lines)
        .show(Show::Section("Core elements"))
        .search(Searched::Body),
        Field::new(
            "transferability.adaptable_elements",
            "Adaptable elements",
            TRANSFER,
            list!(Practice: transferability.adaptable_elements),
        )
        .hint("One per line: what may change.")
        .section("Adaptable elements")
        .input(Input::Lines)
        .show(Show::Section("Adaptable elements"))
        .search(Searched::Body),
        Field::new(
            "transferability.preconditions",
            "Preconditions",
            TRANSFER,
            list!(Practice: transferability.preconditions),
        )
        .hint("One per line.")
        .section("Preconditions")
        .input(Input::Lines)
        .show(Show::Section("Preconditions"))
        .search(Searched::Body),
    ];

    const GROUPS: &'static [Group] = &[
        group(NOTE),
        Group { required: "at least one", ..group(THEMES) },
        group(WHERE),
        group(TRANSFER),
        Group {
            hint: "One row per indicator; leave a row empty to skip it. Save to get more rows.",
            ..group(INDICATORS)
        },
        group(RESOURCES),
        group(PARTNERS),
        group(CONTACTS),
        group(FILES),
    ];

    fn tidy(&mut self) {
        // The rules require a place (its country); optional parts left empty are not kept.
        self.location.get_or_insert_with(Place::default);
        if self.transferability.as_ref().is_some_and(|part| *part == Transferability::default()) {
            self.transferability = None;
        }
        if self.resources.as_ref().is_some_and(|part| *part == Resources::default()) {
            self.resources = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A note with every field of the message set, so that a field missing from the table
    /// is noticed.
    fn every_field() -> Practice {
        let texts = |name: &str| vec![format!("{name} one"), format!("{name} two")];
        Practice {
            title: "Title".into(),
            summary: "Summary".into(),
            problem: "Problem".into(),
            objectives: "Objectives".into(),
            approach: "Approach".into(),
            results: "Results".into(),
            indicators: vec![Indicator {
                label: "l".into(),
                baseline: "1".into(),
                value: "2".into(),
                unit: "t".into(),
                date: "2024".into(),
            }],
            resources: Some(Resources {
                budget: "10".into(),
                currency: "USD".into(),
                funding_sources: texts("fund"),
                staff: "3".into(),
            }),
            partners: vec![Partner { name: "p".into(), role: "r".into(), support: "financial".into() }],
            lessons_learned: "Lessons".into(),
            transferability: Some(Transferability {
                summary: "Short".into(),
                core_elements: texts("core"),
                adaptable_elements: texts("adaptable"),
                preconditions: texts("precondition"),
            }),
            themes: vec!["energy".into()],
            sdg_targets: vec!["11.6".into()],
            status: "ongoing".into(),
            start_date: "2020".into(),
            end_date: "2021".into(),
            location: Some(Place {
                country: "ID".into(),
                name: "Surabaya".into(),
                wikidata: "Q8678".into(),
                geonames: "1625822".into(),
                subdivision: "ID-JI".into(),
                unlocode: "IDSUB".into(),
                latitude: "-7.2575".into(),
                longitude: "112.7521".into(),
            }),
            contacts: vec![Contact { role: "r".into(), channel: "mailto:x@example.org".into(), name: "n".into() }],
            language: "en".into(),
            license: "CC0-1.0".into(),
            keywords: texts("keyword"),
            attachments: vec![Attachment {
                sha256: vec![1; 32],
                size: 12,
                name: "report.pdf".into(),
                media_type: "application/pdf".into(),
            }],
            based_on: vec![7; 32],
        }
    }

    /// Every field reads back what was written into it, and every field of the message is in
    /// the table (writing every field's value into an empty note gives the note back).
    #[test]
    fn the_table_covers_every_field_and_each_reads_back_what_it_wrote() {
        let example = every_field();
        let mut copy = Practice::default();
        for field in Practice::FIELDS {
            field.set(&mut copy, field.get(&example)).unwrap();
        }
        copy.tidy();
        assert_eq!(copy, example);
        let paths: Vec<&str> = Practice::FIELDS.iter().map(|field| field.path).collect();
        let unique: std::collections::BTreeSet<&str> = paths.iter().copied().collect();
        assert_eq!(unique.len(), paths.len(), "a path is listed twice");
        for field in Practice::FIELDS {
            assert!(Practice::GROUPS.iter().any(|group| group.legend == field.group), "{} has no group", field.path);
        }
    }
}
