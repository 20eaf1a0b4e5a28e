//! Signal banners: a long queue, a task running for hours, an Audit Service
//! offline, as the Site reports them.

use leptos::prelude::*;
use taskdeck_ipc::SignalsNow;

/// One banner per signal in force.
#[component]
pub fn Signals(signals: RwSignal<Option<SignalsNow>>) -> impl IntoView {
    let list = move || signals.with(|s| s.as_ref().map(|s| s.signals.clone()).unwrap_or_default());
    view! {
        <div class="signals" aria-live="polite">
            <For
                each=list
                key=|signal| format!("{signal:?}")
                children=move |signal| {
                    view! {
                        <div
                            class=format!("notice notice-warning signal signal-{}", signal.kind())
                            role="status"
                            data-testid="signal-banner"
                            data-kind=signal.kind()
                        >
                            {signal.message().to_owned()}
                        </div>
                    }
                }
            />
        </div>
    }
}
