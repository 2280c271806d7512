//! Events (`content/veranstaltungen/`) in the booking workflow: a booking of
//! kind `veranstaltung` on the event's one date, free, without approval.
//! Capacity, waiting list, links, "Meine Buchungen" and reminders are the
//! booking workflow's; here are only the event's own words: its mails,
//! facts, calendar times and place, and moving up without an offer.

use super::*;
use campus_generator::model::Event;

/// The event mail that replaces a unit's booking mail (same variables plus
/// `booking.event`); kinds without an event text keep the booking's.
pub(super) fn mail_kind(kind: BookingKind, mail: &'static str) -> &'static str {
    if kind != BookingKind::Event {
        return mail;
    }
    match mail {
        "buchung-bestaetigen" => "veranstaltung-bestaetigen",
        "buchung-bestaetigt" => "veranstaltung-bestaetigt",
        "buchung-warteliste" => "veranstaltung-warteliste",
        "buchung-storniert" => "veranstaltung-storniert",
        "buchung-erinnerung" => "veranstaltung-erinnerung",
        other => other,
    }
}

impl Env<'_> {
    pub(super) fn event_of(&self, b: &BookingRow) -> Option<&Event> {
        (b.kind == BookingKind::Event)
            .then(|| self.site.event(&b.unit_id))
            .flatten()
    }

    /// `booking.event` in mails and pages: times and place; the meeting
    /// link only for a confirmed place.
    pub(super) fn event_view(&self, b: &BookingRow) -> serde_json::Value {
        let Some(e) = self.event_of(b) else {
            // Not an event, or one removed from content: empty facts, so
            // the texts still render.
            return json!({ "start": "", "end": "", "online": false, "place": "", "link": null,
                "members_only": false, "url": "" });
        };
        let (start, end) = e.times_text();
        json!({
            "start": start,
            "end": end,
            "online": e.online_link().is_some(),
            "place": e.place_text(),
            "link": e.online_link().filter(|_| b.state == Confirmed),
            "members_only": e.members_only(),
            "url": self.unit_url(&e.id),
        })
    }
}

/// The first waiting person gets the freed place at once: a free event
/// holds nothing back, so there is no offer to accept.
pub(super) fn move_up(env: &Env, tx: &Tx, w: &BookingRow, date: NaiveDate) -> Result<()> {
    let day = iso(date);
    let change = Change::at(env.ctx.now)
        .live_date(Some(&day))
        .note("Platz frei: von der Warteliste nachgerückt");
    let b = tx.move_to(w.id, Waiting, Confirmed, &Actor::System, change)?;
    env.tell_confirmed_as(tx, &b, false, true)
}
