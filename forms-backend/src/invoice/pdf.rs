//! The invoice as a PDF for people (the XRechnung is the binding electronic
//! form): A4, DejaVu Sans from the theme, embedded, so `pdftotext` reads it
//! back. Long invoices continue on further pages.

use super::{per_rate, Invoice, Seller};
use campus_generator::money::Cents;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

const REGULAR: &[u8] = include_bytes!("../../../themes/default/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../themes/default/fonts/DejaVuSans-Bold.ttf");

const LEFT: f32 = 56.0;
const BOTTOM: f32 = 770.0;

/// Lines of at most about `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

fn date(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// One piece of text on a page: x, y, bold, size, text.
type Placed = (f32, f32, bool, f32, String);

/// Collects the text per page (a new page when one is full), then draws it.
struct Writer<'a> {
    document: &'a mut Document,
    regular: Font,
    bold: Font,
    ops: Vec<Vec<Placed>>,
    y: f32,
}

impl Writer<'_> {
    fn text(&mut self, x: f32, bold: bool, size: f32, text: &str) {
        if self.ops.is_empty() || self.y > BOTTOM {
            self.ops.push(Vec::new());
            self.y = 60.0;
        }
        let y = self.y;
        self.ops
            .last_mut()
            .unwrap()
            .push((x, y, bold, size, text.to_string()));
    }

    fn next(&mut self, advance: f32) {
        self.y += advance;
    }

    fn finish(self) {
        let pages = self.ops.len();
        for (i, ops) in self.ops.into_iter().enumerate() {
            let mut page = self
                .document
                .start_page_with(PageSettings::from_wh(595.0, 842.0).expect("A4"));
            let mut surface: Surface = page.surface();
            for (x, y, bold, size, text) in ops {
                let font = if bold { &self.bold } else { &self.regular };
                surface.draw_text(
                    Point::from_xy(x, y),
                    font.clone(),
                    size,
                    &text,
                    false,
                    TextDirection::Auto,
                );
            }
            if pages > 1 {
                surface.draw_text(
                    Point::from_xy(LEFT, 815.0),
                    self.regular.clone(),
                    8.0,
                    &format!("Seite {} von {pages}", i + 1),
                    false,
                    TextDirection::Auto,
                );
            }
            surface.finish();
            page.finish();
        }
    }
}

