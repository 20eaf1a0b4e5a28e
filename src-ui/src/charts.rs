//! The Dashboard's numbers as plain data: minute buckets gathered into
//! hours, and the points of a line chart.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use site_api::StatsBucket;

/// One hour of the Site's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hour {
    /// The hour's start.
    pub at: DateTime<Utc>,
    /// The longest the queue was at a minute's end.
    pub queued: u64,
    /// The most tasks running at a minute's end.
    pub running: u64,
    /// Tasks that finished.
    pub finished: u64,
    /// Tasks that failed.
    pub failed: u64,
    /// Tasks cancelled.
    pub cancelled: u64,
}

/// Minute buckets (oldest first) gathered into hours, oldest first.
pub fn hourly(history: &[StatsBucket]) -> Vec<Hour> {
    let mut hours: Vec<Hour> = Vec::new();
    for bucket in history {
        let at = bucket
            .at
            .duration_trunc(TimeDelta::hours(1))
            .unwrap_or(bucket.at);
        match hours.last_mut() {
            Some(hour) if hour.at == at => {
                hour.queued = hour.queued.max(bucket.queued);
                hour.running = hour.running.max(bucket.running);
                hour.finished += bucket.finished;
                hour.failed += bucket.failed;
                hour.cancelled += bucket.cancelled;
            }
            _ => hours.push(Hour {
                at,
                queued: bucket.queued,
                running: bucket.running,
                finished: bucket.finished,
                failed: bucket.failed,
                cancelled: bucket.cancelled,
            }),
        }
    }
    hours
}

/// The SVG `points` of `values` in a `width` × `height` box, the largest
/// value (at least `floor`) at the top.
pub fn polyline(values: &[u64], width: f64, height: f64, floor: u64) -> String {
    let top = values.iter().copied().max().unwrap_or(0).max(floor).max(1) as f64;
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                height - *v as f64 / top * height
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Busy slots as a whole percentage of all slots.
pub fn utilisation(busy: u64, total: u64) -> u64 {
    (busy * 100).checked_div(total).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(at: &str, queued: u64, finished: u64, failed: u64) -> StatsBucket {
        StatsBucket {
            at: at.parse().unwrap(),
            queued,
            running: 1,
            finished,
            failed,
            cancelled: 0,
        }
    }

    #[test]
    fn minutes_gather_into_hours() {
        let hours = hourly(&[
            bucket("2026-11-28T09:58:00Z", 4, 1, 0),
            bucket("2026-11-28T09:59:00Z", 9, 2, 1),
            bucket("2026-11-28T10:00:00Z", 3, 5, 0),
        ]);
        assert_eq!(hours.len(), 2);
        assert_eq!(
            (hours[0].queued, hours[0].finished, hours[0].failed),
            (9, 3, 1)
        );
        assert_eq!(hours[1].at.to_rfc3339(), "2026-11-28T10:00:00+00:00");
        assert!(hourly(&[]).is_empty());
    }

    #[test]
    fn a_polyline_spans_the_box_with_the_peak_on_top() {
        assert_eq!(
            polyline(&[0, 5, 10], 100.0, 50.0, 0),
            "0.0,50.0 50.0,25.0 100.0,0.0"
        );
        assert_eq!(polyline(&[0, 0], 10.0, 10.0, 4), "0.0,10.0 10.0,10.0");
        assert_eq!(polyline(&[], 10.0, 10.0, 0), "");
        assert_eq!(utilisation(3, 6), 50);
        assert_eq!(utilisation(0, 0), 0);
    }
}
