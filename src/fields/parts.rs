//! The parts several kinds' fields share: references to other records (`publisher/slug` as
//! text) and a single contact written as one row, with the accessor macros for them.

/// A list of references (`publisher/slug` texts) of the body `$body`.
macro_rules! refs {
    ($body:ident: $field:ident) => {
        $crate::fields::Access::List {
            get: |body: &$body| ref_list(&body.$field),
            set: |body: &mut $body, texts| {
                body.$field = set_ref_list(texts, stringify!($field))?;
                Ok(())
            },
        }
    };
}

/// An optional reference (`publisher/slug`, empty for none) of the body `$body`.
macro_rules! one_ref {
    ($body:ident: $field:ident) => {
        $crate::fields::Access::Text {
            get: |body: &$body| optional_ref(&body.$field),
            set: |body: &mut $body, text| {
                body.$field = set_optional_ref(&text, stringify!($field))?;
                Ok(())
            },
        }
    };
}

/// A single optional contact of the body `$body`, as one row (role, address, name).
macro_rules! contact {
    ($body:ident: $field:ident) => {
        $crate::fields::Access::Rows {
            columns: CONTACT_COLUMNS,
            get: |body: &$body| contact_rows(&body.$field),
            set: |body: &mut $body, rows| {
                body.$field = contact_of(rows, stringify!($field))?;
                Ok(())
            },
        }
    };
}

use super::{Column, Item, cells, channel, column, required_column};
use crate::wire::Ref;

/// A reference as text: the publisher's key in hex, `/`, the slug.
pub fn ref_text(target: &Ref) -> String {
    format!("{}/{}", crate::hex::to_hex(&target.publisher), target.slug)
}

/// Reads [`ref_text`]'s form back; `what` names the field for the error.
pub fn parse_ref(text: &str, what: &str) -> Result<Ref, String> {
    let problem =
        || format!("{what}: {text:?} is not a reference; write the publisher's key (64 hex characters), '/', the slug");
    let (publisher, slug) = text.trim().split_once('/').ok_or_else(problem)?;
    let publisher = crate::hex::parse_hex32(publisher).map_err(|_| problem())?;
    Ok(Ref { publisher: publisher.to_vec(), slug: slug.to_owned() })
}

/// An optional reference as a text field (empty: none).
pub(super) fn optional_ref(target: &Option<Ref>) -> String {
    target.as_ref().map(ref_text).unwrap_or_default()
}

pub(super) fn set_optional_ref(text: &str, what: &str) -> Result<Option<Ref>, String> {
    if text.trim().is_empty() { Ok(None) } else { parse_ref(text, what).map(Some) }
}

pub(super) fn ref_list(targets: &[Ref]) -> Vec<String> {
    targets.iter().map(ref_text).collect()
}

pub(super) fn set_ref_list(texts: Vec<String>, what: &str) -> Result<Vec<Ref>, String> {
    texts.iter().enumerate().map(|(index, text)| parse_ref(text, &format!("{what}[{index}]"))).collect()
}

/// The shared single contact of requests, offers and events: role, address and name on one
/// row.
pub(super) const CONTACT_COLUMNS: &[Column] = &[
    Column { hint: "Such as head of the waste unit.", ..required_column("role", "Role") },
    Column {
        hint: "An e-mail address, a phone number as tel:+62..., or a web address.",
        ..required_column("channel", "Address")
    },
    column("name", "Name"),
];

pub(super) fn contact_rows(contact: &Option<crate::wire::Contact>) -> Vec<Vec<String>> {
    contact.iter().map(|c| vec![c.role.clone(), c.channel.clone(), c.name.clone()]).collect()
}

pub(super) fn contact_of(rows: Vec<Vec<String>>, what: &str) -> Result<Option<crate::wire::Contact>, String> {
    if rows.len() > 1 {
        return Err(format!("{what}: give one contact, not {}", rows.len()));
    }
    Ok(rows.into_iter().next().map(|row| {
        let [role, address, name] = cells(row);
        crate::wire::Contact { role, channel: channel(address), name }
    }))
}

pub(super) fn contact_item(row: &[String]) -> Item {
    let [role, channel, name] = cells(row.to_vec());
    let who = if name.is_empty() { role } else { format!("{name} ({role})") };
    Item { text: format!("{who}: "), link: Some(channel) }
}
