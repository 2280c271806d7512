//! Statements and invoices per authority and period: which binding bookings
//! are billed, the yearly fee, the amounts (prices in the data are gross),
//! gap-free numbers, and the files of an invoice run (XRechnung, PDF, CSV).
//!
//! Amounts: every line starts from a gross price; its net is the gross
//! divided by 1.19 rounded to the cent, its VAT the difference (round per
//! line). Sums are per VAT rate: the sum of the line nets, of the line VATs,
//! of the line grosses. So each line's gross is exactly the price in the
//! data and the invoice total is the sum of those prices.

pub mod csv;
pub mod pdf;
pub mod seller;
pub mod xrechnung;

pub use seller::Seller;

use crate::attendance::Attendance;
use crate::store::{self, BillableBooking, InvoiceLineRow, InvoiceRow, NewInvoiceLine, Store};
use campus_generator::content::RawPostalAddress;
use campus_generator::model::cancellation::CancellationTerms;
use campus_generator::model::Authority;
use campus_generator::money::Cents;
use campus_generator::Site;
use chrono::NaiveDate;

/// Held by every transaction that draws an invoice number or bills an item
/// (SQLite has one writer anyway; on PostgreSQL an advisory lock).
const NUMBERS_LOCK: &str = "rechnungsnummern";

/// Net and VAT of a gross amount at `rate` percent, rounded per line.
pub fn split_gross(gross: i64, rate: i64) -> (i64, i64) {
    let vat = Cents(gross).vat_included(rate).0;
    (gross - vat, vat)
}

/// The yearly fee of a member authority for `year`, reduced by the
/// bookings it made the year before (gross). The one place the fee rule
/// enters billing: `data/mitgliedschaft.yaml` through the site's model.
pub fn annual_fee(site: &Site, authority: &Authority, bookings_last_year: Cents) -> Option<Cents> {
    if !authority.member {
        return None;
    }
    let quote = site.membership.quote(authority.employees);
    Some(
        site.membership
            .reduced_fee(quote.annual_fee, bookings_last_year),
    )
}

/// What a booking adds to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Billed {
    Line(NewInvoiceLine),
    /// Nothing to bill (a no-show with `nichterscheinen_prozent: 0`).
    Nothing,
    /// A confirmed place without an attendance record: held back and
    /// reported until the office records it.
    Unrecorded,
}

/// What a booking costs on an invoice: the price of an attended date, the
/// no-show share of the cancellation terms (`nichterscheinen_prozent`; the
/// full price without a terms file), the fee of a late cancellation as
/// recorded when it was cancelled, the price of a paid on-demand licence.
fn booking_line(b: &BillableBooking, vat: i64, terms: Option<&CancellationTerms>) -> Billed {
    let price = Cents(b.price_cents);
    let (key, gross, what) = match b.cancel_fee_cents {
        Some(fee) if b.state == "storniert" => {
            (format!("storno:{}", b.id), Cents(fee), "Späte Stornierung")
        }
        _ if b.state == "eingeschrieben" => (format!("buchung:{}", b.id), price, "Lizenz"),
        _ => match b.attendance {
            None => return Billed::Unrecorded,
            Some(Attendance::Attended) => (format!("buchung:{}", b.id), price, "Teilnahme"),
            Some(Attendance::NoShow) => {
                let percent = terms.map_or(100, |t| t.no_show_percent);
                (
                    format!("buchung:{}", b.id),
                    price.percent_of(percent),
                    if percent == 100 {
                        "Nicht erschienen"
                    } else {
                        "Nicht erschienen (Anteil laut Stornobedingungen)"
                    },
                )
            }
        },
    };
    if gross.is_zero() {
        return Billed::Nothing;
    }
    let (net, vat_cents) = split_gross(gross.0, vat);
    Billed::Line(NewInvoiceLine {
        item_key: key,
        booking_id: Some(b.id),
        description: format!(
            "{what}: {} – {} (B-{}){}",
            b.unit_title,
            b.name,
            b.id,
            if b.member {
                ""
            } else {
                ", Preis für Nichtmitglieder"
            }
        ),
        service_date: b.service_date.clone(),
        vat_percent: vat,
        net_cents: net,
        vat_cents,
        gross_cents: gross.0,
    })
}

