//! The invoice as a PDF for people (the XRechnung is the binding electronic
//! form): A4, DejaVu Sans from the theme, embedded, so `pdftotext` reads it
//! back; tagged PDF/A-2a in German like the certificate (heading,
//! paragraphs, the lines as a table; page numbers are artifacts), so screen
//! readers follow it and it can be archived. Long invoices continue on
//! further pages.

use super::{per_rate, Invoice, Seller};
use campus_generator::money::Cents;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagKind, TagTree,
};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

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

/// One piece of text on a page: x, y, bold, size, text, its number.
type Placed = (f32, f32, bool, f32, String, usize);

/// The logical structure, by the numbers of the pieces of text.
enum Block {
    Heading(Vec<usize>),
    Paragraph(Vec<usize>),
    /// Rows of cells; the first row is the header.
    Table(Vec<Vec<Vec<usize>>>),
}

/// Collects the text per page (a new page when one is full), then draws it.
struct Writer<'a> {
    document: &'a mut Document,
    regular: Font,
    bold: Font,
    ops: Vec<Vec<Placed>>,
    y: f32,
    placed: usize,
}

impl Writer<'_> {
    /// Places a piece of text; returns its number for the structure.
    fn text(&mut self, x: f32, bold: bool, size: f32, text: &str) -> usize {
        if self.ops.is_empty() || self.y > BOTTOM {
            self.ops.push(Vec::new());
            self.y = 60.0;
        }
        let y = self.y;
        let n = self.placed;
        self.placed += 1;
        self.ops
            .last_mut()
            .unwrap()
            .push((x, y, bold, size, text.to_string(), n));
        n
    }

    fn next(&mut self, advance: f32) {
        self.y += advance;
    }

    /// Draws every page; returns the tag of each piece of text by number.
    fn finish(self) -> Vec<Identifier> {
        let pages = self.ops.len();
        let mut ids = vec![None; self.placed];
        for (i, ops) in self.ops.into_iter().enumerate() {
            let mut page = self
                .document
                .start_page_with(PageSettings::from_wh(595.0, 842.0).expect("A4"));
            let mut surface: Surface = page.surface();
            for (x, y, bold, size, text, n) in ops {
                let font = if bold { &self.bold } else { &self.regular };
                ids[n] = Some(surface.start_tagged(ContentTag::Span(SpanTag::empty())));
                surface.draw_text(
                    Point::from_xy(x, y),
                    font.clone(),
                    size,
                    &text,
                    false,
                    TextDirection::Auto,
                );
                surface.end_tagged();
            }
            if pages > 1 {
                surface.start_tagged(ContentTag::Artifact(Artifact::new(
                    ArtifactType::PageNumber,
                    None,
                )));
                surface.draw_text(
                    Point::from_xy(LEFT, 815.0),
                    self.regular.clone(),
                    8.0,
                    &format!("Seite {} von {pages}", i + 1),
                    false,
                    TextDirection::Auto,
                );
                surface.end_tagged();
            }
            surface.finish();
            page.finish();
        }
        ids.into_iter()
            .map(|id| id.expect("every piece drawn"))
            .collect()
    }
}

/// The tag tree of `blocks` (language de-DE).
fn tree(blocks: Vec<Block>, ids: &[Identifier], title: &str) -> TagTree {
    let group = |tag: TagKind, pieces: &[usize]| {
        let mut g = TagGroup::new(tag);
        for n in pieces {
            g.push(ids[*n]);
        }
        g
    };
    let mut tree = TagTree::new().with_lang(Some("de-DE".to_string()));
    for b in blocks {
        match b {
            Block::Heading(p) => tree.push(group(
                Tag::Hn(std::num::NonZeroU16::MIN, Some(title.to_string())).into(),
                &p,
            )),
            Block::Paragraph(p) => tree.push(group(Tag::P.into(), &p)),
            Block::Table(rows) => {
                let mut table = TagGroup::new(Tag::Table);
                for (i, row) in rows.iter().enumerate() {
                    let mut tr = TagGroup::new(Tag::TR);
                    for cell in row {
                        let tag: TagKind = if i == 0 {
                            Tag::TH(krilla::tagging::TableHeaderScope::Column).into()
                        } else {
                            Tag::TD.into()
                        };
                        tr.push(group(tag, cell));
                    }
                    table.push(tr);
                }
                tree.push(table);
            }
        }
    }
    tree
}

