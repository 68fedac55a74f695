//! Controlled vocabularies and format checks for the fields of a practice note.
//!
//! Every check here is a pure function over `&str`, so that record validation, the command
//! line and the tests all share one definition of what a field may hold. The code lists are
//! kept as sorted slices: a glance shows what is accepted, and lookups can binary-search.

/// Theme slugs (the 13 themes of the UN-Habitat best-practice format).
pub const THEMES: &[&str] = &[
    "urban-governance",
    "service-delivery",
    "environment",
    "infrastructure",
    "solid-waste",
    "water-sanitation",
    "transport",
    "housing",
    "energy",
    "climate-resilience",
    "health",
    "local-economy",
    "social-inclusion",
];

/// Stages a practice can be in when a note about it is written.
pub const STATUSES: &[&str] = &["planned", "ongoing", "completed", "discontinued"];

/// Kinds of organisation that can lead or take part in a practice.
pub const ORGANISATION_TYPES: &[&str] =
    &["local-government", "ngo", "cbo", "municipal-association", "network", "academic", "national-agency", "private"];

/// Kinds of support a partner can give to a practice.
pub const SUPPORT_TYPES: &[&str] = &["financial", "technical", "in-kind", "political", "other"];

/// Licence used when a note names none.
pub const DEFAULT_LICENSE: &str = "CC-BY-4.0";

/// SPDX ids accepted for notes (content and data licences plus common software ones).
///
/// The list is sorted by byte value (upper case before lower case) so that lookups can
/// binary-search it; ids are matched exactly as SPDX spells them.
pub const LICENSES: &[&str] = &[
    "AGPL-3.0-or-later",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "CC-BY-3.0",
    "CC-BY-3.0-IGO",
    "CC-BY-4.0",
    "CC-BY-NC-3.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-ND-3.0",
    "CC-BY-NC-ND-3.0-IGO",
    "CC-BY-NC-ND-4.0",
    "CC-BY-NC-SA-3.0",
    "CC-BY-NC-SA-3.0-IGO",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-3.0",
    "CC-BY-ND-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-3.0-IGO",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
    "DL-DE-BY-2.0",
    "DL-DE-ZERO-2.0",
    "EUPL-1.2",
    "GFDL-1.3-or-later",
    "GPL-2.0-or-later",
    "GPL-3.0-or-later",
    "ISC",
    "LGPL-3.0-or-later",
    "MIT",
    "MPL-2.0",
    "NLOD-2.0",
    "ODC-By-1.0",
    "ODbL-1.0",
    "OGL-Canada-2.0",
    "OGL-UK-2.0",
    "OGL-UK-3.0",
    "PDDL-1.0",
    "Unlicense",
    "etalab-2.0",
];

/// ISO 3166-1 alpha-2 codes that are officially assigned, sorted.
// Starting a row at each new initial letter keeps the table easy to check by eye, a layout
// that rustfmt would undo.
#[rustfmt::skip]
const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR",
    "BS", "BT", "BV", "BW", "BY", "BZ",
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV",
    "CW", "CX", "CY", "CZ",
    "DE", "DJ", "DK", "DM", "DO", "DZ",
    "EC", "EE", "EG", "EH", "ER", "ES", "ET",
    "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY",
    "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
    "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR",
    "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM",
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
    "QA",
    "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR",
    "SS", "ST", "SV", "SX", "SY", "SZ",
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ",
    "VA", "VC", "VE", "VG", "VI", "VN", "VU",
    "WF", "WS",
    "YE", "YT",
    "ZA", "ZM", "ZW",];

/// ISO 4217 codes of currencies in circulation, sorted.
///
/// Fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW, XAD), precious metals, bond-market
/// units, the SDR and other units of account (XDR, XSU, XUA) and the testing codes (XTS,
/// XXX) are left out, because a practice's budget is never stated in them. Codes ISO withdrew
/// recently (ANG, BGN, CUC, HRK, SLL, ZWL) stay in, because older practices were budgeted in them.
// Starting a row at each new initial letter keeps the table easy to check by eye, a layout
// that rustfmt would undo.
#[rustfmt::skip]
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
    "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN",
    "BZD",
    "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUC", "CUP", "CVE", "CZK",
    "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP",
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HRK", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
    "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
    "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
    "MYR", "MZN",
    "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
    "OMR",
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR",
    "RON", "RSD", "RUB", "RWF",
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC",
    "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "UYU", "UZS",
    "VED", "VES", "VND", "VUV",
    "WST",
    "XAF", "XCD", "XCG", "XOF", "XPF",
    "YER",
    "ZAR", "ZMW", "ZWG", "ZWL",
];