/// What one authority would be invoiced for a period, before the run.
#[derive(Debug, Clone)]
pub struct Statement {
    pub authority_id: String,
    pub name: String,
    pub lines: Vec<NewInvoiceLine>,
    /// Confirmed places of the period without an attendance record: not
    /// billed (and not dropped) until the office records attended or no-show.
    pub unrecorded: Vec<BillableBooking>,
    /// Why the run cannot invoice this authority (no Leitweg-ID, no address).
    pub refused: Option<String>,
}

impl Statement {
    pub fn net_cents(&self) -> i64 {
        self.lines.iter().map(|l| l.net_cents).sum()
    }
    pub fn vat_cents(&self) -> i64 {
        self.lines.iter().map(|l| l.vat_cents).sum()
    }
    pub fn gross_cents(&self) -> i64 {
        self.lines.iter().map(|l| l.gross_cents).sum()
    }
}

/// The lines of `a` for `period` that no invoice holds yet (and the yearly
/// fee of `fee_year`), read in `tx`: the one rule both the run and the
/// back-office preview use.
fn statement_in(
    tx: &store::Tx,
    site: &Site,
    a: &Authority,
    period: Period,
    fee_year: Option<i32>,
) -> store::Result<Statement> {
    let vat = site.prices.vat_percent;
    let (enrolled_from, enrolled_to) = period.unix_range();
    let mut lines = Vec::new();
    let mut unrecorded = Vec::new();
    for b in tx.unbilled_bookings(
        &a.id,
        &period.from.to_string(),
        &period.to.to_string(),
        enrolled_from,
        enrolled_to,
    )? {
        match booking_line(&b, vat, site.cancellation.as_ref()) {
            Billed::Line(l) => lines.push(l),
            Billed::Nothing => {}
            Billed::Unrecorded => unrecorded.push(b),
        }
    }
    lines.extend(exclusive_course_lines(
        tx,
        &a.id,
        &period.from.to_string(),
        &period.to.to_string(),
        vat,
    )?);
    if let Some(year) = fee_year {
        lines.extend(fee_line(tx, site, a, year)?);
    }
    Ok(Statement {
        authority_id: a.id.clone(),
        name: a.display_name(),
        refused: buyer_of(a).err().map(|e| e.to_string()),
        lines,
        unrecorded,
    })
}

/// The yearly fee of `year` if the authority is a member and it is not billed yet.
fn fee_line(
    tx: &store::Tx,
    site: &Site,
    a: &Authority,
    year: i32,
) -> store::Result<Option<NewInvoiceLine>> {
    let vat = site.prices.vat_percent;
    let key = format!("beitrag:{}:{year}", a.id);
    let last_year = billed_in_year(tx, &a.id, year - 1)?;
    let Some(fee) = annual_fee(site, a, last_year) else {
        return Ok(None);
    };
    if fee.0 <= 0 || tx.item_invoiced(&key)? {
        return Ok(None);
    }
    let (net, vat_cents) = split_gross(fee.0, vat);
    Ok(Some(NewInvoiceLine {
        item_key: key,
        booking_id: None,
        description: format!(
            "Jahresbeitrag {year} ({} Geschäftsanteile), gemindert um {} Prozent der Buchungen {} ({})",
            site.membership.shares_for(a.employees),
            site.membership.reduction_percent_of_bookings,
            year - 1,
            last_year
        ),
        service_date: format!("{year}-01-01"),
        vat_percent: vat,
        net_cents: net,
        vat_cents,
        gross_cents: fee.0,
    }))
}

