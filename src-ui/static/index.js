// Loads the WebAssembly UI; wasm-bindgen's start function mounts it.
import init from "./taskdeck_ui.js";

init({ module_or_path: new URL("taskdeck_ui_bg.wasm", import.meta.url) }).catch((error) => {
  document.body.textContent = "The Taskdeck UI failed to start: " + error;
});
