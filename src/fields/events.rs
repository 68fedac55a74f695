//! The fields of events: seminars, trainings, conferences, webinars, workshops, exchange
//! visits, study tours and staff exchanges (schema.org `Event`), with their times written
//! with an offset and a time zone.

use super::{
    Access, CONTACT_COLUMNS, Described, Field, Group, Input, Searched, Show, contact_item, contact_of, contact_rows,
    group, ref_list, set_ref_list,
};
use crate::vocab::Words;
use crate::wire::{Event, Place};

const EVENT: &str = "The event";
const WHEN: &str = "When";
const WHERE: &str = "Where";
const WHO: &str = "Who and how to register";
const RELATED: &str = "Related notes and requests";

const TIME_HINT: &str = "Local time with its offset from UTC, such as 2027-03-10T09:00+07:00.";

fn when(event: &Event) -> String {
    match (event.start.as_str(), event.end.as_str()) {
        ("", _) => String::new(),
        (start, "") => start.replace('T', " "),
        (start, end) => format!("{} to {} ({})", start.replace('T', " "), end.replace('T', " "), event.time_zone),
    }
}

fn place(event: &Event) -> String {
    let Some(place) = &event.place else { return String::new() };
    let country = Words::Country.label(&place.country);
    [place.name.as_str(), &country].into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(", ")
}

impl Described for Event {
    const KIND: crate::record::Kind = crate::record::Kind::Event;

    fn into_body(self) -> crate::record::Body {
        crate::record::Body::Event(self)
    }

    fn from_body(body: crate::record::Body) -> Option<Self> {
        match body {
            crate::record::Body::Event(body) => Some(body),
            _ => None,
        }
    }

    const FIELDS: &'static [Field<Event>] = &[
        Field::new("title", "Title", EVENT, text!(Event: title))
            .hint("At most 200 characters.")
            .required("is required")
            .front_required("title")
            .input(Input::Line)
            .search(Searched::Title),
        Field::new("event_type", "Type of event", EVENT, text!(Event: event_type))
            .required("is required")
            .front("type")
            .input(Input::Choice)
            .words(Words::EventType)
            .show(Show::Fact("Type"))
            .facet("event_type"),
        Field::new("status", "Status", EVENT, text!(Event: status))
            .hint("Scheduled unless you say otherwise.")
            .front("status")
            .input(Input::Choice)
            .words(Words::EventStatus)
            .show(Show::Fact("Status"))
            .facet("status"),
        Field::new("themes", "Themes", EVENT, list!(Event: themes))
            .front("themes")
            .input(Input::Choices)
            .words(Words::Theme)
            .show(Show::Fact("Themes"))
            .facet("theme"),
        Field::new("start", "Starts", WHEN, text!(Event: start))
            .hint(TIME_HINT)
            .required("is required")
            .front("start")
            .input(Input::Line)
            .show(Show::FactOf("When", when)),
        Field::new("end", "Ends", WHEN, text!(Event: end))
            .hint(TIME_HINT)
            .required("is required")
            .front("end")
            .input(Input::Line),
        Field::new("time_zone", "Time zone", WHEN, text!(Event: time_zone))
            .hint("Where the event is held, such as Asia/Jakarta or Europe/Lisbon.")
            .required("is required")
            .front("time_zone")
            .input(Input::Line),
        Field::new("place.country", "Country", WHERE, text!(Event: place.country))
            .hint("Leave empty for an event only online.")
            .front("country")
            .input(Input::Choice)
            .words(Words::Country)
            .show(Show::FactOf("Place", place))
            .search(Searched::Words)
            .facet("country"),
        Field::new("place.name", "Place", WHERE, text!(Event: place.name))
            .hint("The city and venue, such as Surabaya, City Hall.")
            .front("place")
            .input(Input::Line)
            .search(Searched::Words),
        Field::new("online_url", "Online address", WHERE, text!(Event: online_url))
            .hint("An https:// address to join online, if it can be.")
            .front("online")
            .input(Input::Line)
            .show(Show::Fact("Online")),
        Field::new("languages", "Languages", WHO, list!(Event: languages))
            .hint("Such as en, id (separated by commas).")
            .required("give at least one language")
            .front("languages")
            .input(Input::Codes)
            .words(Words::Language)
            .show(Show::Fact("Languages"))
            .facet("language"),
        Field::new("organisers", "Organisers", WHO, list!(Event: organisers))
            .hint("Separated by commas.")
            .front("organisers")
            .input(Input::Commas)
            .show(Show::Fact("Organisers"))
            .search(Searched::Words),
        Field::new(
            "capacity",
            "Places",
            WHO,
            Access::Text {
                get: |body: &Event| if body.capacity == 0 { String::new() } else { body.capacity.to_string() },
                set: |body, text| {
                    body.capacity = match text.trim() {
                        "" => 0,
                        number => number
                            .parse()
                            .map_err(|_| format!("capacity: {number:?} is not a whole number of places"))?,
                    };
                    Ok(())
                },
            },
        )
        .hint("How many can attend; leave empty if it does not matter.")
        .front("capacity")
        .input(Input::Line)
        .show(Show::Fact("Places")),
        Field::new("registration", "Registration", WHO, contact!(Event: registration))
            .front("registration")
            .input(Input::Rows { singular: "Registration contact" })
            .show(Show::Items("Registration", contact_item)),
        Field::new("practices", "Practice notes", RELATED, refs!(Event: practices))
            .hint("One per line: the publisher's key, '/', the slug.")
            .front("practices")
            .input(Input::Lines),
        Field::new("requests", "Requests it answers", RELATED, refs!(Event: requests))
            .hint("One per line: the publisher's key, '/', the slug.")
            .front("requests")
            .input(Input::Lines),
        Field::new("summary", "About the event", EVENT, text!(Event: summary))
            .hint("What it is for and who should come: at most 250 words.")
            .section("About")
            .input(Input::Area)
            .show(Show::Section("About the event"))
            .search(Searched::Summary),
    ];
    const GROUPS: &'static [Group] = &[group(EVENT), group(WHEN), group(WHERE), group(WHO), group(RELATED)];

    fn tidy(&mut self) {
        if self.status.is_empty() {
            self.status = "scheduled".to_owned();
        }
        if self.place.as_ref().is_some_and(|place| *place == Place::default()) {
            self.place = None;
        }
    }
}
