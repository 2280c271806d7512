//! SQL of billing: who a booking is billed to besides its authority (the
//! organisation named with "andere Kommune"), late cancellations, and the
//! invoices with their lines. An invoice number is drawn in the transaction
//! that records the invoice, so numbers have no gaps; every billed item has
//! a unique key, so nothing is invoiced twice.

use super::{params, OptionalExtension, Result, Row, Tx};
use crate::attendance::Attendance;

pub(super) const MIGRATION: &str = "
    ALTER TABLE bookings ADD COLUMN organisation TEXT NOT NULL DEFAULT '';
    -- Set when a booking is cancelled after the free period: what the
    -- cancellation costs (gross cents; 0 = free after all).
    ALTER TABLE bookings ADD COLUMN cancel_fee_cents INTEGER;

    CREATE TABLE invoices (
        id INTEGER PRIMARY KEY,
        number INTEGER NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('rechnung', 'gutschrift')),
        authority_id TEXT NOT NULL,
        period_from TEXT NOT NULL,
        period_to TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        corrects INTEGER REFERENCES invoices (id),
        net_cents INTEGER NOT NULL,
        vat_cents INTEGER NOT NULL,
        gross_cents INTEGER NOT NULL
    );
    CREATE TABLE invoice_lines (
        id INTEGER PRIMARY KEY,
        invoice_id INTEGER NOT NULL REFERENCES invoices (id),
        -- What is billed, once: 'buchung:17', 'storno:17', 'beitrag:ahornfeld:2027',
        -- 'gutschrift:<invoice_lines.id>'.
        item_key TEXT NOT NULL UNIQUE,
        booking_id INTEGER REFERENCES bookings (id),
        description TEXT NOT NULL,
        service_date TEXT NOT NULL,
        vat_percent INTEGER NOT NULL,
        net_cents INTEGER NOT NULL,
        vat_cents INTEGER NOT NULL,
        gross_cents INTEGER NOT NULL
    );
    CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id, id);
";

/// A binding booking that may be billed: as stored, plus what billing adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillableBooking {
    pub id: i64,
    pub unit_title: String,
    /// The live date, or the enrolment day of an on-demand unit (ISO).
    pub service_date: String,
    pub name: String,
    pub authority_id: String,
    pub member: bool,
    pub price_cents: i64,
    /// Some: cancelled late, costing this much (gross).
    pub cancel_fee_cents: Option<i64>,
    pub state: String,
    /// What the office recorded for a confirmed live place (none yet: the
    /// statement reports it instead of billing it).
    pub attendance: Option<Attendance>,
}

/// One line of an invoice to record (amounts already computed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoiceLine {
    pub item_key: String,
    pub booking_id: Option<i64>,
    pub description: String,
    pub service_date: String,
    pub vat_percent: i64,
    pub net_cents: i64,
    pub vat_cents: i64,
    pub gross_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice<'a> {
    pub credit_note: bool,
    pub authority_id: &'a str,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub issued_at: i64,
    pub corrects: Option<i64>,
    pub lines: &'a [NewInvoiceLine],
}

/// A recorded invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    pub id: i64,
    pub number: i64,
    pub credit_note: bool,
    pub authority_id: String,
    pub period_from: String,
    pub period_to: String,
    pub issued_at: i64,
    /// The number of the invoice a credit note corrects.
    pub corrects_number: Option<i64>,
    pub net_cents: i64,
    pub vat_cents: i64,
    pub gross_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLineRow {
    pub id: i64,
    pub item_key: String,
    pub booking_id: Option<i64>,
    pub description: String,
    pub service_date: String,
    pub vat_percent: i64,
    pub net_cents: i64,
    pub vat_cents: i64,
    pub gross_cents: i64,
}

const INVOICE_COLUMNS: &str = "i.id, i.number, i.kind, i.authority_id, i.period_from, i.period_to,
    i.issued_at, c.number, i.net_cents, i.vat_cents, i.gross_cents";

fn invoice_row(r: &Row) -> Result<InvoiceRow> {
    Ok(InvoiceRow {
        id: r.get(0)?,
        number: r.get(1)?,
        credit_note: r.get::<String>(2)? == "gutschrift",
        authority_id: r.get(3)?,
        period_from: r.get(4)?,
        period_to: r.get(5)?,
        issued_at: r.get(6)?,
        corrects_number: r.get(7)?,
        net_cents: r.get(8)?,
        vat_cents: r.get(9)?,
        gross_cents: r.get(10)?,
    })
}

