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

use crate::store::{self, BillableBooking, InvoiceLineRow, InvoiceRow, NewInvoiceLine, Store};
use campus_generator::content::RawPostalAddress;
use campus_generator::model::Authority;
use campus_generator::money::Cents;
use campus_generator::Site;
use chrono::NaiveDate;

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

/// What a booking costs on an invoice: the price for an attended or missed
/// date (binding either way), the fee of a late cancellation.
fn booking_line(b: &BillableBooking, vat: i64) -> NewInvoiceLine {
    let (key, gross, what) = match b.cancel_fee_cents {
        Some(fee) if b.state == "storniert" => {
            (format!("storno:{}", b.id), fee, "Späte Stornierung")
        }
        _ if b.state == "eingeschrieben" => (format!("buchung:{}", b.id), b.price_cents, "Lizenz"),
        _ => (format!("buchung:{}", b.id), b.price_cents, "Teilnahme"),
    };
    let (net, vat_cents) = split_gross(gross, vat);
    NewInvoiceLine {
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
        gross_cents: gross,
    }
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
/// Authorities with nothing to bill get none.
pub fn run(
    store: &Store,
    site: &Site,
    period: Period,
    fee_year: Option<i32>,
    now: i64,
) -> Result<Vec<Invoice>, InvoiceError> {
    let vat = site.prices.vat_percent;
    let (enrolled_from, enrolled_to) = period.unix_range();
    let from = period.from.to_string();
    let to = period.to.to_string();
    let mut out = Vec::new();
    for a in site.authorities.iter() {
        let invoice = store.write(|tx| {
            let mut lines: Vec<NewInvoiceLine> = tx
                .unbilled_bookings(&a.id, &from, &to, enrolled_from, enrolled_to)?
                .iter()
                .map(|b| booking_line(b, vat))
                .collect();
            lines.extend(exclusive_course_lines(tx, &a.id, &from, &to, vat)?);
            if let Some(year) = fee_year {
                let key = format!("beitrag:{}:{year}", a.id);
                let last_year = billed_in_year(tx, &a.id, year - 1)?;
                if let Some(fee) = annual_fee(site, a, last_year) {
                    if fee.0 > 0 && !tx.item_invoiced(&key)? {
                        let (net, vat_cents) = split_gross(fee.0, vat);
                        lines.push(NewInvoiceLine {
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
                        });
                    }
                }
            }
            if lines.is_empty() {
                return Ok(None);
            }
            let buyer = buyer_of(a)?;
            let row = tx.record_invoice(&store::NewInvoice {
                credit_note: false,
                authority_id: &a.id,
                period_from: &from,
                period_to: &to,
                issued_at: now,
                corrects: None,
                lines: &lines,
            })?;
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
    store.write(|tx| {
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
        let lines = tx.invoice_lines(row.id)?;
        Ok(Invoice { row, lines, buyer })
    })
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