/// Targets of each Sustainable Development Goal, indexed by goal number minus one.
///
/// Each entry holds how many numeric targets the goal has and the letter of its last
/// means-of-implementation target; goal 17 is made of numeric targets only.
const SDG_TARGETS: [(usize, Option<u8>); 17] = [
    (5, Some(b'b')),  // 1 no poverty
    (5, Some(b'c')),  // 2 zero hunger
    (9, Some(b'd')),  // 3 good health and well-being
    (7, Some(b'c')),  // 4 quality education
    (6, Some(b'c')),  // 5 gender equality
    (6, Some(b'b')),  // 6 clean water and sanitation
    (3, Some(b'b')),  // 7 affordable and clean energy
    (10, Some(b'b')), // 8 decent work and economic growth
    (5, Some(b'c')),  // 9 industry, innovation and infrastructure
    (7, Some(b'c')),  // 10 reduced inequalities
    (7, Some(b'c')),  // 11 sustainable cities and communities
    (8, Some(b'c')),  // 12 responsible consumption and production
    (3, Some(b'b')),  // 13 climate action
    (7, Some(b'c')),  // 14 life below water
    (9, Some(b'c')),  // 15 life on land
    (10, Some(b'b')), // 16 peace, justice and strong institutions
    (19, None),       // 17 partnerships for the goals
];

/// URI schemes accepted for a contact channel.
const CONTACT_SCHEMES: [&str; 4] = ["mailto:", "tel:", "https://", "http://"];

/// Reports whether `s` is one of the theme slugs in [`THEMES`].
#[must_use]
pub fn is_theme(s: &str) -> bool {
    THEMES.contains(&s)
}

/// Reports whether `s` is one of the practice stages in [`STATUSES`].
#[must_use]
pub fn is_status(s: &str) -> bool {
    STATUSES.contains(&s)
}

/// Reports whether `s` is one of the organisation kinds in [`ORGANISATION_TYPES`].
#[must_use]
pub fn is_organisation_type(s: &str) -> bool {
    ORGANISATION_TYPES.contains(&s)
}

/// Reports whether `s` is one of the support kinds in [`SUPPORT_TYPES`].
#[must_use]
pub fn is_support_type(s: &str) -> bool {
    SUPPORT_TYPES.contains(&s)
}

/// SPDX id from [`LICENSES`], or `LicenseRef-` followed by 1+ of `[A-Za-z0-9.-]`.
#[must_use]
pub fn is_license(s: &str) -> bool {
    // SPDX lets a document name a licence of its own with a LicenseRef, which is how a city
    // would publish under a local open-data licence that SPDX does not list.
    LICENSES.binary_search(&s).is_ok()
        || s.strip_prefix("LicenseRef-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
}

/// ISO 3166-1 alpha-2, upper case, officially assigned codes only (all 249).
#[must_use]
pub fn is_country(s: &str) -> bool {
    COUNTRIES.binary_search(&s).is_ok()
}

/// A coordinate in decimal degrees as text: an optional `-`, 1 to 3 digits without a leading
/// zero (or `0`), and optionally `.` and 1 to 6 digits; within `-limit..=limit`.
fn is_degrees(s: &str, limit: f64) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let whole_ok = matches!(whole.len(), 1..=3)
        && whole.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || !whole.starts_with('0'));
    let fraction_ok =
        !digits.contains('.') || (matches!(fraction.len(), 1..=6) && fraction.bytes().all(|b| b.is_ascii_digit()));
    whole_ok && fraction_ok && s.parse::<f64>().is_ok_and(|value| value.abs() <= limit)
}

/// A latitude in decimal degrees, from -90 to 90, such as `-7.2575` (at most 6 decimals).
#[must_use]
pub fn is_latitude(s: &str) -> bool {
    is_degrees(s, 90.0)
}

/// A longitude in decimal degrees, from -180 to 180, such as `112.7521` (at most 6 decimals).
#[must_use]
pub fn is_longitude(s: &str) -> bool {
    is_degrees(s, 180.0)
}

