//! The group commit of form submissions: every acknowledged submission is
//! in the database after a burst; a full queue answers 503 with
//! `Retry-After` and loses nothing it acknowledged.

use crate::common::*;
use campus_forms::store::Table;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn contact_pairs(ts: &str, name: &str) -> Vec<(String, String)> {
    [
        ("name", name),
        ("organisation", "Stadt Beispiel"),
        ("email", "kontakt@beispiel.example"),
        ("telefon", "+49 621 000000"),
        ("termin1", "2099-02-10T10:00"),
        ("termin2", "2099-02-11T10:00"),
        ("termin3", "2099-02-12T14:30"),
        ("nachricht", "Bitte rufen Sie an."),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ts),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Posts contact request `i`: even numbers urlencoded, odd ones as JSON.
async fn post_contact(state: &campus_forms::AppState, ts: &str, i: usize) -> Reply {
    let name = format!("Person {i}");
    let pairs = contact_pairs(ts, &name);
    if i.is_multiple_of(2) {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        post_form(state, "/forms/kontakt", &refs).await
    } else {
        let body: serde_json::Map<String, serde_json::Value> =
            pairs.into_iter().map(|(k, v)| (k, json!(v))).collect();
        post_json(state, "/forms/kontakt", body.into()).await
    }
}

fn acknowledged(r: &Reply) -> bool {
    r.status == 303 || (r.status == 200 && r.body.contains("\"ok\":true"))
}

/// Names of the stored contact requests.
fn stored_names(state: &campus_forms::AppState) -> BTreeSet<String> {
    state
        .store
        .export("kontakt")
        .unwrap()
        .into_iter()
        .map(|r| r.payload["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_stored_completely_before_it_is_acknowledged() {
    let site = site_dir();
    let mut settings = settings(site.path());
    // All posts come from one test address: raise the per-IP limit explicitly.
    settings.per_ip_per_10_min = 10_000;
    let state = state_with(site.path(), settings);
    let ts = ts(&state, 5);
    let n = 400;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (state, ts) = (state.clone(), ts.clone());
            tokio::spawn(async move { (i, post_contact(&state, &ts, i).await) })
        })
        .collect();
    let mut acked = BTreeSet::new();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        assert!(acknowledged(&r), "{i}: {} {}", r.status, r.body);
        acked.insert(format!("Person {i}"));
    }
    assert_eq!(acked.len(), n);
    assert_eq!(stored_names(&state), acked);
    // Each with its consent and the mail to the office, in the same transaction.
    assert_eq!(state.store.count(Table::Consents).unwrap(), n as i64);
    assert_eq!(state.store.count(Table::Outbox).unwrap(), n as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_503_with_retry_after_and_loses_nothing_acknowledged() {
    let site = site_dir();
    let mut settings = settings(site.path());
    settings.per_ip_per_10_min = 10_000;
    settings.intake_queue = 4;
    let state = state_with(site.path(), settings);
    let ts = ts(&state, 5);

    // Plug the writer: a job that blocks inside the batch transaction until
    // released, so the queue behind it fills deterministically.
    let (running_tx, running_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let plug = {
        let state = state.clone();
        tokio::spawn(async move {
            state
                .intake
                .submit(Box::new(move |_tx| {
                    running_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    Ok(())
                }))
                .await
        })
    };
    tokio::task::spawn_blocking(move || running_rx.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("plug job running");
    assert_eq!(state.intake.queued(), 0);

    let n = 40;
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (state, ts, done) = (state.clone(), ts.clone(), done.clone());
            tokio::spawn(async move {
                let r = post_contact(&state, &ts, i).await;
                done.fetch_add(1, Ordering::SeqCst);
                (i, r)
            })
        })
        .collect();
    // Four wait in the queue, all others are refused at once.
    eventually("refusals", Duration::from_secs(20), || {
        (done.load(Ordering::SeqCst) == n - 4).then_some(())
    })
    .await;
    assert_eq!(state.intake.queued(), 4);
    release_tx.send(()).unwrap();
    plug.await.unwrap().unwrap();

    let mut acked = BTreeSet::new();
    let mut refused = 0;
    for t in tasks {
        let (i, r) = t.await.unwrap();
        if acknowledged(&r) {
            acked.insert(format!("Person {i}"));
            continue;
        }
        assert_eq!(r.status, 503, "{i}: {}", r.body);
        assert_eq!(r.headers["retry-after"], "2");
        if i % 2 == 0 {
            // The page repeats the values with a button to send them again.
            assert!(
                r.body.contains(&format!("value=\"Person {i}\"")),
                "{}",
                r.body
            );
            assert!(r.body.contains("Jetzt absenden"), "{}", r.body);
        } else {
            assert_eq!(r.json()["ok"], false);
        }
        refused += 1;
    }
    assert_eq!((acked.len(), refused), (4, n - 4));
    assert_eq!(stored_names(&state), acked, "exactly the acknowledged ones");
    assert_eq!(state.store.count(Table::Outbox).unwrap(), 4);

    // Once the queue drains, posts are accepted again.
    let r = post_contact(&state, &ts, 1000).await;
    assert!(acknowledged(&r), "{} {}", r.status, r.body);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 5);
}
