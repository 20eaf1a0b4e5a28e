//! `Default View ▼`: the built-in view and the user's personal views of
//! this connection — switch, Save, Save as…, Rename, Delete, Set as my
//! default, Reset changes, export and import — with a marker while the list
//! differs from the view's saved state.
//!
//! The rules are [`crate::views`]' pure functions; this component holds the
//! menu's state and saves through the backend (`set_views`), which keeps the
//! views durably per connection.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use taskdeck_ipc::{SiteViews, DEFAULT_VIEW_ID};

use crate::bridge;
use crate::views::{self, ViewState};
use taskdeck_ipc::request;

/// What the name box is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    SaveAs,
    Rename,
}

/// A text panel under the menu's actions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sheet {
    None,
    Export(String),
    Import,
}

/// What follows a save of the views, once the backend has kept them.
#[derive(Debug, Clone, PartialEq)]
enum AfterSave {
    /// Nothing more.
    Nothing,
    /// The view `0` (new, or renamed) is the one chosen; the name box closes.
    Named(String),
    /// The view chosen was deleted: the built-in view is shown.
    Deleted,
    /// The view `0` was imported: it is chosen and shown.
    Imported(String),
}

/// The view menu. `current` is what the list shows; `apply` makes the list
/// show a view's state; `saved` and `current_id` are the connection's views
/// and the one chosen. The connection's default view is applied once its
/// views are read.
#[component]
pub fn ViewMenu(
    connection: Signal<Option<String>>,
    current: Memo<ViewState>,
    apply: Callback<ViewState>,
    saved: RwSignal<SiteViews>,
    current_id: RwSignal<String>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let naming = RwSignal::new(None::<Naming>);
    let name_text = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let sheet = RwSignal::new(Sheet::None);
    let import_text = RwSignal::new(String::new());
    let confirm_delete = RwSignal::new(false);
    let root = NodeRef::<html::Div>::new();
    let name_input = NodeRef::<html::Input>::new();

    // Read the connection's views when it is known, and open its default.
    let read = super::session::read_on(
        move || connection.get(),
        |connection| async move {
            match connection {
                Some(connection) => bridge::send(request::Views { connection }).await.map(Some),
                None => Ok(None),
            }
        },
    );
    Effect::new(move |_| match read.get() {
        Some(Ok(Some(read))) => {
            let start = read
                .default_view
                .clone()
                .unwrap_or_else(|| DEFAULT_VIEW_ID.to_owned());
            apply.run(views::saved_state(&read, &start));
            current_id.set(start);
            saved.set(read);
        }
        Some(Err(error)) => message.set(Some(format!("Your views could not be read: {error}"))),
        _ => {}
    });

    let dirty = Memo::new(move |_| {
        saved.with(|saved| current.with(|state| views::is_dirty(saved, &current_id.get(), state)))
    });
    let name = move || saved.with(|saved| views::view_name(saved, &current_id.get()));
    let builtin = move || views::is_builtin(&current_id.get());

    // Saves the views for this connection; once kept they become the
    // menu's views and what follows the save is done.
    let saving = Action::new_local(
        |(connection, next, after): &(String, SiteViews, AfterSave)| {
            let request = request::SetViews {
                connection: connection.clone(),
                views: next.clone(),
            };
            let kept = (next.clone(), after.clone());
            async move {
                bridge::send(request)
                    .await
                    .map(|()| kept)
                    .map_err(|e| e.to_string())
            }
        },
    );
    Effect::new(move |_| {
        let Some(result) = saving.value().get() else {
            return;
        };
        let (next, after) = match result {
            Ok(kept) => kept,
            Err(error) => {
                message.set(Some(error));
                return;
            }
        };
        message.set(None);
        match after {
            AfterSave::Nothing => {}
            AfterSave::Named(id) => {
                current_id.set(id);
                naming.set(None);
            }
            AfterSave::Deleted => {
                current_id.set(DEFAULT_VIEW_ID.to_owned());
                apply.run(ViewState::default());
            }
            AfterSave::Imported(id) => {
                apply.run(views::saved_state(&next, &id));
                current_id.set(id);
                import_text.set(String::new());
                sheet.set(Sheet::None);
            }
        }
        saved.set(next);
    });
    let persist = move |next: SiteViews, after: AfterSave| {
        let Some(connection) = connection.get_untracked() else {
            message.set(Some("No Site is shown yet.".to_owned()));
            return;
        };
        saving.dispatch((connection, next, after));
    };

    let start_naming = move |purpose: Naming| {
        naming.set(Some(purpose));
        name_text.set(match purpose {
            Naming::SaveAs => String::new(),
            Naming::Rename => name(),
        });
        message.set(None);
        request_animation_frame(move || {
            if let Some(input) = name_input.get_untracked() {
                let _ = input.focus();
            }
        });
    };
    let confirm_name = move || {
        let Some(purpose) = naming.get_untracked() else {
            return;
        };
        let typed = name_text.get_untracked();
        let id = current_id.get_untracked();
        let renaming = (purpose == Naming::Rename).then_some(id.as_str());
        if let Some(problem) = saved.with_untracked(|s| views::name_problem(s, &typed, renaming)) {
            message.set(Some(problem));
            return;
        }
        match purpose {
            Naming::SaveAs => {
                let (next, new_id) =
                    saved.with_untracked(|s| views::save_as(s, &current.get_untracked(), &typed));
                persist(next, AfterSave::Named(new_id));
            }
            Naming::Rename => {
                let next = saved.with_untracked(|s| views::rename(s, &id, &typed));
                persist(next, AfterSave::Named(id));
            }
        }
    };
    let save = move |_| {
        if naming.get_untracked() == Some(Naming::SaveAs) {
            confirm_name();
        } else if views::is_builtin(&current_id.get_untracked()) {
            // The built-in view cannot change: saving it makes a new one.
            start_naming(Naming::SaveAs);
        } else {
            let id = current_id.get_untracked();
            let next = saved.with_untracked(|s| views::save_over(s, &id, &current.get_untracked()));
            persist(next, AfterSave::Nothing);
        }
    };
    let set_default = move |_| {
        let next = saved.with_untracked(|s| views::set_default(s, &current_id.get_untracked()));
        persist(next, AfterSave::Nothing);
    };
    let delete = move |_| {
        if !confirm_delete.get_untracked() {
            confirm_delete.set(true);
            return;
        }
        confirm_delete.set(false);
        let id = current_id.get_untracked();
        let next = saved.with_untracked(|s| views::delete(s, &id));
        persist(next, AfterSave::Deleted);
    };
    let choose = move |id: String| {
        let state = saved.with_untracked(|s| views::saved_state(s, &id));
        current_id.set(id);
        apply.run(state);
        naming.set(None);
        sheet.set(Sheet::None);
        open.set(false);
    };
    let reset = move |_| {
        apply.run(saved.with_untracked(|s| views::saved_state(s, &current_id.get_untracked())));
    };
    let export = move |_| {
        let text = saved.with_untracked(|s| {
            views::export_json(s, &current_id.get_untracked(), &current.get_untracked())
        });
        sheet.set(Sheet::Export(text));
    };
    let import_now = move || {
        let text = import_text.get_untracked();
        match saved.with_untracked(|s| views::import_json(s, &text)) {
            Ok((next, id)) => persist(next, AfterSave::Imported(id)),
            Err(error) => message.set(Some(error)),
        }
    };
    let import = move |_| import_now();

    let saving_file = super::session::request_action::<request::SaveViewFile>();
    Effect::new(move |_| {
        if let Some(result) = saving_file.value().get() {
            message.set(Some(match result {
                Ok(path) => format!("Saved to {path}"),
                Err(e) => e,
            }));
        }
    });
    let save_file = move |_| {
        let view = saved.with_untracked(|s| {
            let id = current_id.get_untracked();
            current
                .get_untracked()
                .to_saved(&id, &views::view_name(s, &id))
        });
        saving_file.dispatch(request::SaveViewFile { view });
    };
    let import_file = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&event);
        let Some(file) = input.files().and_then(|files| files.get(0)) else {
            return;
        };
        spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|text| text.as_string());
            match text {
                Some(text) => {
                    import_text.set(text);
                    import_now();
                }
                None => message.set(Some("The file could not be read.".to_owned())),
            }
        });
    };
    // Clicks outside the menu and Escape close it.
    super::dom::close_on_outside(root, open);

    let options = move || {
        let mut all = vec![(
            DEFAULT_VIEW_ID.to_owned(),
            views::DEFAULT_VIEW_NAME.to_owned(),
        )];
        saved.with(|s| all.extend(s.views.iter().map(|v| (v.id.clone(), v.name.clone()))));
        let default_id = saved.with(|s| {
            s.default_view
                .clone()
                .unwrap_or_else(|| DEFAULT_VIEW_ID.to_owned())
        });
        all.into_iter()
            .map(|(id, label)| {
                let chosen = id.clone();
                let is_current = {
                    let id = id.clone();
                    Memo::new(move |_| current_id.with(|current| *current == id))
                };
                let is_default = id == default_id;
                view! {
                    <button
                        role="menuitemradio"
                        class="view-option"
                        data-testid="view-option"
                        data-view-id=id.clone()
                        aria-checked=move || is_current.get().to_string()
                        on:click=move |_| choose(chosen.clone())
                    >
                        <span class="view-check">{move || if is_current.get() { "✓" } else { "" }}</span>
                        {label}
                        {is_default.then(|| view! { <span class="view-default-mark" title="Opens at start">" ★"</span> })}
                    </button>
                }
            })
            .collect_view()
    };

    view! {
        <div class="view-menu" node_ref=root>
            <button
                class="button view-menu-button"
                data-testid="view-menu"
                aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                title=move || if dirty.get() { "This view has unsaved changes" } else { "Views" }
                on:click=move |_| open.set(true)
            >
                <span data-testid="view-name">{name}</span>
                <Show when=move || dirty.get()>
                    <span class="dirty-mark" data-testid="view-dirty" aria-label="unsaved changes">" •"</span>
                </Show>
                " ▼"
            </button>
            <Show when=move || open.get()>
                <div class="view-menu-panel" role="menu" aria-label="Views" data-testid="view-menu-panel">
                    <div class="view-options">{options}</div>
                    <div class="view-actions">
                        <button class="menu-action" data-testid="view-save" on:click=save
                            title="Save the changes into this view (the built-in view: as a new view)">
                            "Save"
                        </button>
                        <button class="menu-action" data-testid="view-save-as" on:click=move |_| start_naming(Naming::SaveAs)>
                            "Save as…"
                        </button>
                        <button class="menu-action" data-testid="view-rename" disabled=builtin on:click=move |_| start_naming(Naming::Rename)>
                            "Rename…"
                        </button>
                        <button class="menu-action" data-testid="view-delete" disabled=builtin on:click=delete>
                            {move || if confirm_delete.get() { format!("Delete “{}”? Click again", name()) } else { "Delete".to_owned() }}
                        </button>
                        <button class="menu-action" data-testid="view-set-default" on:click=set_default>
                            "Set as my default"
                        </button>
                        <button class="menu-action" data-testid="view-reset" disabled=move || !dirty.get() on:click=reset>
                            "Reset changes"
                        </button>
                        <button class="menu-action" data-testid="view-export" on:click=export>"Export…"</button>
                        <button class="menu-action" data-testid="view-import" on:click=move |_| sheet.set(Sheet::Import)>"Import…"</button>
                    </div>
                    <Show when=move || naming.get().is_some()>
                        <form class="view-name-form" on:submit=move |event: leptos::ev::SubmitEvent| {
                            event.prevent_default();
                            confirm_name();
                        }>
                            <label>
                                {move || if naming.get() == Some(Naming::Rename) { "New name" } else { "Name of the new view" }}
                                <input
                                    type="text"
                                    node_ref=name_input
                                    data-testid="view-name-input"
                                    maxlength=taskdeck_ipc::MAX_VIEW_NAME.to_string()
                                    prop:value=name_text
                                    on:input=move |event| name_text.set(event_target_value(&event))
                                />
                            </label>
                            <button type="submit" class="button button-primary" data-testid="view-name-confirm">"Save"</button>
                            <button type="button" class="button" on:click=move |_| naming.set(None)>"Cancel"</button>
                        </form>
                    </Show>
                    {move || match sheet.get() {
                        Sheet::None => None,
                        Sheet::Export(text) => Some(view! {
                            <div class="view-sheet">
                                <label>
                                    "This view as JSON: copy it to keep or share it."
                                    <textarea readonly data-testid="view-export-text" rows="8">{text}</textarea>
                                </label>
                                <button class="button button-primary" data-testid="view-export-file" on:click=save_file>"Save as a file"</button>
                                <button class="button" on:click=move |_| sheet.set(Sheet::None)>"Close"</button>
                            </div>
                        }.into_any()),
                        Sheet::Import => Some(view! {
                            <div class="view-sheet">
                                <label>
                                    "Paste a view exported from Taskdeck:"
                                    <textarea data-testid="view-import-text" rows="8"
                                        prop:value=import_text
                                        on:input=move |event| import_text.set(event_target_value(&event))
                                    ></textarea>
                                </label>
                                <button class="button button-primary" data-testid="view-import-confirm" on:click=import>"Import"</button>
                                <label class="file-pick">
                                    "…or choose a file: "
                                    <input type="file" accept=".json,application/json" data-testid="view-import-file" on:change=import_file />
                                </label>
                                <button class="button" on:click=move |_| sheet.set(Sheet::None)>"Close"</button>
                            </div>
                        }.into_any()),
                    }}
                    <Show when=move || message.with(Option::is_some)>
                        <p class="menu-message" role="alert" data-testid="view-message">{move || message.get()}</p>
                    </Show>
                </div>
            </Show>
        </div>
    }
}
