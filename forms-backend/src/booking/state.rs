//! The typed vocabulary of the booking workflow: states, kinds, approvers
//! and who acted. The stored strings (unchanged since the first schema) and
//! the German labels the office reads are mapped here and nowhere else.

use crate::stored::stored_enum;

stored_enum! {
    /// Where a booking stands (`bookings.state`); see the diagram in
    /// [`crate::booking`].
    pub enum BookingState ("einen Buchungsstatus") {
        /// Requested, the person has not confirmed by mail yet.
        Unconfirmed = "unbestaetigt",
        /// Confirmed by the person, waiting for the approver.
        Approval = "freigabe",
        /// A place on a live date is booked.
        Confirmed = "bestaetigt",
        Waiting = "warteliste",
        /// A place is held for the person until `offer_until`.
        Offered = "angebot",
        Rejected = "abgelehnt",
        Cancelled = "storniert",
        /// An offer the person did not accept in time.
        Lapsed = "verfallen",
        /// Enrolled in an on-demand unit.
        Enrolled = "eingeschrieben",
    }
}

impl BookingState {
    /// Places count against a date's capacity in these states.
    pub const HOLDING: [BookingState; 2] = [BookingState::Confirmed, BookingState::Offered];
    /// States a participant or the office can still cancel.
    pub const CANCELLABLE: [BookingState; 5] = [
        BookingState::Unconfirmed,
        BookingState::Approval,
        BookingState::Confirmed,
        BookingState::Waiting,
        BookingState::Offered,
    ];

    /// A person holds at most one booking per unit in these states.
    pub const ACTIVE: [BookingState; 6] = [
        BookingState::Unconfirmed,
        BookingState::Approval,
        BookingState::Confirmed,
        BookingState::Waiting,
        BookingState::Offered,
        BookingState::Enrolled,
    ];

    /// German label for lists and exports of the office.
    pub fn label(self) -> &'static str {
        match self {
            BookingState::Unconfirmed => "nicht bestätigt",
            BookingState::Approval => "wartet auf Freigabe",
            BookingState::Confirmed => "gebucht",
            BookingState::Waiting => "Warteliste",
            BookingState::Offered => "Platz angeboten",
            BookingState::Rejected => "abgelehnt",
            BookingState::Cancelled => "storniert",
            BookingState::Lapsed => "Angebot verfallen",
            BookingState::Enrolled => "eingeschrieben",
        }
    }

    pub fn holds_place(self) -> bool {
        BookingState::HOLDING.contains(&self)
    }

    pub fn cancellable(self) -> bool {
        BookingState::CANCELLABLE.contains(&self)
    }
}

stored_enum! {
    /// What was asked for (`bookings.kind`).
    pub enum BookingKind ("eine Buchungsart") {
        /// A place on a live date of a hybrid unit.
        Booking = "buchung",
        /// An on-demand unit.
        Enrolment = "einschreibung",
        /// A free place at an event (`content/veranstaltungen/`), its one
        /// date as the live date.
        Event = "veranstaltung",
    }
}

impl BookingKind {
    pub fn label(self) -> &'static str {
        match self {
            BookingKind::Booking => "Buchung",
            BookingKind::Enrolment => "Einschreibung",
            BookingKind::Event => "Veranstaltung",
        }
    }
}

stored_enum! {
    /// Who approves a paid booking (`bookings.approver`), as the person's
    /// authority agreed with the cooperative.
    pub enum Approver ("eine freigebende Stelle") {
        /// Free of charge: nothing to approve.
        NotNeeded = "",
        /// The cooperative's office.
        Cooperative = "genossenschaft",
        /// The person's authority itself (`approver_email`).
        Authority = "kommune",
    }
}

impl Approver {
    pub fn label(self) -> &'static str {
        match self {
            Approver::NotNeeded => "keine",
            Approver::Cooperative => "Geschäftsstelle",
            Approver::Authority => "Kommune",
        }
    }
}

/// Who changed a booking; recorded in `booking_events.actor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The person who booked (form, confirmation and offer links).
    Participant,
    /// The backend itself (expired offers, content changes).
    System,
    /// The office's approval link.
    CooperativeApprover,
    /// The authority's approver, with the address the link went to.
    AuthorityApprover(String),
    /// Somebody of the office on the command line (their user name).
    Office(String),
}

impl Actor {
    /// The actor behind the approval link of a booking approved by `approver`.
    pub fn approver(approver: Approver, email: &str) -> Actor {
        match approver {
            Approver::Authority => Actor::AuthorityApprover(email.to_string()),
            _ => Actor::CooperativeApprover,
        }
    }
}

impl std::fmt::Display for Actor {
    /// The stored form (kept from the string actors of earlier versions).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Participant => f.write_str("teilnehmer"),
            Actor::System => f.write_str("system"),
            Actor::CooperativeApprover => f.write_str("freigabe-geschaeftsstelle"),
            Actor::AuthorityApprover(email) => write!(f, "freigabe-kommune:{email}"),
            Actor::Office(user) => write!(f, "geschaeftsstelle:{user}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_strings_round_trip_and_unknown_ones_are_refused() {
        for s in BookingState::ALL {
            assert_eq!(BookingState::parse(s.as_str()), Ok(*s));
        }
        for k in BookingKind::ALL {
            assert_eq!(BookingKind::parse(k.as_str()), Ok(*k));
        }
        for a in Approver::ALL {
            assert_eq!(Approver::parse(a.as_str()), Ok(*a));
        }
        // The values of existing databases.
        assert_eq!(BookingState::Approval.as_str(), "freigabe");
        assert_eq!(Approver::NotNeeded.as_str(), "");
        let e = BookingState::parse("gebucht").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unbekannter Wert „gebucht“ für einen Buchungsstatus"
        );
    }

    #[test]
    fn actors_keep_their_stored_form() {
        assert_eq!(Actor::Participant.to_string(), "teilnehmer");
        assert_eq!(
            Actor::approver(Approver::Authority, "a@b.example").to_string(),
            "freigabe-kommune:a@b.example"
        );
        assert_eq!(
            Actor::approver(Approver::Cooperative, "x").to_string(),
            "freigabe-geschaeftsstelle"
        );
        assert_eq!(
            Actor::Office("jo".into()).to_string(),
            "geschaeftsstelle:jo"
        );
    }
}