/// ISO 4217 currency codes in circulation or recently withdrawn (upper case), e.g. USD, EUR,
/// IDR, KES, BRL, XOF, XAF.
///
/// Funds, precious metals, units of account and testing codes (XAU, XDR, XTS, XXX and the
/// like) are rejected.
#[must_use]
pub fn is_currency(s: &str) -> bool {
    CURRENCIES.binary_search(&s).is_ok()
}

/// SDG target code: one of the 169 official targets, written GOAL.TARGET, e.g. "11.6", "6.b",
/// "17.19".
///
/// Numeric targets run from 1 and lettered targets from "a"; no leading zeros, no whitespace
/// and lower-case letters only.
#[must_use]
pub fn is_sdg_target(s: &str) -> bool {
    let Some((goal, target)) = s.split_once('.') else {
        return false;
    };
    let Some(&(numeric, last_letter)) = small_number(goal).and_then(|g| SDG_TARGETS.get(g.checked_sub(1)?)) else {
        return false;
    };
    match target.as_bytes() {
        [letter @ b'a'..=b'z'] => last_letter.is_some_and(|last| *letter <= last),
        _ => small_number(target).is_some_and(|t| t <= numeric),
    }
}

/// Well-formed BCP 47 language tag (RFC 5646 syntax, case-insensitive).
///
/// A tag is a language (2-3 letters optionally followed by up to three 3-letter extlang
/// subtags, or 4 letters, or 5-8 letters), an optional script (4 letters), an optional region
/// (2 letters or 3 digits), variants (5-8 alphanumerics, or 4 starting with a digit),
/// extensions (a singleton other than "x", then 2-8 alphanumeric subtags) and an optional
/// private-use part ("x" then 1-8 alphanumeric subtags). A tag made only of a private-use
/// part, such as "x-city", is accepted as well. Only the syntax is checked, not the IANA
/// registry, and the irregular grandfathered tags (such as "i-klingon") are not accepted.
#[must_use]
pub fn is_language_tag(s: &str) -> bool {
    // Checking every subtag's length and alphabet up front rejects empty subtags (and so a
    // leading, trailing or doubled "-"), "_" separators and subtags longer than 8 at once.
    if !s.split('-').all(|t| is_alphanumeric(t, 1, 8)) {
        return false;
    }
    let subtags: Vec<&str> = s.split('-').collect();
    let at = |i: usize| subtags.get(i).copied();
    let is_private_use_marker = |t: &str| t.eq_ignore_ascii_case("x");

    if at(0).is_some_and(is_private_use_marker) {
        return subtags.len() > 1;
    }

    let mut i = match at(0) {
        Some(t) if is_alphabetic(t, 2, 3) => {
            let mut next = 1;
            while next <= 3 && at(next).is_some_and(|t| is_alphabetic(t, 3, 3)) {
                next += 1;
            }
            next
        }
        Some(t) if is_alphabetic(t, 4, 8) => 1,
        _ => return false,
    };
    if at(i).is_some_and(|t| is_alphabetic(t, 4, 4)) {
        i += 1;
    }
    if at(i).is_some_and(|t| is_alphabetic(t, 2, 2) || is_digits(t, 3)) {
        i += 1;
    }
    while at(i).is_some_and(is_variant) {
        i += 1;
    }
    while at(i).is_some_and(|t| t.len() == 1 && !is_private_use_marker(t)) {
        i += 1;
        let first_subtag = i;
        while at(i).is_some_and(|t| is_alphanumeric(t, 2, 8)) {
            i += 1;
        }
        if i == first_subtag {
            return false;
        }
    }
    if at(i).is_some_and(is_private_use_marker) {
        // Every remaining subtag already passed the 1-8 alphanumeric check above.
        return subtags.len() > i + 1;
    }
    i == subtags.len()
}

