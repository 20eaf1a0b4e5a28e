//! The `taskdeck` desktop binary.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before any thread and before WebKit starts.
    taskdeck_app::rendering::choose();
    taskdeck_app::run();
}
