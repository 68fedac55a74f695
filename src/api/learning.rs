//! Routes of city-to-city learning: matching, a record's status, engagements with their
//! confirmation, and events as iCalendar (one file per event, and the feed).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::{Answer, ApiError, ok, published, write_request};
use crate::archive::DEFAULT_MATCHES;
use crate::fields::WRITTEN_KINDS;
use crate::ics;
use crate::node::NodeHandle;
use crate::record::{Body, Kind, Record};
use crate::transfers::Side;
use crate::wire::Event;

/// Most matches of each list one answer gives.
const MAX_MATCHES: usize = 100;

/// A kind people write (not a profile or a partnership), named in a request.
pub(super) fn written_kind(text: &str) -> Result<Kind, ApiError> {
    let kinds = || WRITTEN_KINDS.iter().map(|kind| kind.as_str()).collect::<Vec<_>>().join(", ");
    text.parse::<Kind>()
        .ok()
        .filter(|kind| WRITTEN_KINDS.contains(kind))
        .ok_or_else(|| ApiError::invalid(format!("kind {text:?} is not one of {}", kinds())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MatchQuery {
    request: Option<String>,
    offer: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/match?request=TARGET` (or `offer=`): what a request or an offer matches.
pub(super) async fn matches(
    State(node): State<NodeHandle>,
    query: Result<Query<MatchQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    const SHAPE: &str = "give request=<id, slug or publisher/slug> or offer=<...>, and optionally limit=1..100";
    let Query(query) = query.map_err(|rejection| ApiError::invalid(format!("{}; {SHAPE}", rejection.body_text())))?;
    let target = match (query.request, query.offer) {
        (Some(target), None) | (None, Some(target)) => target,
        _ => return Err(ApiError::invalid(format!("ask for one request or one offer: {SHAPE}"))),
    };
    let limit = query.limit.unwrap_or(DEFAULT_MATCHES);
    if !(1..=MAX_MATCHES).contains(&limit) {
        return Err(ApiError::invalid(format!("limit {limit} is out of range: {SHAPE}")));
    }
    ok(&node.matches(target, limit).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    kind: String,
    slug: String,
    status: String,
}

/// `POST /api/v1/set-status`: closes a request or offer, cancels or postpones an event ...
pub(super) async fn set_status(State(node): State<NodeHandle>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: StatusRequest =
        write_request(&node, &headers, &body, "{\"kind\": \"request\", \"slug\": \"...\", \"status\": \"closed\"}")?;
    let kind = written_kind(&request.kind)?;
    published(&node.set_status(kind, request.slug, request.status).await?)
}

/// One engagement as `GET /api/v1/engagements` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngagementView {
    pub publisher: String,
    pub slug: String,
    pub counterpart: String,
    pub role: String,
    /// The practice note, as `publisher/slug`.
    pub practice: String,
    pub stage: String,
    /// Whether the counterpart's own engagement names this publisher for the same practice.
    pub confirmed: bool,
    /// Slugs of this publisher's outcomes of it.
    pub outcomes: Vec<String>,
}

impl EngagementView {
    pub fn of(side: &Side) -> EngagementView {
        EngagementView {
            publisher: side.key.publisher.to_string(),
            slug: side.key.slug.clone(),
            counterpart: crate::hex::to_hex(&side.engagement.counterpart),
            role: side.engagement.role.clone(),
            practice: side.engagement.practice.as_ref().map(crate::fields::ref_text).unwrap_or_default(),
            stage: side.stage().to_owned(),
            confirmed: side.confirmed,
            outcomes: side.outcomes.iter().map(|(key, _)| key.slug.clone()).collect(),
        }
    }
}

/// `GET /api/v1/engagements`: every engagement held, confirmed or claimed by one side.
pub(super) async fn engagements(State(node): State<NodeHandle>) -> Answer {
    let transfers = node.transfers().await?;
    ok(&transfers.sides.iter().map(EngagementView::of).collect::<Vec<_>>())
}

/// `GET /api/v1/funnel`: open requests, engagements, adopted, outcomes recorded.
pub(super) async fn funnel(State(node): State<NodeHandle>) -> Answer {
    ok(&node.funnel().await?)
}

fn calendar_answer(file_name: &str, body: String) -> Answer {
    let disposition = format!("inline; filename=\"{file_name}\"");
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// `GET /api/v1/events.ics`: every event held (cancelled ones too, so that calendars that
/// subscribed see the cancellation), as one calendar.
pub(super) async fn calendar(State(node): State<NodeHandle>) -> Answer {
    let mut heads = node.heads_of(Kind::Event).await?;
    heads.retain(|record| !record.is_tombstone());
    heads.sort_by_key(|record| record.key());
    let names = node.names_of(heads.iter().map(|record| record.publisher()).collect()).await;
    let events: Vec<(&Record, Event)> = heads
        .iter()
        .filter_map(|record| match record.parse_body() {
            Ok(Body::Event(event)) => Some((record, event)),
            _ => None,
        })
        .collect();
    let entries: Vec<ics::Entry> = events
        .iter()
        .map(|(record, event)| {
            let publisher_name = names.get(&record.publisher()).map(String::as_str).unwrap_or_default();
            ics::Entry { record, event, publisher_name }
        })
        .collect();
    let name = format!("citymesh events ({})", node.name().await);
    calendar_answer("citymesh-events.ics", ics::calendar(&name, &entries))
}

/// `GET /api/v1/events/{target}` with `target` a record id or slug ending in `.ics` (the
/// event's own file); `publisher/slug` is `GET /api/v1/events/{publisher}/{slug}.ics`.
pub(super) async fn event_file(State(node): State<NodeHandle>, Path(file): Path<String>) -> Answer {
    one_event(node, file, None).await
}

pub(super) async fn publisher_event_file(
    State(node): State<NodeHandle>,
    Path((publisher, file)): Path<(String, String)>,
) -> Answer {
    one_event(node, file, Some(publisher)).await
}

async fn one_event(node: NodeHandle, file: String, publisher: Option<String>) -> Answer {
    let Some(slug) = file.strip_suffix(".ics") else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{file:?} is not an event's file; they end in .ics"),
        ));
    };
    let target = match publisher {
        Some(publisher) => format!("{publisher}/{slug}"),
        None => slug.to_owned(),
    };
    let record = node.find_kind(Kind::Event, target.clone()).await?;
    let event = match record.parse_body() {
        Ok(Body::Event(event)) => event,
        Ok(Body::Tombstone(stone)) => {
            let detail = format!("the event {} was withdrawn: {}", record.slug(), stone.reason);
            return Err(ApiError::new(StatusCode::GONE, "withdrawn", detail));
        }
        _ => return Err(ApiError::invalid(format!("{target} is not an event"))),
    };
    let name = node.name_of(record.publisher()).await;
    let entry = ics::Entry { record: &record, event: &event, publisher_name: &name };
    calendar_answer(&format!("{}.ics", record.slug()), ics::calendar(&event.title, &[entry]))
}
