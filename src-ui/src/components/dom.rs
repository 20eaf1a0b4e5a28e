//! Helpers over the WebView itself: closing a pop-up from outside it, the
//! `/` shortcut, the viewer's time zone, and User Timing marks.

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

/// `/` focuses the Active tasks search, wherever the focus is (except in a
/// field): `show_list` shows its page first.
pub fn slash_focuses_search(show_list: impl Fn() + 'static) {
    let slash = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let typing = document.active_element().is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        });
        if typing {
            return;
        }
        show_list();
        if let Ok(Some(search)) = document.query_selector("[data-testid='search-input']") {
            if let Ok(search) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(search) {
                event.prevent_default();
                let _ = search.focus();
            }
        }
    });
    on_cleanup(move || slash.remove());
}

/// Puts `text` on the clipboard; whether the WebView let it.
pub fn copy_text(text: &str) -> bool {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return false;
    };
    let get = |on: &wasm_bindgen::JsValue, name: &str| {
        js_sys::Reflect::get(on, &wasm_bindgen::JsValue::from_str(name)).ok()
    };
    let clipboard = get(window.as_ref(), "navigator").and_then(|n| get(&n, "clipboard"));
    let write = clipboard.as_ref().and_then(|c| get(c, "writeText"));
    match (
        clipboard,
        write.and_then(|w| w.dyn_into::<js_sys::Function>().ok()),
    ) {
        (Some(clipboard), Some(write)) => write
            .call1(&clipboard, &wasm_bindgen::JsValue::from_str(text))
            .is_ok(),
        _ => false,
    }
}

/// A User Timing mark named `name` (ms since the page began), for the
/// benchmarks: `taskdeck:ui-start`, `taskdeck:connected`,
/// `taskdeck:first-snapshot`, `taskdeck:first-rows:<site>`.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// [`mark`], unless the page has a mark of that name already.
pub fn mark_once(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        if performance.get_entries_by_name(name).length() == 0 {
            let _ = performance.mark(name);
        }
    }
}
