//! The fields of requests for expertise and of offers of it (DESIGN §8): what is needed or
//! offered, described with the practice notes' themes, SDG targets and languages, plus formats,
//! regions and who covers costs.

use super::{
    CONTACT_COLUMNS, DATE_HINT, Described, Field, Group, Input, Searched, Show, contact_item, contact_of, contact_rows,
    group, ref_list, set_ref_list,
};
use crate::vocab::Words;
use crate::wire::{Offer, Request};

const WHAT: &str = "What is needed";
const OFFERED: &str = "What is offered";
const HOW: &str = "How, when and where";
const CONTACT: &str = "Contact";
const RELATED: &str = "Related practice notes";

const THEMES_HINT: &str = "Choose at least one.";
const LANGUAGES_HINT: &str = "Languages the exchange can be held in, such as en, pt, fr (separated by commas).";
const REGIONS_HINT: &str = "Country codes (such as BR) or UN M49 region codes (such as 419 for Latin America and the Caribbean), separated by commas.";
const PRACTICES_HINT: &str = "One per line: the publisher's key, '/', the note's slug (as a note's page shows it).";

fn timeframe(start: &str, end: &str) -> String {
    match (start, end) {
        ("", "") => String::new(),
        (start, "") => format!("from {start}"),
        ("", end) => format!("until {end}"),
        (start, end) => format!("{start} to {end}"),
    }
}

