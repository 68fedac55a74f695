//! The codes of the vocabularies in plain words: theme labels, country names (ISO 3166-1 English
//! short names), SDG targets with their goals' short titles, language names for BCP 47 tags,
//! licences by name. Pages, forms, facets and the CLI's text output show these; JSON and
//! Markdown keep the codes. The long lists are data shipped in `data/` (see their headers for
//! where they come from), read once.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::transfer;

/// A vocabulary whose codes have words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Words {
    Theme,
    Status,
    Country,
    Language,
    Licence,
    Sdg,
    OrganisationType,
    Support,
    /// Formats of a transfer (study visit, expert mission ...).
    Format,
    Costs,
    RequestStatus,
    OfferStatus,
    EventType,
    EventStatus,
    Role,
    Stage,
    Grounds,
    /// Countries and UN M49 regions.
    Region,
}

const THEME_LABELS: &[(&str, &str)] = &[
    ("urban-governance", "Urban governance"),
    ("service-delivery", "Service delivery"),
    ("environment", "Environment"),
    ("infrastructure", "Infrastructure"),
    ("solid-waste", "Solid waste"),
    ("water-sanitation", "Water and sanitation"),
    ("transport", "Transport"),
    ("housing", "Housing"),
    ("energy", "Energy"),
    ("climate-resilience", "Climate resilience"),
    ("health", "Health"),
    ("local-economy", "Local economy"),
    ("social-inclusion", "Social inclusion"),
];

const STATUS_LABELS: &[(&str, &str)] =
    &[("planned", "Planned"), ("ongoing", "Ongoing"), ("completed", "Completed"), ("discontinued", "Discontinued")];

const ORGANISATION_LABELS: &[(&str, &str)] = &[
    ("local-government", "Local government"),
    ("ngo", "Non-governmental organisation"),
    ("cbo", "Community-based organisation"),
    ("municipal-association", "Association of municipalities"),
    ("network", "Network of cities"),
    ("academic", "University or research institute"),
    ("national-agency", "National government agency"),
    ("private", "Private company"),
];

const SUPPORT_LABELS: &[(&str, &str)] = &[
    ("financial", "Financial"),
    ("technical", "Technical"),
    ("in-kind", "In kind"),
    ("political", "Political"),
    ("other", "Other"),
];

