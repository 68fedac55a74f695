//! The pages of the records of city-to-city learning: a request's, offer's, event's,
//! engagement's, outcome's or endorsement's page (a request with its matches and "offer help",
//! an offer with the requests it answers, an event with its calendar file, an engagement's
//! timeline, confirmed or claimed), what a practice's page says of its take-up, changing a
//! record's status or withdrawing it, and where a reference (`publisher/kind/slug`) leads.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::compose::{noun, page_of};
use super::{Chrome, WebError, html, page, redirect};
use crate::archive::{DEFAULT_MATCHES, MatchAnswer, MatchView};
use crate::fields::{self, Block, ref_text};
use crate::node::NodeHandle;
use crate::record::{Body, Kind, PublisherId, Record};
use crate::transfers::{Named, Side};
use crate::view::{self, BodyView, format_time};
use crate::vocab::{Words, transfer};
use crate::wire::Ref;

/// A reference as a link: where it leads and what it says.
pub struct RefLink {
    pub label: String,
    pub href: String,
}

/// The address that resolves a reference to a record of `kind`.
fn ref_href(kind: Kind, target: &Ref) -> String {
    format!("/r/{}/{}/{}", crate::hex::to_hex(&target.publisher), kind, target.slug)
}

/// A stage reached, for the timeline.
pub struct StageRow {
    pub stage: String,
    pub date: String,
    /// Whose side says so: "Surabaya" or "both".
    pub side: String,
}

/// An engagement as a practice's page lists it.
pub struct SideRow {
    pub href: String,
    pub publisher_name: String,
    pub counterpart_name: String,
    pub stage: String,
    pub confirmed: bool,
    pub outcomes: Vec<RefLink>,
}

async fn side_row(node: &NodeHandle, side: &Side) -> SideRow {
    let counterpart_name = match side.counterpart {
        Some(key) => node.name_of(key).await,
        None => String::new(),
    };
    SideRow {
        href: format!("/r/{}/engagement/{}", side.key.publisher, side.key.slug),
        publisher_name: node.name_of(side.key.publisher).await,
        counterpart_name,
        stage: Words::Stage.label(side.stage()).into_owned(),
        confirmed: side.confirmed,
        outcomes: side
            .outcomes
            .iter()
            .map(|(key, outcome)| RefLink {
                label: outcome.title.clone(),
                href: format!("/r/{}/outcome/{}", key.publisher, key.slug),
            })
            .collect(),
    }
}

/// What a practice note's page says of its take-up: the engagements naming it, confirmed first.
pub struct Takeup {
    /// Organisations taking it up (the recipients), confirmed or claimed.
    pub cities: usize,
    pub confirmed: usize,
    pub rows: Vec<SideRow>,
}

/// The take-up of the practice `practice`.
pub(super) async fn takeup(node: &NodeHandle, practice: &Named) -> Result<Takeup, WebError> {
    let transfers = node.transfers().await?;
    let mut sides: Vec<&Side> =
        transfers.of_practice(practice).filter(|side| side.engagement.role == "recipient").collect();
    sides.sort_by_key(|side| !side.confirmed);
    let mut rows = Vec::with_capacity(sides.len());
    for side in &sides {
        rows.push(side_row(node, side).await);
    }
    let mut cities: Vec<PublisherId> = sides.iter().map(|side| side.key.publisher).collect();
    cities.sort();
    cities.dedup();
    Ok(Takeup { cities: cities.len(), confirmed: sides.iter().filter(|side| side.confirmed).count(), rows })
}