/// The statements of `period` as a run now would make them (reads only):
/// every authority with something to bill or a place without attendance.
pub fn statements(
    store: &Store,
    site: &Site,
    period: Period,
    fee_year: Option<i32>,
) -> Result<Vec<Statement>, InvoiceError> {
    let all = store.read(|tx| {
        site.authorities
            .iter()
            .map(|a| statement_in(tx, site, a, period, fee_year))
            .collect::<store::Result<Vec<_>>>()
    })?;
    Ok(all
        .into_iter()
        .filter(|s| !s.lines.is_empty() || !s.unrecorded.is_empty())
        .collect())
}

/// The period an invoice run covers: whole days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `2027-03` → 1 to 31 March 2027.
    pub fn month(text: &str) -> Option<Period> {
        let from = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
        let next = from.checked_add_months(chrono::Months::new(1))?;
        Some(Period {
            from,
            to: next.pred_opt()?,
        })
    }

    fn unix_range(&self) -> (i64, i64) {
        let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
        (
            start(self.from),
            start(self.to.succ_opt().unwrap_or(self.to)),
        )
    }
}

/// An invoice with everything its files show.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub row: InvoiceRow,
    pub lines: Vec<InvoiceLineRow>,
    pub buyer: Buyer,
}

/// The receiving authority as the invoice names it.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub id: String,
    pub name: String,
    pub leitweg_id: String,
    pub address: RawPostalAddress,
    pub email: String,
}

impl Invoice {
    /// The number as printed: `KC-000042`.
    pub fn number(&self) -> String {
        number_text(self.row.number)
    }

    pub fn issue_date(&self) -> NaiveDate {
        chrono::DateTime::from_timestamp(self.row.issued_at, 0)
            .map(|t| t.date_naive())
            .unwrap_or_default()
    }
}

pub fn number_text(n: i64) -> String {
    format!("KC-{n:06}")
}

#[derive(Debug, thiserror::Error)]
pub enum InvoiceError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Refused(String),
}

fn buyer_of(a: &Authority) -> Result<Buyer, InvoiceError> {
    let missing = |what: &str| {
        InvoiceError::Refused(format!(
            "{}: {what} fehlt in {} – ohne sie kann keine XRechnung zugestellt werden.",
            a.display_name(),
            a.source.display()
        ))
    };
    Ok(Buyer {
        id: a.id.clone(),
        name: a.display_name(),
        leitweg_id: a
            .leitweg_id
            .clone()
            .ok_or_else(|| missing("„leitweg_id“"))?,
        address: a
            .billing_address
            .clone()
            .ok_or_else(|| missing("„rechnungsanschrift“"))?,
        email: a.contact.email.clone(),
    })
}

/// Gross sum billed to `authority_id` for services in `year` (invoices
/// minus credit notes), the basis of next year's fee reduction.
fn billed_in_year(tx: &store::Tx, authority_id: &str, year: i32) -> store::Result<Cents> {
    Ok(Cents(tx.billed_gross(
        authority_id,
        &format!("{year}-01-01"),
        &format!("{year}-12-31"),
    )?))
}

/// Exclusive courses of `authority_id` scheduled with a first date in the
/// period, each billed once as a whole (`kurs-exklusiv:<id>`).
fn exclusive_course_lines(
    tx: &store::Tx,
    authority_id: &str,
    from: &str,
    to: &str,
    vat: i64,
) -> store::Result<Vec<NewInvoiceLine>> {
    Ok(tx
        .unbilled_exclusive_courses(authority_id, from, to)?
        .into_iter()
        .map(|(r, first_date)| {
            let (net, vat_cents) = split_gross(r.price_cents, vat);
            NewInvoiceLine {
                item_key: format!("kurs-exklusiv:{}", r.id),
                booking_id: None,
                description: format!(
                    "Exklusiver Kurs: {} für bis zu {} Beschäftigte (X-{})",
                    r.course_title, r.group_size, r.id
                ),
                service_date: first_date,
                vat_percent: vat,
                net_cents: net,
                vat_cents,
                gross_cents: r.price_cents,
            }
        })
        .collect())
}

