//! Build tools that come from the npm registry, installed once into the
//! target folder (so CI's cached target keeps them) at a pinned version.

use std::path::PathBuf;
use std::process::Command;

use crate::target_dir;

/// Installs the npm package `name@version` under `<target>/tools/<folder>`
/// unless it is there, and returns that folder's `node_modules`.
pub fn npm_package(folder: &str, name: &str, version: &str) -> Result<PathBuf, String> {
    let prefix = target_dir().join("tools").join(folder);
    let package = prefix.join("node_modules").join(name);
    let installed_version = std::fs::read_to_string(package.join("package.json"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.trim_start().starts_with("\"version\""))
                .map(|line| line.contains(&format!("\"{version}\"")))
        })
        .unwrap_or(false);
    if !installed_version {
        let spec = format!("{name}@{version}");
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(&spec)
            .status()
            .map_err(|e| format!("cannot run npm to install {spec}: {e}"))?;
        if !status.success() {
            return Err(format!("npm could not install {spec}: {status}"));
        }
    }
    Ok(prefix.join("node_modules"))
}
