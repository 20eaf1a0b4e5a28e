//! The Taskdeck UI: Leptos (client-side rendering) compiled to WebAssembly.
//!
//! It talks to the desktop backend only through Tauri commands and events
//! ([`bridge`]); it never makes an HTTP request. Pure logic (ordering,
//! formatting) lives in [`format`] and [`tasks`], tested natively with
//! `cargo test`; components live in [`components`].

#![deny(missing_docs)]

pub mod bridge;
pub mod charts;
pub mod components;
pub mod facets;
pub mod format;
pub mod suggest;
pub mod tasks;
pub mod views;

use wasm_bindgen::prelude::wasm_bindgen;

/// Mounts the app: called by the generated JS once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    components::dom::mark("taskdeck:ui-start");
    leptos::mount::mount_to_body(components::App);
    components::dom::mark("taskdeck:ui-mounted");
}