/// Makes the invoices of `period`: per authority one invoice of everything
/// not yet billed (and the yearly fee of `fee_year` if given and not billed
/// yet), each recorded with its number in one transaction per authority.
/// Authorities with nothing to bill get none; if one with something to bill
/// lacks its billing data, nothing is invoiced.
pub fn run(
    store: &Store,
    site: &Site,
    period: Period,
    fee_year: Option<i32>,
    now: i64,
) -> Result<Vec<Invoice>, InvoiceError> {
    run_by(store, site, period, fee_year, now, None)
}

/// [`run`] started by `actor` in the back-office: each invoice is logged in
/// `office_actions` in the transaction that records it.
pub fn run_by(
    store: &Store,
    site: &Site,
    period: Period,
    fee_year: Option<i32>,
    now: i64,
    actor: Option<&str>,
) -> Result<Vec<Invoice>, InvoiceError> {
    // All or nothing: an authority that cannot be invoiced (no Leitweg-ID
    // or address) stops the run before any number is drawn.
    let refused: Vec<String> = statements(store, site, period, fee_year)?
        .into_iter()
        .filter(|s| !s.lines.is_empty())
        .filter_map(|s| s.refused)
        .collect();
    if !refused.is_empty() {
        return Err(InvoiceError::Refused(refused.join(" ")));
    }
    let mut out = Vec::new();
    for a in site.authorities.iter() {
        let invoice = store.write(|tx| {
            // Two runs at once (a double click, two nodes): the second
            // waits here and then finds the first one's lines billed.
            tx.lock(NUMBERS_LOCK)?;
            let statement = statement_in(tx, site, a, period, fee_year)?;
            if statement.lines.is_empty() {
                return Ok(None);
            }
            let buyer = buyer_of(a)?;
            let row = tx.record_invoice(&store::NewInvoice {
                credit_note: false,
                authority_id: &a.id,
                period_from: &period.from.to_string(),
                period_to: &period.to.to_string(),
                issued_at: now,
                corrects: None,
                lines: &statement.lines,
            })?;
            if let Some(actor) = actor {
                tx.record_office_action(actor, "rechnung", &number_text(row.number), now)?;
            }
            let lines = tx.invoice_lines(row.id)?;
            Ok::<_, InvoiceError>(Some(Invoice { row, lines, buyer }))
        })?;
        out.extend(invoice);
    }
    Ok(out)
}

/// A credit note that reverses invoice `number` in full (a correction is
/// never an edited invoice). Refused if the invoice is unknown, is a credit
/// note itself, or was credited before.
pub fn credit_note(
    store: &Store,
    site: &Site,
    number: i64,
    now: i64,
) -> Result<Invoice, InvoiceError> {
    credit_note_by(store, site, number, now, None)
}

/// [`credit_note`] made by `actor` in the back-office, logged in
/// `office_actions` in its transaction.
pub fn credit_note_by(
    store: &Store,
    site: &Site,
    number: i64,
    now: i64,
    actor: Option<&str>,
) -> Result<Invoice, InvoiceError> {
    store.write(|tx| {
        tx.lock(NUMBERS_LOCK)?;
        let original = tx.invoice_by_number(number)?.ok_or_else(|| {
            InvoiceError::Refused(format!(
                "Die Rechnung {} gibt es nicht.",
                number_text(number)
            ))
        })?;
        if original.credit_note {
            return Err(InvoiceError::Refused(format!(
                "{} ist selbst eine Gutschrift.",
                number_text(number)
            )));
        }
        if let Some(n) = tx.credit_note_for(original.id)? {
            return Err(InvoiceError::Refused(format!(
                "Zu {} gibt es schon die Gutschrift {}.",
                number_text(number),
                number_text(n)
            )));
        }
        let a = site.authority(&original.authority_id).ok_or_else(|| {
            InvoiceError::Refused(format!(
                "Die Kommune „{}“ steht nicht mehr im Inhalt.",
                original.authority_id
            ))
        })?;
        let buyer = buyer_of(a)?;
        let lines: Vec<NewInvoiceLine> = tx
            .invoice_lines(original.id)?
            .into_iter()
            .map(|l| NewInvoiceLine {
                item_key: format!("gutschrift:{}", l.id),
                booking_id: l.booking_id,
                description: format!("Gutschrift zu {}: {}", number_text(number), l.description),
                service_date: l.service_date,
                vat_percent: l.vat_percent,
                net_cents: l.net_cents,
                vat_cents: l.vat_cents,
                gross_cents: l.gross_cents,
            })
            .collect();
        let row = tx.record_invoice(&store::NewInvoice {
            credit_note: true,
            authority_id: &original.authority_id,
            period_from: &original.period_from,
            period_to: &original.period_to,
            issued_at: now,
            corrects: Some(original.id),
            lines: &lines,
        })?;
        if let Some(actor) = actor {
            tx.record_office_action(
                actor,
                "gutschrift",
                &format!("{} zu {}", number_text(row.number), number_text(number)),
                now,
            )?;
        }
        let lines = tx.invoice_lines(row.id)?;
        Ok(Invoice { row, lines, buyer })
    })
}

