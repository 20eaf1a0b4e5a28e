//! Tidy checks of the tree, run as xtask's unit tests (as rust-analyzer's
//! `xtask/src/tidy.rs`): what no compiler checks but the project holds to.
//!
//! - The backend's commands are one set in four places: the app manifest in
//!   `src-tauri/build.rs`, `generate_handler!` in `src-tauri/src/lib.rs`,
//!   the names in `crates/ipc` and the permissions in `capabilities/`.
//! - Every Rust source file starts with a `//!` comment saying what it is.
//! - No test is ignored (the attribute): a test that needs more than
//!   `cargo test` has is gated by a feature (`required-features`) that the
//!   command which provides it turns on.

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn read(path: &str) -> String {
        let full = crate::root().join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
    }

    /// The text between `start` and the next `end` after it.
    fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
        let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
        let to = text[from..]
            .find(end)
            .unwrap_or_else(|| panic!("no {end:?}"))
            + from;
        &text[from..to]
    }

    /// Every `"…"` literal in `text`.
    fn quoted(text: &str) -> BTreeSet<String> {
        text.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_commands_are_the_same_in_all_four_lists() {
        let manifest = quoted(between(&read("src-tauri/build.rs"), ".commands(&[", "]"));
        let handler: BTreeSet<String> =
            between(&read("src-tauri/src/lib.rs"), "generate_handler![", "]")
                .split(',')
                .map(|entry| entry.trim())
                .filter(|entry| !entry.is_empty())
                .map(|entry| entry.rsplit("::").next().unwrap_or(entry).to_owned())
                .collect();
        let ipc: BTreeSet<String> =
            between(&read("crates/ipc/src/lib.rs"), "pub mod commands {", "\n}")
                .lines()
                .filter(|line| line.trim_start().starts_with("pub const"))
                .flat_map(quoted)
                .collect();
        let capabilities: serde_json::Value =
            serde_json::from_str(&read("capabilities/default.json")).expect("capabilities parse");
        let allowed: BTreeSet<String> = capabilities["permissions"]
            .as_array()
            .expect("a list of permissions")
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|name| name.replace('-', "_"))
            .collect();
        assert!(manifest.len() > 10, "build.rs lists {manifest:?}");
        assert_eq!(handler, manifest, "generate_handler! against build.rs");
        assert_eq!(ipc, manifest, "crates/ipc's commands against build.rs");
        assert_eq!(
            allowed, manifest,
            "capabilities/default.json against build.rs"
        );
    }

    /// The project's Rust sources: every `.rs` file git tracks.
    fn rust_sources() -> Vec<PathBuf> {
        let out = std::process::Command::new("git")
            .args(["ls-files", "*.rs"])
            .current_dir(crate::root())
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git ls-files failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| crate::root().join(line))
            .collect()
    }

    #[test]
    fn every_source_file_says_what_it_is_and_no_test_is_ignored() {
        let sources = rust_sources();
        assert!(sources.len() > 50, "{} sources", sources.len());
        let ignore = concat!("#[", "ignore");
        for path in sources {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let shown = path.strip_prefix(crate::root()).unwrap_or(Path::new(""));
            assert!(
                text.starts_with("//!"),
                "{} does not start with a //! comment",
                shown.display()
            );
            assert!(
                !text.contains(ignore),
                "{} ignores a test: gate it with required-features instead",
                shown.display()
            );
        }
    }
}
