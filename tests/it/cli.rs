//! The command line from init to import, and its answers to bad input.

use std::fs;

use crate::harness::*;

#[test]
fn init_publish_revise_withdraw_export_and_import_into_a_fresh_directory() {
    let city = DataDir::initialised("City of Surabaya");
    let first = check_id(&city.publish(EXAMPLE));
    let listed = city.list();
    let note = listed.as_array().unwrap().iter().find(|row| row["kind"] == "practice").unwrap();
    assert_eq!(note["id"], first.as_str());
    assert_eq!(note["revision"], 1);
    assert_eq!(note["publisher_name"], "City of Surabaya");
    check_mentions(&city.ok(&["list"]), &["community-composting", "City of Surabaya", "profile"]);
    check_mentions(&city.ok(&["show", "community-composting"]), &[&first, "verified", "## Approach", "current"]);

    let second = check_id(&city.publish(&example_with("status: ongoing", "status: completed")));
    assert_ne!(first, second);
    let shown: serde_json::Value = serde_json::from_str(&city.ok(&["show", &second, "--json", "--history"])).unwrap();
    assert_eq!(shown["revision"], 2);
    assert_eq!(shown["body"]["status"], "completed");
    assert_eq!(shown["signature_verified"], true);
    assert_eq!(shown["history"].as_array().unwrap().len(), 2);
    check_mentions(&city.ok(&["show", &first]), &["superseded by revision 2"]);

    let withdrawn =
        check_id(&city.ok(&["withdraw", "community-composting", "--reason", "replaced by a city-wide plan"]));
    let shown: serde_json::Value = serde_json::from_str(&city.ok(&["show", "community-composting", "--json"])).unwrap();
    assert_eq!(shown["id"], withdrawn.as_str());
    assert_eq!(shown["withdrawn"], true);
    assert_eq!(shown["body"]["reason"], "replaced by a city-wide plan");
    city.publish(&example_with("slug: community-composting", "slug: rain-gardens"));

    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let names: Vec<String> =
        fs::read_dir(&export).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    // Profile, identity, the note's two revisions and withdrawal... and rain-gardens.
    assert_eq!(names.iter().filter(|name| name.ends_with(".cmr")).count(), 6, "{names:?}");
    assert_eq!(names.iter().filter(|name| name.ends_with(".md")).collect::<Vec<_>>(), ["rain-gardens.md"]);
    assert!(names.contains(&format!("{first}.cmr")));

    let restored = DataDir::empty();
    restored.ok(&["import", path_str(&export)]);
    assert_eq!(restored.list(), city.list());
    let again = restored.run(&["import", path_str(&export)]);
    assert!(again.status.success());
    check_mentions(&String::from_utf8_lossy(&again.stderr), &["0 new records", "6 already held"]);
    // The readable export publishes again as it is, without changes.
    let republished = city.ok(&["publish", path_str(&export.join("rain-gardens.md"))]);
    assert_eq!(restored.list().as_array().unwrap().len(), 4);
    check_id(&republished);
}

#[test]
fn an_exported_record_file_holds_the_stored_envelope_exactly() {
    let city = DataDir::initialised("City of Surabaya");
    let id = city.publish(EXAMPLE);
    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let bytes = fs::read(export.join(format!("{id}.cmr"))).unwrap();
    let record = citymesh::record::verify(&bytes, i64::MAX / 2).unwrap();
    assert_eq!(record.id().to_string(), id);
    assert_eq!(record.envelope_bytes(), bytes);
}

#[test]
fn a_tampered_record_file_is_rejected_with_its_rule_while_the_rest_import() {
    let city = DataDir::initialised("City of Surabaya");
    let id = city.publish(EXAMPLE);
    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let file = export.join(format!("{id}.cmr"));
    fs::copy(&file, export.join("renamed.cmr")).unwrap();
    let mut bytes = fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    fs::write(&file, bytes).unwrap();
    fs::write(export.join("garbage.cmr"), b"not a record").unwrap();

    let restored = DataDir::empty();
    let stderr = restored.fails(&["import", path_str(&export)]);
    check_mentions(
        &stderr,
        &[
            &format!("rejected {id}.cmr: rule body-hash"),
            "rejected garbage.cmr: rule envelope-decode",
            &format!("renamed.cmr holds record {id}"),
            "3 new records",
            "2 rejected",
        ],
    );
    // The profile, the identity and the intact copy of the note; nothing of the tampered file.
    let listed = restored.list();
    assert_eq!(listed.as_array().unwrap().len(), 3);
}