/// A recorded invoice or credit note by number, with its buyer as the
/// content names it now; `None` if there is no such number.
pub fn load(store: &Store, site: &Site, number: i64) -> Result<Option<Invoice>, InvoiceError> {
    let Some((row, lines)) = store.read(|tx| {
        let Some(row) = tx.invoice_by_number(number)? else {
            return Ok(None);
        };
        let lines = tx.invoice_lines(row.id)?;
        Ok(Some((row, lines)))
    })?
    else {
        return Ok(None);
    };
    let a = site.authority(&row.authority_id).ok_or_else(|| {
        InvoiceError::Refused(format!(
            "Die Kommune „{}“ steht nicht mehr im Inhalt.",
            row.authority_id
        ))
    })?;
    Ok(Some(Invoice {
        row,
        lines,
        buyer: buyer_of(a)?,
    }))
}

/// The XRechnung (UBL) of `inv`; a credit note names the issue date of the
/// invoice it corrects (BT-26).
pub fn xml_of(store: &Store, inv: &Invoice, seller: &Seller) -> Result<String, InvoiceError> {
    let corrected = match inv.row.corrects_number {
        Some(n) => store.read(|tx| tx.invoice_by_number(n))?.map(|r| {
            chrono::DateTime::from_timestamp(r.issued_at, 0)
                .map(|t| t.date_naive().to_string())
                .unwrap_or_default()
        }),
        None => None,
    };
    Ok(xrechnung::ubl(inv, seller, corrected.as_deref()))
}

/// Sums of an invoice per VAT rate: (rate, net, vat, gross), rates ascending.
pub fn per_rate(lines: &[InvoiceLineRow]) -> Vec<(i64, i64, i64, i64)> {
    let mut sums: std::collections::BTreeMap<i64, (i64, i64, i64)> = Default::default();
    for l in lines {
        let s = sums.entry(l.vat_percent).or_default();
        s.0 += l.net_cents;
        s.1 += l.vat_cents;
        s.2 += l.gross_cents;
    }
    sums.into_iter()
        .map(|(rate, (n, v, g))| (rate, n, v, g))
        .collect()
}

/// `16723` → `167.23` (the XML and CSV form).
pub fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gross_prices_split_per_line_and_stay_exact() {
        // 199 € gross: net 167,23 €, VAT 31,77 €.
        assert_eq!(split_gross(19_900, 19), (16_723, 3_177));
        // 238,80 € (non-member): 200,67 € + 38,13 €.
        assert_eq!(split_gross(23_880, 19), (20_067, 3_813));
        assert_eq!(split_gross(4_900, 19), (4_118, 782));
        for gross in [1, 99, 19_900, 29_900, 199_900, 35_880] {
            let (n, v) = split_gross(gross, 19);
            assert_eq!(n + v, gross);
        }
        assert_eq!(decimal(16_723), "167.23");
        assert_eq!(decimal(-5), "-0.05");
    }

    #[test]
    fn months_are_whole_periods() {
        let p = Period::month("2027-02").unwrap();
        assert_eq!(p.to.to_string(), "2027-02-28");
        assert!(Period::month("2027-13").is_none());
    }
}
