//! The field rules of the bodies of the kinds format 1 and 2 know (`proto/README.md`, "Bodies"),
//! as their [`KindBody`] impls. One set of rules serves records signed here and records
//! received from peers, so both are held to the same standard.

use super::{Context, KindBody, PROFILE_SLUG, RecordError};
use crate::vocab;
use crate::wire::{Contact, Partnership, Place, Practice, Profile, Tombstone};

pub(super) const MAX_TITLE_CHARS: usize = 200;
const MAX_SUMMARY_WORDS: usize = 250;
pub(super) const MAX_REASON_CHARS: usize = 1000;
const MAX_KEYWORDS: usize = 32;
const MAX_KEYWORD_CHARS: usize = 64;

impl KindBody for Practice {
    const MESSAGE: &'static str = "Practice";
    const ATTACHMENTS: Option<u32> = Some(22);

    fn check(&self, _: &Context) -> Result<(), RecordError> {
        check_practice(self)
    }

    fn problems(&self, _: &Context) -> Vec<RecordError> {
        practice_problems(self)
    }

    fn authoring_problems(&self) -> Vec<RecordError> {
        self.location.as_ref().map(|place| coordinate_problems("location", place)).unwrap_or_default()
    }

    fn title(&self) -> String {
        self.title.clone()
    }
}

impl KindBody for Profile {
    const MESSAGE: &'static str = "Profile";
    const WITHDRAWABLE: bool = false;
    const SLUG: Option<&'static str> = Some(PROFILE_SLUG);

    fn check(&self, _: &Context) -> Result<(), RecordError> {
        check_profile(self)
    }

    fn authoring_problems(&self) -> Vec<RecordError> {
        self.place.as_ref().map(|place| coordinate_problems("place", place)).unwrap_or_default()
    }

    fn title(&self) -> String {
        self.name.clone()
    }
}

impl KindBody for Partnership {
    const MESSAGE: &'static str = "Partnership";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        check_partnership(self)?;
        if self.partner == context.publisher.0 {
            return Err(broken("partner", "names the publisher itself; a partnership names another publisher"));
        }
        if crate::hex::to_hex(&self.partner) != context.slug {
            let problem = format!("does not match the slug {:?}, which must be the partner's key in hex", context.slug);
            return Err(broken("partner", problem));
        }
        Ok(())
    }

    fn title(&self) -> String {
        format!("partner {}", crate::hex::to_hex(&self.partner))
    }
}

impl KindBody for Tombstone {
    const MESSAGE: &'static str = "Tombstone";

    fn check(&self, _: &Context) -> Result<(), RecordError> {
        check_tombstone(self)
    }

    fn title(&self) -> String {
        format!("(withdrawn: {})", self.reason)
    }
}

pub(super) fn broken(field: impl Into<String>, problem: impl Into<String>) -> RecordError {
    RecordError::BodyField { field: field.into(), problem: problem.into() }
}

pub(super) fn allowed(values: &[&str]) -> String {
    values.join(", ")
}

/// Requires 1 to `max` characters.
pub(super) fn check_text(field: &str, text: &str, max: usize) -> Result<(), RecordError> {
    match text.chars().count() {
        0 => Err(broken(field, "is required")),
        n if n > max => Err(broken(field, format!("is {n} characters; at most {max} are allowed"))),
        _ => Ok(()),
    }
}

/// Checks every element with `is_valid`, and that none repeats.
pub(super) fn check_list(
    field: &str,
    values: &[String],
    is_valid: fn(&str) -> bool,
    expected: &str,
) -> Result<(), RecordError> {
    for (index, value) in values.iter().enumerate() {
        if !is_valid(value) {
            return Err(broken(format!("{field}[{index}]"), format!("{value:?} is not {expected}")));
        }
        if values[..index].contains(value) {
            return Err(broken(format!("{field}[{index}]"), format!("{value:?} is listed twice")));
        }
    }
    Ok(())
}

pub(super) fn check_optional(
    field: &str,
    value: &str,
    is_valid: fn(&str) -> bool,
    expected: &str,
) -> Result<(), RecordError> {
    if value.is_empty() || is_valid(value) {
        Ok(())
    } else {
        Err(broken(field, format!("{value:?} is not {expected}")))
    }
}

fn check_partnership(partnership: &Partnership) -> Result<(), RecordError> {
    match partnership.partner.len() {
        32 => Ok(()),
        n => Err(broken("partner", format!("is {n} bytes; a publisher key is 32"))),
    }
}

/// Every problem found, in the order of the rules; a check stops at its first problem only
/// within one field.
#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<RecordError>);

impl Problems {
    pub(super) fn check(&mut self, result: Result<(), RecordError>) {
        if let Err(error) = result {
            self.0.push(error);
        }
    }

    pub(super) fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(broken(field, problem));
    }
}