#[test]
fn malformed_notes_are_refused_with_the_line_or_field_and_nothing_is_stored() {
    let city = DataDir::initialised("City of Surabaya");
    let before = city.list();
    let cases: [(String, &[&str]); 6] = [
        (example_with("title: ", "title: [unclosed "), &["note.md", "line 3", "front matter"]),
        (
            EXAMPLE.replacen("title: Neighbourhood composting hubs cut household waste sent to landfill\n", "", 1),
            &["missing field `title`"],
        ),
        (
            example_with("environment, social", "tourism, social"),
            &["themes[1]", "\"tourism\"", "solid-waste", "urban-governance"],
        ),
        (example_with("\"12.5\"", "\"12.99\""), &["sdg_targets[1]", "11.6"]),
        (example_with("country: ID", "country: XX"), &["country", "ISO 3166-1"]),
        (example_with("## Approach", "## Method"), &["line", "unknown section \"Method\"", "Approach"]),
    ];
    for (text, expected) in cases {
        let file = city.write("note.md", &text);
        check_mentions(&city.fails(&["publish", path_str(&file)]), expected);
    }
    assert_eq!(city.list(), before);
}

#[test]
fn a_second_process_is_told_the_data_directory_is_in_use() {
    let city = DataDir::initialised("City of Surabaya");
    let options = citymesh::store::StoreOptions::default();
    let (_held, _) = citymesh::store::Store::open(&city.path().join("store"), &options).unwrap();
    let stderr = city.fails(&["list"]);
    check_mentions(&stderr, &["data directory", "is in use by another citymesh process"]);
}

#[test]
fn commands_explain_what_to_do_when_used_wrongly() {
    let nowhere = DataDir::empty();
    check_mentions(&nowhere.fails(&["publish", "note.md"]), &["citymesh init"]);
    check_mentions(&nowhere.fails(&["list"]), &["citymesh init"]);

    let city = DataDir::initialised("City of Surabaya");
    check_mentions(&city.fails(&["init"]), &["already a citymesh data directory"]);
    check_mentions(&city.fails(&["publish", "/no/such/note.md"]), &["cannot read /no/such/note.md"]);
    check_mentions(
        &city.fails(&["withdraw", "nothing-here", "--reason", "x"]),
        &["no note with slug \"nothing-here\""],
    );
    check_mentions(&city.fails(&["show", &"ab".repeat(32)]), &["no record with id"]);
    check_mentions(&city.fails(&["show", "Not A Slug"]), &["neither a record id"]);
    check_mentions(&city.fails(&["import", path_str(&city.scratch("missing"))]), &["cannot read directory"]);
    city.publish(EXAMPLE);
    check_mentions(&city.fails(&["withdraw", "community-composting", "--reason", " "]), &["--reason", "required"]);

    let bad_country = DataDir::empty().run(&["init", "--country", "Indonesia"]);
    assert_eq!(bad_country.status.code(), Some(2));
    check_mentions(&String::from_utf8_lossy(&bad_country.stderr), &["ISO 3166-1"]);
}

#[test]
fn every_command_has_help() {
    let data = DataDir::empty();
    for command in
        ["init", "publish", "withdraw", "list", "show", "export", "import", "invite", "partner", "block", "profile"]
    {
        check_mentions(&data.ok(&[command, "--help"]), &["Usage: citymesh"]);
    }
    check_mentions(&data.ok(&["--help"]), &["practice notes", "--data-dir", "CITYMESH_HOME"]);
}

