//! The metrics listener: `GET /metrics` on an address of its own (never the API's), the
//! database's gauges read at each scrape. What is recorded, and where, is `crate::metrics`.

use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::metrics::install;

/// The scrape: gauges read from the database at this moment, then the text.
async fn scrape(app: App) -> Response {
    let handle = install();
    match app.operational_figures().await {
        Ok(f) => {
            metrics::gauge!("claimtrail_audit_log_entries").set(f.audit_entries as f64);
            metrics::gauge!("claimtrail_changes_head_seq").set(f.changes_head as f64);
            metrics::gauge!("claimtrail_webhook_deliveries_pending")
                .set(f.pending_deliveries as f64);
            metrics::gauge!("claimtrail_webhook_oldest_pending_age_seconds")
                .set(f.oldest_pending_age.map_or(0.0, |d| d.as_secs_f64()));
            if let Some((in_use, idle)) = f.pool {
                metrics::gauge!("claimtrail_db_pool_connections", "state" => "in_use")
                    .set(in_use as f64);
                metrics::gauge!("claimtrail_db_pool_connections", "state" => "idle")
                    .set(idle as f64);
            }
            metrics::gauge!("claimtrail_up").set(1.0);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database figures could not be read");
            metrics::gauge!("claimtrail_up").set(0.0);
        }
    }
    handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// The metrics listener's router: `GET /metrics` only.
pub fn router(app: App) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(move || scrape(app.clone())))
}

/// Serves `GET /metrics` on `listener` until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
