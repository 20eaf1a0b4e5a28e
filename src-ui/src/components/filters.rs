//! Search and Filter: one box over target, task, scope and initiator
//! (debounced), and a panel of filters (status, kind, target type,
//! initiator, scope, start date), shown as removable chips while in force.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use site_api::{TargetType, TaskKind, TaskStatus};
use taskdeck_ipc::{InitiatorFilter, StartedFilter};

use crate::format::{self, STARTED_PRESETS};

/// How long typing must pause before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// A text field for `target`: what is typed, and the input handler that
/// writes it to `target` once typing pauses. A value set elsewhere (a view
/// applied) comes into the field.
fn debounced(target: RwSignal<String>) -> (RwSignal<String>, impl Fn(leptos::ev::Event) + Copy) {
    let typed = RwSignal::new(target.get_untracked());
    Effect::new(move |_| {
        let wanted = target.get();
        if typed.get_untracked().trim() != wanted.trim() {
            typed.set(wanted);
        }
    });
    let on_input = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        typed.set(text.clone());
        set_timeout(
            move || {
                if typed.get_untracked() == text {
                    target.set(text);
                }
            },
            DEBOUNCE,
        );
    };
    (typed, on_input)
}

/// The search box: writes `search` once typing pauses.
#[component]
pub fn SearchBox(
    search: RwSignal<String>,
    /// Its test hook.
    #[prop(default = "search-input")]
    testid: &'static str,
    /// What it searches, for the placeholder and screen readers.
    #[prop(default = "the Active tasks")]
    over: &'static str,
) -> impl IntoView {
    let (typed, on_input) = debounced(search);
    view! {
        <input
            type="search"
            class="search"
            data-testid=testid
            placeholder="Search target, task, scope, initiator"
            aria-label=format!("Search {over}")
            prop:value=typed
            on:input=on_input
        />
    }
}

/// A removable chip for a filter in force.
fn chip(label: String, remove: impl Fn() + 'static) -> impl IntoView {
    view! {
        <button class="chip-filter" data-testid="filter-chip" title="Remove this filter" on:click=move |_| remove()>
            {format!("{label} ✕")}
        </button>
    }
}

/// A checkbox that adds or removes `value` from `set`.
fn set_box<T: Ord + Copy + Send + Sync + 'static>(
    set: RwSignal<BTreeSet<T>>,
    value: T,
    testid: String,
    label: &'static str,
) -> impl IntoView {
    view! {
        <label class="filter-option">
            <input
                type="checkbox"
                data-testid=testid
                prop:checked=move || set.with(|set| set.contains(&value))
                on:change=move |_| set.update(|set| {
                    if !set.remove(&value) {
                        set.insert(value);
                    }
                })
            />
            {label}
        </label>
    }
}

/// The filters of the Active tasks list, one signal each.
#[derive(Clone, Copy)]
pub struct FilterSignals {
    /// Only these statuses.
    pub statuses: RwSignal<BTreeSet<TaskStatus>>,
    /// Only these kinds.
    pub kinds: RwSignal<BTreeSet<TaskKind>>,
    /// Only these target types.
    pub target_types: RwSignal<BTreeSet<TargetType>>,
    /// Only this initiator.
    pub initiator: RwSignal<Option<InitiatorFilter>>,
    /// Only scopes containing this text.
    pub scope: RwSignal<String>,
    /// Only tasks started in this range.
    pub started: RwSignal<Option<StartedFilter>>,
}

