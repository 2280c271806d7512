//! "Meine Buchungen": a person asks for a link by e-mail and sees all their
//! bookings, waiting-list places and offers, with cancel and calendar
//! download. The link is signed for its purpose, names the address and
//! runs out; it reads, the actions are the existing signed POST links.

use super::*;

/// Where the page lives (below the backend's URL).
pub const MY_BOOKINGS_PATH: &str = "/forms/meine-buchungen/";

impl Env<'_> {
    /// A link to the overview of `email`, valid for the confirmation time.
    fn my_bookings_link(&self, email: &str) -> String {
        let until = self.ctx.now + self.ctx.confirm_valid.as_secs() as i64;
        let token = self
            .ctx
            .signer
            .sign(Purpose::MyBookings, &format!("{until}|{email}"));
        format!("{}{MY_BOOKINGS_PATH}{token}", self.ctx.backend_url)
    }
}

/// The address behind a valid overview link (None when forged or run out).
pub fn my_bookings_email(signer: &crate::sign::Signer, token: &str, now: i64) -> Option<String> {
    let payload = signer.verify(Purpose::MyBookings, token)?;
    let (until, email) = payload.split_once('|')?;
    (until.parse::<i64>().ok()? >= now).then(|| email.to_string())
}

/// Sends the overview link to `email` if it has bookings (the answer to
/// the person is the same either way; the per-recipient limit applies).
pub fn send_my_bookings_link(env: &Env, email: &str) -> Result<bool> {
    write(env, |tx| {
        let bookings = tx.bookings_of(email)?;
        let Some(first) = bookings.first() else {
            return Ok(false);
        };
        let draft = env.ctx.letterhead.draft(
            "meine-buchungen",
            email,
            &first.name,
            json!({
                "name": first.name,
                "link": env.my_bookings_link(email),
                "hours": env.ctx.confirm_valid.as_secs() / 3600,
                "count": bookings.len(),
            }),
        )?;
        env.ctx.queue(tx, &draft, None)
    })
}

/// The bookings of `email` as the page shows them (reads only).
pub fn my_bookings(env: &Env, email: &str, token: &str) -> Result<Vec<serde_json::Value>> {
    write(env, |tx| {
        let mut out = Vec::new();
        for b in tx.bookings_of(email)?.into_iter().rev() {
            let position = match b.state {
                Waiting => Some(tx.waiting_position(&b)?),
                _ => None,
            };
            let calendar =
                b.state == Confirmed && tx.calendar_entry(b.id)?.is_some_and(|e| !e.cancelled);
            let date = b.live_date.as_deref().unwrap_or(&b.wanted);
            out.push(json!({
                "id": b.id,
                "unit_title": b.unit_title,
                "unit_url": env.unit_url(&b.unit_id),
                "state": b.state.label(),
                "date": match (b.kind, parse_date(date)) {
                    (BookingKind::Enrolment, _) => "jederzeit (Selbststudium)".to_string(),
                    // An event's own times (units have the fixed live time).
                    (BookingKind::Event, Some(d)) => match env.event_of(&b) {
                        Some(e) => {
                            let (start, end) = e.times_text();
                            format!("{}, {start}–{end} Uhr", time::german_long_date(d))
                        }
                        None => time::german_long_date(d),
                    },
                    (_, Some(d)) => time::german_long_date(d),
                    (_, None) => "nächster möglicher Termin".to_string(),
                },
                "position": position,
                "offer_until": b.offer_until.filter(|_| b.state == Offered).map(berlin_time_text),
                "cancel_url": b.state.cancellable().then(|| env.cancel_url(b.id)),
                "calendar_url": calendar.then(|| format!(
                    "{}{MY_BOOKINGS_PATH}{token}/kalender/{}.ics",
                    env.ctx.backend_url, b.id
                )),
            }));
        }
        Ok(out)
    })
}

/// The current calendar file of a confirmed booking of `email` (the same
/// UID and SEQUENCE as the last mail; records nothing).
pub fn my_calendar(env: &Env, email: &str, id: i64) -> Result<Option<FileAttachment>> {
    write(env, |tx| {
        let Some(b) = tx
            .booking(id)?
            .filter(|b| b.email == email && b.state == Confirmed)
        else {
            return Ok(None);
        };
        let Some(entry) = tx.calendar_entry(id)?.filter(|e| !e.cancelled) else {
            return Ok(None);
        };
        Ok(parse_date(&entry.live_date)
            .map(|d| env.calendar_file(&b, d, &entry.title, entry.sequence, false)))
    })
}
