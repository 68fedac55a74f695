//! A data directory written by the release before stores were compressed (store format 2,
//! `tests/fixtures/store-format-2.tar.gz`: two publishers' notes, a revision, a withdrawal,
//! identities) opens with this release, is converted in place, and gives back every record
//! byte for byte (`tests/fixtures/store-format-2.sha256`, the export of the old release).

use std::collections::BTreeMap;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::harness::*;

/// A fixture of `tests/fixtures/`, unpacked as a data directory.
fn old_data_dir(name: &str) -> DataDir {
    let data = DataDir::empty();
    let fixture = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let unpacked = data.scratch("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(fixture).arg("-C").arg(&unpacked).status().expect("tar runs");
    assert!(status.success());
    std::fs::rename(unpacked.join("a"), data.path()).unwrap();
    data
}

/// What the old release exported: file name → SHA-256 of its bytes.
fn exported_by_the_old_release() -> BTreeMap<String, String> {
    include_str!("../fixtures/store-format-2.sha256")
        .lines()
        .map(|line| {
            let (hash, name) = line.split_once("  ").expect("sha256sum's format");
            (name.to_owned(), hash.to_owned())
        })
        .collect()
}

fn exported(data: &DataDir, name: &str) -> BTreeMap<String, String> {
    let dir = data.scratch(name);
    data.ok(&["export", path_str(&dir)]);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "cmr"))
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            (name, citymesh::hex::to_hex(&Sha256::digest(std::fs::read(&path).unwrap())))
        })
        .collect()
}

#[test]
fn a_data_directory_of_the_previous_release_is_converted_and_keeps_every_record_byte_for_byte() {
    let data = old_data_dir("store-format-2.tar.gz");
    let listed = data.ok(&["list"]);
    check_mentions(&listed, &["composting-1", "composting-2", "composting-3", "recife-composting", "Recife"]);
    assert_eq!(exported(&data, "first"), exported_by_the_old_release());
    // Converted once: opened again, it reads the same, and takes new records.
    let id = data.publish(&example_with("slug: community-composting", "slug: after-the-upgrade"));
    let mut expected = exported_by_the_old_release();
    let now = exported(&data, "second");
    assert_eq!(now.len(), expected.len() + 1);
    expected.insert(format!("{id}.cmr"), now[&format!("{id}.cmr")].clone());
    assert_eq!(now, expected);
    let status = data.ok(&["status"]);
    assert!(status.lines().any(|line| line.split_whitespace().eq(["records:", "11"])), "{status}");
}

/// A data directory written by the release before attachments were listed (store format 3,
/// `tests/fixtures/store-format-3.tar.gz`, made by that release's `init` and `publish` of a
/// note naming `report.pdf` by hash, whose bytes are `the report of the previous release`).
/// This release lists the file when it first opens the store, so the node offers the file as
/// soon as its bytes are here.
#[test]
fn a_store_of_the_release_before_attachments_were_listed_gets_them_listed_when_opened() {
    let data = old_data_dir("store-format-3.tar.gz");
    let report = b"the report of the previous release";
    let sha256 = citymesh::hex::to_hex(&Sha256::digest(report));
    check_mentions(
        &data.ok(&["attachments", "with-report"]),
        &["report.pdf  (application/pdf, 34 bytes)  not here yet", &sha256],
    );
    let archive = citymesh::archive::Archive::open(citymesh::datadir::DataDir::new(data.path())).unwrap();
    citymesh::blobs::Blobs::open(&data.path().join("blobs"), 1 << 20).unwrap().put(&report[..]).unwrap();
    let download = archive.attachment(&Sha256::digest(report).into()).expect("the store names the file");
    assert_eq!((download.name.as_str(), download.size), ("report.pdf", 34));
    drop(archive);
    let status = data.ok(&["status"]);
    assert!(status.lines().any(|line| line.split_whitespace().eq(["records:", "3"])), "{status}");
}