/// Date written YYYY, YYYY-MM or YYYY-MM-DD (ISO 8601 calendar date, year 1000-9999, real
/// calendar day incl. leap years).
#[must_use]
pub fn is_date(s: &str) -> bool {
    // Notes often know only the year or month a practice started, so the shorter forms are
    // accepted; whatever parts are present must still name a real date.
    let mut parts = s.split('-');
    let Some(year) = parts.next().and_then(|p| fixed_number(p, 4)).filter(|y| *y >= 1000) else {
        return false;
    };
    let Some(month_part) = parts.next() else {
        return true;
    };
    let Some(month) = fixed_number(month_part, 2).filter(|m| (1..=12).contains(m)) else {
        return false;
    };
    let Some(day_part) = parts.next() else {
        return true;
    };
    let Some(day) = fixed_number(day_part, 2) else {
        return false;
    };
    parts.next().is_none() && (1..=days_in_month(year, month)).contains(&day)
}

/// ISO 3166-2 subdivision code: a valid country code, "-", then 1 to 3 upper-case letters or
/// digits (e.g. "ID-JI", "GB-MAN", "KE-30").
///
/// Only the syntax and the country are checked, because the subdivision lists change too
/// often to ship here.
#[must_use]
pub fn is_subdivision(s: &str) -> bool {
    s.split_once('-').is_some_and(|(country, local)| {
        is_country(country)
            && (1..=3).contains(&local.len())
            && local.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// UN/LOCODE written without the space: a valid country code then 3 characters of `[A-Z2-9]`
/// (e.g. "IDSUB", "KENBO").
#[must_use]
pub fn is_unlocode(s: &str) -> bool {
    // `get` rather than slicing, so that a multi-byte character cannot cause a panic.
    s.len() == 5
        && s.get(..2).is_some_and(is_country)
        && s.bytes().skip(2).all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'9'))
}

/// Wikidata item id: "Q" then a decimal number without leading zero.
#[must_use]
pub fn is_wikidata_id(s: &str) -> bool {
    s.strip_prefix('Q').is_some_and(is_plain_number)
}

/// [GeoNames](https://www.geonames.org/) id: decimal digits without leading zero, at most 10
/// digits.
#[must_use]
pub fn is_geonames_id(s: &str) -> bool {
    s.len() <= 10 && is_plain_number(s)
}

/// Decimal amount: digits, optionally "." and 1 to 4 digits ("250000", "1250.50").
#[must_use]
pub fn is_amount(s: &str) -> bool {
    // Amounts stay strings so that no precision is lost; four decimals cover every currency's
    // minor unit.
    let (whole, fraction) = match s.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (s, None),
    };
    is_all_digits(whole) && fraction.is_none_or(|f| f.len() <= 4 && is_all_digits(f))
}

/// Contact channel: a URI starting with "mailto:", "tel:", "https://" or "http://" with
/// something after the scheme, no whitespace.
///
/// Control characters are rejected too, since they can never be part of a usable address.
#[must_use]
pub fn is_contact_channel(s: &str) -> bool {
    CONTACT_SCHEMES.iter().any(|&scheme| s.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Reports whether `s` is a non-empty run of ASCII digits.
fn is_all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reports whether `s` is a non-empty run of ASCII digits that does not start with zero.
fn is_plain_number(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b'1'..=b'9')) && is_all_digits(s)
}

/// Parses a one- or two-digit number without a leading zero, as SDG codes write them.
fn small_number(s: &str) -> Option<usize> {
    if s.len() <= 2 && is_plain_number(s) { s.parse().ok() } else { None }
}

/// Parses exactly `width` ASCII digits, leading zeros allowed, as dates write them.
fn fixed_number(s: &str, width: usize) -> Option<u32> {
    if s.len() == width && is_all_digits(s) { s.parse().ok() } else { None }
}

/// Number of days in `month` of `year` in the Gregorian calendar.
fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reports whether `t` is `min` to `max` ASCII letters.
fn is_alphabetic(t: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Reports whether `t` is `min` to `max` ASCII letters or digits.
fn is_alphanumeric(t: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Reports whether `t` is exactly `width` ASCII digits.
fn is_digits(t: &str, width: usize) -> bool {
    t.len() == width && is_all_digits(t)
}

/// Reports whether `t` has the shape of a BCP 47 variant subtag.
fn is_variant(t: &str) -> bool {
    // Four-character variants must start with a digit so they cannot be mistaken for a script.
    is_alphanumeric(t, 5, 8) || (is_alphanumeric(t, 4, 4) && t.as_bytes().first().is_some_and(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests;
pub mod transfer;
mod words;

pub use words::{Words, language_name, sdg_goal, sdg_order, sdg_text};