#[test]
fn the_demo_leaves_three_cities_holding_each_others_notes() {
    let scratch = DataDir::empty();
    let root = scratch.scratch("demo");
    let output = scratch.ok(&["demo", "--once", "--dir", path_str(&root)]);
    check_mentions(&output, &["received City of Surabaya's note community-composting", "holds 11 records", "list"]);
    check_mentions(
        &output,
        &["City of Porto Alegre publishes a request", "received City of Porto Alegre's engagement"],
    );
    // The whole loop is there on the stopped cities' directories: Porto Alegre's request
    // matches Surabaya's offer first, and Curitiba holds both sides of the transfer.
    let matched = std::process::Command::new(env!("CARGO_BIN_EXE_citymesh"))
        .args(["--data-dir", path_str(&root.join("porto-alegre")), "match", "composting-help", "--json"])
        .output()
        .unwrap();
    let matched: serde_json::Value = serde_json::from_slice(&matched.stdout).unwrap();
    assert_eq!(matched["offers"][0]["slug"], "composting-advice", "{matched}");
    assert_eq!(matched["offers"][0]["name"], "City of Surabaya", "{matched}");
    let sides = std::process::Command::new(env!("CARGO_BIN_EXE_citymesh"))
        .args(["--data-dir", path_str(&root.join("curitiba")), "engagement", "list", "--json"])
        .output()
        .unwrap();
    let sides: serde_json::Value = serde_json::from_slice(&sides.stdout).unwrap();
    assert_eq!(sides.as_array().map(Vec::len), Some(2), "{sides}");
    check_mentions(&output, &["City of Curitiba       node started; web page at http://127.0.0.1:"]);
    // Search works on a stopped city's data directory too (the index is opened and caught up).
    let found = std::process::Command::new(env!("CARGO_BIN_EXE_citymesh"))
        .args(["--data-dir", path_str(&root.join("curitiba")), "search", "landfill", "--json"])
        .output()
        .unwrap();
    let found: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(found["hits"][0]["slug"], "community-composting", "{found}");
    assert_eq!(found["hits"][0]["publisher_name"], "City of Surabaya", "{found}");
    for city in ["surabaya", "curitiba", "porto-alegre"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_citymesh"))
            .args(["--data-dir", path_str(&root.join(city)), "list", "--json"])
            .output()
            .unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let slugs: Vec<&str> = listed.as_array().unwrap().iter().map(|row| row["slug"].as_str().unwrap()).collect();
        for slug in ["community-composting", "bus-rapid-transit", "participatory-budgeting"] {
            assert!(slugs.contains(&slug), "{city} lacks {slug}: {slugs:?}");
        }
    }
    check_mentions(&scratch.fails(&["demo", "--once", "--dir", path_str(&root)]), &["not empty"]);
}