pub fn pdf(invoice: &Invoice, seller: &Seller) -> Result<Vec<u8>, String> {
    let regular = Font::new(std::sync::Arc::new(REGULAR.to_vec()).into(), 0)
        .ok_or("Schrift DejaVuSans.ttf nicht lesbar")?;
    let bold = Font::new(std::sync::Arc::new(BOLD.to_vec()).into(), 0)
        .ok_or("Schrift DejaVuSans-Bold.ttf nicht lesbar")?;
    let mut document = Document::new();
    let r = &invoice.row;
    let b = &invoice.buyer;
    let kind = if r.credit_note {
        "Gutschrift"
    } else {
        "Rechnung"
    };
    let issue = invoice.issue_date();
    let due = issue + chrono::Duration::days(i64::from(seller.zahlungsziel_tage));
    {
        let mut w = Writer {
            document: &mut document,
            regular,
            bold,
            ops: Vec::new(),
            y: 60.0,
        };
        w.text(
            LEFT,
            false,
            8.0,
            &format!(
                "{} · {} · {} {}",
                seller.name, seller.strasse, seller.plz, seller.ort
            ),
        );
        w.next(24.0);
        for line in [
            b.name.as_str(),
            b.address.zusatz.as_str(),
            b.address.strasse.as_str(),
        ]
        .into_iter()
        .filter(|l| !l.is_empty())
        {
            w.text(LEFT, false, 11.0, line);
            w.next(15.0);
        }
        w.text(
            LEFT,
            false,
            11.0,
            &format!("{} {}", b.address.plz, b.address.ort),
        );
        w.next(40.0);
        w.text(LEFT, true, 18.0, &format!("{kind} {}", invoice.number()));
        w.next(26.0);
        let mut facts = vec![
            format!("Rechnungsdatum: {}", issue.format("%d.%m.%Y")),
            format!(
                "Leistungszeitraum: {} bis {}",
                date(&r.period_from),
                date(&r.period_to)
            ),
            format!("Leitweg-ID: {}", b.leitweg_id),
        ];
        if let Some(n) = r.corrects_number {
            facts.push(format!("Korrigiert die Rechnung {}", super::number_text(n)));
        }
        for f in facts {
            w.text(LEFT, false, 10.0, &f);
            w.next(14.0);
        }
        w.next(14.0);
        let cols = [LEFT, 80.0, 150.0, 380.0, 445.0, 505.0];
        for (x, h) in cols
            .iter()
            .zip(["Pos.", "Datum", "Leistung", "Netto", "USt", "Brutto"])
        {
            w.text(*x, true, 9.0, h);
        }
        w.next(14.0);
        for (i, l) in invoice.lines.iter().enumerate() {
            w.text(cols[0], false, 9.0, &(i + 1).to_string());
            w.text(cols[1], false, 9.0, &date(&l.service_date));
            w.text(cols[3], false, 9.0, &Cents(l.net_cents).to_string());
            w.text(cols[4], false, 9.0, &Cents(l.vat_cents).to_string());
            w.text(cols[5], false, 9.0, &Cents(l.gross_cents).to_string());
            for part in wrap(&l.description, 42) {
                w.text(cols[2], false, 9.0, &part);
                w.next(12.0);
            }
            w.next(4.0);
        }
        w.next(10.0);
        for (rate, net, vat, _) in per_rate(&invoice.lines) {
            w.text(cols[2], false, 10.0, &format!("Summe netto ({rate} % USt)"));
            w.text(cols[5], false, 10.0, &Cents(net).to_string());
            w.next(14.0);
            w.text(cols[2], false, 10.0, &format!("Umsatzsteuer {rate} %"));
            w.text(cols[5], false, 10.0, &Cents(vat).to_string());
            w.next(14.0);
        }
        w.text(
            cols[2],
            true,
            11.0,
            if r.credit_note {
                "Gutschriftsbetrag"
            } else {
                "Rechnungsbetrag"
            },
        );
        w.text(cols[5], true, 11.0, &Cents(r.gross_cents).to_string());
        w.next(30.0);
        let terms = if r.credit_note {
            "Der Betrag wird Ihnen erstattet oder mit der nächsten Rechnung verrechnet.".to_string()
        } else {
            format!(
                "Bitte überweisen Sie den Rechnungsbetrag ohne Abzug bis {} unter Angabe der Rechnungsnummer {}.",
                due.format("%d.%m.%Y"),
                invoice.number()
            )
        };
        for part in wrap(&terms, 90) {
            w.text(LEFT, false, 10.0, &part);
            w.next(14.0);
        }
        w.next(20.0);
        for line in [
            format!(
                "{} · {} · {} {}",
                seller.name, seller.strasse, seller.plz, seller.ort
            ),
            format!("USt-IdNr.: {} · {}", seller.ust_id, seller.registergericht),
            format!(
                "Bank: {} · IBAN: {} · BIC: {}",
                seller.bank, seller.iban, seller.bic
            ),
            format!(
                "Fragen zur Rechnung: {} · {} · {}",
                seller.ansprechperson, seller.telefon, seller.email
            ),
        ] {
            w.text(LEFT, false, 8.0, &line);
            w.next(11.0);
        }
        w.finish();
    }
    document.set_metadata(
        Metadata::new()
            .title(format!("{kind} {}", invoice.number()))
            .language("de-DE".to_string())
            .creator(seller.name.clone()),
    );
    document.finish().map_err(|e| format!("{e:?}"))
}