/// The licences' names, as SPDX gives them.
const LICENCE_NAMES: &[(&str, &str)] = &[
    ("AGPL-3.0-or-later", "GNU Affero General Public License 3.0 or later"),
    ("Apache-2.0", "Apache License 2.0"),
    ("BSD-2-Clause", "BSD 2-Clause License"),
    ("BSD-3-Clause", "BSD 3-Clause License"),
    ("CC-BY-3.0", "Creative Commons Attribution 3.0"),
    ("CC-BY-3.0-IGO", "Creative Commons Attribution 3.0 IGO"),
    ("CC-BY-4.0", "Creative Commons Attribution 4.0"),
    ("CC-BY-NC-3.0", "Creative Commons Attribution Non Commercial 3.0"),
    ("CC-BY-NC-4.0", "Creative Commons Attribution Non Commercial 4.0"),
    ("CC-BY-NC-ND-3.0", "Creative Commons Attribution Non Commercial No Derivatives 3.0"),
    ("CC-BY-NC-ND-3.0-IGO", "Creative Commons Attribution Non Commercial No Derivatives 3.0 IGO"),
    ("CC-BY-NC-ND-4.0", "Creative Commons Attribution Non Commercial No Derivatives 4.0"),
    ("CC-BY-NC-SA-3.0", "Creative Commons Attribution Non Commercial Share Alike 3.0"),
    ("CC-BY-NC-SA-3.0-IGO", "Creative Commons Attribution Non Commercial Share Alike 3.0 IGO"),
    ("CC-BY-NC-SA-4.0", "Creative Commons Attribution Non Commercial Share Alike 4.0"),
    ("CC-BY-ND-3.0", "Creative Commons Attribution No Derivatives 3.0"),
    ("CC-BY-ND-4.0", "Creative Commons Attribution No Derivatives 4.0"),
    ("CC-BY-SA-3.0", "Creative Commons Attribution Share Alike 3.0"),
    ("CC-BY-SA-3.0-IGO", "Creative Commons Attribution Share Alike 3.0 IGO"),
    ("CC-BY-SA-4.0", "Creative Commons Attribution Share Alike 4.0"),
    ("CC0-1.0", "Creative Commons Zero 1.0 (public domain)"),
    ("CDLA-Permissive-2.0", "Community Data License Agreement Permissive 2.0"),
    ("CDLA-Sharing-1.0", "Community Data License Agreement Sharing 1.0"),
    ("DL-DE-BY-2.0", "Data licence Germany – attribution – 2.0"),
    ("DL-DE-ZERO-2.0", "Data licence Germany – zero – 2.0"),
    ("EUPL-1.2", "European Union Public Licence 1.2"),
    ("GFDL-1.3-or-later", "GNU Free Documentation License 1.3 or later"),
    ("GPL-2.0-or-later", "GNU General Public License 2.0 or later"),
    ("GPL-3.0-or-later", "GNU General Public License 3.0 or later"),
    ("ISC", "ISC License"),
    ("LGPL-3.0-or-later", "GNU Lesser General Public License 3.0 or later"),
    ("MIT", "MIT License"),
    ("MPL-2.0", "Mozilla Public License 2.0"),
    ("NLOD-2.0", "Norwegian Licence for Open Government Data 2.0"),
    ("ODC-By-1.0", "Open Data Commons Attribution License 1.0"),
    ("ODbL-1.0", "Open Data Commons Open Database License 1.0"),
    ("OGL-Canada-2.0", "Open Government Licence – Canada 2.0"),
    ("OGL-UK-2.0", "Open Government Licence 2.0 (UK)"),
    ("OGL-UK-3.0", "Open Government Licence 3.0 (UK)"),
    ("PDDL-1.0", "Open Data Commons Public Domain Dedication and License 1.0"),
    ("Unlicense", "The Unlicense"),
    ("etalab-2.0", "Etalab Open Licence 2.0"),
];

/// Rows of a shipped table: tab-separated, `#` lines are comments.
pub(super) fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')).map(|line| line.split('\t').collect())
}

fn pairs(text: &'static str) -> Vec<(&'static str, &'static str)> {
    rows(text).filter_map(|row| Some((*row.first()?, *row.get(1)?))).collect()
}

static COUNTRIES: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| pairs(include_str!("../../data/countries.tsv")));
static LANGUAGES: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| pairs(include_str!("../../data/languages.tsv")));

/// The goals (number, short title, title) and the targets (code, text).
struct Sdgs {
    goals: Vec<(&'static str, &'static str, &'static str)>,
    targets: Vec<(&'static str, &'static str)>,
}

static SDGS: LazyLock<Sdgs> = LazyLock::new(|| {
    let mut sdgs = Sdgs { goals: Vec::new(), targets: Vec::new() };
    for row in rows(include_str!("../../data/sdg.tsv")) {
        match row.as_slice() {
            [goal, short, title] => sdgs.goals.push((goal, short, title)),
            [target, text] => sdgs.targets.push((target, text)),
            _ => {}
        }
    }
    sdgs
});

static BY_CODE: LazyLock<HashMap<Words, HashMap<&'static str, &'static str>>> =
    LazyLock::new(|| Words::ALL.iter().map(|words| (*words, words.table().into_iter().collect())).collect());

/// The words for a code, if the vocabulary lists it.
fn word(words: Words, code: &str) -> Option<&'static str> {
    BY_CODE.get(&words).and_then(|table| table.get(code)).copied()
}

