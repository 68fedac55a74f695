//! A practice note's page: its fields, whether its signature verifies, a withdrawal notice or a
//! link to a newer revision, its publisher, the notes that adapt it, and its history.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, NoteRow, WebError, html, page, rows};
use crate::fields::{self, Block};
use crate::node::NodeHandle;
use crate::record::{Body, PublisherId, RecordId};
use crate::view::{self, BodyView, Detail, format_time};
use crate::vocab::Words;
use crate::wire::{Practice, Profile};

pub struct HistoryRow {
    pub revision: u64,
    pub id: String,
    pub when: String,
    pub changed: String,
    pub this: bool,
}

pub struct NoteView {
    pub id: String,
    pub title: String,
    pub revision: u64,
    pub publisher: String,
    pub publisher_name: String,
    /// What the publisher is and where: "Local government, Surabaya, Indonesia".
    pub publisher_about: String,
    /// The start of the publisher's key, in groups: "3f2a 9c1b 77d0 e415".
    pub fingerprint: String,
    /// Said when another key's profile claims the publisher's name.
    pub name_warning: Option<String>,
    pub slug: String,
    /// Whether this is a note of this node's own publisher.
    pub own: bool,
    /// What of it is hidden from the pages: "note", "publisher" or nothing.
    pub hidden: &'static str,
    pub signed_at: String,
    pub verified: bool,
    pub withdrawn: Option<String>,
    pub newer: Option<String>,
    pub can_edit: bool,
    pub facts: Vec<(&'static str, String)>,
    /// The note's sections, lists and tables, as its field table lays them out.
    pub blocks: Vec<Block>,
    pub profile: Option<Vec<(&'static str, String)>>,
    pub history: Vec<HistoryRow>,
    /// Notes that name a revision of this one as the practice they adapt.
    pub adaptations: Vec<NoteRow>,
    /// The engagements of cities taking the practice up, confirmed first, with outcomes.
    pub takeup: super::learning::Takeup,
    /// Where to draft an engagement taking it up (another publisher's current note).
    pub take_up: Option<String>,
    /// Where to endorse it.
    pub endorse: Option<String>,
}

#[derive(Template)]
#[template(path = "note.html")]
struct NotePage {
    chrome: Chrome,
    title: String,
    note: NoteView,
}

impl NotePage {
    fn prose(&self, text: &str) -> String {
        super::prose::to_html(text)
    }

    fn inline(&self, text: &str) -> String {
        super::prose::inline_html(text)
    }
}

/// A profile's organisation type and place, in words.
fn about(profile: &Profile) -> String {
    let mut parts = vec![Words::OrganisationType.label(&profile.organisation_type).into_owned()];
    if let Some(place) = &profile.place {
        parts.push(place.name.clone());
        parts.push(Words::Country.label(&place.country).into_owned());
    }
    parts.retain(|part| !part.is_empty());
    parts.join(", ")
}

fn profile_facts(profile: &Profile) -> Vec<(&'static str, String)> {
    let organisation = Words::OrganisationType.label(&profile.organisation_type).into_owned();
    let mut facts = vec![("Name", profile.name.clone()), ("Organisation", organisation)];
    if let Some(place) = &profile.place {
        let country = Words::Country.label(&place.country);
        let parts: Vec<&str> = [place.name.as_str(), &country].into_iter().filter(|p| !p.is_empty()).collect();
        facts.push(("Based in", parts.join(", ")));
    }
    facts.push(("Website", profile.website.clone()));
    let languages: Vec<String> = profile.languages.iter().map(|tag| Words::Language.label(tag).into_owned()).collect();
    facts.push(("Languages", languages.join(", ")));
    if let Some(contact) = &profile.contact {
        facts.push(("Contact", contact.channel.clone()));
    }
    facts.push(("About", profile.description.clone()));
    facts.retain(|(_, value)| !value.is_empty());
    facts
}

/// What the page shows of a revision: its body, or for a withdrawal the last revision's before it.
async fn shown_practice(node: &NodeHandle, detail: &Detail) -> Result<Practice, WebError> {
    if let BodyView::Readable(Body::Practice(note)) = &detail.body {
        return Ok(note.clone());
    }
    let earlier = detail.history.iter().flatten().rev().filter(|row| row.summary.revision < detail.summary.revision);
    for row in earlier {
        if let BodyView::Readable(Body::Practice(note)) = node.show(row.summary.id.clone(), false).await?.body {
            return Ok(note);
        }
    }
    Ok(Practice::default())
}

/// The notice a withdrawn note's pages carry, with the withdrawal's date and reason.
async fn withdrawal_notice(node: &NodeHandle, detail: &Detail) -> Result<Option<String>, WebError> {
    let Some(head) = &detail.head else { return Ok(None) };
    let fetched;
    let head = if detail.is_current() {
        detail
    } else {
        fetched = node.show(head.id.clone(), false).await?;
        &fetched
    };
    let BodyView::Readable(Body::Tombstone(stone)) = &head.body else { return Ok(None) };
    Ok(Some(format!(
        "The publisher withdrew this note on {} (revision {}): {}",
        format_time(head.summary.timestamp_ms),
        head.summary.revision,
        stone.reason
    )))
}

fn history_rows(detail: &Detail) -> Vec<HistoryRow> {
    let rows = detail.history.iter().flatten();
    rows.map(|row| {
        let changed = if row.summary.withdrawn {
            "withdrawn".to_owned()
        } else if row.summary.revision == 1 {
            "first published".to_owned()
        } else if row.changed.is_empty() {
            "nothing".to_owned()
        } else {
            row.changed.join(", ").replace('_', " ")
        };
        HistoryRow {
            revision: row.summary.revision,
            id: row.summary.id.clone(),
            when: format_time(row.summary.timestamp_ms),
            changed,
            this: row.summary.id == detail.summary.id,
        }
    })
    .collect()
}

async fn note_view(node: &NodeHandle, detail: Detail, signed_in: bool) -> Result<NoteView, WebError> {
    let summary = &detail.summary;
    let publisher: PublisherId = summary.publisher.parse().map_err(WebError::internal)?;
    let practice = shown_practice(node, &detail).await?;
    let withdrawn = withdrawal_notice(node, &detail).await?;
    let newer = detail
        .head
        .as_ref()
        .filter(|head| head.id != summary.id && withdrawn.is_none())
        .map(|head| format!("/notes/{}", head.id));
    let own = publisher == node.publisher();
    let hidden_entries = node.hidden().await?;
    let hidden = if hidden_entries.iter().any(|entry| entry.publisher == summary.publisher && entry.slug.is_empty()) {
        "publisher"
    } else if hidden_entries.iter().any(|entry| entry.publisher == summary.publisher && entry.slug == summary.slug) {
        "note"
    } else {
        ""
    };
    let revisions: Vec<RecordId> =
        detail.history.iter().flatten().filter_map(|row| row.summary.id.parse().ok()).collect();
    let adaptations = rows(&node.adaptations(revisions).await?);
    let held_profile = node.profile_of(publisher).await?;
    let others = node.sharing_name(publisher).await;
    let name_warning = held_profile.as_ref().filter(|_| !others.is_empty()).map(|profile| {
        let others: Vec<String> = others.iter().map(view::fingerprint).collect();
        format!(
            "Another publisher also calls itself {}: key {}. This note was signed by key {}. Before relying on it, \
             ask the city which key is theirs.",
            profile.name,
            others.join(", key "),
            view::fingerprint(&publisher)
        )
    });
    let publisher_about = held_profile.as_ref().map(about).unwrap_or_default();
    let profile = held_profile.as_ref().map(profile_facts);
    let (facts, blocks) = fields::shown(&practice);
    let named = crate::transfers::Named { publisher, slug: summary.slug.clone() };
    let takeup = super::learning::takeup(node, &named).await?;
    let open = !own && detail.is_current() && !summary.withdrawn;
    let reference = format!("{}/{}", summary.publisher, summary.slug);
    let take_up = open.then(|| {
        let pairs = [
            ("counterpart", summary.publisher.clone()),
            ("role", "recipient".to_owned()),
            ("practice", reference.clone()),
            ("stages[0].stage", "exploring".to_owned()),
        ];
        format!("/new/engagement?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    });
    let endorse = open.then(|| {
        let pairs = [("subject_kind", "practice".to_owned()), ("subject", reference.clone())];
        format!("/new/endorsement?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    });
    Ok(NoteView {
        id: summary.id.clone(),
        title: if practice.title.is_empty() { summary.slug.clone() } else { practice.title.clone() },
        revision: summary.revision,
        publisher: summary.publisher.clone(),
        publisher_name: summary.publisher_name.clone(),
        publisher_about,
        fingerprint: view::fingerprint(&publisher),
        name_warning,
        slug: summary.slug.clone(),
        own,
        hidden,
        signed_at: format_time(summary.timestamp_ms),
        verified: detail.signature_verified,
        can_edit: own && signed_in && detail.is_current() && !summary.withdrawn,
        withdrawn,
        newer,
        facts,
        blocks,
        profile,
        history: history_rows(&detail),
        adaptations,
        takeup,
        take_up,
        endorse,
    })
}

#[derive(Deserialize)]
pub(super) struct NoteQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

pub(super) async fn note(
    State(node): State<NodeHandle>,
    headers: HeaderMap,
    Path(target): Path<String>,
    Query(query): Query<NoteQuery>,
) -> Response {
    page(&node, &headers, "notes", |node, mut chrome| async move {
        let detail = node.show(target, true).await?;
        if detail.summary.kind != "practice" {
            return Err(WebError {
                status: StatusCode::NOT_FOUND,
                title: "Not a practice note",
                message: format!(
                    "record {} is a {}; the page shows practice notes",
                    detail.summary.id, detail.summary.kind
                ),
            });
        }
        let note = note_view(&node, detail, chrome.signed_in).await?;
        chrome.notice = match query.saved.as_deref() {
            Some("published") => {
                Some(format!("Saved and signed as revision {}; it is on its way to your partners.", note.revision))
            }
            Some("withdrawn") => Some("Withdrawn; partners will see the notice.".to_owned()),
            _ => query.done.as_deref().and_then(super::hiding::notice_for),
        };
        let title = note.title.clone();
        Ok(html(StatusCode::OK, &NotePage { chrome, title, note }))
    })
    .await
}
