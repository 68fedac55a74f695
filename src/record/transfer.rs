//! The field rules of the knowledge-transfer kinds of format 3 (`proto/README.md` §12.12 to
//! §12.18): requests, offers, events, engagements, outcomes and endorsements. Every kind
//! reports all its problems at once (for forms); verification takes the first.

use super::body::{
    MAX_REASON_CHARS, MAX_TITLE_CHARS, Problems, allowed, check_contact, check_language, check_list, check_optional,
    check_summary, check_text, coordinate_problems, place_problems,
};
use super::{Context, KindBody, RecordError};
use crate::vocab::{self, transfer};
use crate::wire::{Endorsement, Engagement, Event, Offer, Outcome, Ref, Request};

const DATE: &str = "a date written YYYY, YYYY-MM or YYYY-MM-DD";

fn codes(list: &[(&str, &str)]) -> String {
    list.iter().map(|(code, _)| *code).collect::<Vec<_>>().join(", ")
}

/// One value of a closed list, required.
fn one_of(problems: &mut Problems, field: &str, value: &str, list: &[(&str, &str)], what: &str) {
    if !transfer::listed(list, value) {
        let problem = match value {
            "" => "is required".to_owned(),
            other => format!("{other:?} is not {what}"),
        };
        problems.add(field, format!("{problem}; allowed: {}", codes(list)));
    }
}

/// Values of a closed list, at least `min`, none twice.
fn some_of(problems: &mut Problems, field: &str, values: &[String], list: &[(&str, &str)], what: &str, min: usize) {
    if values.len() < min {
        problems.add(field, format!("at least one {what} is required; allowed: {}", codes(list)));
    }
    for (index, value) in values.iter().enumerate() {
        if !transfer::listed(list, value) {
            problems.add(format!("{field}[{index}]"), format!("{value:?} is not {what}; allowed: {}", codes(list)));
        } else if values[..index].contains(value) {
            problems.add(format!("{field}[{index}]"), format!("{value:?} is listed twice"));
        }
    }
}

fn themes(problems: &mut Problems, values: &[String], min: usize) {
    if values.len() < min {
        problems.add("themes", format!("at least one theme is required; allowed: {}", allowed(vocab::THEMES)));
    }
    let theme = format!("a theme; allowed: {}", allowed(vocab::THEMES));
    problems.check(check_list("themes", values, vocab::is_theme, &theme));
}

fn sdg_targets(problems: &mut Problems, values: &[String]) {
    let target = "an SDG target such as \"11.6\" or \"6.b\"";
    problems.check(check_list("sdg_targets", values, vocab::is_sdg_target, target));
}

fn languages(problems: &mut Problems, values: &[String]) {
    if values.is_empty() {
        problems.add("languages", "at least one language is required (BCP 47 tags such as en, fr or pt-BR)");
    }
    for (index, language) in values.iter().enumerate() {
        problems.check(check_language(&format!("languages[{index}]"), language));
        if values[..index].contains(language) {
            problems.add(format!("languages[{index}]"), format!("{language:?} is listed twice"));
        }
    }
}

fn regions(problems: &mut Problems, values: &[String]) {
    let region = "a country code (ISO 3166-1 alpha-2, such as ID) or a UN M49 region code (such as 035 or 142)";
    problems.check(check_list("regions", values, transfer::is_region, region));
}

fn date_range(problems: &mut Problems, (start_field, start): (&str, &str), (end_field, end): (&str, &str)) {
    problems.check(check_optional(start_field, start, vocab::is_date, DATE));
    problems.check(check_optional(end_field, end, vocab::is_date, DATE));
    if vocab::is_date(start) && vocab::is_date(end) && transfer::ends_before(start, end) {
        problems.add(end_field, format!("{end} is before {start_field} {start}"));
    }
}

/// A reference to another record: a 32-byte publisher key and a slug.
fn reference(problems: &mut Problems, field: &str, target: &Ref) {
    if target.publisher.len() != 32 {
        problems
            .add(format!("{field}.publisher"), format!("is {} bytes; a publisher key is 32", target.publisher.len()));
    }
    if !super::is_slug(&target.slug) {
        problems.add(format!("{field}.slug"), format!("{:?} is not a slug (1 to 64 of a-z, 0-9 and '-')", target.slug));
    }
}