pub fn pdf(invoice: &Invoice, seller: &Seller) -> Result<Vec<u8>, String> {
    let regular = Font::new(std::sync::Arc::new(REGULAR.to_vec()).into(), 0)
        .ok_or("Schrift DejaVuSans.ttf nicht lesbar")?;
    let bold = Font::new(std::sync::Arc::new(BOLD.to_vec()).into(), 0)
        .ok_or("Schrift DejaVuSans-Bold.ttf nicht lesbar")?;
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_A)
        .finish()
        .map_err(|e| format!("{e:?}"))?;
    let mut document = Document::new_with(SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    });
    let mut blocks = Vec::new();
    let r = &invoice.row;
    let b = &invoice.buyer;
    let kind = if r.credit_note {
        "Gutschrift"
    } else {
        "Rechnung"
    };
    let issue = invoice.issue_date();
    let due = issue + chrono::Duration::days(i64::from(seller.zahlungsziel_tage));
    let title = format!("{kind} {}", invoice.number());
    let ids = {
        let mut w = Writer {
            document: &mut document,
            regular,
            bold,
            ops: Vec::new(),
            y: 60.0,
            placed: 0,
        };
        let sender = w.text(
            LEFT,
            false,
            8.0,
            &format!(
                "{} · {} · {} {}",
                seller.name, seller.strasse, seller.plz, seller.ort
            ),
        );
        blocks.push(Block::Paragraph(vec![sender]));
        w.next(24.0);
        let mut address = Vec::new();
        for line in [
            b.name.as_str(),
            b.address.zusatz.as_str(),
            b.address.strasse.as_str(),
        ]
        .into_iter()
        .filter(|l| !l.is_empty())
        {
            address.push(w.text(LEFT, false, 11.0, line));
            w.next(15.0);
        }
        address.push(w.text(
            LEFT,
            false,
            11.0,
            &format!("{} {}", b.address.plz, b.address.ort),
        ));
        blocks.push(Block::Paragraph(address));
        w.next(40.0);
        blocks.push(Block::Heading(vec![w.text(LEFT, true, 18.0, &title)]));
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
            blocks.push(Block::Paragraph(vec![w.text(LEFT, false, 10.0, &f)]));
            w.next(14.0);
        }
        w.next(14.0);
        let cols = [LEFT, 80.0, 150.0, 380.0, 445.0, 505.0];
        let mut rows = vec![cols
            .iter()
            .zip(["Pos.", "Datum", "Leistung", "Netto", "USt", "Brutto"])
            .map(|(x, h)| vec![w.text(*x, true, 9.0, h)])
            .collect::<Vec<_>>()];
        w.next(14.0);
        for (i, l) in invoice.lines.iter().enumerate() {
            let pos = w.text(cols[0], false, 9.0, &(i + 1).to_string());
            let day = w.text(cols[1], false, 9.0, &date(&l.service_date));
            let net = w.text(cols[3], false, 9.0, &Cents(l.net_cents).to_string());
            let vat = w.text(cols[4], false, 9.0, &Cents(l.vat_cents).to_string());
            let gross = w.text(cols[5], false, 9.0, &Cents(l.gross_cents).to_string());
            let mut what = Vec::new();
            for part in wrap(&l.description, 42) {
                what.push(w.text(cols[2], false, 9.0, &part));
                w.next(12.0);
            }
            rows.push(vec![
                vec![pos],
                vec![day],
                what,
                vec![net],
                vec![vat],
                vec![gross],
            ]);
            w.next(4.0);
        }
        blocks.push(Block::Table(rows));
        w.next(10.0);
        for (rate, net, vat, _) in per_rate(&invoice.lines) {
            let label = w.text(cols[2], false, 10.0, &format!("Summe netto ({rate} % USt)"));
            let amount = w.text(cols[5], false, 10.0, &Cents(net).to_string());
            blocks.push(Block::Paragraph(vec![label, amount]));
            w.next(14.0);
            let label = w.text(cols[2], false, 10.0, &format!("Umsatzsteuer {rate} %"));
            let amount = w.text(cols[5], false, 10.0, &Cents(vat).to_string());
            blocks.push(Block::Paragraph(vec![label, amount]));
            w.next(14.0);
        }
        let label = w.text(
            cols[2],
            true,
            11.0,
            if r.credit_note {
                "Gutschriftsbetrag"
            } else {
                "Rechnungsbetrag"
            },
        );
        let amount = w.text(cols[5], true, 11.0, &Cents(r.gross_cents).to_string());
        blocks.push(Block::Paragraph(vec![label, amount]));
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
        let mut paragraph = Vec::new();
        for part in wrap(&terms, 90) {
            paragraph.push(w.text(LEFT, false, 10.0, &part));
            w.next(14.0);
        }
        blocks.push(Block::Paragraph(paragraph));
        w.next(20.0);
        let mut footer = Vec::new();
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
            footer.push(w.text(LEFT, false, 8.0, &line));
            w.next(11.0);
        }
        blocks.push(Block::Paragraph(footer));
        w.finish()
    };
    document.set_tag_tree(tree(blocks, &ids, &title));
    document.set_metadata(
        Metadata::new()
            .title(title)
            .language("de-DE".to_string())
            .creator(seller.name.clone())
            .creation_date(crate::certificate::creation_date(r.issued_at)),
    );
    document.finish().map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::{Buyer, Invoice};
    use crate::store::{InvoiceLineRow, InvoiceRow};
    use campus_generator::content::RawPostalAddress;

    fn seller() -> Seller {
        toml::from_str(
            r#"name = "KommunalCampus eG"
strasse = "Musterallee 12"
plz = "68159"
ort = "Mannheim"
ust_id = "DE123456789"
iban = "DE02120300000000202051"
bank = "Beispielbank"
ansprechperson = "Geschäftsstelle"
telefon = "0621 0"
email = "info@campus.example""#,
        )
        .unwrap()
    }

    /// An invoice of `n` lines at 199 € each.
    fn invoice(n: i64) -> Invoice {
        let lines: Vec<InvoiceLineRow> = (1..=n)
            .map(|i| InvoiceLineRow {
                id: i,
                item_key: format!("buchung:{i}"),
                booking_id: Some(i),
                description: format!("Teilnahme: OZG-Grundlagen – Person {i} (B-{i})"),
                service_date: "2027-03-10".into(),
                vat_percent: 19,
                net_cents: 16_723,
                vat_cents: 3_177,
                gross_cents: 19_900,
            })
            .collect();
        Invoice {
            row: InvoiceRow {
                id: 1,
                number: 1,
                credit_note: false,
                authority_id: "ahornfeld".into(),
                period_from: "2027-03-01".into(),
                period_to: "2027-03-31".into(),
                issued_at: 1_806_580_800,
                corrects_number: None,
                net_cents: 16_723 * n,
                vat_cents: 3_177 * n,
                gross_cents: 19_900 * n,
            },
            lines,
            buyer: Buyer {
                id: "ahornfeld".into(),
                name: "Stadt Ahornfeld".into(),
                leitweg_id: "06999101-rechnung-57".into(),
                address: RawPostalAddress {
                    zusatz: "Fachbereich Finanzen".into(),
                    strasse: "Marktplatz 1".into(),
                    plz: "64601".into(),
                    ort: "Ahornfeld".into(),
                },
                email: "m@ahornfeld.example".into(),
            },
        }
    }

    /// krilla's PDF/A-2a validator refuses untagged content, so a short
    /// and a long invoice (page numbers as artifacts) must both pass it.
    #[test]
    fn short_and_long_invoices_are_tagged_pdf_a() {
        for n in [1, 80] {
            let bytes = pdf(&invoice(n), &seller()).unwrap_or_else(|e| panic!("{n} lines: {e}"));
            let text = String::from_utf8_lossy(&bytes);
            assert!(text.contains("/StructTreeRoot"), "{n} lines: tagged");
            if let Ok(dir) = std::env::var("CAMPUS_INVOICE_PDF_DIR") {
                std::fs::write(format!("{dir}/rechnung-{n}.pdf"), &bytes).unwrap();
            }
        }
    }
}
