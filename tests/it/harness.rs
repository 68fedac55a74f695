//! Runs the `citymesh` binary against temporary data directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The example note shipped in `config/examples/`.
pub const EXAMPLE: &str = include_str!("../../config/examples/community-composting.md");

/// One data directory, in a temporary folder removed when the value is dropped.
pub struct DataDir {
    dir: TempDir,
}

impl DataDir {
    /// A folder with nothing in it yet.
    pub fn empty() -> Self {
        Self { dir: tempfile::tempdir().expect("a temporary directory") }
    }

    /// A data directory after `citymesh init`.
    pub fn initialised(name: &str) -> Self {
        let data = Self::empty();
        data.ok(&["init", "--name", name, "--country", "ID", "--place", "Surabaya"]);
        data
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A path for scratch files beside the data directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a scratch file and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.scratch(name);
        std::fs::write(&path, text).expect("write a scratch file");
        path
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_citymesh"))
            .arg("--data-dir")
            .arg(self.path())
            .args(args)
            .env_remove("CITYMESH_HOME")
            .env_remove("RUST_LOG")
            .output()
            .expect("run citymesh")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        check_no_panic(&output);
        assert!(output.status.success(), "citymesh {args:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    /// Runs a command that must fail with exit code 1; returns its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        check_no_panic(&output);
        assert_eq!(output.status.code(), Some(1), "citymesh {args:?} should have failed: {output:?}");
        String::from_utf8(output.stderr).expect("utf-8 output")
    }

    /// Publishes a note from text; returns its record id.
    pub fn publish(&self, text: &str) -> String {
        let file = self.write("note.md", text);
        self.ok(&["publish", path_str(&file)]).trim().to_owned()
    }

    /// `list --json`, parsed.
    pub fn list(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["list", "--json"])).expect("list --json prints JSON")
    }
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A user never sees a panic or a debug dump.
pub fn check_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "citymesh panicked:\n{stderr}");
}

/// `text` mentions every one of `parts`.
pub fn check_mentions(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in:\n{text}");
    }
}

/// A 64-character lowercase hex id alone on the output.
pub fn check_id(output: &str) -> String {
    let id = output.trim();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "not an id: {id:?}"
    );
    id.to_owned()
}

/// The example note with one front matter line replaced.
pub fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "the example has no {from:?}");
    EXAMPLE.replacen(from, to, 1)
}
