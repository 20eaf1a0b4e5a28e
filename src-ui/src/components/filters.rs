//! Search and Filter: one box over target, task, scope and initiator
//! (debounced), and a panel of status and kind filters, shown as removable
//! chips while in force.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use site_api::{TaskKind, TaskStatus};

/// How long typing must pause before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// The search box: writes `search` once typing pauses.
#[component]
pub fn SearchBox(search: RwSignal<String>) -> impl IntoView {
    let typed = RwSignal::new(search.get_untracked());
    // A view applied from elsewhere brings its search text into the box.
    Effect::new(move |_| {
        let wanted = search.get();
        if typed.get_untracked().trim() != wanted.trim() {
            typed.set(wanted);
        }
    });
    let on_input = move |event| {
        let text = event_target_value(&event);
        typed.set(text.clone());
        set_timeout(
            move || {
                if typed.get_untracked() == text {
                    search.set(text);
                }
            },
            DEBOUNCE,
        );
    };
    view! {
        <input
            type="search"
            class="search"
            data-testid="search-input"
            placeholder="Search target, task, scope, initiator"
            aria-label="Search the Active tasks"
            prop:value=typed
            on:input=on_input
        />
    }
}

/// The Filter button, its panel, and the chips of the filters in force.
#[component]
pub fn FilterMenu(
    statuses: RwSignal<BTreeSet<TaskStatus>>,
    kinds: RwSignal<BTreeSet<TaskKind>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let active = move || statuses.with(BTreeSet::len) + kinds.with(BTreeSet::len);
    let status_box = move |status: TaskStatus| {
        view! {
            <label class="filter-option">
                <input
                    type="checkbox"
                    data-testid=format!("filter-status-{}", status.as_str())
                    prop:checked=move || statuses.with(|set| set.contains(&status))
                    on:change=move |_| statuses.update(|set| {
                        if !set.remove(&status) {
                            set.insert(status);
                        }
                    })
                />
                {status.label()}
            </label>
        }
    };
    let kind_box = move |kind: TaskKind| {
        view! {
            <label class="filter-option">
                <input
                    type="checkbox"
                    data-testid=format!("filter-kind-{}", kind.as_str())
                    prop:checked=move || kinds.with(|set| set.contains(&kind))
                    on:change=move |_| kinds.update(|set| {
                        if !set.remove(&kind) {
                            set.insert(kind);
                        }
                    })
                />
                {kind.title()}
            </label>
        }
    };
    let status_chips = move || {
        statuses
            .get()
            .into_iter()
            .map(|status| {
                let remove = move |_| {
                    statuses.update(|set| {
                        set.remove(&status);
                    })
                };
                view! {
                    <button class="chip-filter" title="Remove this filter" on:click=remove>
                        {format!("Status: {} ✕", status.label())}
                    </button>
                }
            })
            .collect_view()
    };
    let kind_chips = move || {
        kinds
            .get()
            .into_iter()
            .map(|kind| {
                let remove = move |_| {
                    kinds.update(|set| {
                        set.remove(&kind);
                    })
                };
                view! {
                    <button class="chip-filter" title="Remove this filter" on:click=remove>
                        {format!("Task: {} ✕", kind.title())}
                    </button>
                }
            })
            .collect_view()
    };
    view! {
        <div class="filter">
            <button
                class="button"
                data-testid="filter-button"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if active() > 0 { format!("Filter ({})", active()) } else { "Filter".to_owned() }}
            </button>
            <Show when=move || open.get()>
                <div class="filter-panel" data-testid="filter-panel" role="group" aria-label="Filters">
                    <fieldset>
                        <legend>"Status"</legend>
                        {status_box(TaskStatus::Queued)}
                        {status_box(TaskStatus::Running)}
                    </fieldset>
                    <fieldset>
                        <legend>"Task"</legend>
                        {kind_box(TaskKind::Scan)}
                        {kind_box(TaskKind::Audit)}
                    </fieldset>
                </div>
            </Show>
        </div>
        <div class="chips">{status_chips}{kind_chips}</div>
    }
}