/// What a record's page shows beyond its fields, by kind.
pub enum Extra {
    None,
    Request {
        matches: MatchAnswer,
        offer_help: Option<String>,
    },
    Offer {
        matches: MatchAnswer,
        take_up: Option<String>,
    },
    Event {
        ics: String,
        upcoming: bool,
    },
    Engagement {
        confirmed: bool,
        counterpart: String,
        mirror: Option<String>,
        stages: Vec<StageRow>,
        outcomes: Vec<RefLink>,
        record_outcome: Option<String>,
        /// When it names this node as the counterpart and this node has not confirmed it: the
        /// form for this node's side, filled in.
        confirm: Option<String>,
    },
    Outcome {
        engagement: RefLink,
        endorse: Option<String>,
    },
    Endorsement {
        subject: RefLink,
    },
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    chrome: Chrome,
    title: String,
    kind: &'static str,
    id: String,
    slug: String,
    publisher: String,
    publisher_name: String,
    fingerprint: String,
    revision: u64,
    signed_at: String,
    verified: bool,
    withdrawn: Option<String>,
    newer: Option<String>,
    own: bool,
    /// The status-changing buttons of the owner: `(status, label)`.
    statuses: Vec<(&'static str, &'static str)>,
    edit: Option<String>,
    facts: Vec<(&'static str, String)>,
    blocks: Vec<Block>,
    related: Vec<(&'static str, Vec<RefLink>)>,
    extra: Extra,
}

impl RecordPage {
    fn match_lists<'a>(&self, matches: &'a MatchAnswer) -> Vec<(&'static str, &'a [MatchView])> {
        match_lists(matches)
    }

    fn match_href(&self, found: &MatchView) -> String {
        match_href(found)
    }

    fn prose(&self, text: &str) -> String {
        super::prose::to_html(text)
    }

    fn inline(&self, text: &str) -> String {
        super::prose::inline_html(text)
    }
}

#[derive(Deserialize)]
pub(super) struct RecordQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// The page of a record of `kind` (the route says which).
pub(super) async fn record_page(
    node: NodeHandle,
    headers: HeaderMap,
    kind: Kind,
    target: String,
    query: RecordQuery,
) -> Response {
    page(&node, &headers, "board", |node, mut chrome| async move {
        let detail = node.show(target, false).await?;
        if detail.summary.kind != kind.as_str() {
            return Err(WebError {
                status: StatusCode::NOT_FOUND,
                title: "Not found",
                message: format!("record {} is a {}, not a {}", detail.summary.id, detail.summary.kind, noun(kind)),
            });
        }
        let summary = &detail.summary;
        let publisher: PublisherId = summary.publisher.parse().map_err(WebError::internal)?;
        let record = node.find(summary.id.clone()).await?;
        // The key's head, of this kind (a note of the same slug is another key).
        let head = node.find_kind(kind, format!("{}/{}", summary.publisher, summary.slug)).await.ok();
        let withdrawn = head.as_ref().and_then(|head| match head.parse_body() {
            Ok(Body::Tombstone(stone)) => Some(format!(
                "The publisher withdrew this {} on {}: {}",
                noun(kind),
                format_time(head.timestamp_ms()),
                stone.reason
            )),
            _ => None,
        });
        let newer = head
            .as_ref()
            .filter(|head| head.id() != record.id() && withdrawn.is_none())
            .map(|head| page_of(kind, &head.id().to_string()));
        let own = publisher == node.publisher();
        // The current revision, not withdrawn: what can be answered, closed or edited.
        let latest = newer.is_none() && withdrawn.is_none();
        let current = own && latest;
        let BodyView::Readable(body) = detail.body.clone() else {
            return Err(WebError::internal("the record's body cannot be read"));
        };
        let (facts, blocks, related) = crate::with_described!(kind, T => match T::from_body(body.clone()) {
            Some(typed) => {
                let (facts, blocks) = fields::shown(&typed);
                (facts, blocks, related_of(&body))
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        }, else (Vec::new(), Vec::new(), Vec::new()));
        let statuses: Vec<(&str, &str)> = match (&body, current && chrome.signed_in) {
            (Body::Request(request), true) => {
                [("open", "Reopen"), ("in-progress", "Mark in progress"), ("closed", "Close this request")]
                    .into_iter()
                    .filter(|(status, _)| *status != request.status)
                    .collect()
            }
            (Body::Offer(offer), true) => {
                [("open", "Reopen"), ("paused", "Pause this offer"), ("closed", "Close this offer")]
                    .into_iter()
                    .filter(|(status, _)| *status != offer.status)
                    .collect()
            }
            (Body::Event(event), true) => [
                ("scheduled", "Mark scheduled"),
                ("postponed", "Postpone"),
                ("cancelled", "Cancel this event"),
                ("held", "Mark as held"),
            ]
            .into_iter()
            .filter(|(status, _)| *status != event.status)
            .collect(),
            _ => Vec::new(),
        };
        let edit = (current && chrome.signed_in).then(|| format!("/edit/{}/{}", kind, summary.slug));
        let extra = extra_of(&node, &record, &body, latest, chrome.signed_in).await?;
        chrome.notice = match query.saved.as_deref() {
            Some("published") => {
                Some(format!("Saved and signed as revision {}; it is on its way to your partners.", summary.revision))
            }
            Some("withdrawn") => Some("Withdrawn; partners will see the notice.".to_owned()),
            Some("status") => {
                Some(format!("Status changed: revision {} signed and sent to your partners.", summary.revision))
            }
            _ => None,
        };
        let title = if body.title().is_empty() { summary.slug.clone() } else { body.title() };
        let page = RecordPage {
            chrome,
            title,
            kind: noun(kind),
            id: summary.id.clone(),
            slug: summary.slug.clone(),
            publisher: summary.publisher.clone(),
            publisher_name: summary.publisher_name.clone(),
            fingerprint: view::fingerprint(&publisher),
            revision: summary.revision,
            signed_at: format_time(summary.timestamp_ms),
            verified: detail.signature_verified,
            withdrawn,
            newer,
            own,
            statuses,
            edit,
            facts,
            blocks,
            related,
            extra,
        };
        Ok(html(StatusCode::OK, &page))
    })
    .await
}

/// The records a body names, as links, by heading.
fn related_of(body: &Body) -> Vec<(&'static str, Vec<RefLink>)> {
    let links = |kind: Kind, targets: &[Ref]| -> Vec<RefLink> {
        targets.iter().map(|target| RefLink { label: target.slug.clone(), href: ref_href(kind, target) }).collect()
    };
    let one = |kind: Kind, target: &Option<Ref>| links(kind, target.as_slice());
    let mut related = match body {
        Body::Request(request) => vec![("Related practice notes", links(Kind::Practice, &request.practices))],
        Body::Offer(offer) => vec![("Practice notes it rests on", links(Kind::Practice, &offer.practices))],
        Body::Event(event) => vec![
            ("Practice notes", links(Kind::Practice, &event.practices)),
            ("Requests it answers", links(Kind::Request, &event.requests)),
        ],
        Body::Engagement(engagement) => vec![
            ("The practice", one(Kind::Practice, &engagement.practice)),
            ("The request it answers", one(Kind::Request, &engagement.request)),
            ("The offer it answers", one(Kind::Offer, &engagement.offer)),
        ],
        _ => Vec::new(),
    };
    related.retain(|(_, links)| !links.is_empty());
    related
}

async fn extra_of(
    node: &NodeHandle,
    record: &Record,
    body: &Body,
    current: bool,
    signed_in: bool,
) -> Result<Extra, WebError> {
    let own = record.publisher() == node.publisher();
    let reference = format!("{}/{}", record.publisher(), record.slug());
    let query = |pairs: &[(&str, String)]| serde_urlencoded::to_string(pairs).unwrap_or_default();
    Ok(match body {
        Body::Request(request) => {
            let matches = node.matches(record.id().to_string(), DEFAULT_MATCHES).await?;
            // Offering help drafts this node's side of an engagement: as provider, of its own
            // practice that matched best.
            let own_key = node.publisher().to_string();
            let practice = matches
                .practices
                .iter()
                .find(|found| found.publisher == own_key)
                .map(|found| format!("{}/{}", found.publisher, found.slug));
            let offer_help = (!own && current && request.status != "closed").then(|| {
                let mut pairs = vec![
                    ("counterpart", record.publisher().to_string()),
                    ("role", "provider".to_owned()),
                    ("request", reference.clone()),
                    ("stages[0].stage", "exploring".to_owned()),
                    ("stages[0].date", today()),
                ];
                pairs.extend(practice.map(|practice| ("practice", practice)));
                format!("/new/engagement?{}", query(&pairs))
            });
            Extra::Request { matches, offer_help }
        }
        Body::Offer(offer) => {
            let matches = node.matches(record.id().to_string(), DEFAULT_MATCHES).await?;
            let take_up = (!own && current && offer.status == "open").then(|| {
                let mut pairs = vec![
                    ("counterpart", record.publisher().to_string()),
                    ("role", "recipient".to_owned()),
                    ("offer", reference.clone()),
                    ("stages[0].stage", "exploring".to_owned()),
                    ("stages[0].date", today()),
                ];
                pairs.extend(offer.practices.first().map(|practice| ("practice", ref_text(practice))));
                format!("/new/engagement?{}", query(&pairs))
            });
            Extra::Offer { matches, take_up }
        }
        Body::Event(event) => Extra::Event {
            ics: format!("/api/v1/events/{}/{}.ics", record.publisher(), record.slug()),
            upcoming: transfer::parse_time(&event.end).is_some_and(|end| end >= crate::author::now_ms()),
        },
        Body::Engagement(engagement) => {
            let transfers = node.transfers().await?;
            let side = transfers.side(&record.key()).cloned();
            let mirror = side.as_ref().and_then(|side| transfers.mirror(side)).cloned();
            let counterpart = match engagement.counterpart.as_slice().try_into() {
                Ok(key) => node.name_of(PublisherId(key)).await,
                Err(_) => String::new(),
            };
            let outcomes = match &side {
                Some(side) => side_row(node, side).await.outcomes,
                None => Vec::new(),
            };
            let stages = timeline(node, record, engagement, mirror.as_ref()).await;
            let names_us = engagement.counterpart == node.publisher().0;
            let confirm = (names_us && mirror.is_none() && current && signed_in).then(|| {
                let role = if engagement.role == "provider" { "recipient" } else { "provider" };
                let mut pairs = vec![
                    ("counterpart", record.publisher().to_string()),
                    ("role", role.to_owned()),
                    ("stages[0].stage", "exploring".to_owned()),
                    ("stages[0].date", today()),
                ];
                pairs.extend(engagement.practice.as_ref().map(|practice| ("practice", ref_text(practice))));
                pairs.extend(engagement.request.as_ref().map(|request| ("request", ref_text(request))));
                pairs.extend(engagement.offer.as_ref().map(|offer| ("offer", ref_text(offer))));
                format!("/new/engagement?{}", query(&pairs))
            });
            Extra::Engagement {
                confirm,
                confirmed: side.as_ref().is_some_and(|side| side.confirmed),
                counterpart,
                mirror: mirror.map(|mirror| format!("/r/{}/engagement/{}", mirror.key.publisher, mirror.key.slug)),
                stages,
                outcomes,
                record_outcome: (own && current && signed_in)
                    .then(|| format!("/new/outcome?{}", query(&[("engagement", record.slug().to_owned())]))),
            }
        }
        Body::Outcome(outcome) => Extra::Outcome {
            engagement: RefLink {
                label: outcome.engagement.clone(),
                href: format!("/r/{}/engagement/{}", record.publisher(), outcome.engagement),
            },
            endorse: (!own && current).then(|| {
                format!(
                    "/new/endorsement?{}",
                    query(&[("subject_kind", "outcome".to_owned()), ("subject", reference.clone())])
                )
            }),
        },
        Body::Endorsement(endorsement) => {
            let kind = if endorsement.subject_kind == "outcome" { Kind::Outcome } else { Kind::Practice };
            let subject = endorsement
                .subject
                .as_ref()
                .map(|subject| RefLink { label: subject.slug.clone(), href: ref_href(kind, subject) })
                .unwrap_or(RefLink { label: String::new(), href: String::new() });
            Extra::Endorsement { subject }
        }
        _ => Extra::None,
    })
}

/// Today's date (UTC), YYYY-MM-DD.
fn today() -> String {
    format_time(crate::author::now_ms()).chars().take(10).collect()
}

/// The stages both sides say the transfer reached, in order: a stage both name once with
/// "both", else whose side says it.
async fn timeline(
    node: &NodeHandle,
    record: &Record,
    engagement: &crate::wire::Engagement,
    mirror: Option<&Side>,
) -> Vec<StageRow> {
    let this = node.name_of(record.publisher()).await;
    let mut rows: Vec<StageRow> = engagement
        .stages
        .iter()
        .map(|stage| StageRow { stage: stage.stage.clone(), date: stage.date.clone(), side: this.clone() })
        .collect();
    if let Some(mirror) = mirror {
        let other = node.name_of(mirror.key.publisher).await;
        for stage in &mirror.engagement.stages {
            match rows.iter_mut().find(|row| row.stage == stage.stage && row.date == stage.date) {
                Some(row) => row.side = "both".to_owned(),
                None => {
                    rows.push(StageRow { stage: stage.stage.clone(), date: stage.date.clone(), side: other.clone() })
                }
            }
        }
    }
    let order = |stage: &str| transfer::STAGES.iter().position(|(code, _)| *code == stage).unwrap_or(usize::MAX);
    rows.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| order(&a.stage).cmp(&order(&b.stage))));
    for row in &mut rows {
        row.stage = Words::Stage.label(&row.stage).into_owned();
    }
    rows
}

