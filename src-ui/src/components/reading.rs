//! Reading from the backend what the window shows, one reading at a time:
//! the filtered Active tasks list and the filter menus' counts. Changes
//! that come during a reading make one more reading after it, not one
//! each, and an answer to a query no longer wanted is dropped.

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use site_api::ActiveTasksPage;
use taskdeck_ipc::{request, ErrorKind, ListQuery};

use crate::bridge;
use crate::facets::{FacetCounts, MENU_FIELDS};

/// Runs readings one at a time, for the latest input: an input that comes
/// while one runs waits for it, and of the waiting ones only the latest
/// runs.
pub struct OneAtATime<I: 'static> {
    /// Whether a reading runs, and the input waiting for it.
    state: StoredValue<(bool, Option<I>), LocalStorage>,
}

impl<I: 'static> Clone for OneAtATime<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: 'static> Copy for OneAtATime<I> {}

impl<I: Clone + 'static> OneAtATime<I> {
    /// Nothing running.
    pub fn new() -> OneAtATime<I> {
        OneAtATime {
            state: StoredValue::new_local((false, None)),
        }
    }

    /// Reads `input` with `read` now, or after the reading in flight.
    pub fn run<F, Fut>(self, input: I, read: F)
    where
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let busy = self.state.try_update_value(|(running, waiting)| {
            if *running {
                *waiting = Some(input.clone());
            }
            std::mem::replace(running, true)
        });
        if busy != Some(false) {
            return;
        }
        let state = self.state;
        spawn_local(async move {
            let mut next = input;
            loop {
                read(next).await;
                match state
                    .try_update_value(|(_, waiting)| waiting.take())
                    .flatten()
                {
                    Some(waiting) => next = waiting,
                    None => break,
                }
            }
            state.update_value(|(running, _)| *running = false);
        });
    }
}

/// What the filtered list holds: the Site's answer to the query and its error.
#[derive(Clone, Copy)]
pub struct FilteredList {
    /// The last answer to the query in force; `None` for the live list.
    pub page: RwSignal<Option<ActiveTasksPage>>,
    /// Why the last reading failed.
    pub error: RwSignal<Option<String>>,
    /// The query `page` answers.
    pub answered: RwSignal<Option<ListQuery>>,
}

impl FilteredList {
    /// Whether the list shows what `query` asks for (or gave up on it): a
    /// new filter's rows are in, or the live list needs no reading.
    pub fn settled(self, query: Memo<Option<ListQuery>>) -> Signal<bool> {
        Signal::derive(move || match query.get() {
            None => true,
            Some(query) => {
                self.error.with(Option::is_some)
                    || self
                        .answered
                        .with(|answered| answered.as_ref() == Some(&query))
            }
        })
    }
}

/// Reads the list `query` asks for (`None`: the live list, nothing to
/// read) whenever it or `changes` moves. A Site that refuses a filter of
/// revision 1.1 sets `older_site` (and is then asked without them).
pub fn keep_filtered_list(
    query: Memo<Option<ListQuery>>,
    changes: RwSignal<u64>,
    older_site: RwSignal<bool>,
) -> FilteredList {
    let list = FilteredList {
        page: RwSignal::new(None),
        error: RwSignal::new(None),
        answered: RwSignal::new(None),
    };
    let readings = OneAtATime::<ListQuery>::new();
    Effect::new(move |_| {
        changes.track();
        let Some(wanted) = query.get() else {
            list.page.set(None);
            list.answered.set(None);
            return;
        };
        readings.run(wanted, move |wanted| async move {
            let result = bridge::request(&request::ListTasks {
                query: wanted.clone(),
            })
            .await;
            // A slower answer to an older query must not win.
            if query.get_untracked().as_ref() != Some(&wanted) {
                return;
            }
            match result {
                Ok(page) => {
                    list.page.set(Some(page));
                    list.answered.set(Some(wanted));
                    list.error.set(None);
                }
                Err(error) if error.kind() == Some(ErrorKind::OlderSite) => {
                    older_site.set(true);
                }
                Err(error) => list.error.set(Some(error.to_string())),
            }
        });
    });
    list
}

/// How long the counts wait for the queue to settle before they are read again.
const FACETS_DEBOUNCE: Duration = Duration::from_millis(300);

/// Keeps the filter menus' counts for `query` (`None`: the whole queue)
/// while `open`: read when the menu opens or the query changes, and again
/// once `revision` (the queue's) has stopped moving for a moment; one
/// reading at a time. Rows first: after a change of filter the counts wait
/// until the list is `settled` (its rows are in), so the two readings do
/// not share the Site's time. A Site without facets (1.0) sets
/// `older_site` and is not asked again.
pub fn keep_facets(
    query: Signal<Option<ListQuery>>,
    revision: Signal<u64>,
    open: Signal<bool>,
    settled: Signal<bool>,
    older_site: RwSignal<bool>,
) -> RwSignal<FacetCounts> {
    let counts = RwSignal::new(FacetCounts::default());
    let readings = OneAtATime::<ListQuery>::new();
    // The last query asked for while open (`None` while closed), and a
    // ticket per change: a debounced reading runs only if still the last.
    let asked = StoredValue::new((None::<ListQuery>, 0u64));
    Effect::new(move |_| {
        revision.track();
        let wanted = query.get().unwrap_or_default();
        if !open.get() || older_site.get() {
            asked.update_value(|(last, _)| *last = None);
            return;
        }
        if !settled.get() {
            return;
        }
        let (at_once, ticket) = asked
            .try_update_value(|(last, ticket)| {
                *ticket += 1;
                let at_once = last.as_ref() != Some(&wanted);
                *last = Some(wanted.clone());
                (at_once, *ticket)
            })
            .unwrap_or_default();
        let read = move || {
            if asked.with_value(|(_, last)| *last != ticket) {
                return;
            }
            readings.run(wanted.clone(), move |wanted| async move {
                let result = bridge::request(&request::TaskFacets {
                    query: wanted.clone(),
                    fields: MENU_FIELDS.to_vec(),
                })
                .await;
                if query.get_untracked().unwrap_or_default() != wanted {
                    return;
                }
                match result {
                    Ok(facets) => counts.set(FacetCounts::new(facets)),
                    Err(error) if error.kind() == Some(ErrorKind::OlderSite) => {
                        older_site.set(true)
                    }
                    // The menus show no counts; the list says what failed.
                    Err(_) => {}
                }
            });
        };
        if at_once {
            read();
        } else {
            set_timeout(read, FACETS_DEBOUNCE);
        }
    });
    counts
}
