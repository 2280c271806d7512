//! Reminders and notices that follow the calendar, not a click: the
//! preparation module is open, the short reminder before the live date,
//! the follow-up module is open, approvers reminded of undecided requests,
//! the person told when the approval ran out; and the approver told when
//! one of its staff cancels.
//!
//! Exactly once, with any number of workers and restarts: each mail is
//! noted in `booking_reminders` (unique per booking, kind and live date) in
//! the same transaction that queues it in the outbox.

use super::*;

/// `[erinnerungen]` in `campus.toml`: when the mails go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSettings {
    /// Days before the live date: the preparation module is open.
    pub preparation_days_before: u32,
    /// Days before the live date: technology check, camera, microphone.
    pub short_days_before: u32,
    /// Days after the live date: the follow-up module is open.
    pub follow_up_days_after: u32,
    /// Days an approval waits before its approver is reminded.
    pub approval_reminder_after_days: u32,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings {
            preparation_days_before: 14,
            short_days_before: 2,
            follow_up_days_after: 14,
            approval_reminder_after_days: 7,
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReminders {
    vorbereitung_tage_vorher: Option<u32>,
    erinnerung_tage_vorher: Option<u32>,
    nachbereitung_tage_nachher: Option<u32>,
    freigabe_erinnern_nach_tagen: Option<u32>,
}

impl ReminderSettings {
    pub fn from_table(raw: RawReminders) -> ReminderSettings {
        let d = ReminderSettings::default();
        ReminderSettings {
            preparation_days_before: raw
                .vorbereitung_tage_vorher
                .unwrap_or(d.preparation_days_before),
            short_days_before: raw.erinnerung_tage_vorher.unwrap_or(d.short_days_before),
            follow_up_days_after: raw
                .nachbereitung_tage_nachher
                .unwrap_or(d.follow_up_days_after),
            approval_reminder_after_days: raw
                .freigabe_erinnern_nach_tagen
                .unwrap_or(d.approval_reminder_after_days)
                .max(1),
        }
    }
}

/// A follow-up notice is sent at most this many days late (after an
/// outage), so switching the feature on does not write to old bookings.
const FOLLOW_UP_GRACE_DAYS: i64 = 7;

/// Kinds in `booking_reminders` (also the mail template names).
const PREPARATION: &str = "buchung-vorbereitung";
const SHORT: &str = "buchung-erinnerung";
const FOLLOW_UP: &str = "buchung-nachbereitung";
const APPROVAL_REMINDER: &str = "buchung-freigabe-erinnerung";
const APPROVAL_LAPSED: &str = "buchung-freigabe-abgelaufen";

/// How many mails each kind queued in one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderReport {
    pub preparation: usize,
    pub short: usize,
    pub follow_up: usize,
    pub approval_reminders: usize,
    pub approvals_lapsed: usize,
}

impl ReminderReport {
    pub fn total(&self) -> usize {
        self.preparation
            + self.short
            + self.follow_up
            + self.approval_reminders
            + self.approvals_lapsed
    }
}