impl Tx<'_> {
    /// Records the organisation a person of "andere Kommune" named.
    pub fn set_booking_organisation(&self, booking_id: i64, organisation: &str) -> Result<()> {
        self.execute(
            "UPDATE bookings SET organisation = ?2 WHERE id = ?1",
            params![booking_id, organisation],
        )?;
        Ok(())
    }

    /// Records what a late cancellation costs (the cancel step calls it in
    /// the transaction that cancels).
    pub fn set_cancel_fee(&self, booking_id: i64, fee_cents: i64) -> Result<()> {
        self.execute(
            "UPDATE bookings SET cancel_fee_cents = ?2 WHERE id = ?1",
            params![booking_id, fee_cents],
        )?;
        Ok(())
    }

    /// The organisation and cancellation fee of a booking.
    pub fn booking_billing(&self, booking_id: i64) -> Result<Option<(String, Option<i64>)>> {
        self.query_row(
            "SELECT organisation, cancel_fee_cents FROM bookings WHERE id = ?1",
            params![booking_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
    }

    /// Binding bookings of `authority_id` in `from..=to` (ISO dates) that no
    /// invoice holds yet: confirmed places on a live date in the period
    /// (with their attendance, if recorded), late cancellations of such dates, and paid
    /// on-demand enrolments made in the period (`enrolled_from..enrolled_to`
    /// in Unix seconds).
    pub fn unbilled_bookings(
        &self,
        authority_id: &str,
        from: &str,
        to: &str,
        enrolled_from: i64,
        enrolled_to: i64,
    ) -> Result<Vec<BillableBooking>> {
        let rows = self.query_map(
            "SELECT b.id, b.unit_title, b.live_date, b.created_at, b.name, b.authority_id,
                    b.member, b.price_cents, b.cancel_fee_cents, b.state, a.status
             FROM bookings b LEFT JOIN attendance a ON a.booking_id = b.id
             WHERE b.authority_id = ?1 AND b.price_cents > 0
               AND ((b.state = 'bestaetigt' AND b.live_date >= ?2 AND b.live_date <= ?3)
                 OR (b.state = 'storniert' AND b.cancel_fee_cents > 0
                     AND b.live_date >= ?2 AND b.live_date <= ?3)
                 OR (b.state = 'eingeschrieben' AND b.created_at >= ?4 AND b.created_at < ?5))
               AND NOT EXISTS (SELECT 1 FROM invoice_lines l
                               WHERE l.booking_id = b.id AND l.item_key NOT LIKE 'gutschrift:%')
             ORDER BY b.live_date, b.created_at, b.id",
            params![authority_id, from, to, enrolled_from, enrolled_to],
            |r| {
                let live: Option<String> = r.get(2)?;
                let created: i64 = r.get(3)?;
                Ok(BillableBooking {
                    id: r.get(0)?,
                    unit_title: r.get(1)?,
                    service_date: live.unwrap_or_else(|| iso_day(created)),
                    name: r.get(4)?,
                    authority_id: r.get(5)?,
                    member: r.get(6)?,
                    price_cents: r.get(7)?,
                    cancel_fee_cents: r.get(8)?,
                    state: r.get(9)?,
                    attendance: r
                        .get::<Option<String>>(10)?
                        .and_then(|s| Attendance::parse(&s).ok()),
                })
            },
        )?;
        Ok(rows)
    }

    /// Gross sum billed to an authority for services in `from..=to` (ISO
    /// dates): invoices count, credit notes are subtracted.
    pub fn billed_gross(&self, authority_id: &str, from: &str, to: &str) -> Result<i64> {
        self.query_row(
            "SELECT coalesce(sum(CASE i.kind WHEN 'gutschrift' THEN -l.gross_cents
                                              ELSE l.gross_cents END), 0)
             FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
             WHERE i.authority_id = ?1 AND l.service_date >= ?2 AND l.service_date <= ?3
               AND l.item_key NOT LIKE 'beitrag:%'",
            params![authority_id, from, to],
            |r| r.get(0),
        )
    }

    /// Whether an item (`buchung:17`, `beitrag:ahornfeld:2027`) is on an invoice.
    pub fn item_invoiced(&self, item_key: &str) -> Result<bool> {
        Ok(self
            .query_row(
                "SELECT 1 FROM invoice_lines WHERE item_key = ?1",
                params![item_key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Records an invoice or credit note with its lines under the next
    /// number (one more than the highest; drawn in this transaction, so a
    /// rolled back run leaves no gap). The sums are those of the lines.
    pub fn record_invoice(&self, inv: &NewInvoice) -> Result<InvoiceRow> {
        // Two nodes drawing at once: the second waits here for the first's
        // commit and then reads its number (instead of failing on UNIQUE).
        self.lock("campus:invoices")?;
        let sum = |f: fn(&NewInvoiceLine) -> i64| inv.lines.iter().map(f).sum::<i64>();
        let id: i64 = self.query_row(
            "INSERT INTO invoices (number, kind, authority_id, period_from, period_to, issued_at,
                corrects, net_cents, vat_cents, gross_cents)
             VALUES ((SELECT coalesce(max(number), 0) + 1 FROM invoices), ?1, ?2, ?3, ?4, ?5, ?6,
                ?7, ?8, ?9)
             RETURNING id",
            params![
                if inv.credit_note {
                    "gutschrift"
                } else {
                    "rechnung"
                },
                inv.authority_id,
                inv.period_from,
                inv.period_to,
                inv.issued_at,
                inv.corrects,
                sum(|l| l.net_cents),
                sum(|l| l.vat_cents),
                sum(|l| l.gross_cents),
            ],
            |r| r.get(0),
        )?;
        for l in inv.lines {
            self.execute(
                "INSERT INTO invoice_lines (invoice_id, item_key, booking_id, description,
                    service_date, vat_percent, net_cents, vat_cents, gross_cents)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    l.item_key,
                    l.booking_id,
                    l.description,
                    l.service_date,
                    l.vat_percent,
                    l.net_cents,
                    l.vat_cents,
                    l.gross_cents
                ],
            )?;
        }
        Ok(self.invoice(id)?.expect("just inserted"))
    }

    pub fn invoice(&self, id: i64) -> Result<Option<InvoiceRow>> {
        self.query_row(
            &format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices i
                     LEFT JOIN invoices c ON c.id = i.corrects WHERE i.id = ?1"
            ),
            params![id],
            invoice_row,
        )
        .optional()
    }

    pub fn invoice_by_number(&self, number: i64) -> Result<Option<InvoiceRow>> {
        let id: Option<i64> = self
            .query_row(
                "SELECT id FROM invoices WHERE number = ?1",
                params![number],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.invoice(id),
            None => Ok(None),
        }
    }

    /// Recorded invoices and credit notes, newest first; only those of
    /// `authorities` if given (an approver's view).
    pub fn invoices(&self, authorities: Option<&[String]>) -> Result<Vec<InvoiceRow>> {
        let all = self.query_map(
            &format!(
                "SELECT {INVOICE_COLUMNS} FROM invoices i
                     LEFT JOIN invoices c ON c.id = i.corrects ORDER BY i.number DESC"
            ),
            params![],
            invoice_row,
        )?;
        Ok(match authorities {
            None => all,
            Some(ids) => all
                .into_iter()
                .filter(|i| ids.contains(&i.authority_id))
                .collect(),
        })
    }

    /// Whether a credit note already corrects invoice `id`.
    pub fn credit_note_for(&self, id: i64) -> Result<Option<i64>> {
        self.query_row(
            "SELECT number FROM invoices WHERE corrects = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()
    }

    pub fn invoice_lines(&self, invoice_id: i64) -> Result<Vec<InvoiceLineRow>> {
        let rows = self.query_map(
            "SELECT id, item_key, booking_id, description, service_date, vat_percent,
                    net_cents, vat_cents, gross_cents
             FROM invoice_lines WHERE invoice_id = ?1 ORDER BY id",
            params![invoice_id],
            |r| {
                Ok(InvoiceLineRow {
                    id: r.get(0)?,
                    item_key: r.get(1)?,
                    booking_id: r.get(2)?,
                    description: r.get(3)?,
                    service_date: r.get(4)?,
                    vat_percent: r.get(5)?,
                    net_cents: r.get(6)?,
                    vat_cents: r.get(7)?,
                    gross_cents: r.get(8)?,
                })
            },
        )?;
        Ok(rows)
    }
}

/// The UTC calendar day of a Unix time as ISO date.
fn iso_day(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}
