//! The events list: upcoming events soonest first, then past ones latest first, by month, each
//! with its calendar file.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::compose::page_of;
use super::{Chrome, html, page};
use crate::node::NodeHandle;
use crate::record::{Body, Kind, PublisherId, Record};
use crate::vocab::{Words, transfer};
use crate::wire::Event;

/// One event in the list.
pub struct EventItem {
    pub href: String,
    pub ics: String,
    pub title: String,
    pub publisher_name: String,
    pub kind: String,
    pub when: String,
    pub place: String,
    pub status: String,
    pub cancelled: bool,
}

/// A month of events: "March 2027".
pub struct EventMonth {
    pub month: String,
    pub events: Vec<EventItem>,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    title: String,
    upcoming: Vec<EventMonth>,
    past: Vec<EventMonth>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "March 2027" for a time starting 2027-03.
fn month_of(start: &str) -> String {
    let month: usize = start.get(5..7).and_then(|month| month.parse().ok()).unwrap_or(1);
    format!("{} {}", MONTHS[month.clamp(1, 12) - 1], start.get(..4).unwrap_or_default())
}

fn by_month(events: Vec<(String, EventItem)>) -> Vec<EventMonth> {
    let mut months: Vec<EventMonth> = Vec::new();
    for (start, item) in events {
        let month = month_of(&start);
        match months.last_mut() {
            Some(last) if last.month == month => last.events.push(item),
            _ => months.push(EventMonth { month, events: vec![item] }),
        }
    }
    months
}

/// `GET /events`: upcoming events soonest first, then past ones latest first, by month.
pub(super) async fn events(State(node): State<NodeHandle>, headers: HeaderMap) -> Response {
    page(&node, &headers, "events", |node, chrome| async move {
        let now = crate::author::now_ms();
        let mut upcoming = Vec::new();
        let mut past = Vec::new();
        let heads = node.heads_of(Kind::Event).await?;
        let names = node.names_of(heads.iter().map(Record::publisher).collect()).await;
        for record in heads {
            let Ok(Body::Event(event)) = record.parse_body() else { continue };
            let (Some(start), Some(end)) = (transfer::parse_time(&event.start), transfer::parse_time(&event.end))
            else {
                continue;
            };
            let item = event_item(&names, &record, &event);
            if end >= now {
                upcoming.push((start, event.start.clone(), item))
            } else {
                past.push((start, event.start.clone(), item))
            }
        }
        upcoming.sort_by_key(|(start, _, _)| *start);
        past.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
        let strip =
            |list: Vec<(i64, String, EventItem)>| list.into_iter().map(|(_, start, item)| (start, item)).collect();
        let page = EventsPage {
            chrome,
            title: "Events".to_owned(),
            upcoming: by_month(strip(upcoming)),
            past: by_month(strip(past)),
        };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}

fn event_item(names: &HashMap<PublisherId, String>, record: &Record, event: &Event) -> EventItem {
    let place = match &event.place {
        Some(place) => {
            let country = Words::Country.label(&place.country);
            let mut parts: Vec<&str> =
                [place.name.as_str(), &country].into_iter().filter(|part| !part.is_empty()).collect();
            if !event.online_url.is_empty() {
                parts.push("and online");
            }
            parts.join(", ")
        }
        None => "Online".to_owned(),
    };
    EventItem {
        href: page_of(Kind::Event, &record.id().to_string()),
        ics: format!("/api/v1/events/{}/{}.ics", record.publisher(), record.slug()),
        title: event.title.clone(),
        publisher_name: names.get(&record.publisher()).cloned().unwrap_or_default(),
        kind: Words::EventType.label(&event.event_type).into_owned(),
        when: format!("{} to {} ({})", event.start.replace('T', " "), event.end.replace('T', " "), event.time_zone),
        place,
        status: Words::EventStatus.label(&event.status).into_owned(),
        cancelled: event.status == "cancelled",
    }
}
