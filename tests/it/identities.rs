//! Organisation identities through the command line: records signed by operators are imported
//! only as their organisation's log allows, and a key marked compromised loses, at a node that
//! held them, the records it signed from then on. The records are the spec's identity vectors.

use std::fs;
use std::path::PathBuf;

use crate::harness::*;

fn vector(name: &str) -> (String, Vec<u8>) {
    let file: serde_json::Value = serde_json::from_str(include_str!("../../proto/test-vectors.json")).unwrap();
    let vector = file["vectors"].as_array().unwrap().iter().find(|vector| vector["name"] == name).unwrap();
    let hex = vector["envelope_hex"].as_str().unwrap();
    let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    (vector["id"].as_str().unwrap().to_owned(), bytes)
}

/// A directory holding these vectors as record files, named after the vectors.
fn files(city: &DataDir, directory: &str, names: &[&str]) -> PathBuf {
    let dir = city.scratch(directory);
    fs::create_dir_all(&dir).unwrap();
    for name in names {
        fs::write(dir.join(format!("{name}.cmr")), vector(name).1).unwrap();
    }
    dir
}

fn held(city: &DataDir, name: &str) -> bool {
    city.run(&["show", &vector(name).0, "--json"]).status.success()
}

#[test]
fn import_follows_the_identity_log_and_a_compromise_purges_what_the_key_signed_after() {
    let city = DataDir::empty();
    // Without the organisation's identity, an operator's record waits (not the file's fault).
    let early = files(&city, "early", &["identity-request-by-operator"]);
    check_mentions(&city.fails(&["import", path_str(&early)]), &["rule identity-missing"]);
    assert!(!held(&city, "identity-request-by-operator"));

    city.ok(&["import", path_str(&files(&city, "founding", &["identity-founding"]))]);
    let records = files(
        &city,
        "records",
        &[
            "identity-request-by-operator",
            "identity-request-after-compromise",
            "identity-offer-out-of-scope",
            "identity-request-by-stranger",
        ],
    );
    check_mentions(
        &city.fails(&["import", path_str(&records)]),
        &[
            "rejected identity-offer-out-of-scope.cmr: rule operator-scope",
            "rejected identity-request-by-stranger.cmr: rule operator:",
            "2 new records",
            "2 rejected",
        ],
    );
    assert!(held(&city, "identity-request-by-operator"));
    assert!(held(&city, "identity-request-after-compromise"));

    // Revision 2 marks operator 01 compromised six days before the vectors' clock: its record
    // from after that goes, its earlier one stays, and the later one is refused if offered again.
    let rotation = files(&city, "rotation", &["identity-rotation-one-signature", "identity-rotation"]);
    check_mentions(
        &city.fails(&["import", path_str(&rotation)]),
        &["rejected identity-rotation-one-signature.cmr: rule identity-threshold", "1 new record"],
    );
    assert!(held(&city, "identity-request-by-operator"));
    assert!(!held(&city, "identity-request-after-compromise"));
    check_mentions(&city.fails(&["import", path_str(&records)]), &["rule operator-revoked"]);
    assert!(!held(&city, "identity-request-after-compromise"));
}
