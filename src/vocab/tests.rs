//! The vocabularies accept exactly what their standards allow.

use super::*;

/// Asserts that a table is strictly increasing, which binary search relies on.
fn assert_sorted(name: &str, list: &[&str]) {
    for pair in list.windows(2) {
        assert!(pair[0] < pair[1], "{name}: {:?} is not before {:?}", pair[0], pair[1]);
    }
}

#[test]
fn coordinates_are_decimal_degrees_in_range() {
    for good in ["0", "-7.2575", "112.7521", "90", "-90", "180", "-180", "0.000001", "45.5"] {
        assert!(super::is_longitude(good), "{good}");
    }
    assert!(super::is_latitude("-90") && super::is_latitude("89.999999"));
    for bad in ["", "91", "-90.5", "+7", "07", "7.", ".5", "7.1234567", "1e2", "7,25", " 7", "NaN", "inf", "--7"] {
        assert!(!super::is_latitude(bad), "{bad:?}");
    }
    assert!(!super::is_longitude("180.1") && !super::is_longitude("1000"));
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
    for bad in
        ["", "cc-by-4.0", "CC BY 4.0", "GPL-3.0+", "LicenseRef-", "LicenseRef-a b", "LicenseRef-a_b", "licenseref-a"]
    {
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
        "", "11", "11.", ".6", "11.06", "011.6", "6.B", "17.a", "17.20", "1.c", "3.e", "0.1", "18.1", "11.0", " 11.6",
        "11.6 ", "11.6.1", "11-6",
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
