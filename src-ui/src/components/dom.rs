//! Helpers over the WebView itself: closing a pop-up from outside it, and
//! the viewer's time zone.

use leptos::prelude::*;

/// Closes a pop-up (`open` false) on a click outside `root` or on Escape.
pub fn close_on_outside(root: NodeRef<leptos::html::Div>, open: RwSignal<bool>) {
    let outside = window_event_listener(leptos::ev::mousedown, move |event| {
        let inside = root.get_untracked().is_some_and(|root| {
            event
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Node>(t).ok())
                .is_some_and(|node| root.contains(Some(&node)))
        });
        if !inside {
            open.set(false);
        }
    });
    let escape = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || {
        outside.remove();
        escape.remove();
    });
}

/// A time in the viewer's time zone, in full.
pub fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    crate::format::start_date_title(at, local_offset())
}

/// The viewer's UTC offset, from the WebView.
pub fn local_offset() -> chrono::FixedOffset {
    // getTimezoneOffset is UTC minus local, in minutes.
    let minutes = js_sys::Date::new_0().get_timezone_offset() as i32;
    chrono::FixedOffset::west_opt(minutes * 60).unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc))
}
