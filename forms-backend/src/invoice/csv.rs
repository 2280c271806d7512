//! All lines of an invoice run as CSV for the cooperative's accounting:
//! semicolons, German decimal commas, every cell spreadsheet-safe. Amounts
//! are positive; the column „Art“ tells a credit note from an invoice.

use super::Invoice;
use crate::ops::spreadsheet_safe;
use std::io::Write;

const HEADER: [&str; 14] = [
    "Rechnungsnummer",
    "Art",
    "Rechnungsdatum",
    "Korrigiert",
    "Kommune",
    "Leitweg-ID",
    "Position",
    "Leistungsdatum",
    "Buchung",
    "Beschreibung",
    "Netto",
    "USt-Satz",
    "USt",
    "Brutto",
];

fn comma(cents: i64) -> String {
    super::decimal(cents).replace('.', ",")
}

pub fn write<W: Write>(out: W, invoices: &[Invoice]) -> std::io::Result<usize> {
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    w.write_record(HEADER)?;
    let mut rows = 0;
    for inv in invoices {
        for (i, l) in inv.lines.iter().enumerate() {
            let cells = [
                inv.number(),
                if inv.row.credit_note {
                    "Gutschrift"
                } else {
                    "Rechnung"
                }
                .to_string(),
                inv.issue_date().to_string(),
                inv.row
                    .corrects_number
                    .map(super::number_text)
                    .unwrap_or_default(),
                inv.buyer.name.clone(),
                inv.buyer.leitweg_id.clone(),
                (i + 1).to_string(),
                l.service_date.clone(),
                l.booking_id.map(|b| format!("B-{b}")).unwrap_or_default(),
                l.description.clone(),
                comma(l.net_cents),
                format!("{} %", l.vat_percent),
                comma(l.vat_cents),
                comma(l.gross_cents),
            ];
            w.write_record(cells.iter().map(|c| spreadsheet_safe(c)))?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok(rows)
}