macro_rules! record_route {
    ($name:ident, $kind:expr) => {
        pub(super) async fn $name(
            State(node): State<NodeHandle>,
            headers: HeaderMap,
            Path(target): Path<String>,
            Query(query): Query<RecordQuery>,
        ) -> Response {
            record_page(node, headers, $kind, target, query).await
        }
    };
}

record_route!(request_page, Kind::Request);
record_route!(offer_page, Kind::Offer);
record_route!(event_page, Kind::Event);
record_route!(engagement_page, Kind::Engagement);
record_route!(outcome_page, Kind::Outcome);
record_route!(endorsement_page, Kind::Endorsement);

/// `GET /r/{publisher}/{kind}/{slug}`: the page of the record a reference names, if held.
pub(super) async fn resolve(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path((publisher, kind, slug)): Path<(String, String, String)>,
) -> Response {
    page(&node, &headers, "board", |node, _| async move {
        let kind: Kind = kind.parse().map_err(|_| WebError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            message: format!("{kind:?} is not a kind of record"),
        })?;
        match node.find_kind(kind, format!("{publisher}/{slug}")).await {
            Ok(record) => Ok(redirect(&page_of(kind, &record.id().to_string()))),
            Err(_) => Err(WebError {
                status: StatusCode::NOT_FOUND,
                title: "Not held here yet",
                message: format!(
                    "This node holds no {} {slug:?} of publisher {}. It arrives when a partner that has it shares it; \
                     the publisher's node has it.",
                    noun(kind),
                    view::fingerprint(&publisher.parse().unwrap_or(PublisherId([0; 32])))
                ),
            }),
        }
    })
    .await
}