/// The Filter button, its panel, and the chips of the filters in force:
/// status, kind, target type, initiator (me, Schedule, or an email), scope
/// (suggesting the scopes of `scopes`) and start date.
#[component]
pub fn FilterMenu(filters: FilterSignals, scopes: Signal<Vec<String>>) -> impl IntoView {
    let FilterSignals {
        statuses,
        kinds,
        target_types,
        initiator,
        scope,
        started,
    } = filters;
    let open = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let active = move || {
        statuses.with(BTreeSet::len)
            + kinds.with(BTreeSet::len)
            + target_types.with(BTreeSet::len)
            + initiator.with(|i| usize::from(i.is_some()))
            + scope.with(|s| usize::from(!s.trim().is_empty()))
            + started.with(|s| usize::from(s.is_some()))
    };
    let chips = move || {
        let mut chips = Vec::new();
        for status in statuses.get() {
            chips.push(
                chip(format!("Status: {}", status.label()), move || {
                    statuses.update(|set| {
                        set.remove(&status);
                    })
                })
                .into_any(),
            );
        }
        for kind in kinds.get() {
            chips.push(
                chip(format!("Task: {}", kind.title()), move || {
                    kinds.update(|set| {
                        set.remove(&kind);
                    })
                })
                .into_any(),
            );
        }
        for target_type in target_types.get() {
            chips.push(
                chip(format!("Target: {}", target_type.title()), move || {
                    target_types.update(|set| {
                        set.remove(&target_type);
                    })
                })
                .into_any(),
            );
        }
        if let Some(who) = initiator.get() {
            let label = match who {
                InitiatorFilter::Me => "Initiator: me".to_owned(),
                InitiatorFilter::Schedule => "Initiator: Schedule".to_owned(),
                InitiatorFilter::Email(email) => format!("Initiator: {email}"),
            };
            chips.push(chip(label, move || initiator.set(None)).into_any());
        }
        let typed_scope = scope.get();
        if !typed_scope.trim().is_empty() {
            chips.push(
                chip(format!("Scope: {}", typed_scope.trim()), move || {
                    scope.set(String::new())
                })
                .into_any(),
            );
        }
        if let Some(range) = started.get() {
            let label = format!(
                "Started {}",
                format::started_text(range, super::local_offset())
            );
            chips.push(chip(label, move || started.set(None)).into_any());
        }
        chips
    };
    let initiator_choice = move |value: &'static str| {
        initiator.with(|i| {
            matches!(
                (i, value),
                (None, "anyone")
                    | (Some(InitiatorFilter::Me), "me")
                    | (Some(InitiatorFilter::Schedule), "schedule")
                    | (Some(InitiatorFilter::Email(_)), "email")
            )
        })
    };
    let set_initiator = move |value: &'static str| {
        initiator.set(match value {
            "me" => Some(InitiatorFilter::Me),
            "schedule" => Some(InitiatorFilter::Schedule),
            "email" => {
                let typed = email.get_untracked();
                (!typed.trim().is_empty()).then(|| InitiatorFilter::Email(typed.trim().to_owned()))
            }
            _ => None,
        })
    };
    let initiator_radio = move |value: &'static str, label: &'static str| {
        view! {
            <label class="filter-option">
                <input
                    type="radio"
                    name="initiator"
                    data-testid=format!("filter-initiator-{value}")
                    prop:checked=move || initiator_choice(value)
                    on:change=move |_| set_initiator(value)
                />
                {label}
            </label>
        }
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
                        {set_box(statuses, TaskStatus::Queued, "filter-status-queued".to_owned(), TaskStatus::Queued.label())}
                        {set_box(statuses, TaskStatus::Running, "filter-status-running".to_owned(), TaskStatus::Running.label())}
                    </fieldset>
                    <fieldset>
                        <legend>"Task"</legend>
                        {set_box(kinds, TaskKind::Scan, "filter-kind-scan".to_owned(), TaskKind::Scan.title())}
                        {set_box(kinds, TaskKind::Audit, "filter-kind-audit".to_owned(), TaskKind::Audit.title())}
                    </fieldset>
                    <fieldset>
                        <legend>"Target"</legend>
                        {[TargetType::Device, TargetType::Segment, TargetType::CloudResource]
                            .into_iter()
                            .map(|t| set_box(target_types, t, format!("filter-target-{}", t.as_str()), t.title()))
                            .collect_view()}
                    </fieldset>
                    <fieldset>
                        <legend>"Initiator"</legend>
                        {initiator_radio("anyone", "Anyone")}
                        {initiator_radio("me", "Me")}
                        {initiator_radio("schedule", "Schedule")}
                        <label class="filter-option">
                            <input
                                type="radio"
                                name="initiator"
                                data-testid="filter-initiator-email"
                                aria-label="Started by this email"
                                prop:checked=move || initiator_choice("email")
                                on:change=move |_| set_initiator("email")
                            />
                            <input
                                type="email"
                                class="filter-email"
                                data-testid="filter-initiator-email-input"
                                placeholder="user@example.com"
                                aria-label="Initiator email"
                                prop:value=email
                                on:input=move |event| email.set(event_target_value(&event))
                                on:change=move |_| set_initiator("email")
                            />
                        </label>
                    </fieldset>
                    <ScopeField scope=scope scopes=scopes />
                    <StartedField started=started />
                </div>
            </Show>
        </div>
        <div class="chips">{chips}</div>
    }
}

