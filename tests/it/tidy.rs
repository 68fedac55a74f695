//! The shape of `src/`, checked: each heavy dependency is named in its own module only, each
//! module's `crate::` references name only modules `src/lib.rs` declares before it (so there is
//! no cycle, and lib.rs reads in order), and every file reads in one sitting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest file in `src/`, in lines.
const MAX_LINES: usize = 600;

/// Each heavy dependency, and the modules that may name it.
const OWNERS: &[(&str, &[&str])] = &[
    ("libp2p", &["net"]),
    ("sled", &["store"]),
    ("zstd", &["compress"]),
    ("axum", &["api"]),
    ("askama", &["api"]),
    ("pulldown_cmark", &["api"]),
    ("ammonia", &["api"]),
    ("tantivy", &["search"]),
    ("clap", &["cli", "main"]),
    ("ed25519_dalek", &["record"]),
    ("prost", &["wire"]),
    ("prometheus_client", &["metrics"]),
    ("serde_norway", &["markdown"]),
    ("toml", &["config"]),
];

/// Every `.rs` file under `src/`.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out.sort();
    out
}

/// The top-level module a file belongs to (`src/api/web/note.rs` is `api`; `lib.rs` is the crate).
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src")).expect("under src/");
    let first = relative.components().next().expect("a file").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// A file's code: its lines without comments (`//`, `///`, `//!`), which may name anything.
fn code(text: &str) -> Vec<&str> {
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string (a URL) is code; the files keep comments on lines of their own
            // or after code, never after a string holding `//`.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect()
}

/// Whether `line` names the crate `name` (`name::…` as a path, not as part of another word).
fn names(line: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    line.match_indices(&pattern).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

/// The top-level modules a file's code refers to with `crate::…`, each with the line (from 1) it
/// is named on. A group (`crate::{record::Kind, store::{Store, Tree}}`) may span lines and nest;
/// the first segment of each of its top-level items is a module.
fn references(lines: &[&str]) -> Vec<(usize, String)> {
    let text = lines.join("\n");
    // The line of the first word at or after `from`, and the word.
    let word = |from: usize| -> (usize, String) {
        let rest = text[from..].trim_start();
        let line = text[..text.len() - rest.len()].matches('\n').count() + 1;
        (line, rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
    };
    let mut out = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let start = at + "crate::".len();
        if !text[start..].starts_with('{') {
            out.push(word(start));
            continue;
        }
        // Each top-level item of the group starts after the `{` or after a comma at depth one.
        let mut depth = 0;
        let mut item = start + 1;
        for (offset, c) in text[start..].char_indices() {
            let here = start + offset;
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => {
                    out.push(word(item));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 1 => {
                    out.push(word(item));
                    item = here + 1;
                }
                _ => {}
            }
        }
    }
    out.retain(|(_, module)| !module.is_empty());
    out
}

#[test]
fn heavy_dependencies_stay_in_their_modules() {
    let mut strays = Vec::new();
    for path in sources() {
        let module = module_of(&path);
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (number, line) in code(&text).into_iter().enumerate() {
            for (dependency, owners) in OWNERS {
                if names(line, dependency) && !owners.contains(&module.as_str()) {
                    strays.push(format!("{}:{}: {dependency} outside {owners:?}", path.display(), number + 1));
                }
            }
        }
    }
    assert!(strays.is_empty(), "heavy dependencies named outside their modules:\n{}", strays.join("\n"));
}

#[test]
fn the_modules_imports_form_no_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let modules: BTreeSet<String> = sources().iter().map(|path| module_of(path)).collect();
    for path in sources() {
        let module = module_of(&path);
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (_, target) in references(&code(&text)) {
            if target != module && modules.contains(&target) {
                graph.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    assert!(graph.len() > 10, "the imports were not read: {graph:?}");
    // Depth-first search; a module met again while it is on the path closes a cycle.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|on| on == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("the modules import each other in a circle: {}", cycle.join(" -> "));
        }
    }
}

/// The modules in the order `src/lib.rs` declares them.
fn declared() -> Vec<String> {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("lib.rs");
    lib.lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';').to_owned())
        .collect()
}

#[test]
fn each_module_names_only_modules_declared_before_it() {
    let order = declared();
    assert!(order.len() > 10 && order[0] == "hex", "lib.rs was not read: {order:?}");
    let mut backwards = Vec::new();
    for path in sources() {
        let module = module_of(&path);
        let Some(position) = order.iter().position(|declared| *declared == module) else { continue };
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (line, target) in references(&code(&text)) {
            if order.iter().position(|declared| *declared == target).is_some_and(|at| at > position) {
                backwards.push(format!("{}:{line}: {module} names {target}, declared after it", path.display()));
            }
        }
    }
    assert!(backwards.is_empty(), "modules naming modules below them in lib.rs:\n{}", backwards.join("\n"));
}

#[test]
fn every_file_reads_in_one_sitting() {
    let long: Vec<String> = sources()
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).expect("a source file").lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines (split them by concept):\n{}", long.join("\n"));
}

#[test]
fn the_checks_see_what_they_look_for() {
    // The helpers find what the tests above rely on them to find, so those tests can fail.
    assert!(names("use libp2p::{gossipsub, noise};", "libp2p"));
    assert!(names("    let swarm = libp2p::SwarmBuilder::with_new_identity()", "libp2p"));
    assert!(!names("use crate::net::libp2p_free;", "libp2p"));
    assert!(!names("let x = mysled::open();", "sled"));
    let modules = |lines: &[&str]| references(lines).into_iter().map(|(_, module)| module).collect::<Vec<_>>();
    assert_eq!(modules(&["use crate::{record::Kind, store::Store};"]), ["record", "store"]);
    assert_eq!(modules(&["    crate::api::serve(listener, node)"]), ["api"]);
    assert_eq!(
        references(&["use crate::{", "    record::{Kind, Record},", "    store::Store,", "};"]),
        [(2, "record".to_owned()), (3, "store".to_owned())]
    );
    assert_eq!(modules(&["use crate::{config::{self, Config}, net};"]), ["config", "net"]);
    assert_eq!(code("let a = 1; // crate::api here is a comment"), ["let a = 1; "]);
    assert!(references(&code("/// See [`crate::node`].")).is_empty());
}
