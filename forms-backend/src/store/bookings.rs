//! SQL of bookings, enrolments, their history and the live dates seen in
//! content. Callers get domain methods only (see the module doc of `store`).
//!
//! Every state change goes through [`Tx::move_to`]: a conditional
//! `UPDATE … WHERE state = <expected>` plus a row in `booking_events`, so two
//! processes racing for the same booking change it at most once.

use super::{params, OptionalExtension, Result, Row, Store, StoreError, ToValue, Tx};
use crate::booking::{Actor, Approver, BookingKind, BookingState};
use crate::sign::Purpose;

pub(super) const MIGRATION: &str = "
    CREATE TABLE bookings (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('buchung', 'einschreibung')),
        unit_id TEXT NOT NULL,
        unit_title TEXT NOT NULL,
        -- 'YYYY-MM-DD', 'naechster' (next possible date) or '' (on-demand)
        wanted TEXT NOT NULL,
        -- the date a place is held (offer) or confirmed on
        live_date TEXT,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        authority_id TEXT NOT NULL,
        member INTEGER NOT NULL,
        price_cents INTEGER NOT NULL,
        -- '' (no approval needed), 'genossenschaft' or 'kommune'
        approver TEXT NOT NULL,
        approver_email TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('unbestaetigt', 'freigabe', 'bestaetigt',
            'warteliste', 'angebot', 'abgelehnt', 'storniert', 'verfallen', 'eingeschrieben')),
        queue_no INTEGER,
        offer_until INTEGER,
        consent_id INTEGER REFERENCES consents (id) ON DELETE SET NULL,
        ip_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX bookings_slot ON bookings (unit_id, live_date, state);
    CREATE INDEX bookings_queue ON bookings (unit_id, state, queue_no);
    CREATE INDEX bookings_email ON bookings (email);

    CREATE TABLE booking_events (
        id INTEGER PRIMARY KEY,
        booking_id INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        live_date TEXT,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX booking_events_booking ON booking_events (booking_id, id);

    CREATE TABLE live_dates (
        unit_id TEXT NOT NULL,
        date TEXT NOT NULL,
        title TEXT NOT NULL,
        sequence INTEGER NOT NULL DEFAULT 0,
        removed_at INTEGER,
        PRIMARY KEY (unit_id, date)
    );

    ALTER TABLE action_tokens ADD COLUMN booking_id INTEGER REFERENCES bookings (id) ON DELETE CASCADE;
";

/// The lock (see [`Tx::lock`]) of every decision on places and on the
/// waiting list: free places, the next queue number, lapsing offers. One
/// lock for all dates, so two steps never wait for each other in a circle
/// (booking steps are few; form intake and mail delivery do not take it).
const BOOKINGS_LOCK: &str = "campus:bookings";

#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    pub kind: BookingKind,
    pub unit_id: &'a str,
    pub unit_title: &'a str,
    pub wanted: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub authority_id: &'a str,
    pub member: bool,
    pub price_cents: i64,
    pub approver: Approver,
    pub approver_email: &'a str,
    pub state: BookingState,
    pub consent_id: Option<i64>,
    pub ip_hash: &'a str,
    pub actor: &'a Actor,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingRow {
    pub id: i64,
    pub kind: BookingKind,
    pub unit_id: String,
    pub unit_title: String,
    pub wanted: String,
    pub live_date: Option<String>,
    pub name: String,
    pub email: String,
    pub authority_id: String,
    pub member: bool,
    pub price_cents: i64,
    pub approver: Approver,
    pub approver_email: String,
    pub state: BookingState,
    pub queue_no: Option<i64>,
    pub offer_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(super) const COLUMNS: &str = "id, kind, unit_id, unit_title, wanted, live_date, name, email, authority_id,
    member, price_cents, approver, approver_email, state, queue_no, offer_until, created_at, updated_at,
    event";

pub(super) fn booking_row(r: &Row) -> Result<BookingRow> {
    Ok(BookingRow {
        id: r.get(0)?,
        // Stored as 'buchung' with the event flag (see `store::events`).
        kind: if r.get::<bool>(18)? {
            BookingKind::Event
        } else {
            r.get(1)?
        },
        unit_id: r.get(2)?,
        unit_title: r.get(3)?,
        wanted: r.get(4)?,
        live_date: r.get(5)?,
        name: r.get(6)?,
        email: r.get(7)?,
        authority_id: r.get(8)?,
        member: r.get(9)?,
        price_cents: r.get(10)?,
        approver: r.get(11)?,
        approver_email: r.get(12)?,
        state: r.get(13)?,
        queue_no: r.get(14)?,
        offer_until: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

/// What else a state change sets besides the state (see [`Tx::move_to`]).
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// When (Unix seconds).
    pub at: i64,
    /// New value of the held/confirmed date (`None` = none).
    pub live_date: Option<&'a str>,
    /// `Some` replaces what the person asked for (e.g. a removed date → `naechster`).
    pub wanted: Option<&'a str>,
    pub offer_until: Option<i64>,
    /// Why, for the history.
    pub note: &'a str,
}

impl<'a> Change<'a> {
    /// A change at `at` that clears the date and the offer time.
    pub fn at(at: i64) -> Change<'a> {
        Change {
            at,
            live_date: None,
            wanted: None,
            offer_until: None,
            note: "",
        }
    }

    pub fn live_date(self, live_date: Option<&'a str>) -> Change<'a> {
        Change { live_date, ..self }
    }

    pub fn wanted(self, wanted: &'a str) -> Change<'a> {
        Change {
            wanted: Some(wanted),
            ..self
        }
    }

    pub fn offer_until(self, offer_until: Option<i64>) -> Change<'a> {
        Change {
            offer_until,
            ..self
        }
    }

    pub fn note(self, note: &'a str) -> Change<'a> {
        Change { note, ..self }
    }
}

/// Why [`Tx::move_to`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// Somebody else moved the booking first (or it does not exist).
    #[error("Buchung B-{id} ist nicht mehr im Status „{}“", .from.label())]
    Changed { id: i64, from: BookingState },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingEvent {
    pub id: i64,
    pub booking_id: i64,
    pub at: i64,
    pub actor: String,
    pub from_state: Option<BookingState>,
    pub to_state: BookingState,
    pub live_date: Option<String>,
    pub note: String,
}

/// What the office lists or exports.
#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub unit_id: Option<String>,
    pub live_date: Option<String>,
    pub state: Option<BookingState>,
}

/// A live date as the backend last saw it in content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDate {
    pub unit_id: String,
    pub date: String,
    pub title: String,
    pub sequence: i64,
    pub removed: bool,
}

impl Tx<'_> {
    /// Stores a new booking with its first event; the booking as stored.
    pub fn insert_booking(&self, b: &NewBooking) -> Result<BookingRow> {
        let row = self.query_row(
            &format!(
                "INSERT INTO bookings (kind, unit_id, unit_title, wanted, name, email, authority_id, member,
                    price_cents, approver, approver_email, state, consent_id, ip_hash, created_at, updated_at,
                    event)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)
                 RETURNING {COLUMNS}"
            ),
            params![
                match b.kind {
                    BookingKind::Event => BookingKind::Booking,
                    kind => kind,
                },
                b.unit_id,
                b.unit_title,
                b.wanted,
                b.name,
                b.email,
                b.authority_id,
                b.member,
                b.price_cents,
                b.approver,
                b.approver_email,
                b.state,
                b.consent_id,
                b.ip_hash,
                b.now,
                b.kind == BookingKind::Event
            ],
            booking_row,
        )?;
        self.insert_event(row.id, b.now, b.actor, None, b.state, None, "")?;
        Ok(row)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_event(
        &self,
        id: i64,
        at: i64,
        actor: &Actor,
        from: Option<BookingState>,
        to: BookingState,
        live_date: Option<&str>,
        note: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO booking_events (booking_id, at, actor, from_state, to_state, live_date, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, at, actor.to_string(), from, to, live_date, note],
        )?;
        Ok(())
    }

    /// Takes the bookings lock now (see [`Tx::lock`]): a booking step that
    /// takes it first never waits for it while holding a mail or row lock.
    pub fn lock_bookings(&self) -> Result<()> {
        self.lock(BOOKINGS_LOCK)
    }

    pub fn booking(&self, id: i64) -> Result<Option<BookingRow>> {
        self.query_row(
            &format!("SELECT {COLUMNS} FROM bookings WHERE id = ?1"),
            params![id],
            booking_row,
        )
        .optional()
    }

    /// Moves booking `id` from `from` to `to` if it is still in `from` (a
    /// conditional update, so two processes racing for one booking change
    /// it once), records the event, and returns the booking after it.
    pub fn move_to(
        &self,
        id: i64,
        from: BookingState,
        to: BookingState,
        actor: &Actor,
        change: Change,
    ) -> std::result::Result<BookingRow, MoveError> {
        // `queue_no` is the place in line: drawn when the person confirms
        // the request, kept through approval and every later move, so the
        // waiting list is in the order people asked, whatever order the
        // approvals come in. (Bookings of older versions drew it on
        // joining the waiting list; those without one draw it then.)
        let queue = match (from, to) {
            (BookingState::Unconfirmed, _) => 1,
            (_, BookingState::Waiting) => 2,
            _ => 0,
        };
        if queue != 0 {
            // The next number in line is read, then written.
            self.lock(BOOKINGS_LOCK)?;
        }
        let changed = self
            .execute(
                "UPDATE bookings SET state = ?3, live_date = ?4, wanted = coalesce(?5, wanted),
                offer_until = ?6, updated_at = ?7,
                queue_no = CASE
                    WHEN ?8 = 1 THEN (SELECT coalesce(max(queue_no), 0) + 1 FROM bookings)
                    WHEN ?8 = 2 THEN coalesce(queue_no, (SELECT coalesce(max(queue_no), 0) + 1 FROM bookings))
                    ELSE queue_no END
             WHERE id = ?1 AND state = ?2",
                params![
                    id,
                    from,
                    to,
                    change.live_date,
                    change.wanted,
                    change.offer_until,
                    change.at,
                    queue
                ],
            )?;
        if changed != 1 {
            return Err(MoveError::Changed { id, from });
        }
        self.insert_event(
            id,
            change.at,
            actor,
            Some(from),
            to,
            change.live_date,
            change.note,
        )?;
        self.booking(id)?.ok_or(MoveError::Changed { id, from })
    }

    /// The booking `email` holds for a unit in one of the active states
    /// (at most one: [`crate::booking::request`] checks in its transaction,
    /// under a lock of this person and unit).
    pub fn active_booking(&self, unit_id: &str, email: &str) -> Result<Option<BookingRow>> {
        // Held until the transaction ends: a double click on two nodes
        // finds the first request instead of both inserting one.
        self.lock(&format!("booking:{unit_id}:{email}"))?;
        let [a, b, c, d, e, f] = BookingState::ACTIVE;
        self.query_row(
            &format!(
                "SELECT {COLUMNS} FROM bookings WHERE unit_id = ?1 AND email = ?2
                       AND state IN (?3, ?4, ?5, ?6, ?7, ?8) ORDER BY id LIMIT 1"
            ),
            params![unit_id, email, a, b, c, d, e, f],
            booking_row,
        )
        .optional()
    }

    /// Places on a date held by bookings (confirmed or offered).
    ///
    /// Takes the bookings lock until the transaction ends: the free places
    /// read here stay free until this transaction gave them away (one
    /// writer on SQLite anyway; on PostgreSQL two nodes would otherwise both
    /// see the last place free).
    pub fn places_held(&self, unit_id: &str, date: &str) -> Result<u32> {
        self.lock(BOOKINGS_LOCK)?;
        self.query_row(
            "SELECT count(*) FROM bookings WHERE unit_id = ?1 AND live_date = ?2 AND state IN (?3, ?4)",
            params![unit_id, date, BookingState::HOLDING[0], BookingState::HOLDING[1]],
            |r| r.get(0),
        )
    }

    /// The first person waiting for this date or for the next possible one.
    pub fn first_waiting(&self, unit_id: &str, date: &str) -> Result<Option<BookingRow>> {
        self.query_row(
            &format!(
                "SELECT {COLUMNS} FROM bookings WHERE unit_id = ?1 AND state = ?3
                       AND wanted IN (?2, ?4) ORDER BY queue_no, id LIMIT 1"
            ),
            params![unit_id, date, BookingState::Waiting, crate::booking::NEXT],
            booking_row,
        )
        .optional()
    }

    /// 1-based place of a waiting booking in its unit's waiting list.
    pub fn waiting_position(&self, b: &BookingRow) -> Result<i64> {
        self.query_row(
            "SELECT count(*) FROM bookings WHERE unit_id = ?1 AND state = ?3 AND queue_no <= ?2",
            params![
                b.unit_id,
                b.queue_no.unwrap_or(i64::MAX),
                BookingState::Waiting
            ],
            |r| r.get(0),
        )
    }

    /// Everybody waiting for a unit with `wanted` (e.g. `naechster`), in order.
    pub fn waiting_for(&self, unit_id: &str, wanted: &str) -> Result<Vec<BookingRow>> {
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM bookings WHERE unit_id = ?1 AND state = ?3
                   AND wanted = ?2 ORDER BY queue_no, id"
            ),
            params![unit_id, wanted, BookingState::Waiting],
        )
    }

    /// Bookings of a unit on one date in `state`.
    pub fn on_date(
        &self,
        unit_id: &str,
        date: &str,
        state: BookingState,
    ) -> Result<Vec<BookingRow>> {
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM bookings WHERE unit_id = ?1 AND live_date = ?2 AND state = ?3
                 ORDER BY id"
            ),
            params![unit_id, date, state],
        )
    }

    /// Offers whose holding time ran out before `now`. Takes the bookings
    /// lock first, so of two nodes passing offers on at once the second
    /// sees the offers the first one already let lapse as gone.
    pub fn expired_offers(&self, now: i64) -> Result<Vec<BookingRow>> {
        self.lock(BOOKINGS_LOCK)?;
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM bookings WHERE state = ?2 AND offer_until < ?1 ORDER BY offer_until, id"
            ),
            params![now, BookingState::Offered],
        )
    }

    /// Bookings matching `condition` (SQL of the `store` submodules), by id.
    pub(super) fn bookings_where(
        &self,
        condition: &str,
        p: &[&dyn ToValue],
    ) -> Result<Vec<BookingRow>> {
        self.rows(
            &format!("SELECT {COLUMNS} FROM bookings WHERE {condition} ORDER BY id"),
            p,
        )
    }

    fn rows(&self, sql: &str, p: &[&dyn ToValue]) -> Result<Vec<BookingRow>> {
        self.query_map(sql, p, booking_row)
    }

    pub fn insert_booking_token(
        &self,
        hash: &str,
        purpose: Purpose,
        booking_id: i64,
        consent_id: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO action_tokens (token_hash, purpose, booking_id, consent_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, purpose, booking_id, consent_id, now, expires_at],
        )?;
        Ok(())
    }

    /// Makes the open links of one purpose for a booking unusable (e.g. the
    /// approval links after the office decided on the command line).
    pub fn void_booking_tokens(&self, booking_id: i64, purpose: Purpose, now: i64) -> Result<()> {
        self.execute(
            "UPDATE action_tokens SET used_at = ?3 WHERE booking_id = ?1 AND purpose = ?2 AND used_at IS NULL",
            params![booking_id, purpose, now],
        )?;
        Ok(())
    }

    pub fn known_dates(&self) -> Result<Vec<KnownDate>> {
        self.query_map(
            "SELECT unit_id, date, title, sequence, removed_at IS NOT NULL FROM live_dates ORDER BY unit_id, date",
            params![],
            |r| {
                Ok(KnownDate {
                    unit_id: r.get(0)?,
                    date: r.get(1)?,
                    title: r.get(2)?,
                    sequence: r.get(3)?,
                    removed: r.get(4)?,
                })
            },
        )
    }

    /// Records a date as present in content (again), with its title.
    pub fn upsert_known_date(
        &self,
        unit_id: &str,
        date: &str,
        title: &str,
        sequence: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO live_dates (unit_id, date, title, sequence) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (unit_id, date) DO UPDATE SET title = excluded.title,
                 sequence = excluded.sequence, removed_at = NULL",
            params![unit_id, date, title, sequence],
        )?;
        Ok(())
    }

    pub fn mark_date_removed(&self, unit_id: &str, date: &str, now: i64) -> Result<()> {
        self.execute(
            "UPDATE live_dates SET removed_at = ?3, sequence = sequence + 1 WHERE unit_id = ?1 AND date = ?2",
            params![unit_id, date, now],
        )?;
        Ok(())
    }
}