/// Queues every reminder and notice that is due at `env`'s time and was
/// not sent before; one transaction.
pub fn send_reminders(env: &Env, settings: &ReminderSettings) -> Result<ReminderReport> {
    write(env, |tx| {
        let today = env.today;
        let days = |n: u32| chrono::Duration::days(i64::from(n));
        let mut report = ReminderReport::default();
        let upcoming = |kind, before: u32| {
            tx.due_for_reminder(Confirmed, &iso(today), &iso(today + days(before)), kind)
        };
        // Events have no preparation or follow-up module: only the short reminder.
        let units_only = |b: &BookingRow| b.kind != BookingKind::Event;
        for b in upcoming(PREPARATION, settings.preparation_days_before)?
            .into_iter()
            .filter(units_only)
        {
            report.preparation += remind(env, tx, &b, PREPARATION)? as usize;
        }
        for b in upcoming(SHORT, settings.short_days_before)? {
            report.short += remind(env, tx, &b, SHORT)? as usize;
        }
        let last = today - days(settings.follow_up_days_after);
        let first = last - chrono::Duration::days(FOLLOW_UP_GRACE_DAYS);
        for b in tx
            .due_for_reminder(Confirmed, &iso(first), &iso(last), FOLLOW_UP)?
            .into_iter()
            .filter(units_only)
        {
            report.follow_up += remind(env, tx, &b, FOLLOW_UP)? as usize;
        }
        let valid = env.approval_valid.as_secs() as i64;
        let remind_after = 86_400 * i64::from(settings.approval_reminder_after_days);
        for b in tx.approvals_waiting_since(env.ctx.now - remind_after, APPROVAL_REMINDER)? {
            // Reminding of a link that ran out would only annoy.
            if b.updated_at + valid > env.ctx.now
                && tx.note_reminder(b.id, APPROVAL_REMINDER, "", env.ctx.now)?
            {
                remind_approver(env, tx, &b, b.updated_at + valid)?;
                report.approval_reminders += 1;
            }
        }
        for b in tx.approvals_waiting_since(env.ctx.now - valid, APPROVAL_LAPSED)? {
            if tx.note_reminder(b.id, APPROVAL_LAPSED, "", env.ctx.now)? {
                env.tell(
                    tx,
                    &b,
                    APPROVAL_LAPSED,
                    json!({
                        "approver": b.approver,
                        "days": valid / 86_400,
                        "cancel_link": env.cancel_url(b.id),
                    }),
                    &[],
                )?;
                report.approvals_lapsed += 1;
            }
        }
        Ok(report)
    })
}

/// One reminder about `b`'s live date, unless it was noted before.
fn remind(env: &Env, tx: &Tx, b: &BookingRow, kind: &'static str) -> Result<bool> {
    let Some(date) = b.live_date.as_deref().and_then(parse_date) else {
        return Ok(false);
    };
    if !tx.note_reminder(b.id, kind, &iso(date), env.ctx.now)? {
        return Ok(false);
    }
    let unit = env.site.units.iter().find(|u| u.id == b.unit_id);
    let link = unit
        .and_then(|u| u.preparation_link.clone())
        .unwrap_or_else(|| env.unit_url(&b.unit_id));
    env.tell(
        tx,
        b,
        kind,
        json!({
            "date": time::german_long_date(date),
            "preparation_link": link,
            "unit_link": env.unit_url(&b.unit_id),
            "cancel_link": env.cancel_url(b.id),
        }),
        &[],
    )?;
    Ok(true)
}

fn approver_address(env: &Env, b: &BookingRow) -> String {
    if b.approver == Approver::Authority {
        b.approver_email.clone()
    } else {
        env.ctx.office.to_string()
    }
}

/// A fresh pair of decision links for the approver, valid as long as the first.
fn remind_approver(env: &Env, tx: &Tx, b: &BookingRow, expires: i64) -> Result<()> {
    let approve = env.one_time_link(tx, Purpose::Approval, b.id, None, expires, "freigeben")?;
    let reject = approve.replacen(
        &urls::booking_step("freigeben", ""),
        &urls::booking_step("ablehnen", ""),
        1,
    );
    let mut draft = env.ctx.letterhead.draft(
        APPROVAL_REMINDER,
        &approver_address(env, b),
        "",
        env.with_booking(
            b,
            json!({
                "approver": b.approver,
                "approve_link": approve,
                "reject_link": reject,
                "until": berlin_time_text(expires),
            }),
        ),
    )?;
    draft.reply_to = Some(b.email.clone());
    let mail = env.ctx.letterhead.compose(&draft, None)?;
    tx.enqueue(&mail, env.ctx.now)?;
    Ok(())
}

impl Env<'_> {
    /// The approver hears that one of its staff cancelled a booking it
    /// approved or still has to decide (nothing when no approval was asked).
    pub(super) fn tell_approver_of_cancel(&self, tx: &Tx, before: &BookingRow) -> Result<()> {
        let asked = matches!(before.state, Approval | Confirmed | Waiting | Offered);
        if before.approver == Approver::NotNeeded || !asked {
            return Ok(());
        }
        let draft = self.ctx.letterhead.draft(
            "buchung-storniert-freigabe",
            &approver_address(self, before),
            "",
            self.with_booking(
                before,
                json!({
                    "approver": before.approver,
                    "was_pending": before.state == Approval,
                }),
            ),
        )?;
        let mail = self.ctx.letterhead.compose(&draft, None)?;
        tx.enqueue(&mail, self.ctx.now)?;
        Ok(())
    }
}
