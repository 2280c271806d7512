//! Keeping bookings in line with the live dates in content, and the
//! background ticker that passes on expired offers.

use super::*;

/// What a content reload changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub published: usize,
    pub removed: usize,
    pub changed: usize,
    pub moved_to_waiting: usize,
    pub offers: usize,
}

/// Compares the live dates in content with the ones seen before: bookings
/// on a removed date go to the waiting list (and are told), new dates and
/// new free places are offered to the people waiting, people waiting for
/// the next possible date hear about a new date, and a changed event gets a
/// higher SEQUENCE (participants receive the updated calendar file).
pub fn sync_content(env: &Env) -> Result<SyncReport> {
    write(env, |tx| {
        let mut report = SyncReport::default();
        let known = tx.known_dates()?;
        // (id, title, what a change is seen by, date) of every upcoming live
        // date and event. The last is stored as the date's `title`: a unit's
        // title; an event's title with its times and place, so moving it to
        // another hour or room also sends the updated calendar file.
        let mut current: Vec<(&str, &str, String, String)> = env
            .site
            .units
            .iter()
            .map(std::sync::Arc::as_ref)
            .flat_map(|u| {
                u.upcoming_dates(env.today).map(move |d| {
                    (
                        u.id.as_str(),
                        u.title.as_str(),
                        u.title.clone(),
                        iso(d.date),
                    )
                })
            })
            .collect();
        current.extend(env.site.upcoming_events(env.today).map(|e| {
            let (start, end) = e.times_text();
            let seen = format!("{} ({start}–{end}, {})", e.title, e.place_text());
            (e.id.as_str(), e.title.as_str(), seen, iso(e.date))
        }));
        // Removed dates (past dates that drop out of content are not news).
        for k in known.iter().filter(|k| !k.removed) {
            let upcoming = parse_date(&k.date).is_some_and(|d| d >= env.today);
            if !upcoming
                || current
                    .iter()
                    .any(|(id, _, _, d)| *id == k.unit_id && *d == k.date)
            {
                continue;
            }
            report.removed += 1;
            tx.mark_date_removed(&k.unit_id, &k.date, env.ctx.now)?;
            let mut affected = tx.on_date(&k.unit_id, &k.date, Confirmed)?;
            affected.extend(tx.on_date(&k.unit_id, &k.date, Offered)?);
            affected.extend(tx.waiting_for(&k.unit_id, &k.date)?);
            affected.sort_by_key(|b| (b.queue_no.is_some(), b.queue_no, b.id));
            for b in affected {
                let change = Change::at(env.ctx.now)
                    .wanted(NEXT)
                    .note("Termin aus dem Angebot entfernt");
                let after = tx.move_to(b.id, b.state, Waiting, &Actor::System, change)?;
                tx.void_booking_tokens(b.id, Purpose::Offer, env.ctx.now)?;
                report.moved_to_waiting += 1;
                let date = parse_date(&k.date)
                    .map(time::german_long_date)
                    .unwrap_or_default();
                env.tell_waiting(tx, &after, "termin-abgesagt", &date)?;
            }
        }
        // New, reappearing and changed dates; then fill every upcoming date.
        for (id, title, seen, date) in &current {
            let (id, title) = (*id, *title);
            let k = known.iter().find(|k| k.unit_id == id && k.date == *date);
            let published = k.is_none_or(|k| k.removed);
            let changed = k.is_some_and(|k| !k.removed && k.title != *seen);
            let sequence = match k {
                None => 0,
                Some(k) if k.removed || changed => k.sequence + 1,
                Some(k) => k.sequence,
            };
            if k.is_none() || published || changed {
                tx.upsert_known_date(id, date, seen, sequence)?;
            }
            if changed {
                report.changed += 1;
                for mut b in tx.on_date(id, date, Confirmed)? {
                    b.unit_title = title.to_string();
                    env.tell_confirmed(tx, &b, true)?;
                }
            }
            report.offers += fill(env, tx, id, date)?;
            if published {
                report.published += 1;
                let d = parse_date(date)
                    .map(time::german_long_date)
                    .unwrap_or_default();
                for b in tx.waiting_for(id, NEXT)? {
                    env.tell(tx, &b, "buchung-neuer-termin", json!({ "date": d }), &[])?;
                }
            }
        }
        Ok(report)
    })
}

/// Background task: every `[buchung] pruefen_alle_sekunden` passes on
/// expired offers and queues due reminders, until `stop` turns true.
pub fn spawn_ticker(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let st = state.clone();
            match tokio::task::spawn_blocking(move || with_env(&st, "", expire_offers)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(lapsed = n, "Abgelaufene Angebote weitergegeben");
                    state.wake.notify_one();
                }
                Ok(Err(e)) => tracing::error!(error = %e, "Angebote nicht geprüft"),
                Err(e) => tracing::error!(error = %e, "Angebotsprüfung abgebrochen"),
            }
            let st = state.clone();
            let reminders = tokio::task::spawn_blocking(move || {
                with_env(&st, "", |env| send_reminders(env, &st.settings.reminders))
            });
            match reminders.await {
                Ok(Ok(r)) if r.total() == 0 => {}
                Ok(Ok(r)) => {
                    tracing::info!(mails = r.total(), "Erinnerungen verschickt");
                    state.wake.notify_one();
                }
                Ok(Err(e)) => tracing::error!(error = %e, "Erinnerungen nicht geprüft"),
                Err(e) => tracing::error!(error = %e, "Erinnerungsprüfung abgebrochen"),
            }
            tokio::select! {
                _ = tokio::time::sleep(state.settings.booking_tick) => {}
                _ = stop.changed() => {}
            }
        }
    })
}