/// Where a target sorts: by goal, then numbered targets before lettered ones (3.6 < 3.10 < 3.a
/// < 10.2).
pub fn sdg_order(target: &str) -> (u32, u32, String) {
    let (goal, rest) = target.split_once('.').unwrap_or((target, ""));
    let goal = goal.parse().unwrap_or(u32::MAX);
    match rest.parse::<u32>() {
        Ok(number) => (goal, number, String::new()),
        Err(_) => (goal, u32::MAX, rest.to_owned()),
    }
}

/// A goal's number and short title ("11", "Sustainable cities and communities").
pub fn sdg_goal(number: &str) -> Option<&'static str> {
    SDGS.goals.iter().find(|(goal, _, _)| *goal == number).map(|(_, short, _)| *short)
}

/// A target's official text.
pub fn sdg_text(target: &str) -> Option<&'static str> {
    SDGS.targets.iter().find(|(code, _)| *code == target).map(|(_, text)| *text)
}

/// A language tag in words: "Portuguese (Brazil)" for pt-BR, "Indonesian" for id; a tag whose
/// language is not an ISO 639-1 code stays as it is.
pub fn language_name(tag: &str) -> Cow<'static, str> {
    let mut subtags = tag.split('-');
    let language = subtags.next().unwrap_or_default().to_ascii_lowercase();
    let Some(name) = word(Words::Language, &language) else {
        return Cow::Owned(tag.to_owned());
    };
    let region = subtags.find(|subtag| subtag.len() == 2).map(str::to_ascii_uppercase);
    match region.as_deref().and_then(|region| word(Words::Country, region)) {
        Some(country) => Cow::Owned(format!("{name} ({country})")),
        None if tag.contains('-') => Cow::Owned(format!("{name} ({tag})")),
        None => Cow::Borrowed(name),
    }
}

impl Words {
    pub const ALL: &'static [Words] = &[
        Words::Theme,
        Words::Status,
        Words::Country,
        Words::Language,
        Words::Licence,
        Words::Sdg,
        Words::OrganisationType,
        Words::Support,
        Words::Format,
        Words::Costs,
        Words::RequestStatus,
        Words::OfferStatus,
        Words::EventType,
        Words::EventStatus,
        Words::Role,
        Words::Stage,
        Words::Grounds,
        Words::Region,
    ];

    /// Every code with its words, in the order a list of choices shows them.
    fn table(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Words::Theme => THEME_LABELS.to_vec(),
            Words::Status => STATUS_LABELS.to_vec(),
            Words::OrganisationType => ORGANISATION_LABELS.to_vec(),
            Words::Support => SUPPORT_LABELS.to_vec(),
            Words::Licence => LICENCE_NAMES.to_vec(),
            Words::Country => COUNTRIES.clone(),
            Words::Language => LANGUAGES.clone(),
            Words::Sdg => SDGS.targets.clone(),
            Words::Format => transfer::FORMATS.to_vec(),
            Words::Costs => transfer::COSTS.to_vec(),
            Words::RequestStatus => transfer::REQUEST_STATUSES.to_vec(),
            Words::OfferStatus => transfer::OFFER_STATUSES.to_vec(),
            Words::EventType => transfer::EVENT_TYPES.to_vec(),
            Words::EventStatus => transfer::EVENT_STATUSES.to_vec(),
            Words::Role => transfer::ROLES.to_vec(),
            Words::Stage => transfer::STAGES.to_vec(),
            Words::Grounds => transfer::GROUNDS.to_vec(),
            Words::Region => transfer::M49_NAMES.iter().copied().chain(COUNTRIES.iter().copied()).collect(),
        }
    }

    /// A code in words; a code the vocabulary does not list stays as it is.
    pub fn label(self, code: &str) -> Cow<'static, str> {
        match self {
            Words::Language => language_name(code),
            Words::Sdg => Cow::Owned(sdg_label(code)),
            _ => word(self, code).map_or_else(|| Cow::Owned(code.to_owned()), Cow::Borrowed),
        }
    }

    /// The choices a form offers, `(code, words)`, in the order it shows them: countries,
    /// languages and licences by name, SDG targets by number, the rest as the vocabulary lists
    /// them.
    pub fn choices(self) -> Vec<(&'static str, Cow<'static, str>)> {
        let mut choices: Vec<(&'static str, Cow<'static, str>)> =
            self.table().into_iter().map(|(code, _)| (code, self.label(code))).collect();
        if matches!(self, Words::Country | Words::Language | Words::Licence | Words::Region) {
            choices.sort_by(|a, b| a.1.cmp(&b.1));
        }
        choices
    }

    /// Sorts codes the way the vocabulary reads best: SDG targets by number, others by words.
    pub fn sort(self, codes: &mut [String]) {
        match self {
            Words::Sdg => codes.sort_by_key(|code| sdg_order(code)),
            _ => codes.sort_by_cached_key(|code| self.label(code).into_owned()),
        }
    }
}

