//! `/metrics` for `campus run`: request latencies measured by a layer,
//! database figures from [`campus_forms::runtime_ops::metrics`].

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Latency {
    /// Per bucket (not cumulative); the last slot is above every bound.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Latency {
    fn record(&self, seconds: f64) {
        let slot = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let name = "campus_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from request to answer head.\n# TYPE {name} histogram"
        );
        let mut total = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            total += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {total}");
        }
        total += self.counts[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {total}");
    }
}

/// `app` with its latencies measured and `/metrics` added.
pub fn with_metrics(app: Router, state: campus_forms::AppState) -> Router {
    let latency = Arc::new(Latency::default());
    let measured = latency.clone();
    app.route("/metrics", get(metrics).with_state((state, latency)))
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let latency = measured.clone();
                async move {
                    let start = Instant::now();
                    let response = next.run(request).await;
                    latency.record(start.elapsed().as_secs_f64());
                    response
                }
            },
        ))
}

async fn metrics(
    State((state, latency)): State<(campus_forms::AppState, Arc<Latency>)>,
) -> Response {
    let queued = state.intake.queued();
    let figures = tokio::task::spawn_blocking(move || {
        campus_forms::runtime_ops::metrics(&state, queued, campus_forms::store::now())
    })
    .await;
    match figures {
        Ok(Ok(mut text)) => {
            latency.render(&mut text);
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                )],
                text,
            )
                .into_response()
        }
        other => {
            tracing::error!(?other, "Kennzahlen nicht lesbar");
            (StatusCode::SERVICE_UNAVAILABLE, "Kennzahlen nicht lesbar").into_response()
        }
    }
}