fn check_practice(note: &Practice) -> Result<(), RecordError> {
    practice_problems(note).into_iter().next().map_or(Ok(()), Err)
}

fn practice_problems(note: &Practice) -> Vec<RecordError> {
    let mut problems = Problems::default();
    problems.check(check_text("title", &note.title, MAX_TITLE_CHARS));
    problems.check(check_summary("summary", &note.summary, true));
    if note.themes.is_empty() {
        problems.add("themes", format!("at least one theme is required; allowed: {}", allowed(vocab::THEMES)));
    }
    let themes = format!("a theme; allowed: {}", allowed(vocab::THEMES));
    problems.check(check_list("themes", &note.themes, vocab::is_theme, &themes));
    problems.check(check_list(
        "sdg_targets",
        &note.sdg_targets,
        vocab::is_sdg_target,
        "an SDG target such as \"11.6\" or \"6.b\"",
    ));
    if !vocab::is_status(&note.status) {
        let problem = match note.status.as_str() {
            "" => "is required".to_owned(),
            other => format!("{other:?} is not a status"),
        };
        problems.add("status", format!("{problem}; allowed: {}", allowed(vocab::STATUSES)));
    }
    let date = "a date written YYYY, YYYY-MM or YYYY-MM-DD";
    problems.check(check_optional("start_date", &note.start_date, vocab::is_date, date));
    problems.check(check_optional("end_date", &note.end_date, vocab::is_date, date));
    match &note.location {
        Some(place) => problems.0.extend(place_problems("location", place)),
        None => problems.add("location.country", "is required"),
    }
    for (index, contact) in note.contacts.iter().enumerate() {
        problems.check(check_contact(&format!("contacts[{index}]"), contact));
    }
    problems.check(check_language("language", &note.language));
    problems.check(check_optional(
        "license",
        &note.license,
        vocab::is_license,
        &format!("a licence this format knows; use one of {} or LicenseRef-<name>", allowed(vocab::LICENSES)),
    ));
    for (index, indicator) in note.indicators.iter().enumerate() {
        let field = format!("indicators[{index}]");
        problems.check(check_text(&format!("{field}.label"), &indicator.label, MAX_TITLE_CHARS));
        problems.check(check_optional(&format!("{field}.date"), &indicator.date, vocab::is_date, date));
    }
    if let Some(resources) = &note.resources {
        let amount = "an amount such as 250000 or 1250.50";
        problems.check(check_optional("resources.budget", &resources.budget, vocab::is_amount, amount));
        if !resources.budget.is_empty() && resources.currency.is_empty() {
            problems.add("resources.currency", "is required when a budget is given (an ISO 4217 code such as USD)");
        }
        problems.check(check_optional(
            "resources.currency",
            &resources.currency,
            vocab::is_currency,
            "an ISO 4217 currency code such as USD, EUR or IDR",
        ));
    }
    for (index, partner) in note.partners.iter().enumerate() {
        let field = format!("partners[{index}]");
        problems.check(check_text(&format!("{field}.name"), &partner.name, MAX_TITLE_CHARS));
        problems.check(check_optional(
            &format!("{field}.support"),
            &partner.support,
            vocab::is_support_type,
            &format!("a support type; allowed: {}", allowed(vocab::SUPPORT_TYPES)),
        ));
    }
    if note.keywords.len() > MAX_KEYWORDS {
        problems.add("keywords", format!("{} keywords; at most {MAX_KEYWORDS} are allowed", note.keywords.len()));
    }
    for (index, keyword) in note.keywords.iter().enumerate() {
        problems.check(check_text(&format!("keywords[{index}]"), keyword, MAX_KEYWORD_CHARS));
    }
    for (index, attachment) in note.attachments.iter().enumerate() {
        let field = format!("attachments[{index}]");
        if attachment.sha256.len() != 32 {
            problems.add(format!("{field}.sha256"), "must be 32 bytes");
        }
        problems.check(check_text(&format!("{field}.name"), &attachment.name, MAX_TITLE_CHARS));
    }
    if !note.based_on.is_empty() && note.based_on.len() != 32 {
        problems.add("based_on", "must be a record id (32 bytes)");
    }
    problems.0
}

fn check_place(field: &str, place: &Place) -> Result<(), RecordError> {
    place_problems(field, place).into_iter().next().map_or(Ok(()), Err)
}

/// At most 250 words; at least one when `required`.
pub(super) fn check_summary(field: &str, text: &str, required: bool) -> Result<(), RecordError> {
    match text.split_whitespace().count() {
        0 if required => Err(broken(field, "is required")),
        n if n > MAX_SUMMARY_WORDS => {
            Err(broken(field, format!("is {n} words; at most {MAX_SUMMARY_WORDS} are allowed")))
        }
        _ => Ok(()),
    }
}

