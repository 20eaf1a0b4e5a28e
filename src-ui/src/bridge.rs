//! The UI's only way out: Tauri's `invoke` for commands and `listen` for
//! events, with payloads parsed into the shared IPC types.

use std::future::Future;

use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    fn tauri_invoke(cmd: &str, args: JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<js_sys::Promise, JsValue>;
}

/// Hands `promise` (or the error of the call that should have made it)
/// to a future. The call itself has been made already: what the future
/// awaits is the answer.
fn answer(
    promise: Result<js_sys::Promise, JsValue>,
) -> impl Future<Output = Result<JsValue, JsValue>> {
    let answer = promise.map(wasm_bindgen_futures::JsFuture::from);
    async move { answer?.await }
}

/// Why a call to the backend failed, as a sentence (and the backend's
/// kind of error, when it sent one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeError(pub String, pub Option<taskdeck_ipc::ErrorKind>);

impl BridgeError {
    /// The backend's kind of error; `None` when the call itself failed.
    pub fn kind(&self) -> Option<taskdeck_ipc::ErrorKind> {
        self.1
    }
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a JS value through its JSON text (u64 and dates survive intact).
fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, BridgeError> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| "null".to_owned());
    serde_json::from_str(&text)
        .map_err(|e| BridgeError(format!("unexpected data from the app: {e}"), None))
}

/// The message of a rejected `invoke`: the backend's error sentence if it
/// sent one.
fn error_message(error: &JsValue) -> BridgeError {
    if let Ok(ui) = from_js::<taskdeck_ipc::UiError>(error) {
        return BridgeError(ui.message, Some(ui.kind));
    }
    BridgeError(
        error
            .as_string()
            .unwrap_or_else(|| "the app's backend did not answer".to_owned()),
        None,
    )
}

// Every call below is sent to the backend when the function is called, not
// when its future is first polled: a call made while the page is still
// busy (mounting the window, say) is on its way meanwhile.

/// Calls backend command `command` with `args` (unless they could not be
/// made), and reads its answer as `T`.
fn call<T: DeserializeOwned>(
    command: &str,
    args: Result<JsValue, BridgeError>,
) -> impl Future<Output = Result<T, BridgeError>> + 'static {
    let sent = args.map(|args| answer(tauri_invoke(command, args)));
    async move { from_js(&sent?.await.map_err(|e| error_message(&e))?) }
}

/// Calls backend command `command` without arguments.
pub fn invoke<T: DeserializeOwned>(
    command: &str,
) -> impl Future<Output = Result<T, BridgeError>> + 'static {
    call(command, Ok(js_sys::Object::new().into()))
}

/// Calls the command of `request` with it as its one argument, and reads
/// its answer as the type the request names.
pub fn request<R: taskdeck_ipc::request::Request>(
    request: &R,
) -> impl Future<Output = Result<R::Answer, BridgeError>> + 'static {
    #[derive(serde::Serialize)]
    struct Args<'a, R> {
        request: &'a R,
    }
    let args = serde_json::to_string(&Args { request })
        .map_err(|e| BridgeError(format!("cannot send the request: {e}"), None))
        .and_then(|text| {
            js_sys::JSON::parse(&text)
                .map_err(|_| BridgeError("cannot send the request".to_owned(), None))
        });
    call(R::COMMAND, args)
}

/// [`request`], owning the request.
pub fn send<R: taskdeck_ipc::request::Request>(
    request: R,
) -> impl Future<Output = Result<R::Answer, BridgeError>> + 'static {
    self::request(&request)
}

/// Calls `on_event` with the payload of every `event` from now on; the
/// future says whether the backend took the listener. Await it: the
/// handler is kept for good once it has resolved, and dropped with it.
pub fn listen<T: DeserializeOwned + 'static>(
    event: &str,
    mut on_event: impl FnMut(T) + 'static,
) -> impl Future<Output = Result<(), BridgeError>> + 'static {
    let name = event.to_owned();
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload =
            js_sys::Reflect::get(&event, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        match from_js::<T>(&payload) {
            Ok(payload) => on_event(payload),
            Err(error) => web_sys_log(&format!("event {name}: {error}")),
        }
    });
    let taken = answer(tauri_listen(event, handler.as_ref().unchecked_ref()));
    async move {
        taken.await.map_err(|e| error_message(&e))?;
        // The listener lives as long as the window.
        handler.forget();
        Ok(())
    }
}

fn web_sys_log(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}
