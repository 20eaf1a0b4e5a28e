//! What the server's benchmarks share: a token, timed sequential GETs, and
//! the zero-duration task of the throughput runs.

use std::time::{Duration, Instant};

use site_api::TokenResponse;
use taskdeck_testing::measure::percentile;

/// The client id and secret every benchmark configuration registers.
pub const CLIENT_ID: &str = "bench000000000000001";
/// Its secret.
pub const CLIENT_SECRET: &str = "bench";

/// An access token from the server at `url` for [`CLIENT_ID`].
pub async fn token(http: &reqwest::Client, url: &str) -> String {
    http.post(format!("{url}/api/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json::<TokenResponse>()
        .await
        .unwrap()
        .access_token
}

/// p50 and p99 of `n` sequential GETs of `url`, each read to its end.
pub async fn sequential_gets(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    n: usize,
) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let response = http.get(url).bearer_auth(token).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let _ = response.bytes().await.unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// A new task that runs for no time and finishes: the throughput runs'.
pub fn zero_duration(i: usize, scope: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "scan", "target": {"type": "device", "name": format!("TP-{i}")}, "scope": scope,
        "simulate": {"duration_ms": 0, "outcome": "finished"}
    })
}