#[test]
fn the_profile_is_changed_field_by_field_and_bad_values_are_named() {
    let city = DataDir::initialised("City of Surabaya");
    check_id(&city.ok(&[
        "profile",
        "set",
        "--name",
        "Surabaya City Government",
        "--website",
        "https://surabaya.go.id",
        "--language",
        "id",
        "--language",
        "en",
        "--contact-role",
        "Cleansing and Green Space Agency",
        "--contact-channel",
        "mailto:dkrth@surabaya.go.id",
    ]));
    let profile: serde_json::Value = serde_json::from_str(&city.ok(&["list", "--kind", "profile", "--json"])).unwrap();
    assert_eq!(profile[0]["title"], "Surabaya City Government");
    assert_eq!(profile[0]["revision"], 2);
    let shown = city.ok(&["show", profile[0]["id"].as_str().unwrap(), "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["body"]["languages"], serde_json::json!(["id", "en"]));
    assert_eq!(shown["body"]["place"]["name"], "Surabaya", "fields not given stay as they were");
    // Unchanged: nothing signed.
    let same = city.run(&["profile", "set", "--website", "https://surabaya.go.id"]);
    assert!(same.status.success());
    check_mentions(&String::from_utf8_lossy(&same.stderr), &["unchanged"]);
    check_mentions(&city.fails(&["profile", "set", "--website", "surabaya.go.id"]), &["website"]);
    check_mentions(&city.fails(&["profile", "set", "--language", "not a tag"]), &["languages"]);
    // Coordinates: both or neither, in decimal degrees and range; refused before anything is signed.
    check_mentions(
        &city.fails(&["profile", "set", "--latitude", "-7.2575"]),
        &["place.longitude", "is required with a latitude"],
    );
    check_mentions(
        &city.fails(&["profile", "set", "--latitude", "97", "--longitude", "112.75"]),
        &["place.latitude", "from -90 to 90"],
    );
    check_id(&city.ok(&["profile", "set", "--latitude", "-7.2575", "--longitude", "112.7521"]));
    // A note's coordinates in Markdown follow the same rules as the form's.
    let no_longitude = example_with("place: Surabaya", "place: Surabaya\nlatitude: \"-7.2575\"");
    let file = city.write("no-longitude.md", &no_longitude);
    check_mentions(&city.fails(&["publish", path_str(&file)]), &["longitude", "is required with a latitude"]);
    let both = example_with("place: Surabaya", "place: Surabaya\nlatitude: \"-7.2575\"\nlongitude: \"112.7521\"");
    city.publish(&both);
    let shown: serde_json::Value = serde_json::from_str(&city.ok(&["show", "community-composting", "--json"])).unwrap();
    assert_eq!(shown["body"]["location"]["longitude"], "112.7521", "{shown}");
    check_mentions(shown["markdown"].as_str().unwrap(), &["latitude: '-7.2575'", "longitude: '112.7521'"]);
    check_mentions(&city.fails(&["profile", "set", "--type", "club"]), &["organisation_type"]);
}

#[test]
fn the_output_reads_well_and_a_closed_pipe_is_no_failure() {
    // `init` without --name says what partners will see and how to change it, then what is next.
    let unnamed = DataDir::empty();
    let output = unnamed.run(&["init", "--country", "ID"]);
    assert!(output.status.success());
    check_mentions(
        &String::from_utf8_lossy(&output.stderr),
        &["No --name was given", "citymesh profile set --name", "citymesh run"],
    );

    let city = DataDir::initialised("City of Surabaya");
    city.publish(EXAMPLE);
    // A partnership, added from an invite code that names only a loopback address (which
    // `invite` warns about), is listed under its own kind and shown by its slug.
    let partner = DataDir::initialised("Recife");
    let invite = partner.run(&["invite", "--address", "/ip4/127.0.0.1/tcp/7879"]);
    assert!(invite.status.success());
    check_mentions(&String::from_utf8_lossy(&invite.stderr), &["warning: the code names only loopback addresses"]);
    let code = String::from_utf8(invite.stdout).unwrap();
    city.ok(&["partner", "add", code.trim()]);
    let listed = city.ok(&["list"]);
    let lines: Vec<&str> = listed.lines().collect();
    let header =
        |kind: &str| lines.iter().position(|line| line.starts_with(kind)).unwrap_or_else(|| panic!("{listed}"));
    let (practice, profile, partnership) = (header("PRACTICE"), header("PROFILE"), header("PARTNERSHIP"));
    assert!(practice < profile && profile < partnership, "a block per kind:\n{listed}");
    // Columns line up: each row's slug starts where its header's SLUG does.
    let slug_at = lines[practice].find("SLUG").unwrap();
    assert_eq!(lines[practice + 1].find("community-composting"), Some(slug_at), "{listed}");
    let partner_key = partner.ok(&["status", "--json"]);
    let partner_key: serde_json::Value = serde_json::from_str(&partner_key).unwrap();
    let partner_key = partner_key["publisher"].as_str().unwrap().to_owned();
    check_mentions(&city.ok(&["show", &partner_key]), &["partnership", &partner_key]);

    // The reader stops reading at once (`citymesh list | head -0`): no panic, no failure.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_citymesh"))
        .arg("--data-dir")
        .arg(city.path())
        .args(["list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    check_no_panic(&output);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
