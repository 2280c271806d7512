//! Several nodes on one PostgreSQL database: the per-address request limit
//! counts the hits of every node together, in the database, and its rows
//! go once they left the window. (SQLite runs one process; its limiter is
//! in memory and tested in `http`.)

use crate::common::*;
use std::time::Duration;

/// Two nodes (two states) of one site on one fresh PostgreSQL database,
/// with one manual clock (moving it moves both) and a limit of 2 posts.
fn two_nodes() -> Option<(
    tempfile::TempDir,
    campus_forms::AppState,
    campus_forms::AppState,
)> {
    let url = crate::pg::fresh_database()?;
    let site = site_dir();
    let clock = campus_forms::clock::Clock::manual();
    let node = || {
        let mut s = settings(site.path());
        s.clock = clock.clone();
        s.database = campus_forms::store::Location::Postgres(url.clone());
        s.per_ip_per_10_min = 2;
        state_with(site.path(), s)
    };
    let (a, b) = (node(), node());
    Some((site, a, b))
}

async fn newsletter(state: &campus_forms::AppState) -> Reply {
    let ts = ts(state, 5);
    let pairs = [
        ("email", "leser@beispiel.example"),
        ("einwilligung", "ja"),
        ("ts", ts.as_str()),
    ];
    post_form(state, "/forms/newsletter", &pairs).await
}

#[tokio::test]
async fn the_per_address_limit_counts_the_posts_of_both_nodes_together() {
    let Some((_site, a, b)) = two_nodes() else {
        return;
    };
    let clock = a.settings.clock.clone();
    assert_eq!(newsletter(&a).await.status, 303);
    assert_eq!(newsletter(&b).await.status, 303);
    // The third post from the address is refused on either node.
    let refused = newsletter(&a).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&wait), "Retry-After {wait}");
    assert_eq!(newsletter(&b).await.status, 429);
    // Only the accepted hits are kept, and only as keyed hashes.
    let keys: Vec<String> = a
        .store
        .read(|tx| tx.query_map("SELECT key_hash FROM request_limits", &[], |r| r.get(0)))
        .unwrap();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| !k.contains(CLIENT_IP)),
        "{keys:?}"
    );
    let hits: i64 = a
        .store
        .read(|tx| {
            tx.query_row(
                "SELECT CAST(sum(hits) AS BIGINT) FROM request_limits",
                &[],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(hits, 2, "refused posts are not counted");

    // Once the window has passed, the address may post again, and the
    // expired rows are deleted (the table stays bounded).
    clock.advance(Duration::from_secs(599));
    assert_eq!(newsletter(&b).await.status, 429, "the window lasts 600 s");
    clock.advance(Duration::from_secs(1));
    // Node a last swept at the first post (each node sweeps at most once
    // a minute); now it deletes the expired row first.
    assert_eq!(newsletter(&a).await.status, 303);
    assert_eq!(
        a.store.request_limit_rows().unwrap(),
        1,
        "only the new hit is left"
    );
}

/// Two nodes recording invoices at the same moment (each in its own
/// transaction, 8 at a time each) draw the numbers 1, 2, 3, … without a gap
/// and without a run failing over a number the other took.
#[test]
fn invoice_numbers_from_two_nodes_at_once_have_no_gap() {
    use campus_forms::store::{Location, NewInvoice, NewInvoiceLine, Store};
    let Some(url) = crate::pg::fresh_database() else {
        return;
    };
    let nodes: Vec<std::sync::Arc<Store>> = (0..2)
        .map(|_| std::sync::Arc::new(Store::open(Location::Postgres(url.clone())).unwrap()))
        .collect();
    let start = std::sync::Arc::new(std::sync::Barrier::new(16));
    let runs: Vec<_> = (0..16)
        .map(|i| {
            let (store, start) = (nodes[i % 2].clone(), start.clone());
            std::thread::spawn(move || {
                let lines = [NewInvoiceLine {
                    item_key: format!("posten-{i}"),
                    booking_id: None,
                    description: "Teilnahme".into(),
                    service_date: "2027-02-10".into(),
                    vat_percent: 19,
                    net_cents: 10_000,
                    vat_cents: 1_900,
                    gross_cents: 11_900,
                }];
                start.wait();
                store.write(|tx| {
                    tx.record_invoice(&NewInvoice {
                        credit_note: false,
                        authority_id: "mitgliedsstadt",
                        period_from: "2027-01-01",
                        period_to: "2027-03-31",
                        issued_at: 1_800_000_000,
                        corrects: None,
                        lines: &lines,
                    })
                    .map(|row| row.number)
                })
            })
        })
        .collect();
    let mut numbers: Vec<i64> = runs
        .into_iter()
        .map(|r| r.join().unwrap().expect("every run records its invoice"))
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=16).collect::<Vec<i64>>());
}
