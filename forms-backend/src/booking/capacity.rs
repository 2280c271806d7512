//! Places: what is free on a date, giving a place or a waiting-list
//! place on approval, and offering freed places to the people waiting.

use super::*;

/// Free places of a content date: capacity − taken outside the platform −
/// places held by bookings (confirmed or offered).
pub(super) fn free_places(
    tx: &Tx,
    capacity: u32,
    taken: u32,
    unit_id: &str,
    date: &str,
) -> store::Result<i64> {
    Ok(i64::from(capacity) - i64::from(taken) - i64::from(tx.places_held(unit_id, date)?))
}

/// The date a booking gets a place on now, if any: the wanted date when it
/// has a free place, or for `naechster` the first upcoming date that has one.
pub(super) fn free_date_for(env: &Env, tx: &Tx, b: &BookingRow) -> Result<Option<String>> {
    for d in env.upcoming_slots(&b.unit_id) {
        let date = iso(d.date);
        if b.wanted != NEXT && b.wanted != date {
            continue;
        }
        if free_places(tx, d.capacity, d.taken, &b.unit_id, &date)? > 0 {
            return Ok(Some(date));
        }
    }
    Ok(None)
}

/// Where [`place`] put a booking: the booking after the move, its new
/// state and, on the waiting list, why ("kein-platz", "kein-termin",
/// "termin-entfallen").
pub(super) struct Placed {
    pub booking: BookingRow,
    pub state: BookingState,
    pub reason: &'static str,
}

/// Gives `b` (in state `from`) a place, or puts it on the waiting list,
/// and tells the person. Returns the new state (None: somebody else changed
/// the booking first).
pub(super) fn allocate(env: &Env, tx: &Tx, b: &BookingRow, actor: &Actor) -> Result<BookingState> {
    let p = place(env, tx, b, actor)?;
    match p.state {
        Enrolled => tell_enrolled(env, tx, &p.booking)?,
        Confirmed => env.tell_confirmed(tx, &p.booking, false)?,
        _ => env.tell_waiting(tx, &p.booking, p.reason, "")?,
    }
    Ok(p.state)
}

/// [`allocate`] without the mail: a course booking tells the person about
/// all its units in one mail.
pub(super) fn place(env: &Env, tx: &Tx, b: &BookingRow, actor: &Actor) -> Result<Placed> {
    let now = env.ctx.now;
    if b.kind == BookingKind::Enrolment {
        let booking = tx.move_to(b.id, b.state, Enrolled, actor, Change::at(now))?;
        return Ok(Placed {
            booking,
            state: Enrolled,
            reason: "",
        });
    }
    // A wanted date that is no longer in content: wait for the next one.
    let still_offered = b.wanted == NEXT
        || env
            .upcoming_slots(&b.unit_id)
            .iter()
            .any(|d| iso(d.date) == b.wanted);
    let target = if still_offered {
        free_date_for(env, tx, b)?
    } else {
        None
    };
    let (to, note) = match &target {
        Some(_) => (Confirmed, ""),
        None if !still_offered => (Waiting, "gewünschter Termin entfallen"),
        None => (Waiting, "kein freier Platz"),
    };
    let mut change = Change::at(now).live_date(target.as_deref()).note(note);
    if !still_offered {
        change = change.wanted(NEXT);
    }
    let booking = tx.move_to(b.id, b.state, to, actor, change)?;
    let reason = if to == Confirmed {
        ""
    } else if still_offered && booking.wanted != NEXT {
        "kein-platz"
    } else if still_offered {
        "kein-termin"
    } else {
        "termin-entfallen"
    };
    Ok(Placed {
        booking,
        state: to,
        reason,
    })
}

pub(super) fn tell_enrolled(env: &Env, tx: &Tx, b: &BookingRow) -> Result<()> {
    let link = env
        .site
        .units
        .iter()
        .find(|u| u.id == b.unit_id)
        .and_then(|u| u.start_link.clone())
        .unwrap_or_else(|| env.unit_url(&b.unit_id));
    env.tell(tx, b, "einschreibung-start", json!({ "link": link }), &[])
}

/// Offers free places of one date to the people waiting, first come first
/// served, until the date is full or nobody waits. Returns the offers made.
pub(super) fn fill(env: &Env, tx: &Tx, unit_id: &str, date: &str) -> Result<usize> {
    let Some(d) = env
        .upcoming_slots(unit_id)
        .into_iter()
        .find(|d| iso(d.date) == date)
    else {
        return Ok(0);
    };
    let mut offers = 0;
    while free_places(tx, d.capacity, d.taken, unit_id, date)? > 0 {
        let Some(w) = tx.first_waiting(unit_id, date)? else {
            break;
        };
        if w.kind == BookingKind::Event {
            // A free event needs no holding time: the next one moves up.
            events::move_up(env, tx, &w, d.date)?;
        } else {
            offer_place(env, tx, &w, d.date, &Actor::System, "Platz frei")?;
        }
        offers += 1;
    }
    Ok(offers)
}

/// Offers waiting booking `w` a place on `date` for the holding time, with
/// the one-time link to accept it in the mail.
pub(super) fn offer_place(
    env: &Env,
    tx: &Tx,
    w: &BookingRow,
    date: NaiveDate,
    actor: &Actor,
    note: &str,
) -> Result<()> {
    let until = env.ctx.now + env.offer_hold.as_secs() as i64;
    let day = iso(date);
    let change = Change::at(env.ctx.now)
        .live_date(Some(&day))
        .offer_until(Some(until))
        .note(note);
    let w = tx.move_to(w.id, Waiting, Offered, actor, change)?;
    let link = env.one_time_link(tx, Purpose::Offer, w.id, None, until, "angebot")?;
    env.tell(
        tx,
        &w,
        "buchung-angebot",
        json!({
            "date": time::german_long_date(date),
            "until": berlin_time_text(until),
            "link": link,
            "cancel_link": env.cancel_url(w.id),
        }),
        &[],
    )
}
