//! `citymesh run` as a real process, and the CLI talking to it through its API.

use crate::harness::*;

#[test]
fn the_cli_works_through_a_running_node_which_stops_cleanly_on_sigterm() {
    let city = DataDir::initialised("City of Surabaya");
    let node = Process::start(&city, &[]);
    let api_file = city.path().join("api.addr");

    let id = check_id(&city.publish(EXAMPLE));
    let listed = city.list();
    assert!(listed.as_array().unwrap().iter().any(|row| row["id"] == id.as_str()), "{listed}");
    check_mentions(&city.ok(&["show", "community-composting", "--history"]), &[&id, "verified", "## Approach"]);
    check_mentions(&city.ok(&["status"]), &["running", "records:     2", "main"]);
    // Search goes through the node's API (the node holds the index).
    check_mentions(&city.ok(&["search", "compost", "--theme", "solid-waste"]), &["1 note matches", "*compost*", &id]);
    check_mentions(
        &city.fails(&["search", "--theme", "tourism"]),
        &["theme \"tourism\" is not allowed", "solid-waste"],
    );
    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let stderr = String::from_utf8_lossy(&city.run(&["import", path_str(&export)]).stderr).into_owned();
    check_mentions(&stderr, &["0 new records", "2 already held"]);
    check_id(&city.ok(&["withdraw", "community-composting", "--reason", "replaced"]));

    check_mentions(&city.fails(&RUN), &["is in use by another citymesh process"]);
    let alone = city.run(&["sync"]);
    assert!(alone.status.success());
    check_mentions(&String::from_utf8_lossy(&alone.stderr), &["no peers connected"]);

    let log = node.stop();
    check_mentions(&log, &["node started", "stopping"]);
    assert!(!api_file.exists(), "a stopped node leaves its API address behind");
    // The store is released: commands open it directly again.
    assert_eq!(city.list().as_array().unwrap().len(), 2);
    check_mentions(&city.fails(&["sync"]), &["no node is running", "citymesh run"]);
    // The API and the web page stay on loopback unless config.toml says otherwise.
    let open = ["run", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "0.0.0.0:0"];
    check_mentions(&city.fails(&open), &["not a loopback address", "api.allow_non_loopback"]);
}
