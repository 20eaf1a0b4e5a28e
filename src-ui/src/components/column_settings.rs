//! ⚙️ column settings: show or hide each column, reorder (drag, or the
//! arrow buttons and Alt+↑/↓ from the keyboard), density, and reset to the
//! view's saved layout. Widths are dragged on the header edges
//! ([`super::tasks_table`]).

use leptos::html;
use leptos::prelude::*;
use taskdeck_ipc::{ColumnKey, Density, ViewColumn};

use crate::views::{self, ViewState};

/// The ⚙️ button and its panel.
#[component]
pub fn ColumnSettings(
    columns: RwSignal<Vec<ViewColumn>>,
    density: RwSignal<Density>,
    /// The view's saved state, for "Reset".
    saved: Signal<ViewState>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let dragging = RwSignal::new(None::<ColumnKey>);
    let root = NodeRef::<html::Div>::new();

    super::dom::close_on_outside(root, open);

    let row = move |column: ViewColumn| {
        let key = column.key;
        let shown =
            move || columns.with(|columns| columns.iter().any(|c| c.key == key && c.visible));
        let last_shown = move || shown() && columns.with(|c| views::visible_columns(c).len() == 1);
        view! {
            <li
                class="column-row"
                class:dragging=move || dragging.get() == Some(key)
                draggable="true"
                data-testid=format!("column-row-{}", key.as_str())
                on:dragstart=move |_| dragging.set(Some(key))
                on:dragend=move |_| dragging.set(None)
                on:dragover=move |event: leptos::ev::DragEvent| event.prevent_default()
                on:drop=move |event: leptos::ev::DragEvent| {
                    event.prevent_default();
                    if let Some(moved) = dragging.get_untracked() {
                        columns.update(|c| views::move_column_to(c, moved, key));
                    }
                    dragging.set(None);
                }
                on:keydown=move |event: leptos::ev::KeyboardEvent| {
                    let step = match event.key().as_str() {
                        "ArrowUp" if event.alt_key() => -1,
                        "ArrowDown" if event.alt_key() => 1,
                        _ => return,
                    };
                    event.prevent_default();
                    columns.update(|c| views::move_column(c, key, step));
                }
            >
                <span class="drag-handle" aria-hidden="true">"⠿"</span>
                <label class="column-label">
                    <input
                        type="checkbox"
                        data-testid=format!("column-toggle-{}", key.as_str())
                        prop:checked=shown
                        disabled=last_shown
                        title=move || if last_shown() { "At least one column stays shown" } else { "" }
                        on:change=move |_| columns.update(|c| views::toggle_column(c, key))
                    />
                    {key.label()}
                </label>
                <button
                    class="icon-button"
                    data-testid=format!("column-up-{}", key.as_str())
                    aria-label=format!("Move {} earlier", key.label())
                    on:click=move |_| columns.update(|c| views::move_column(c, key, -1))
                >"▲"</button>
                <button
                    class="icon-button"
                    data-testid=format!("column-down-{}", key.as_str())
                    aria-label=format!("Move {} later", key.label())
                    on:click=move |_| columns.update(|c| views::move_column(c, key, 1))
                >"▼"</button>
            </li>
        }
    };

    view! {
        <div class="column-settings" node_ref=root>
            <button
                class="button"
                data-testid="column-settings"
                aria-haspopup="dialog"
                aria-expanded=move || open.get().to_string()
                title="Columns and density"
                aria-label="Column settings"
                on:click=move |_| open.set(true)
            >
                // A drawn gear: the ⚙️ emoji needs a colour-emoji font, which
                // many Linux desktops lack (it shows as an empty box).
                <svg class="gear-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
                    <circle cx="8" cy="8" r="2.2" fill="none" stroke="currentColor" stroke-width="1.4" />
                    <circle cx="8" cy="8" r="4.6" fill="none" stroke="currentColor" stroke-width="1.4" />
                    <path
                        d="M8 1.2v2.2 M8 12.6v2.2 M1.2 8h2.2 M12.6 8h2.2 M3.2 3.2l1.6 1.6 M11.2 11.2l1.6 1.6 M3.2 12.8l1.6-1.6 M11.2 4.8l1.6-1.6"
                        stroke="currentColor"
                        stroke-width="1.8"
                        stroke-linecap="round"
                    />
                </svg>
            </button>
            <Show when=move || open.get()>
                <div class="column-panel" role="dialog" aria-label="Column settings" data-testid="column-panel">
                    <p class="hint">"Drag to reorder, or Alt+↑/↓. Drag a header's edge to set its width."</p>
                    <ul class="column-list">
                        <For
                            each=move || columns.get()
                            key=|column: &ViewColumn| column.key
                            children=row
                        />
                    </ul>
                    <fieldset class="density">
                        <legend>"Density"</legend>
                        {[(Density::Comfortable, "Comfortable"), (Density::Compact, "Compact")]
                            .into_iter()
                            .map(|(value, label)| view! {
                                <label>
                                    <input
                                        type="radio"
                                        name="density"
                                        data-testid=format!("density-{}", label.to_lowercase())
                                        prop:checked=move || density.get() == value
                                        on:change=move |_| density.set(value)
                                    />
                                    {label}
                                </label>
                            })
                            .collect_view()}
                    </fieldset>
                    <button
                        class="button"
                        data-testid="column-reset"
                        title="Back to the columns and density the view was saved with"
                        on:click=move |_| {
                            let base = saved.get_untracked();
                            columns.set(base.columns);
                            density.set(base.density);
                        }
                    >
                        "Reset to the view"
                    </button>
                </div>
            </Show>
        </div>
    }
}
