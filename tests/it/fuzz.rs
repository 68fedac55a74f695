//! Replays every input the fuzz targets keep (`fuzz/corpus/<target>/`, the seeds and what the
//! fuzzer added; `fuzz/found/<target>/`, inputs that once crashed) through the same checks
//! (`citymesh::fuzz`), so CI runs them as tests and a crash found once stays fixed.

use std::path::{Path, PathBuf};

use crate::harness::*;

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for folder in [root.join("corpus").join(target), root.join("found").join(target)] {
        if let Ok(entries) = std::fs::read_dir(&folder) {
            files
                .extend(entries.filter_map(|entry| entry.ok()).map(|entry| entry.path()).filter(|path| path.is_file()));
        }
    }
    files.sort();
    files
}

/// Runs `check` on each input of `target`; a panic names the file.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= 5,
        "fuzz/corpus/{target} holds {} inputs; run `cargo run --example fuzz_seeds`",
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).expect("read a corpus file");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        assert!(outcome.is_ok(), "{} fails its check (see the panic above)", file.display());
    }
}

#[test]
fn envelope_corpus() {
    replay("envelope", citymesh::fuzz::envelope);
}

#[test]
fn markdown_corpus() {
    replay("markdown", citymesh::fuzz::markdown);
}

#[test]
fn reconciliation_corpus() {
    replay("reconciliation", citymesh::fuzz::reconciliation);
}

#[test]
fn invite_code_corpus() {
    replay("invite_code", citymesh::fuzz::invite_code);
}

#[test]
fn api_corpus() {
    let data = DataDir::empty();
    let api = citymesh::fuzz::Api::start(&data.path()).expect("a node starts");
    replay("api", |input| api.check(input));
}
