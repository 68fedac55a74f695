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
mod tests {
    use super::*;

    /// Asserts that a table is strictly increasing, which binary search relies on.
    fn assert_sorted(name: &str, list: &[&str]) {
        for pair in list.windows(2) {
            assert!(pair[0] < pair[1], "{name}: {:?} is not before {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn sorted_tables_are_strictly_sorted() {
        assert_sorted("licenses", LICENSES);
        assert_sorted("countries", COUNTRIES);
        assert_sorted("currencies", CURRENCIES);
    }

    #[test]
    fn all_thirteen_themes_are_accepted() {
        let expected = [
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
        assert_eq!(THEMES.len(), 13);
        for theme in expected {
            assert!(is_theme(theme), "{theme}");
        }
        for bad in ["", "Housing", "housing ", "water_sanitation", "governance"] {
            assert!(!is_theme(bad), "{bad:?}");
        }
    }

    #[test]
    fn small_vocabularies() {
        for s in STATUSES {
            assert!(is_status(s));
        }
        assert!(is_status("ongoing"));
        assert!(!is_status("Ongoing"));
        assert!(!is_status("done"));

        assert_eq!(ORGANISATION_TYPES.len(), 8);
        assert!(is_organisation_type("local-government"));
        assert!(is_organisation_type("cbo"));
        assert!(!is_organisation_type("NGO"));
        assert!(!is_organisation_type("government"));

        assert!(is_support_type("in-kind"));
        assert!(is_support_type("other"));
        assert!(!is_support_type("in kind"));
        assert!(!is_support_type(""));
    }

    #[test]
    fn licenses() {
        assert!(is_license(DEFAULT_LICENSE));
        let required = [
            "CC-BY-4.0",
            "CC-BY-SA-4.0",
            "CC-BY-NC-4.0",
            "CC-BY-NC-SA-4.0",
            "CC-BY-ND-4.0",
            "CC-BY-NC-ND-4.0",
            "CC0-1.0",
            "CC-BY-3.0",
            "CC-BY-SA-3.0",
            "CC-BY-3.0-IGO",
            "ODbL-1.0",
            "ODC-By-1.0",
            "PDDL-1.0",
            "OGL-UK-3.0",
            "OGL-Canada-2.0",
            "etalab-2.0",
            "DL-DE-BY-2.0",
            "GFDL-1.3-or-later",
            "MIT",
            "Apache-2.0",
            "BSD-3-Clause",
            "GPL-3.0-or-later",
            "AGPL-3.0-or-later",
            "MPL-2.0",
        ];
        for id in required {
            assert!(is_license(id), "{id}");
        }
        assert!(is_license("LicenseRef-city.open-data-1"));
        assert!(is_license("LicenseRef-x"));
        for bad in [
            "",
            "cc-by-4.0",
            "CC BY 4.0",
            "GPL-3.0+",
            "LicenseRef-",
            "LicenseRef-a b",
            "LicenseRef-a_b",
            "licenseref-a",
        ] {
            assert!(!is_license(bad), "{bad:?}");
        }
    }

    #[test]
    fn countries() {
        assert_eq!(COUNTRIES.len(), 249);
        for code in ["ID", "KE", "BR", "GB", "US", "AX", "BQ", "SS", "CW", "ZW"] {
            assert!(is_country(code), "{code}");
        }
        // Kosovo's XK and the United Kingdom's UK are user-assigned or reserved, not assigned.
        for bad in ["XK", "UK", "EU", "id", "Id", "IDN", "", "AN", "ZZ"] {
            assert!(!is_country(bad), "{bad:?}");
        }
    }

    #[test]
    fn currencies() {
        for code in ["USD", "EUR", "IDR", "KES", "BRL", "XOF", "XAF", "GBP", "JPY", "XCG", "ZWG", "HRK"] {
            assert!(is_currency(code), "{code}");
        }
        for bad in ["XAU", "XTS", "XXX", "XDR", "BOV", "CLF", "usd", "US", "USDD", ""] {
            assert!(!is_currency(bad), "{bad:?}");
        }
    }

    #[test]
    fn sdg_targets() {
        for code in ["11.6", "6.b", "17.19", "1.1", "3.d", "8.10", "16.10", "11.c"] {
            assert!(is_sdg_target(code), "{code}");
        }
        for bad in [
            "", "11", "11.", ".6", "11.06", "011.6", "6.B", "17.a", "17.20", "1.c", "3.e", "0.1", "18.1", "11.0",
            " 11.6", "11.6 ", "11.6.1", "11-6",
        ] {
            assert!(!is_sdg_target(bad), "{bad:?}");
        }
    }

    #[test]
    fn exactly_169_sdg_targets_exist() {
        let mut targets: Vec<String> = (0..=25).map(|t| t.to_string()).collect();
        targets.extend((0..10).map(|t| format!("0{t}")));
        targets.extend(('a'..='z').chain('A'..='Z').map(String::from));
        let mut goals: Vec<String> = (0..=20).map(|g| g.to_string()).collect();
        goals.extend((0..10).map(|g| format!("0{g}")));
        let valid = goals
            .iter()
            .flat_map(|g| targets.iter().map(move |t| format!("{g}.{t}")))
            .filter(|code| is_sdg_target(code))
            .count();
        assert_eq!(valid, 169);
    }

    #[test]
    fn language_tags() {
        for tag in [
            "en",
            "pt-BR",
            "zh-Hant-TW",
            "sr-Latn-RS",
            "es-419",
            "de-CH-1901",
            "en-x-city",
            "x-city",
            "X-a-b",
            "EN-gb",
            "zh-yue-HK",
            "zh-min-nan",
            "ar-aao-abc-abd",
            "sl-rozaj-biske",
            "de-DE-u-co-phonebk",
            "en-a-bbb-x-a-ccc",
            "qaa-Qaaa-QM-x-southern",
            "tlh",
            "abcde",
        ] {
            assert!(is_language_tag(tag), "{tag}");
        }
        for bad in [
            "",
            "e",
            "english-language-x",
            "pt_BR",
            "en-",
            "-en",
            "en--GB",
            "12",
            "x",
            "x-",
            "en-x",
            "en-x-toolongsubtag",
            "abcdefghi",
            "ar-aao-abc-abd-abe",
            "en-a",
            "en-a-b",
            "en-GB-Latn",
            "en-US-abcd",
            "en-é",
            "en GB",
        ] {
            assert!(!is_language_tag(bad), "{bad:?}");
        }
    }

    #[test]
    fn dates() {
        for date in ["2024", "2024-02", "2024-02-29", "2000-02-29", "1000-01-01", "9999-12-31"] {
            assert!(is_date(date), "{date}");
        }
        for bad in [
            "",
            "999",
            "0999",
            "24",
            "20245",
            "2024-1",
            "2024-13",
            "2024-00",
            "2024-01-00",
            "2024-01-32",
            "2024-04-31",
            "2023-02-29",
            "1900-02-29",
            "2100-02-29",
            "2024-02-30",
            "2024-01-01T00:00",
            "2024-01-01-01",
            "2024/01/01",
            "+2024",
            "2024-",
            " 2024",
        ] {
            assert!(!is_date(bad), "{bad:?}");
        }
    }

    #[test]
    fn subdivisions() {
        for code in ["ID-JI", "GB-MAN", "KE-30", "US-CA", "FR-7", "BR-SP"] {
            assert!(is_subdivision(code), "{code}");
        }
        for bad in ["ID", "ID-", "ID-ABCD", "id-JI", "ID-ji", "ZZ-AB", "UK-MAN", "ID_JI", "ID-J-I"] {
            assert!(!is_subdivision(bad), "{bad:?}");
        }
    }

    #[test]
    fn unlocodes() {
        for code in ["IDSUB", "KENBO", "GBLON", "US2AB", "BRSAO"] {
            assert!(is_unlocode(code), "{code}");
        }
        for bad in ["ID SUB", "IDSU", "IDSUBA", "idsub", "ZZSUB", "IDSU1", "IDSU0", "ÉDSUB", "IDSUé"] {
            assert!(!is_unlocode(bad), "{bad:?}");
        }
    }

    #[test]
    fn wikidata_ids() {
        for id in ["Q1", "Q42", "Q1930"] {
            assert!(is_wikidata_id(id), "{id}");
        }
        for bad in ["", "Q", "Q0", "Q042", "q42", "P31", "Q4 2", "42", "Q-1"] {
            assert!(!is_wikidata_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn geonames_ids() {
        for id in ["1", "1642911", "9999999999"] {
            assert!(is_geonames_id(id), "{id}");
        }
        for bad in ["", "0", "01642911", "12345678901", "164 2911", "-1", "1e5"] {
            assert!(!is_geonames_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn amounts() {
        for amount in ["250000", "1250.50", "0", "0.5", "1.2345"] {
            assert!(is_amount(amount), "{amount}");
        }
        for bad in ["", ".5", "5.", "1.23456", "-5", "+5", "1,250.50", "1 250", "1.2.3", "1e3"] {
            assert!(!is_amount(bad), "{bad:?}");
        }
    }

    #[test]
    fn contact_channels() {
        for uri in
            ["mailto:urban@surabaya.go.id", "tel:+62-31-123456", "https://surabaya.go.id/contact", "http://example.org"]
        {
            assert!(is_contact_channel(uri), "{uri}");
        }
        for bad in [
            "",
            "mailto:",
            "tel:",
            "https://",
            "http://",
            "urban@surabaya.go.id",
            "ftp://example.org",
            "HTTPS://example.org",
            "mailto:a b@example.org",
            "https://example.org\n",
            "tel:\t123",
        ] {
            assert!(!is_contact_channel(bad), "{bad:?}");
        }
    }
}