impl Described for Request {
    const KIND: crate::record::Kind = crate::record::Kind::Request;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Request(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Request(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Request>] = &[
        Field::new("title", "Title", WHAT, text!(Request: title))
            .hint("What the city asks for, in a line: at most 200 characters.")
            .required("is required")
            .front_required("title")
            .input(Input::Line)
            .search(Searched::Title),
        Field::new("themes", "Themes", WHAT, list!(Request: themes))
            .hint(THEMES_HINT)
            .required("choose at least one theme")
            .front("themes")
            .input(Input::Choices)
            .words(Words::Theme)
            .show(Show::Fact("Themes"))
            .facet("theme"),
        Field::new("sdg_targets", "SDG targets", WHAT, list!(Request: sdg_targets))
            .hint("Separated by commas, such as 11.6, 12.5.")
            .front("sdg_targets")
            .input(Input::Codes)
            .words(Words::Sdg)
            .show(Show::Fact("SDG targets"))
            .facet("sdg"),
        Field::new("formats", "Formats wanted", HOW, list!(Request: formats))
            .required("choose at least one format")
            .front("formats")
            .input(Input::Choices)
            .words(Words::Format)
            .show(Show::Fact("Formats"))
            .facet("format"),
        Field::new("languages", "Languages", HOW, list!(Request: languages))
            .hint(LANGUAGES_HINT)
            .required("give at least one language")
            .front("languages")
            .input(Input::Codes)
            .words(Words::Language)
            .show(Show::Fact("Languages"))
            .facet("language"),
        Field::new("start_date", "From", HOW, text!(Request: start_date))
            .hint(DATE_HINT)
            .front("start_date")
            .input(Input::Line)
            .show(Show::FactOf("When", |body| timeframe(&body.start_date, &body.end_date))),
        Field::new("end_date", "Until", HOW, text!(Request: end_date))
            .hint(DATE_HINT)
            .front("end_date")
            .input(Input::Line),
        Field::new("regions", "Preferred regions", HOW, list!(Request: regions))
            .hint(REGIONS_HINT)
            .front("regions")
            .input(Input::Codes)
            .words(Words::Region)
            .show(Show::Fact("Preferred regions")),
        Field::new("costs", "Who covers costs", HOW, text!(Request: costs))
            .front("costs")
            .input(Input::Choice)
            .words(Words::Costs)
            .show(Show::Fact("Costs")),
        Field::new("status", "Status", HOW, text!(Request: status))
            .hint("Open unless you say otherwise.")
            .front("status")
            .input(Input::Choice)
            .words(Words::RequestStatus)
            .show(Show::Fact("Status"))
            .facet("status"),
        Field::new("practices", "Related practice notes", RELATED, refs!(Request: practices))
            .hint(PRACTICES_HINT)
            .front("practices")
            .input(Input::Lines),
        Field::new("contact", "Contact", CONTACT, contact!(Request: contact))
            .front("contact")
            .input(Input::Rows { singular: "Contact" })
            .show(Show::Items("Contact", contact_item)),
        Field::new("need", "What the city needs", WHAT, text!(Request: need))
            .hint("The problem, what has been tried, and what help would look like: at most 250 words.")
            .required("is required")
            .section("Need")
            .input(Input::Area)
            .show(Show::Section("What the city needs"))
            .search(Searched::Summary),
    ];
    const GROUPS: &'static [Group] = &[group(WHAT), group(HOW), group(RELATED), group(CONTACT)];

    fn tidy(&mut self) {
        if self.status.is_empty() {
            self.status = "open".to_owned();
        }
    }
}

impl Described for Offer {
    const KIND: crate::record::Kind = crate::record::Kind::Offer;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Offer(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Offer(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Offer>] = &[
        Field::new("title", "Title", OFFERED, text!(Offer: title))
            .hint("The expertise offered, in a line: at most 200 characters.")
            .required("is required")
            .front_required("title")
            .input(Input::Line)
            .search(Searched::Title),
        Field::new("themes", "Themes", OFFERED, list!(Offer: themes))
            .hint(THEMES_HINT)
            .required("choose at least one theme")
            .front("themes")
            .input(Input::Choices)
            .words(Words::Theme)
            .show(Show::Fact("Themes"))
            .facet("theme"),
        Field::new("sdg_targets", "SDG targets", OFFERED, list!(Offer: sdg_targets))
            .hint("Separated by commas, such as 11.6, 12.5.")
            .front("sdg_targets")
            .input(Input::Codes)
            .words(Words::Sdg)
            .show(Show::Fact("SDG targets"))
            .facet("sdg"),
        Field::new("formats", "Formats offered", HOW, list!(Offer: formats))
            .required("choose at least one format")
            .front("formats")
            .input(Input::Choices)
            .words(Words::Format)
            .show(Show::Fact("Formats"))
            .facet("format"),
        Field::new("languages", "Languages", HOW, list!(Offer: languages))
            .hint(LANGUAGES_HINT)
            .required("give at least one language")
            .front("languages")
            .input(Input::Codes)
            .words(Words::Language)
            .show(Show::Fact("Languages"))
            .facet("language"),
        Field::new("capacity", "Capacity", HOW, text!(Offer: capacity))
            .hint("How much you can take on, such as two study visits a year.")
            .front("capacity")
            .input(Input::Line)
            .show(Show::Fact("Capacity")),
        Field::new("costs", "Cost terms", HOW, text!(Offer: costs))
            .front("costs")
            .input(Input::Choice)
            .words(Words::Costs)
            .show(Show::Fact("Costs")),
        Field::new("available_from", "Available from", HOW, text!(Offer: available_from))
            .hint(DATE_HINT)
            .front("available_from")
            .input(Input::Line)
            .show(Show::FactOf("Available", |body| timeframe(&body.available_from, &body.available_until))),
        Field::new("available_until", "Available until", HOW, text!(Offer: available_until))
            .hint(DATE_HINT)
            .front("available_until")
            .input(Input::Line),
        Field::new("regions", "Regions served", HOW, list!(Offer: regions))
            .hint("Leave empty to serve anywhere. Country codes or UN M49 region codes, separated by commas.")
            .front("regions")
            .input(Input::Codes)
            .words(Words::Region)
            .show(Show::Fact("Regions served")),
        Field::new("status", "Status", HOW, text!(Offer: status))
            .hint("Open unless you say otherwise.")
            .front("status")
            .input(Input::Choice)
            .words(Words::OfferStatus)
            .show(Show::Fact("Status"))
            .facet("status"),
        Field::new("practices", "Practice notes it rests on", RELATED, refs!(Offer: practices))
            .hint(PRACTICES_HINT)
            .front("practices")
            .input(Input::Lines),
        Field::new("contact", "Contact", CONTACT, contact!(Offer: contact))
            .front("contact")
            .input(Input::Rows { singular: "Contact" })
            .show(Show::Items("Contact", contact_item)),
        Field::new("summary", "The expertise", OFFERED, text!(Offer: summary))
            .hint("What you know how to do and what came of it: at most 250 words.")
            .required("is required")
            .section("Expertise")
            .input(Input::Area)
            .show(Show::Section("The expertise"))
            .search(Searched::Summary),
    ];
    const GROUPS: &'static [Group] = &[group(OFFERED), group(HOW), group(RELATED), group(CONTACT)];

    fn tidy(&mut self) {
        if self.status.is_empty() {
            self.status = "open".to_owned();
        }
    }
}