/// The scope filter: a text the task's scope must contain, applied once
/// typing pauses, with the scopes in view as suggestions.
#[component]
fn ScopeField(scope: RwSignal<String>, scopes: Signal<Vec<String>>) -> impl IntoView {
    let (typed, on_input) = debounced(scope);
    view! {
        <fieldset>
            <legend>"Scope"</legend>
            <input
                type="text"
                class="filter-text"
                data-testid="filter-scope"
                list="filter-scopes"
                placeholder="Segment HQ-LAN"
                aria-label="Scope contains"
                prop:value=typed
                on:input=on_input
            />
            <datalist id="filter-scopes">
                {move || scopes.get().into_iter().map(|s| view! { <option value=s></option> }).collect_view()}
            </datalist>
        </fieldset>
    }
}

/// The start-date filter: ranges relative to now (which move with the
/// clock) or between two local times.
#[component]
fn StartedField(started: RwSignal<Option<StartedFilter>>) -> impl IntoView {
    let offset = super::local_offset();
    let choice = move || match started.get() {
        None => "any".to_owned(),
        Some(StartedFilter::Between { .. }) => "between".to_owned(),
        Some(range) => STARTED_PRESETS
            .iter()
            .find(|(_, preset)| *preset == range)
            .map(|(choice, _)| (*choice).to_owned())
            .unwrap_or_else(|| "other".to_owned()),
    };
    let choose = move |event| {
        let value = event_target_value(&event);
        started.set(match value.as_str() {
            "any" => None,
            "between" => Some(StartedFilter::Between {
                from: None,
                to: None,
            }),
            "other" => started.get_untracked(),
            chosen => STARTED_PRESETS
                .iter()
                .find(|(choice, _)| *choice == chosen)
                .map(|(_, preset)| *preset),
        })
    };
    // A range from elsewhere (an imported view) that is no preset.
    let other = move || {
        (choice() == "other").then(|| {
            let text = started
                .get()
                .map(|range| format::started_text(range, offset))
                .unwrap_or_default();
            view! { <option value="other">{text}</option> }
        })
    };
    let end = move |from_end: bool| {
        let value = move || match started.get() {
            Some(StartedFilter::Between { from, to }) => (if from_end { from } else { to })
                .map(|at| format::datetime_local_value(at, offset))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let set = move |event| {
            let at = format::parse_datetime_local(&event_target_value(&event), offset);
            started.update(|range| {
                if let Some(StartedFilter::Between { from, to }) = range {
                    *(if from_end { from } else { to }) = at;
                }
            });
        };
        let (testid, label) = if from_end {
            ("filter-started-from", "Started from")
        } else {
            ("filter-started-to", "Started before")
        };
        view! {
            <label class="filter-option">
                {label}
                <input type="datetime-local" data-testid=testid aria-label=label prop:value=value on:change=set />
            </label>
        }
    };
    view! {
        <fieldset>
            <legend>"Start date"</legend>
            <select data-testid="filter-started" aria-label="Started" prop:value=choice on:change=choose>
                <option value="any">"At any time"</option>
                {STARTED_PRESETS
                    .iter()
                    .map(|(value, preset)| view! { <option value=*value>{format::started_text(*preset, offset)}</option> })
                    .collect_view()}
                {other}
                <option value="between">"Between…"</option>
            </select>
            <Show when=move || choice() == "between">
                {end(true)}
                {end(false)}
            </Show>
        </fieldset>
    }
}