fn references(problems: &mut Problems, field: &str, targets: &[Ref]) {
    for (index, target) in targets.iter().enumerate() {
        reference(problems, &format!("{field}[{index}]"), target);
    }
}

fn optional_text(problems: &mut Problems, field: &str, text: &str, max: usize) {
    if !text.is_empty() {
        problems.check(check_text(field, text, max));
    }
}

fn web_address(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn first(problems: Vec<RecordError>) -> Result<(), RecordError> {
    problems.into_iter().next().map_or(Ok(()), Err)
}

impl KindBody for Request {
    const MESSAGE: &'static str = "Request";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        first(self.problems(context))
    }

    fn problems(&self, _: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        problems.check(check_text("title", &self.title, MAX_TITLE_CHARS));
        problems.check(check_summary("need", &self.need, true));
        themes(&mut problems, &self.themes, 1);
        sdg_targets(&mut problems, &self.sdg_targets);
        some_of(&mut problems, "formats", &self.formats, transfer::FORMATS, "a format", 1);
        languages(&mut problems, &self.languages);
        date_range(&mut problems, ("start_date", &self.start_date), ("end_date", &self.end_date));
        regions(&mut problems, &self.regions);
        if !self.costs.is_empty() {
            one_of(&mut problems, "costs", &self.costs, transfer::COSTS, "a cost term");
        }
        references(&mut problems, "practices", &self.practices);
        one_of(&mut problems, "status", &self.status, transfer::REQUEST_STATUSES, "a request status");
        if let Some(contact) = &self.contact {
            problems.check(check_contact("contact", contact));
        }
        problems.0
    }

    fn title(&self) -> String {
        self.title.clone()
    }
}

impl KindBody for Offer {
    const MESSAGE: &'static str = "Offer";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        first(self.problems(context))
    }

    fn problems(&self, _: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        problems.check(check_text("title", &self.title, MAX_TITLE_CHARS));
        problems.check(check_summary("summary", &self.summary, true));
        themes(&mut problems, &self.themes, 1);
        sdg_targets(&mut problems, &self.sdg_targets);
        some_of(&mut problems, "formats", &self.formats, transfer::FORMATS, "a format", 1);
        languages(&mut problems, &self.languages);
        references(&mut problems, "practices", &self.practices);
        optional_text(&mut problems, "capacity", &self.capacity, MAX_TITLE_CHARS);
        if !self.costs.is_empty() {
            one_of(&mut problems, "costs", &self.costs, transfer::COSTS, "a cost term");
        }
        date_range(&mut problems, ("available_from", &self.available_from), ("available_until", &self.available_until));
        regions(&mut problems, &self.regions);
        one_of(&mut problems, "status", &self.status, transfer::OFFER_STATUSES, "an offer status");
        if let Some(contact) = &self.contact {
            problems.check(check_contact("contact", contact));
        }
        problems.0
    }

    fn title(&self) -> String {
        self.title.clone()
    }
}

impl KindBody for Event {
    const MESSAGE: &'static str = "Event";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        first(self.problems(context))
    }

    fn problems(&self, _: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        problems.check(check_text("title", &self.title, MAX_TITLE_CHARS));
        problems.check(check_summary("summary", &self.summary, false));
        one_of(&mut problems, "event_type", &self.event_type, transfer::EVENT_TYPES, "a type of event");
        let time = "a time with its UTC offset, such as 2027-03-10T09:00+07:00";
        let start = transfer::parse_time(&self.start);
        let end = transfer::parse_time(&self.end);
        for (field, text, parsed) in [("start", &self.start, start), ("end", &self.end, end)] {
            match (text.is_empty(), parsed) {
                (true, _) => problems.add(field, format!("is required ({time})")),
                (false, None) => problems.add(field, format!("{text:?} is not {time}")),
                _ => {}
            }
        }
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            problems.add("end", format!("{} is before the start, {}", self.end, self.start));
        }
        if self.time_zone.is_empty() {
            problems.add("time_zone", "is required (an IANA time zone such as Asia/Jakarta or Europe/Lisbon)");
        } else if !transfer::is_time_zone(&self.time_zone) {
            let problem =
                format!("{:?} is not a time zone of the IANA database (such as Asia/Jakarta)", self.time_zone);
            problems.add("time_zone", problem);
        }
        if self.place.is_none() && self.online_url.is_empty() {
            problems.add("place.country", "an event needs a place, an online address, or both");
        }
        if let Some(place) = &self.place {
            problems.0.extend(place_problems("place", place));
        }
        problems.check(check_optional("online_url", &self.online_url, web_address, "an https:// or http:// address"));
        for (index, organiser) in self.organisers.iter().enumerate() {
            problems.check(check_text(&format!("organisers[{index}]"), organiser, MAX_TITLE_CHARS));
        }
        languages(&mut problems, &self.languages);
        themes(&mut problems, &self.themes, 0);
        if let Some(contact) = &self.registration {
            problems.check(check_contact("registration", contact));
        }
        references(&mut problems, "practices", &self.practices);
        references(&mut problems, "requests", &self.requests);
        one_of(&mut problems, "status", &self.status, transfer::EVENT_STATUSES, "an event status");
        problems.0
    }

    fn authoring_problems(&self) -> Vec<RecordError> {
        self.place.as_ref().map(|place| coordinate_problems("place", place)).unwrap_or_default()
    }

    fn title(&self) -> String {
        self.title.clone()
    }
}

