//! The words of the workflow: facts of a booking, prices, dates, and the
//! mails to the participant (their texts come from the theme).

use super::*;

impl Env<'_> {
    pub(super) fn host(&self) -> String {
        campus_generator::ics::host_of(&self.site.config.site.base_url)
    }

    /// The public page of what `unit_id` names: a unit or an event.
    pub(super) fn unit_url(&self, unit_id: &str) -> String {
        let path = if self.site.event(unit_id).is_some() {
            urls::event(unit_id)
        } else {
            urls::unit(unit_id)
        };
        format!(
            "{}{path}",
            self.ctx.letterhead.base_url.trim_end_matches('/'),
        )
    }

    pub(super) fn cancel_url(&self, id: i64) -> String {
        let token = self.ctx.signer.sign(Purpose::Cancel, &id.to_string());
        format!(
            "{}{}",
            self.ctx.backend_url,
            urls::booking_step("stornieren", &token)
        )
    }

    /// The facts of a booking every mail and page about it shows (as
    /// `booking` in `mail/buchung_fakten.txt` and the booking mails).
    pub(super) fn booking_view(&self, b: &BookingRow) -> serde_json::Value {
        let authority = self.site.authority(&b.authority_id);
        let price = Cents(b.price_cents);
        let vat_percent = self.site.prices.vat_percent;
        let billing_unit = self
            .site
            .units
            .iter()
            .find(|u| u.id == b.unit_id)
            .map(|u| self.site.levels[u.level].billing_unit.clone())
            .unwrap_or_default();
        let date = b.live_date.as_deref().unwrap_or(&b.wanted);
        // The cancellation terms of a paid live booking, with the day until
        // which cancelling is free once the date is known.
        let cancellation = match &self.site.cancellation {
            Some(t) if b.kind == BookingKind::Booking && b.price_cents > 0 => {
                match parse_date(date) {
                    Some(d) => format!(
                        "kostenfrei bis einschließlich {}. {}",
                        time::german_long_date(t.free_until(d)),
                        t.summary()
                    ),
                    None => t.summary(),
                }
            }
            _ => String::new(),
        };
        json!({
            "cancellation": cancellation,
            "id": b.id,
            "kind": b.kind,
            "unit_title": b.unit_title,
            "date": parse_date(date).map(time::german_long_date).unwrap_or_default(),
            "name": b.name,
            "email": b.email,
            "authority": authority.map(|a| a.display_name()).unwrap_or_default(),
            "member": b.member,
            "free": b.price_cents == 0,
            "price": price.to_string(),
            "billing_unit": billing_unit,
            "vat_percent": vat_percent,
            "vat": price.vat_included(vat_percent).to_string(),
            "surcharge_percent": self.site.prices.non_member_surcharge_percent,
            "event": self.event_view(b),
        })
    }

    /// The facts of a booking as (label, value) pairs for pages: the lines
    /// of `mail/buchung_fakten.txt`, so pages and mails say the same.
    pub fn facts(&self, b: &BookingRow) -> Vec<(String, String)> {
        let text = self
            .ctx
            .letterhead
            .render(
                "mail/buchung_fakten.txt",
                json!({ "booking": self.booking_view(b) }),
            )
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "Angaben zur Buchung nicht darstellbar");
                String::new()
            });
        text.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    /// Queues the mail `kind` about `b` to the participant (no
    /// per-recipient limit: these mails follow actions of the office,
    /// approvers or the person). `values` get `booking` added.
    pub(super) fn tell(
        &self,
        tx: &Tx,
        b: &BookingRow,
        kind: &'static str,
        values: serde_json::Value,
        attachments: &[FileAttachment],
    ) -> Result<()> {
        let mut values = self.with_booking(b, values);
        // Where the person asks for the link to all their bookings.
        values["my_bookings_url"] = json!(format!("{}{MY_BOOKINGS_PATH}", self.ctx.backend_url));
        let kind = events::mail_kind(b.kind, kind);
        let draft = self.ctx.letterhead.draft(kind, &b.email, &b.name, values)?;
        let mail = self
            .ctx
            .letterhead
            .compose_with(&draft, None, attachments)?;
        tx.enqueue(&mail, self.ctx.now)?;
        Ok(())
    }

    pub(super) fn with_booking(
        &self,
        b: &BookingRow,
        mut values: serde_json::Value,
    ) -> serde_json::Value {
        values["booking"] = self.booking_view(b);
        values
    }

    pub(super) fn one_time_link(
        &self,
        tx: &Tx,
        purpose: Purpose,
        b: i64,
        consent: Option<i64>,
        expires_at: i64,
        path: &str,
    ) -> Result<String> {
        let token = random_token();
        tx.insert_booking_token(
            &token_hash(&token),
            purpose,
            b,
            consent,
            self.ctx.now,
            expires_at,
        )?;
        Ok(format!(
            "{}{}",
            self.ctx.backend_url,
            urls::booking_step(path, &token)
        ))
    }

    /// The calendar file of booking `b` on `date` (no private links): one
    /// UID per booking, so an update or a cancellation replaces the entry
    /// the person's calendar took from an earlier mail.
    pub fn calendar_file(
        &self,
        b: &BookingRow,
        date: NaiveDate,
        title: &str,
        sequence: i64,
        cancelled: bool,
    ) -> FileAttachment {
        // An event has its own times and place; the meeting link stays
        // out of the file (calendars get shared).
        let event_facts = self.event_of(b).map(|e| {
            let place = e.place_text();
            (
                (e.start, e.end),
                ics::describe_event(&e.summary, &place),
                place,
            )
        });
        let event = ics::LiveEvent {
            uid: format!("buchung-{}@{}", b.id, self.host()),
            sequence: sequence.max(0) as u32,
            cancelled,
            organizer: Some(self.ctx.office.to_string()),
            attendee: Some((b.name.clone(), b.email.clone())),
            summary: title,
            description: match &event_facts {
                Some((_, description, _)) => description.clone(),
                None => ics::describe(date),
            },
            date,
            url: Some(self.unit_url(&b.unit_id)),
            stamp: DateTime::from_timestamp(self.ctx.now, 0)
                .unwrap_or_default()
                .naive_utc(),
            hours: event_facts.as_ref().map(|(hours, _, _)| *hours),
            location: event_facts.map(|(_, _, place)| place),
        };
        let method = if cancelled { "CANCEL" } else { "PUBLISH" };
        FileAttachment {
            filename: format!("{}-{}.ics", b.unit_id, iso(date)),
            content_type: format!("text/calendar; charset=utf-8; method={method}"),
            body: ics::calendar(&event).into_bytes(),
        }
    }

    /// The calendar file of a confirmed live date, recorded so the next
    /// change gets a higher SEQUENCE.
    pub fn calendar(&self, tx: &Tx, b: &BookingRow, date: NaiveDate) -> Result<FileAttachment> {
        let sequence = tx.issue_calendar_entry(b.id, &iso(date), &b.unit_title, false)?;
        Ok(self.calendar_file(b, date, &b.unit_title, sequence, false))
    }

    /// The cancellation of the calendar entry `b`'s mails last carried
    /// (none if it never got one or it was cancelled already).
    pub(super) fn calendar_cancel(&self, tx: &Tx, b: &BookingRow) -> Result<Vec<FileAttachment>> {
        let Some(entry) = tx.calendar_entry(b.id)?.filter(|e| !e.cancelled) else {
            return Ok(Vec::new());
        };
        let Some(date) = parse_date(&entry.live_date) else {
            return Ok(Vec::new());
        };
        let sequence = tx.issue_calendar_entry(b.id, &entry.live_date, &entry.title, true)?;
        Ok(vec![self.calendar_file(
            b,
            date,
            &entry.title,
            sequence,
            true,
        )])
    }

    /// The confirmed place with the calendar file; `updated` when the
    /// event changed (same mail, other subject).
    pub(super) fn tell_confirmed(&self, tx: &Tx, b: &BookingRow, updated: bool) -> Result<()> {
        self.tell_confirmed_as(tx, b, updated, false)
    }

    /// [`Env::tell_confirmed`]; `moved_up` when the place came from the
    /// waiting list without an offer (events).
    pub(super) fn tell_confirmed_as(
        &self,
        tx: &Tx,
        b: &BookingRow,
        updated: bool,
        moved_up: bool,
    ) -> Result<()> {
        let date = b
            .live_date
            .as_deref()
            .and_then(parse_date)
            .ok_or_else(|| WorkflowError::Invalid("bestätigte Buchung ohne Termin".into()))?;
        if updated && b.kind == BookingKind::Event {
            // An event's times or place changed while its date and title
            // stayed: step the entry's SEQUENCE so calendars take the new file.
            tx.issue_calendar_entry(b.id, &iso(date), &b.unit_title, true)?;
        }
        let ics = self.calendar(tx, b, date)?;
        self.tell(
            tx,
            b,
            "buchung-bestaetigt",
            json!({
                "updated": updated,
                "moved_up": moved_up,
                "date": time::german_long_date(date),
                "preparation_opens": time::german_long_date(time::preparation_opens(date)),
                "follow_up_opens": time::german_long_date(time::follow_up_opens(date)),
                "cancel_link": self.cancel_url(b.id),
            }),
            &[ics],
        )
    }

    /// `b` is on the waiting list; `reason` is one of "kein-platz",
    /// "kein-termin", "termin-entfallen", "termin-abgesagt" (then
    /// `cancelled_date` is the date that was removed).
    pub(super) fn tell_waiting(
        &self,
        tx: &Tx,
        b: &BookingRow,
        reason: &str,
        cancelled_date: &str,
    ) -> Result<()> {
        let position = tx.waiting_position(b)?;
        // A confirmed place that moved back to the waiting list leaves the calendar.
        let cancel = self.calendar_cancel(tx, b)?;
        self.tell(
            tx,
            b,
            "buchung-warteliste",
            json!({
                "reason": reason,
                "cancelled_date": cancelled_date,
                "position": position,
                "hold_hours": self.offer_hold.as_secs() / 3600,
                "cancel_link": self.cancel_url(b.id),
                "calendar": !cancel.is_empty(),
            }),
            &cancel,
        )
    }
}
