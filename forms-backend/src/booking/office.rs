//! The office's own moves (back-office and `campus bookings`): a person
//! with a place moves to another date of the same unit, and a waiting
//! person of the office's choosing is offered a free place by hand.

use super::capacity::{fill, free_places, offer_place};
use super::*;

/// What [`move_to_date`] and [`offer_by_hand`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeMove {
    Done,
    /// The date has no free place.
    Full,
    /// Not an upcoming date of the booking's unit (or its current one).
    NoSuchDate,
    /// The booking is not (or no longer) in a state that allows it.
    NotAllowed,
}

/// An upcoming content date of `unit_id`.
fn upcoming<'a>(
    env: &'a Env,
    unit_id: &str,
    date: &str,
) -> Option<&'a campus_generator::model::LiveDate> {
    env.site
        .units
        .iter()
        .find(|u| u.id == unit_id)?
        .upcoming_dates(env.today)
        .find(|d| iso(d.date) == date)
}

/// Moves confirmed booking `id` to `date` of the same unit if that date has
/// a free place; the person gets the updated confirmation with the new
/// calendar file, and the freed place on the old date goes to its waiting
/// list.
pub fn move_to_date(env: &Env, id: i64, date: &str, actor: &Actor) -> Result<OfficeMove> {
    write(env, |tx| {
        let Some(b) = tx.booking(id)? else {
            return Ok(OfficeMove::NotAllowed);
        };
        let Some(old) = b.live_date.clone().filter(|_| b.state == Confirmed) else {
            return Ok(OfficeMove::NotAllowed);
        };
        let Some(d) = upcoming(env, &b.unit_id, date).filter(|_| date != old) else {
            return Ok(OfficeMove::NoSuchDate);
        };
        if free_places(tx, d.capacity, d.taken, &b.unit_id, date)? <= 0 {
            return Ok(OfficeMove::Full);
        }
        let note = format!("umgebucht vom {old}");
        let change = Change::at(env.ctx.now)
            .live_date(Some(date))
            .wanted(date)
            .note(&note);
        let after = tx.move_to(id, Confirmed, Confirmed, actor, change)?;
        env.tell_confirmed(tx, &after, true)?;
        fill(env, tx, &b.unit_id, &old)?;
        Ok(OfficeMove::Done)
    })
}

/// Offers waiting booking `id` a free place on `date` (an upcoming date of
/// its unit), whatever its place in the queue.
pub fn offer_by_hand(env: &Env, id: i64, date: &str, actor: &Actor) -> Result<OfficeMove> {
    write(env, |tx| {
        let Some(b) = tx.booking(id)?.filter(|b| b.state == Waiting) else {
            return Ok(OfficeMove::NotAllowed);
        };
        let Some(d) = upcoming(env, &b.unit_id, date) else {
            return Ok(OfficeMove::NoSuchDate);
        };
        if free_places(tx, d.capacity, d.taken, &b.unit_id, date)? <= 0 {
            return Ok(OfficeMove::Full);
        }
        offer_place(env, tx, &b, d.date, actor, "Angebot von Hand")?;
        Ok(OfficeMove::Done)
    })
}