impl KindBody for Engagement {
    const MESSAGE: &'static str = "Engagement";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        first(self.problems(context))
    }

    fn problems(&self, context: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        match self.counterpart.len() {
            32 if self.counterpart == context.publisher.0 => {
                problems.add("counterpart", "names the publisher itself; an engagement is between two organisations")
            }
            32 => {}
            0 => problems.add("counterpart", "is required (the other organisation's publisher key)"),
            n => problems.add("counterpart", format!("is {n} bytes; a publisher key is 32")),
        }
        one_of(&mut problems, "role", &self.role, transfer::ROLES, "a role");
        match &self.practice {
            Some(practice) => reference(&mut problems, "practice", practice),
            None => problems.add("practice.slug", "is required (the practice note transferred)"),
        }
        if let Some(request) = &self.request {
            reference(&mut problems, "request", request);
        }
        if let Some(offer) = &self.offer {
            reference(&mut problems, "offer", offer);
        }
        for (index, activity) in self.activities.iter().enumerate() {
            let field = format!("activities[{index}]");
            problems.check(check_text(&format!("{field}.title"), &activity.title, MAX_TITLE_CHARS));
            if !vocab::is_date(&activity.date) {
                problems.add(format!("{field}.date"), format!("{:?} is not {DATE}", activity.date));
            }
            if let Some(event) = &activity.event {
                reference(&mut problems, &format!("{field}.event"), event);
            }
        }
        stages(&mut problems, self);
        problems.check(check_summary("summary", &self.summary, false));
        problems.0
    }

    fn title(&self) -> String {
        let practice = self.practice.as_ref().map_or("", |practice| practice.slug.as_str());
        let stage = current_stage(self).unwrap_or("exploring");
        let doing = if self.role == "provider" { "Sharing" } else { "Taking up" };
        format!("{doing} {practice} ({stage})")
    }
}

/// The stage an engagement is at: its last.
pub fn current_stage(engagement: &Engagement) -> Option<&str> {
    engagement.stages.last().map(|stage| stage.stage.as_str())
}

/// The stages come in the order of [`transfer::STAGES`], none twice, nothing after a final one,
/// dated in order.
fn stages(problems: &mut Problems, engagement: &Engagement) {
    if engagement.stages.is_empty() {
        let problem = format!("at least one stage is required; allowed: {}", codes(transfer::STAGES));
        problems.add("stages", problem);
    }
    let position = |stage: &str| transfer::STAGES.iter().position(|(code, _)| *code == stage);
    let mut previous: Option<(usize, &str, &str)> = None;
    for (index, stage) in engagement.stages.iter().enumerate() {
        let field = format!("stages[{index}]");
        let Some(at) = position(&stage.stage) else {
            one_of(problems, &format!("{field}.stage"), &stage.stage, transfer::STAGES, "a stage");
            continue;
        };
        if let Some((before, name, _)) = previous {
            if transfer::FINAL_STAGES.contains(&name) {
                problems.add(format!("{field}.stage"), format!("comes after {name}, which ends an engagement"));
            } else if at <= before && stage.stage != "abandoned" {
                let problem = format!("{} cannot follow {name}; stages go {}", stage.stage, codes(transfer::STAGES));
                problems.add(format!("{field}.stage"), problem);
            }
        }
        if !vocab::is_date(&stage.date) {
            problems.add(format!("{field}.date"), format!("{:?} is not {DATE}", stage.date));
        } else if let Some((_, _, date)) = previous.filter(|(_, _, date)| vocab::is_date(date))
            && transfer::ends_before(date, &stage.date)
        {
            problems.add(format!("{field}.date"), format!("{} is before the previous stage's date {date}", stage.date));
        }
        previous = Some((at, &stage.stage, &stage.date));
    }
}