/// A target with its goal's short title: "11.6 Sustainable cities and communities".
fn sdg_label(target: &str) -> String {
    let goal = target.split_once('.').map_or(target, |(goal, _)| goal);
    match (sdg_goal(goal), sdg_text(target)) {
        (Some(short), Some(_)) => format!("{target} {short}"),
        _ => target.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words() {
        assert_eq!(Words::Theme.label("solid-waste"), "Solid waste");
        assert_eq!(Words::Country.label("BR"), "Brazil");
        assert_eq!(Words::Country.label("ID"), "Indonesia");
        assert_eq!(Words::Language.label("pt-BR"), "Portuguese (Brazil)");
        assert_eq!(Words::Language.label("id"), "Indonesian");
        assert_eq!(Words::Language.label("x-city"), "x-city");
        assert_eq!(Words::Licence.label("CC-BY-4.0"), "Creative Commons Attribution 4.0");
        assert_eq!(Words::Sdg.label("11.6"), "11.6 Sustainable cities and communities");
        assert!(sdg_text("11.6").unwrap().starts_with("By 2030, reduce the adverse per capita"));
        assert_eq!(Words::Country.label("ZZ"), "ZZ");
    }

    #[test]
    fn every_code_the_rules_accept_has_words_and_nothing_else_does() {
        for words in Words::ALL {
            let table = words.table();
            let codes: Vec<&str> = table.iter().map(|(code, _)| *code).collect();
            let unique: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
            assert_eq!(unique.len(), codes.len(), "{words:?} lists a code twice");
            for code in codes {
                let accepted = match words {
                    Words::Theme => super::super::is_theme(code),
                    Words::Status => super::super::is_status(code),
                    Words::Country => super::super::is_country(code),
                    Words::Language => super::super::is_language_tag(code),
                    Words::Licence => super::super::is_license(code),
                    Words::Sdg => super::super::is_sdg_target(code),
                    Words::OrganisationType => super::super::is_organisation_type(code),
                    Words::Support => super::super::is_support_type(code),
                    Words::Region => super::super::transfer::is_region(code),
                    _ => super::super::transfer::listed(&words.table(), code),
                };
                assert!(accepted, "{words:?} has words for {code:?}, which the rules refuse");
            }
        }
        assert_eq!(Words::Theme.table().len(), super::super::THEMES.len());
        assert_eq!(Words::Country.table().len(), 249);
        assert_eq!(Words::Sdg.table().len(), 169);
        assert_eq!(Words::Licence.table().len(), super::super::LICENSES.len());
        assert_eq!(SDGS.goals.len(), 17);
    }

    #[test]
    fn sdg_targets_sort_by_number() {
        let mut targets: Vec<String> = ["10.2", "3.a", "3.10", "3.6", "11.6"].map(String::from).to_vec();
        Words::Sdg.sort(&mut targets);
        assert_eq!(targets, ["3.6", "3.10", "3.a", "10.2", "11.6"]);
    }
}
