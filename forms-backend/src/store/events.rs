//! Event registrations are bookings: the `kind` column's CHECK predates
//! events and cannot be changed in place on SQLite (the table would have to
//! be rebuilt, and dropping it cascades to its history), so an event
//! booking is stored as kind 'buchung' with `event = 1`, and read back as
//! `BookingKind::Event` (see `bookings::booking_row`).

pub(super) const MIGRATION: &str = "
    ALTER TABLE bookings ADD COLUMN event INTEGER NOT NULL DEFAULT 0;
";
