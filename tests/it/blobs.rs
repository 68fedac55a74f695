//! Attachments: `publish` keeps the files a note names by path and names them by hash; a
//! running node serves a kept file over HTTP while a held record names it, with the type and
//! file name that record gives, and not otherwise.

use citymesh::blobs::Blobs;
use sha2::Digest;

use crate::harness::*;

/// A note naming one file; returns its Markdown.
fn note_naming(slug: &str, sha256: &str, size: usize, name: &str, media_type: &str) -> String {
    example_with("slug: community-composting", &format!("slug: {slug}")).replacen(
        "---\n\n",
        &format!("attachments:\n  - sha256: {sha256}\n    size: {size}\n    name: {name}\n    media_type: {media_type}\n---\n\n"),
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_attachment_is_served_with_its_records_type_and_name_and_nothing_else_is() {
    let node = Node::start("City A", &["main"], &[]).await;
    let blobs = Blobs::open(&node.node().data().blobs_path(), 50 << 20).unwrap();
    let report: Vec<u8> = (0..300_000u32).flat_map(|n| n.to_le_bytes()).collect();
    let kept = blobs.put(&report[..]).unwrap();
    let sha256 = citymesh::hex::to_hex(&kept.sha256);
    let script = blobs.put(&b"<script>alert(1)</script>"[..]).unwrap();
    let script_sha = citymesh::hex::to_hex(&script.sha256);
    let unnamed = citymesh::hex::to_hex(&blobs.put(&b"nobody names me"[..]).unwrap().sha256);
    node.publish(&note_naming("with-report", &sha256, report.len(), "Relatório final.pdf", "application/pdf")).await;
    node.publish(&note_naming("with-page", &script_sha, 25, "page.html", "text/html")).await;
    // A stranger's newer note names the same file as a page: this node's own name and type count.
    let mut relabelled = example_practice();
    relabelled.attachments = vec![citymesh::wire::Attachment {
        sha256: kept.sha256.to_vec(),
        size: kept.size,
        name: "invoice.html".into(),
        media_type: "text/html".into(),
    }];
    let stranger = signed_practice(&citymesh::record::PublisherKey::from_seed([61; 32]), "relabelled", relabelled);
    node.node().import(vec![citymesh::hex::to_hex(&stranger.envelope_bytes())]).await.unwrap();
    assert!(node.node().store().contains(&stranger.id()).unwrap(), "the stranger's note is held");
    let missing = "ab".repeat(32);
    node.publish(&note_naming("with-missing", &missing, 10, "later.pdf", "application/pdf")).await;
    let base = node.api_url();
    tokio::task::spawn_blocking(move || {
        let mut response = http().get(format!("{base}/api/v1/blobs/{sha256}")).call().expect("the blob is served");
        assert_eq!(response.status().as_u16(), 200);
        let header = |response: &ureq::http::Response<ureq::Body>, name: &str| {
            response.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
        };
        assert_eq!(header(&response, "content-type"), "application/pdf");
        assert_eq!(
            header(&response, "content-disposition"),
            "inline; filename=\"Relat_rio final.pdf\"; filename*=UTF-8''Relat%C3%B3rio%20final.pdf"
        );
        assert!(header(&response, "cache-control").contains("immutable"));
        let body = response.body_mut().with_config().limit(10 << 20).read_to_vec().unwrap();
        assert!(body == report, "the bytes come back whole ({} of {} bytes)", body.len(), report.len());
        let (status, listed) = {
            let mut response = http().get(format!("{base}/api/v1/records/with-missing/attachments")).call().unwrap();
            (response.status().as_u16(), response.body_mut().read_json::<serde_json::Value>().unwrap())
        };
        assert_eq!(status, 200);
        assert_eq!(listed["attachments"][0]["here"], false, "{listed}");
        assert_eq!(listed["attachments"][0]["name"], "later.pdf", "{listed}");
        // The note's page offers the file by name, type and size.
        let mut page = http().get(format!("{base}/notes/with-report")).call().unwrap();
        let page = page.body_mut().read_to_string().unwrap();
        let offered = format!("Relatório final.pdf (PDF, 1.2 MB) <a href=\"/api/v1/blobs/{sha256}\">download</a>");
        assert!(page.contains(&offered), "{page}");
        // A type that a browser would run is sent as bytes to save, never as a page.
        let response = http().get(format!("{base}/api/v1/blobs/{script_sha}")).call().unwrap();
        assert_eq!(header(&response, "content-type"), "application/octet-stream");
        assert!(header(&response, "content-disposition").starts_with("attachment; filename=\"page.html\""));
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        for (path, status, says) in [
            (format!("/api/v1/blobs/{unnamed}"), 404, "no record held here names a file"),
            (format!("/api/v1/blobs/{missing}"), 404, "its bytes are not here yet"),
            ("/api/v1/blobs/report.pdf".to_owned(), 400, "is not a SHA-256; expected 64 hex characters"),
        ] {
            let mut response = http().get(format!("{base}{path}")).call().unwrap();
            assert_eq!(response.status().as_u16(), status, "{path}");
            let error: serde_json::Value = response.body_mut().read_json().unwrap();
            assert!(error.to_string().contains(says), "{path}: {error}");
        }
    })
    .await
    .unwrap();
    node.stop().await;
}

#[test]
fn publish_keeps_the_files_a_note_names_by_path_and_names_them_by_hash() {
    let city = DataDir::initialised("City A");
    std::fs::create_dir_all(city.scratch("reports")).unwrap();
    let report: Vec<u8> = (0..100_000u32).flat_map(|n| n.to_be_bytes()).collect();
    std::fs::write(city.scratch("reports/final.pdf"), &report).unwrap();
    // A photo as a phone writes it: JFIF, then EXIF with the GPS position, then the picture.
    let segment = |marker: u8, payload: &[u8]| {
        [&[0xFF, marker][..], &((payload.len() + 2) as u16).to_be_bytes(), payload].concat()
    };
    let jfif = segment(0xE0, b"JFIF\0\x01\x01");
    let picture = [segment(0xDA, &[1, 2, 3]), vec![0x55; 5000], vec![0xFF, 0xD9]].concat();
    let photo = [&[0xFF, 0xD8][..], &jfif, &segment(0xE1, b"Exif\0\0MM GPS -7.2575 112.7521"), &picture].concat();
    let clean_photo = [&[0xFF, 0xD8][..], &jfif, &picture].concat();
    std::fs::write(city.scratch("market.jpg"), &photo).unwrap();
    let note = example_with("slug: community-composting", "slug: with-files").replacen(
        "---\n\n",
        "attachments:\n  - path: reports/final.pdf\n  - path: market.jpg\n    name: Market day.jpg\n---\n\n",
        1,
    );
    let file = city.write("note.md", &note);
    let output = city.run(&["publish", path_str(&file)]);
    check_no_panic(&output);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let sha256 = citymesh::hex::to_hex(&<[u8; 32]>::from(sha2::Sha256::digest(&report)));
    check_mentions(&String::from_utf8_lossy(&output.stderr), &["reports/final.pdf (400000 bytes) as", &sha256]);
    let kept = city.path().join("blobs").join(&sha256[..2]).join(&sha256);
    assert_eq!(std::fs::read(&kept).unwrap(), report, "the file is kept whole under its hash");
    let shown: serde_json::Value = serde_json::from_str(&city.ok(&["show", "with-files", "--json"])).unwrap();
    let attachments = &shown["body"]["attachments"];
    assert_eq!(attachments[0]["sha256"], sha256.as_str(), "{shown}");
    assert_eq!(attachments[0]["size"], 400_000);
    assert_eq!(attachments[0]["name"], "final.pdf");
    assert_eq!(attachments[0]["media_type"], "application/pdf");
    assert_eq!(attachments[1]["name"], "Market day.jpg");
    assert_eq!(attachments[1]["media_type"], "image/jpeg");
    let photo_sha = citymesh::hex::to_hex(&<[u8; 32]>::from(sha2::Sha256::digest(&clean_photo)));
    assert_eq!(attachments[1]["sha256"], photo_sha.as_str(), "the photo is hashed without its metadata");
    assert_eq!(attachments[1]["size"], clean_photo.len());
    let kept_photo = city.path().join("blobs").join(&photo_sha[..2]).join(&photo_sha);
    assert_eq!(std::fs::read(kept_photo).unwrap(), clean_photo, "no GPS position is kept");

    check_mentions(
        &city.ok(&["attachments", "with-files"]),
        &["final.pdf  (application/pdf, 400000 bytes)  here", &sha256, "Market day.jpg  (image/jpeg"],
    );
    std::fs::remove_file(&kept).unwrap();
    check_mentions(
        &city.ok(&["attachments", "with-files"]),
        &["final.pdf  (application/pdf, 400000 bytes)  not here yet"],
    );
    let listed: serde_json::Value = serde_json::from_str(&city.ok(&["attachments", "with-files", "--json"])).unwrap();
    assert_eq!((listed[0]["here"].as_bool(), listed[1]["here"].as_bool()), (Some(false), Some(true)), "{listed}");
    check_mentions(&city.fails(&["attachments", "no-such-note"]), &["no-such-note"]);

    // With --keep-photo-metadata the photo is kept as it came.
    let keeping = city.write("keeping.md", &note.replace("with-files", "keeping"));
    city.ok(&["publish", "--keep-photo-metadata", path_str(&keeping)]);
    let photo_sha = citymesh::hex::to_hex(&<[u8; 32]>::from(sha2::Sha256::digest(&photo)));
    assert!(city.path().join("blobs").join(&photo_sha[..2]).join(&photo_sha).exists());

    // A file that is not there, a damaged photo, or one over the cap, is named with the note,
    // and nothing is published.
    let missing =
        city.write("missing.md", &note.replace("path: market.jpg", "path: gone.jpg").replace("with-files", "other"));
    check_mentions(
        &city.fails(&["publish", path_str(&missing)]),
        &["attachments[1]", "gone.jpg", "cannot read the file"],
    );
    std::fs::write(city.scratch("market.jpg"), b"not really a photo").unwrap();
    let damaged = city.write("damaged.md", &note.replace("with-files", "damaged"));
    check_mentions(
        &city.fails(&["publish", path_str(&damaged)]),
        &["attachments[1]", "not a well-formed JPEG", "--keep-photo-metadata"],
    );
    std::fs::write(city.path().join("config.toml"), "[store]\nmax_file_mb = 1\n").unwrap();
    std::fs::write(city.scratch("reports/final.pdf"), vec![7u8; (1 << 20) + 1]).unwrap();
    let large = city.write("large.md", &note.replace("with-files", "large"));
    check_mentions(&city.fails(&["publish", path_str(&large)]), &["attachments[0]", "larger than 1048576 bytes"]);
    let listed = city.list().to_string();
    assert!(
        listed.contains("with-files")
            && !listed.contains("\"other\"")
            && !listed.contains("\"large\"")
            && !listed.contains("\"damaged\""),
        "{listed}"
    );
    assert_eq!(std::fs::read_dir(city.path().join("blobs/incoming")).unwrap().count(), 0, "nothing partial is left");
}

#[test]
fn files_no_record_names_are_cleaned_up_once_an_hour_old_and_named_ones_never() {
    let city = DataDir::initialised("City A");
    std::fs::write(city.scratch("report.pdf"), b"the report").unwrap();
    let note = example_with("slug: community-composting", "slug: with-report").replacen(
        "---\n\n",
        "attachments:\n  - path: report.pdf\n---\n\n",
        1,
    );
    city.publish(&note);
    let archive = citymesh::archive::Archive::open(citymesh::datadir::DataDir::new(city.path())).unwrap();
    let blobs = Blobs::open(&city.path().join("blobs"), 1 << 20).unwrap();
    let named = <[u8; 32]>::from(sha2::Sha256::digest(b"the report"));
    let old_unnamed = blobs.put(&b"a file whose note was revised without it"[..]).unwrap().sha256;
    let new_unnamed = blobs.put(&b"a file kept for a note not signed yet"[..]).unwrap().sha256;
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for sha256 in [named, old_unnamed] {
        std::fs::File::options().write(true).open(blobs.path(&sha256)).unwrap().set_modified(two_hours_ago).unwrap();
    }
    assert_eq!(archive.clean_blobs(std::time::Duration::from_secs(3600)).unwrap(), 1);
    assert!(blobs.has(&named), "a file a held record names stays, however old");
    assert!(!blobs.has(&old_unnamed), "an old file no record names goes");
    assert!(blobs.has(&new_unnamed), "a young one stays: its note may be about to be signed");
    assert_eq!(archive.clean_blobs(std::time::Duration::from_secs(3600)).unwrap(), 0);
}