/// `POST /set-status/{kind}/{slug}`: one of this node's requests, offers or events gets a new
/// status (closed, cancelled ...).
pub(super) async fn set_status(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path((kind, slug)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match super::session::posted(&node, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let status = super::session::value(&pairs, "status").to_owned();
    page(&node, &headers, "board", |node, _| async move {
        let kind = super::compose::composed_kind(&kind)?;
        match node.set_status(kind, slug, status).await {
            Ok(published) => {
                Ok(redirect(&format!("{}?saved=status", page_of(kind, &published.record.id().to_string()))))
            }
            Err(crate::node::NodeError::Author(error)) if !error.is_internal() => Err(WebError {
                status: StatusCode::BAD_REQUEST,
                title: "Status not changed",
                message: error.to_string(),
            }),
            Err(other) => Err(other.into()),
        }
    })
    .await
}

/// `POST /withdraw/{kind}/{slug}`: withdraws one of this node's records.
pub(super) async fn withdraw(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path((kind, slug)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let pairs = match super::session::posted(&node, &headers, &body) {
        Ok(pairs) => pairs,
        Err(response) => return *response,
    };
    let reason = super::session::value(&pairs, "reason").trim().to_owned();
    page(&node, &headers, "board", |node, _| async move {
        let kind = super::compose::composed_kind(&kind)?;
        match node.withdraw_kind(kind, slug, reason).await {
            Ok(stone) => Ok(redirect(&format!("{}?saved=withdrawn", page_of(kind, &stone.id().to_string())))),
            Err(crate::node::NodeError::Author(error)) if !error.is_internal() => {
                Err(WebError { status: StatusCode::BAD_REQUEST, title: "Not withdrawn", message: error.to_string() })
            }
            Err(other) => Err(other.into()),
        }
    })
    .await
}

/// The views of matches a request's or offer's page lists: `(heading, matches)`.
pub fn match_lists(matches: &MatchAnswer) -> Vec<(&'static str, &[MatchView])> {
    let lists: [(&'static str, &[MatchView]); 4] = [
        ("Offers that could help", &matches.offers),
        ("Practice notes that could help", &matches.practices),
        ("Organisations that could help", &matches.organisations),
        ("Open requests this offer could answer", &matches.requests),
    ];
    lists.into_iter().filter(|(_, list)| !list.is_empty()).collect()
}

/// Where a match leads.
pub fn match_href(found: &MatchView) -> String {
    match found.kind.as_str() {
        "profile" => format!("/notes?publisher={}", found.publisher),
        kind => format!("/r/{}/{kind}/{}", found.publisher, found.slug),
    }
}
