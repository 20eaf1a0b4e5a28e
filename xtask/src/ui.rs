//! Builds the WebAssembly UI into `src-ui/dist`: cargo for wasm32, then
//! wasm-bindgen (the library, pinned to Cargo.lock's wasm-bindgen version, so
//! no separate CLI has to match it), then — for the release build — wasm-opt
//! `-Oz` (binaryen 132 from npm; Debian's 108 corrupts wasm-bindgen's output),
//! then the static files. The sizes before and after wasm-opt go to
//! `<target>/tmp/ui-wasm-sizes.txt` for the window benchmark.

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
    // `ui`: the release profile tuned for size (Cargo.toml).
    if release {
        command.args(["--profile", "ui"]);
    }
    run(&mut command)?;
    let profile = if release { "ui" } else { "debug" };
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join(profile)
        .join("taskdeck_ui.wasm");
    let dist = root().join("src-ui").join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    // Generated beside, then copied over only where it changed: an unchanged
    // UI leaves `dist` untouched and the app (which embeds it) is not rebuilt.
    let staging = target_dir().join("tmp").join(format!("ui-dist-{profile}"));
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&wasm)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(false)
        .generate(&staging)
        .map_err(|e| format!("wasm-bindgen on {}: {e}", wasm.display()))?;
    if release {
        optimise(&staging.join("taskdeck_ui_bg.wasm"))?;
    }
    copy_changed(&staging, &dist)?;
    copy_changed(&root().join("src-ui").join("static"), &dist)
}

/// The binaryen release whose wasm-opt is used.
const BINARYEN: &str = "132.0.0";

/// Runs `wasm-opt -Oz` over `wasm` in place, if npm can provide it; records
/// the sizes before and after.
fn optimise(wasm: &Path) -> Result<(), String> {
    let before = std::fs::metadata(wasm).map_err(|e| e.to_string())?.len();
    let wasm_opt = match crate::tools::npm_package("binaryen-132", "binaryen", BINARYEN) {
        Ok(modules) => modules.join("binaryen/bin/wasm-opt"),
        Err(error) => {
            eprintln!("xtask: no wasm-opt ({error}); the UI stays unoptimised");
            return record_sizes(before, None);
        }
    };
    // wasm-opt takes a minute: the last output is reused for the same input.
    let cache = target_dir().join("tmp");
    let (cached_in, cached_out) = (cache.join("ui-pre-opt.wasm"), cache.join("ui-opt.wasm"));
    let input = std::fs::read(wasm).map_err(|e| e.to_string())?;
    if std::fs::read(&cached_in).ok().as_deref() == Some(input.as_slice()) {
        if let Ok(output) = std::fs::read(&cached_out) {
            std::fs::write(wasm, &output).map_err(|e| e.to_string())?;
            return record_sizes(before, Some(output.len() as u64));
        }
    }
    let optimised = wasm.with_extension("opt.wasm");
    let status = std::process::Command::new(&wasm_opt)
        .arg("-Oz")
        .arg(wasm)
        .arg("-o")
        .arg(&optimised)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", wasm_opt.display()))?;
    if !status.success() {
        return Err(format!("wasm-opt failed on {}", wasm.display()));
    }
    std::fs::rename(&optimised, wasm).map_err(|e| e.to_string())?;
    let after = std::fs::metadata(wasm).map_err(|e| e.to_string())?.len();
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    std::fs::write(&cached_in, &input).map_err(|e| e.to_string())?;
    std::fs::copy(wasm, &cached_out).map_err(|e| e.to_string())?;
    eprintln!(
        "xtask: UI WebAssembly {} KB → {} KB with wasm-opt -Oz",
        before / 1024,
        after / 1024
    );
    record_sizes(before, Some(after))
}

fn record_sizes(before: u64, after: Option<u64>) -> Result<(), String> {
    let folder = target_dir().join("tmp");
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let mut text = format!("before_wasm_opt {before}\n");
    if let Some(after) = after {
        text.push_str(&format!("after_wasm_opt {after}\n"));
    }
    std::fs::write(folder.join("ui-wasm-sizes.txt"), text).map_err(|e| e.to_string())
}

/// Copies the files of `from` into `to`, writing only those that differ.
fn copy_changed(from: &Path, to: &Path) -> Result<(), String> {
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_type().map_err(|e| e.to_string())?.is_file() {
            continue;
        }
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