impl Store {
    /// Places held on the platform (confirmed or offered) per unit and live
    /// date, so the pages can show what is really still free.
    pub fn places_held_all(&self) -> Result<Vec<(String, String, u32)>> {
        let [a, b] = BookingState::HOLDING;
        self.read(|tx| {
            tx.query_map(
                "SELECT unit_id, live_date, count(*) FROM bookings
             WHERE live_date IS NOT NULL AND state IN (?1, ?2) GROUP BY unit_id, live_date",
                params![a, b],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
    }

    pub fn bookings(&self, filter: &BookingFilter) -> Result<Vec<BookingRow>> {
        self.read(|tx| {
            tx.query_map(
                &format!(
                    "SELECT {COLUMNS} FROM bookings
             WHERE (CAST(?1 AS TEXT) IS NULL OR unit_id = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR live_date = ?2 OR wanted = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR state = ?3)
             ORDER BY unit_id, coalesce(live_date, wanted), state, coalesce(queue_no, 0), id"
                ),
                params![filter.unit_id, filter.live_date, filter.state],
                booking_row,
            )
        })
    }

    /// One booking, read outside a write transaction (office pages).
    pub fn booking(&self, id: i64) -> Result<Option<BookingRow>> {
        self.read(|tx| tx.booking(id))
    }

    /// The history of one booking (`None` = of all), oldest first.
    pub fn booking_events(&self, booking_id: Option<i64>) -> Result<Vec<BookingEvent>> {
        self.read(|tx| {
            tx.query_map(
                "SELECT id, booking_id, at, actor, from_state, to_state, live_date, note FROM booking_events
             WHERE CAST(?1 AS BIGINT) IS NULL OR booking_id = ?1 ORDER BY id",
                params![booking_id],
                |r| {
                    Ok(BookingEvent {
                        id: r.get(0)?,
                        booking_id: r.get(1)?,
                        at: r.get(2)?,
                        actor: r.get(3)?,
                        from_state: r.get(4)?,
                        to_state: r.get(5)?,
                        live_date: r.get(6)?,
                        note: r.get(7)?,
                    })
                },
            )
        })
    }
}
