//! Builds the WebAssembly UI into `src-ui/dist`: cargo for wasm32, then
//! wasm-bindgen (the library, pinned to Cargo.lock's wasm-bindgen version, so
//! no separate CLI has to match it), then the static files.

use std::path::Path;

use crate::{cargo, root, run, target_dir};

/// Compiles `taskdeck-ui` and writes `src-ui/dist`.
pub fn build(release: bool) -> Result<(), String> {
    let mut command = cargo();
    command.args([
        "build",
        "--package",
        "taskdeck-ui",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    if release {
        command.arg("--release");
    }
    run(&mut command)?;
    let profile = if release { "release" } else { "debug" };
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join(profile)
        .join("taskdeck_ui.wasm");
    let dist = root().join("src-ui").join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&wasm)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(false)
        .generate(&dist)
        .map_err(|e| format!("wasm-bindgen on {}: {e}", wasm.display()))?;
    copy_static(&root().join("src-ui").join("static"), &dist)
}

fn copy_static(from: &Path, to: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        // Copy only when changed, so the app is not rebuilt for nothing.
        let new = std::fs::read(entry.path()).map_err(|e| e.to_string())?;
        if std::fs::read(&target).ok().as_deref() != Some(new.as_slice()) {
            std::fs::write(&target, new)
                .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        }
    }
    Ok(())
}