pub(super) fn place_problems(field: &str, place: &Place) -> Vec<RecordError> {
    let mut problems = Problems::default();
    if !vocab::is_country(&place.country) {
        let problem = match place.country.as_str() {
            "" => "is required (an ISO 3166-1 alpha-2 code such as ID, KE or BR)".to_owned(),
            other => format!("{other:?} is not an ISO 3166-1 alpha-2 country code (such as ID, KE or BR)"),
        };
        problems.add(format!("{field}.country"), problem);
    }
    problems.check(check_optional(
        &format!("{field}.wikidata"),
        &place.wikidata,
        vocab::is_wikidata_id,
        "a Wikidata item id such as Q8678",
    ));
    let geonames = "a GeoNames id (digits)";
    problems.check(check_optional(&format!("{field}.geonames"), &place.geonames, vocab::is_geonames_id, geonames));
    let in_country = |code: &str| code.starts_with(place.country.as_str());
    let valid_subdivision = vocab::is_subdivision(&place.subdivision) && in_country(&place.subdivision);
    if !place.subdivision.is_empty() && !valid_subdivision {
        problems.add(
            format!("{field}.subdivision"),
            format!(
                "{:?} is not an ISO 3166-2 code of {} (such as {}-01)",
                place.subdivision, place.country, place.country
            ),
        );
    }
    let valid_unlocode = vocab::is_unlocode(&place.unlocode) && in_country(&place.unlocode);
    if !place.unlocode.is_empty() && !valid_unlocode {
        problems.add(
            format!("{field}.unlocode"),
            format!(
                "{:?} is not a UN/LOCODE of {} written without the space (such as IDSUB)",
                place.unlocode, place.country
            ),
        );
    }
    problems.0
}

/// The rules for a place's coordinates (spec §12.4). They are checked when a record is written
/// here, and not when one is verified: verifiers that predate the fields skip them, and a
/// verdict may not depend on a field some verifiers skip (§17). A reader treats a pair that
/// breaks them as no coordinates.
pub(super) fn coordinate_problems(field: &str, place: &Place) -> Vec<RecordError> {
    let mut problems = Problems::default();
    match (place.latitude.is_empty(), place.longitude.is_empty()) {
        (false, true) => problems.add(format!("{field}.longitude"), "is required with a latitude"),
        (true, false) => problems.add(format!("{field}.latitude"), "is required with a longitude"),
        _ => {}
    }
    let degrees = |range: &str| format!("a {range} in decimal degrees with at most 6 decimals");
    let latitude = degrees("latitude from -90 to 90, such as -7.2575,");
    problems.check(check_optional(&format!("{field}.latitude"), &place.latitude, vocab::is_latitude, &latitude));
    let longitude = degrees("longitude from -180 to 180, such as 112.7521,");
    problems.check(check_optional(&format!("{field}.longitude"), &place.longitude, vocab::is_longitude, &longitude));
    problems.0
}

pub(super) fn check_contact(field: &str, contact: &Contact) -> Result<(), RecordError> {
    check_text(&format!("{field}.role"), &contact.role, MAX_TITLE_CHARS)?;
    if !vocab::is_contact_channel(&contact.channel) {
        return Err(broken(
            format!("{field}.channel"),
            format!("{:?} is not a mailto:, tel:, https:// or http:// address", contact.channel),
        ));
    }
    Ok(())
}

pub(super) fn check_language(field: &str, tag: &str) -> Result<(), RecordError> {
    match tag {
        "" => Err(broken(field, "is required (a BCP 47 tag such as en, fr or pt-BR)")),
        tag if !vocab::is_language_tag(tag) => {
            Err(broken(field, format!("{tag:?} is not a BCP 47 language tag (such as en, fr or pt-BR)")))
        }
        _ => Ok(()),
    }
}

fn check_profile(profile: &Profile) -> Result<(), RecordError> {
    check_text("name", &profile.name, MAX_TITLE_CHARS)?;
    if !vocab::is_organisation_type(&profile.organisation_type) {
        return Err(broken(
            "organisation_type",
            format!(
                "{:?} is not an organisation type; allowed: {}",
                profile.organisation_type,
                allowed(vocab::ORGANISATION_TYPES)
            ),
        ));
    }
    if let Some(place) = &profile.place {
        check_place("place", place)?;
    }
    let web = |url: &str| url.starts_with("https://") || url.starts_with("http://");
    check_optional("website", &profile.website, web, "an http:// or https:// address")?;
    for (index, language) in profile.languages.iter().enumerate() {
        check_language(&format!("languages[{index}]"), language)?;
    }
    if let Some(contact) = &profile.contact {
        check_optional(
            "contact.channel",
            &contact.channel,
            vocab::is_contact_channel,
            "a mailto:, tel:, https:// or http:// address",
        )?;
    }
    Ok(())
}

fn check_tombstone(stone: &Tombstone) -> Result<(), RecordError> {
    check_text("reason", &stone.reason, MAX_REASON_CHARS)
}
