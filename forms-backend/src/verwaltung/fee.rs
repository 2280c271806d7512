//! An authority's yearly membership fee and the reduction its bookings
//! earned: [`yearly_fee`] (one function, the rule from
//! `data/mitgliedschaft.yaml` as loaded into [`Membership`]) and the
//! approvers' page `/verwaltung/beitrag`.

use super::{answer, redirect, render, staff, Role};
use crate::booking::BookingState;
use crate::store::{BookingFilter, BookingRow};
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use campus_generator::model::Membership;
use campus_generator::money::Cents;
use chrono::Datelike;
use serde_json::json;

/// The fee of one year, reduced by the bookings of the year before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeeStatement {
    pub year: i32,
    pub shares: u32,
    /// Before the reduction: factor × deposit.
    pub annual_fee: Cents,
    /// Binding bookings of the year before (confirmed or enrolled).
    pub counted: usize,
    pub booked: Cents,
    pub reduction: Cents,
    pub fee: Cents,
}

/// The calendar year a booking counts for: its live date's, or for
/// on-demand enrolments the year it was made (Berlin time).
fn booking_year(b: &BookingRow) -> Option<i32> {
    match &b.live_date {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .map(|d| d.year()),
        None => Some(crate::booking::berlin_date(b.created_at).year()),
    }
}

/// The fee of `year` for an authority with `employees`, reduced by its
/// binding bookings (`bookings`: the authority's, any year) of `year - 1`.
pub(crate) fn yearly_fee(
    m: &Membership,
    employees: u32,
    bookings: &[BookingRow],
    year: i32,
) -> FeeStatement {
    let quote = m.quote(employees);
    let counted: Vec<&BookingRow> = bookings
        .iter()
        .filter(|b| matches!(b.state, BookingState::Confirmed | BookingState::Enrolled))
        .filter(|b| booking_year(b) == Some(year - 1))
        .collect();
    let booked: Cents = counted.iter().map(|b| Cents(b.price_cents)).sum();
    let fee = m.reduced_fee(quote.annual_fee, booked);
    FeeStatement {
        year,
        shares: quote.shares,
        annual_fee: quote.annual_fee,
        counted: counted.len(),
        booked,
        reduction: quote.annual_fee - fee,
        fee,
    }
}

/// Per authority of the approver: this year's fee (last year's bookings)
/// and next year's as it stands (this year's bookings so far).
pub(super) async fn fee_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(staff) = staff(&state, &headers).await? else {
        return Ok(redirect("/verwaltung/anmelden"));
    };
    let st = state.clone();
    let all = blocking(move || st.store.bookings(&BookingFilter::default())).await?;
    let loaded = state.loaded();
    let site = &loaded.site;
    let year = crate::booking::berlin_date(state.settings.clock.now()).year();
    let statement = |s: &FeeStatement| {
        json!({
            "year": s.year,
            "shares": s.shares,
            "annual_fee": s.annual_fee.to_string(),
            "counted": s.counted,
            "booked": s.booked.to_string(),
            "reduction": s.reduction.to_string(),
            "fee": s.fee.to_string(),
        })
    };
    let authorities: Vec<_> = site
        .authorities
        .iter()
        .filter(|a| match &staff.role {
            Role::Office => a.member,
            Role::Approver(ids) => ids.contains(&a.id),
        })
        .map(|a| {
            let own: Vec<BookingRow> = all
                .iter()
                .filter(|b| b.authority_id == a.id)
                .cloned()
                .collect();
            json!({
                "name": a.display_name(),
                "member": a.member,
                "employees": a.employees,
                "now": statement(&yearly_fee(&site.membership, a.employees, &own, year)),
                "next": statement(&yearly_fee(&site.membership, a.employees, &own, year + 1)),
            })
        })
        .collect();
    let mut extra = staff.context();
    extra.extend([
        ("authorities", json!(authorities)),
        (
            "percent_of_bookings",
            json!(site.membership.reduction_percent_of_bookings),
        ),
        ("max_percent", json!(site.membership.reduction_max_percent)),
    ]);
    let html = render(
        &loaded,
        "verwaltung/beitrag.html",
        "/verwaltung/beitrag",
        "Jahresbeitrag",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{Approver, BookingKind};

    fn membership() -> Membership {
        Membership {
            share_value: Cents::from_euros(1000),
            brackets: vec![
                (Some(50), 1),
                (Some(250), 2),
                (Some(500), 3),
                (Some(1000), 4),
                (None, 6),
            ],
            annual_fee_factor: 2,
            reduction_percent_of_bookings: 50,
            reduction_max_percent: 100,
        }
    }

    fn booking(state: BookingState, live_date: Option<&str>, euros: i64) -> BookingRow {
        BookingRow {
            id: 1,
            kind: BookingKind::Booking,
            unit_id: "u".into(),
            unit_title: "U".into(),
            wanted: live_date.unwrap_or("").into(),
            live_date: live_date.map(str::to_string),
            name: "N".into(),
            email: "n@example.org".into(),
            authority_id: "a".into(),
            member: true,
            price_cents: euros * 100,
            approver: Approver::Cooperative,
            approver_email: String::new(),
            state,
            queue_no: None,
            offer_until: None,
            // 2026-06-15 12:00 UTC
            created_at: 1_781_524_800,
            updated_at: 1_781_524_800,
        }
    }

    #[test]
    fn only_binding_bookings_of_the_year_before_reduce_the_fee() {
        // 730 employees: 4 shares, 4.000 € deposit, 8.000 € fee.
        let bookings = [
            booking(BookingState::Confirmed, Some("2026-03-10"), 199),
            booking(BookingState::Confirmed, Some("2026-11-02"), 299),
            // On-demand enrolment made in 2026.
            booking(BookingState::Enrolled, None, 49),
            // Not binding, or another year: not counted.
            booking(BookingState::Cancelled, Some("2026-05-05"), 1999),
            booking(BookingState::Waiting, Some("2026-05-05"), 199),
            booking(BookingState::Confirmed, Some("2027-01-20"), 199),
            booking(BookingState::Confirmed, Some("2025-12-01"), 199),
        ];
        let s = yearly_fee(&membership(), 730, &bookings, 2027);
        assert_eq!(s.shares, 4);
        assert_eq!(s.annual_fee, Cents::from_euros(8000));
        assert_eq!(s.counted, 3);
        assert_eq!(s.booked, Cents::from_euros(547));
        // 50 % of 547 € = 273,50 €.
        assert_eq!(s.reduction, Cents(27_350));
        assert_eq!(s.fee, Cents(800_000 - 27_350));
    }

    #[test]
    fn the_reduction_is_capped_by_the_rule() {
        let mut m = membership();
        m.reduction_max_percent = 25;
        // 20 employees: 1 share, 2.000 € fee; 10 × 1.999 € booked.
        let bookings: Vec<_> = (0..10)
            .map(|_| booking(BookingState::Confirmed, Some("2026-09-01"), 1999))
            .collect();
        let s = yearly_fee(&m, 20, &bookings, 2027);
        assert_eq!(s.annual_fee, Cents::from_euros(2000));
        assert_eq!(s.reduction, Cents::from_euros(500));
        assert_eq!(s.fee, Cents::from_euros(1500));
        // With 100 % the fee can fall to zero, never below.
        m.reduction_max_percent = 100;
        assert_eq!(yearly_fee(&m, 20, &bookings, 2027).fee, Cents(0));
        // No bookings in 2027 yet: the 2028 fee is the full one.
        assert_eq!(
            yearly_fee(&m, 20, &bookings, 2028).fee,
            Cents::from_euros(2000)
        );
    }
}