/// A decimal number as text: an optional minus, digits, at most four decimals.
fn is_decimal(text: &str) -> bool {
    vocab::is_amount(text.strip_prefix('-').unwrap_or(text))
}

impl KindBody for Outcome {
    const MESSAGE: &'static str = "Outcome";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        first(self.problems(context))
    }

    fn problems(&self, _: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        if !super::is_slug(&self.engagement) {
            let problem = match self.engagement.as_str() {
                "" => "is required (the slug of one of your engagements)".to_owned(),
                other => format!("{other:?} is not a slug (1 to 64 of a-z, 0-9 and '-')"),
            };
            problems.add("engagement", problem);
        }
        problems.check(check_text("title", &self.title, MAX_TITLE_CHARS));
        problems.check(check_summary("summary", &self.summary, false));
        let number = "a number such as 1500 or -12.5 (at most 4 decimals)";
        for (index, indicator) in self.indicators.iter().enumerate() {
            let field = format!("indicators[{index}]");
            problems.check(check_text(&format!("{field}.label"), &indicator.label, MAX_TITLE_CHARS));
            if indicator.actual.is_empty() {
                problems.add(format!("{field}.actual"), format!("is required ({number})"));
            }
            for (name, value, date) in [
                ("baseline", &indicator.baseline, &indicator.baseline_date),
                ("target", &indicator.target, &indicator.target_date),
                ("actual", &indicator.actual, &indicator.actual_date),
            ] {
                problems.check(check_optional(&format!("{field}.{name}"), value, is_decimal, number));
                problems.check(check_optional(&format!("{field}.{name}_date"), date, vocab::is_date, DATE));
            }
        }
        for (index, link) in self.evidence.iter().enumerate() {
            let field = format!("evidence[{index}]");
            problems.check(check_text(&format!("{field}.title"), &link.title, MAX_TITLE_CHARS));
            if !web_address(&link.url) {
                problems.add(format!("{field}.url"), format!("{:?} is not an https:// or http:// address", link.url));
            }
        }
        problems.0
    }

    fn title(&self) -> String {
        self.title.clone()
    }
}

impl KindBody for Endorsement {
    const MESSAGE: &'static str = "Endorsement";

    fn check(&self, context: &Context) -> Result<(), RecordError> {
        first(self.problems(context))
    }

    fn problems(&self, context: &Context) -> Vec<RecordError> {
        let mut problems = Problems::default();
        if !transfer::ENDORSED_KINDS.contains(&self.subject_kind.as_str()) {
            let problem = match self.subject_kind.as_str() {
                "" => "is required".to_owned(),
                other => format!("{other:?} cannot be endorsed"),
            };
            problems.add("subject_kind", format!("{problem}; allowed: {}", transfer::ENDORSED_KINDS.join(", ")));
        }
        match &self.subject {
            Some(subject) if subject.publisher == context.publisher.0 => {
                problems.add("subject.publisher", "is the publisher itself; an endorsement vouches for another's work");
            }
            Some(subject) => reference(&mut problems, "subject", subject),
            None => problems.add("subject.slug", "is required (the practice or outcome endorsed)"),
        }
        some_of(&mut problems, "grounds", &self.grounds, transfer::GROUNDS, "a ground", 1);
        optional_text(&mut problems, "comment", &self.comment, MAX_REASON_CHARS);
        problems.0
    }

    fn title(&self) -> String {
        let slug = self.subject.as_ref().map_or("", |subject| subject.slug.as_str());
        format!("endorses {} {slug}", self.subject_kind)
    }
}
