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
    check_mentions(&city.ok(&["status"]), &["running", "records:     3", "main"]);
    // Search goes through the node's API (the node holds the index).
    check_mentions(&city.ok(&["search", "compost", "--theme", "solid-waste"]), &["1 note matches", "*compost*", &id]);
    check_mentions(
        &city.fails(&["search", "--theme", "tourism"]),
        &["theme \"tourism\" is not allowed", "solid-waste"],
    );
    let export = city.scratch("export");
    city.ok(&["export", path_str(&export)]);
    let stderr = String::from_utf8_lossy(&city.run(&["import", path_str(&export)]).stderr).into_owned();
    check_mentions(&stderr, &["0 new records", "3 already held"]);
    check_id(&city.ok(&["withdraw", "community-composting", "--reason", "replaced"]));

    check_mentions(&city.fails(&RUN), &["is in use by another citymesh process"]);
    let alone = city.run(&["sync"]);
    assert!(alone.status.success());
    check_mentions(&String::from_utf8_lossy(&alone.stderr), &["no peers connected"]);

    let log = node.stop();
    check_mentions(&log, &["citymesh is running for", "Web page: http://127.0.0.1:", "stopping"]);
    assert!(!api_file.exists(), "a stopped node leaves its API address behind");
    // The store is released: commands open it directly again.
    assert_eq!(city.list().as_array().unwrap().len(), 3);
    check_mentions(&city.fails(&["sync"]), &["no node is running", "citymesh run"]);
    // The API and the web page stay on loopback unless config.toml says otherwise.
    let open = ["run", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "0.0.0.0:0"];
    check_mentions(&city.fails(&open), &["not a loopback address", "api.allow_non_loopback"]);
}

/// Reads a process's standard error line by line as it comes, on a thread of its own.
fn lines_of(stderr: std::process::ChildStderr) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

#[test]
fn run_on_a_new_directory_sets_the_node_up_from_its_web_page_then_joins() {
    let data = DataDir::empty();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_citymesh"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["run", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("citymesh run starts");
    let lines = lines_of(child.stderr.take().unwrap());
    // Stopped however the test ends.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Killed(child);
    let wait_for = |what: &str| -> String {
        loop {
            let line = lines.recv_timeout(std::time::Duration::from_secs(30)).unwrap_or_else(|_| panic!("no {what:?}"));
            if line.contains(what) {
                return line;
            }
        }
    };
    let line = wait_for("Set up the node in a browser on this computer: http://");
    let base = line[line.find("http://").unwrap()..].trim_end_matches('/').to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "on loopback: {base}");
    assert!(!data.path().join("publisher.key").exists(), "nothing is made before the form is sent");

    let mut page = http().get(&format!("{base}/")).call().unwrap();
    let form = page.body_mut().read_to_string().unwrap();
    check_mentions(&form, &["Set up this node", "Name of your organisation", "<option value=\"BR\">Brazil</option>"]);
    let start = form.find("name=\"form\" value=\"").unwrap() + 19;
    let form_value = &form[start..start + 32];
    // Every problem at once, and nothing is made.
    let mut refused = http().post(&format!("{base}/setup")).send_form([("form", form_value), ("name", "")]).unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    check_mentions(
        &refused.body_mut().read_to_string().unwrap(),
        &["Name of your organisation is required", "Country is required"],
    );
    // Another site's post (without the form's value) is refused.
    let forged = http().post(&format!("{base}/setup")).send_form([("name", "Evil"), ("country", "BR")]).unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(!data.path().join("publisher.key").exists());

    let fields = [
        ("form", form_value),
        ("name", "Recife City"),
        ("organisation_type", "local-government"),
        ("country", "BR"),
        ("place", "Recife"),
    ];
    let mut done = http().post(&format!("{base}/setup")).send_form(fields).unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let done = done.body_mut().read_to_string().unwrap();
    let token = std::fs::read_to_string(data.path().join("api.token")).unwrap();
    check_mentions(&done, &["Recife City", "node is ready", token.trim()]);

    // Then the node starts and joins, with the name given.
    let line = wait_for("Web page: http://");
    let web = line[line.find("http://").unwrap()..].split_whitespace().next().unwrap().trim_end_matches('/').to_owned();
    assert_eq!(web, base, "the node's page is where the set-up page was, so the page's links work");
    let mut status = http().get(&format!("{web}/api/v1/records?kind=profile")).call().unwrap();
    let profiles: serde_json::Value = status.body_mut().read_json().unwrap();
    assert_eq!(profiles["records"][0]["title"], "Recife City", "{profiles}");
    // A wrong sign-in is logged with the client's address.
    let wrong = http().post(&format!("{web}/signin")).send_form([("token", "guess")]).unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let logged = wait_for("a sign-in with a wrong token");
    check_mentions(&logged, &["WARN", "client=127.0.0.1", "failures=1"]);
    let pid = child.0.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(child.0.wait().unwrap().success(), "stops cleanly");
}
