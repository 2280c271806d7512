//! The invoice as XRechnung 3.0 (the German CIUS of EN 16931) in UBL 2.1
//! syntax. A credit note is a UBL `CreditNote` (type code 381) that
//! references the invoice it corrects (BT-25); its amounts are positive.

use super::{decimal, number_text, per_rate, Invoice, Seller};
use std::fmt::Write;

const CUSTOMIZATION: &str = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0";
const PROFILE: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn tax_category(out: &mut String, tag: &str, rate: i64) {
    let _ = write!(
        out,
        "<cac:{tag}><cbc:ID>S</cbc:ID><cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:{tag}>"
    );
}

fn amount(out: &mut String, tag: &str, cents: i64) {
    let _ = write!(
        out,
        "<cbc:{tag} currencyID=\"EUR\">{}</cbc:{tag}>",
        decimal(cents)
    );
}

/// The XRechnung (UBL) of `invoice`, issued by `seller`.
pub fn ubl(invoice: &Invoice, seller: &Seller, corrected_issue_date: Option<&str>) -> String {
    let r = &invoice.row;
    let issue = invoice.issue_date();
    let due = issue + chrono::Duration::days(i64::from(seller.zahlungsziel_tage));
    let b = &invoice.buyer;
    // The element names of the two UBL documents.
    let (doc, type_code, line_tag, quantity) = if r.credit_note {
        (
            "CreditNote",
            "CreditNoteTypeCode",
            "CreditNoteLine",
            "CreditedQuantity",
        )
    } else {
        (
            "Invoice",
            "InvoiceTypeCode",
            "InvoiceLine",
            "InvoicedQuantity",
        )
    };
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        x,
        "<ubl:{doc} xmlns:ubl=\"urn:oasis:names:specification:ubl:schema:xsd:{doc}-2\""
    );
    x.push_str(" xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">\n");
    let _ = writeln!(
        x,
        "<cbc:CustomizationID>{CUSTOMIZATION}</cbc:CustomizationID>"
    );
    let _ = writeln!(x, "<cbc:ProfileID>{PROFILE}</cbc:ProfileID>");
    let _ = writeln!(x, "<cbc:ID>{}</cbc:ID>", invoice.number());
    let _ = writeln!(x, "<cbc:IssueDate>{issue}</cbc:IssueDate>");
    if !r.credit_note {
        let _ = writeln!(x, "<cbc:DueDate>{due}</cbc:DueDate>");
    }
    let _ = writeln!(
        x,
        "<cbc:{type_code}>{}</cbc:{type_code}>",
        if r.credit_note { 381 } else { 380 }
    );
    if !seller.registergericht.is_empty() {
        let _ = writeln!(
            x,
            "<cbc:Note>#REG#{}</cbc:Note>",
            esc(&seller.registergericht)
        );
    }
    x.push_str("<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n");
    let _ = writeln!(
        x,
        "<cbc:BuyerReference>{}</cbc:BuyerReference>",
        esc(&b.leitweg_id)
    );
    let _ = writeln!(
        x,
        "<cac:InvoicePeriod><cbc:StartDate>{}</cbc:StartDate><cbc:EndDate>{}</cbc:EndDate></cac:InvoicePeriod>",
        r.period_from, r.period_to
    );
    if let Some(n) = r.corrects_number {
        let _ = write!(
            x,
            "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{}</cbc:ID>",
            number_text(n)
        );
        if let Some(d) = corrected_issue_date {
            let _ = write!(x, "<cbc:IssueDate>{d}</cbc:IssueDate>");
        }
        x.push_str("</cac:InvoiceDocumentReference></cac:BillingReference>\n");
    }
    // Seller (BG-4) with address, VAT id, contact (BR-DE-2, -5, -6, -7).
    let _ = writeln!(
        x,
        "<cac:AccountingSupplierParty><cac:Party><cbc:EndpointID schemeID=\"EM\">{email}</cbc:EndpointID><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName><cac:PostalAddress><cbc:StreetName>{street}</cbc:StreetName><cbc:CityName>{city}</cbc:CityName><cbc:PostalZone>{zip}</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress><cac:PartyTaxScheme><cbc:CompanyID>{vat}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme><cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity><cac:Contact><cbc:Name>{contact}</cbc:Name><cbc:Telephone>{phone}</cbc:Telephone><cbc:ElectronicMail>{email}</cbc:ElectronicMail></cac:Contact></cac:Party></cac:AccountingSupplierParty>",
        email = esc(&seller.email),
        name = esc(&seller.name),
        street = esc(&seller.strasse),
        city = esc(&seller.ort),
        zip = esc(&seller.plz),
        vat = esc(&seller.ust_id),
        contact = esc(&seller.ansprechperson),
        phone = esc(&seller.telefon),
    );
    // Buyer (BG-7), addressed by its Leitweg-ID (scheme 0204).
    let a = &b.address;
    let _ = write!(
        x,
        "<cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID=\"0204\">{lw}</cbc:EndpointID><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName><cac:PostalAddress><cbc:StreetName>{street}</cbc:StreetName>",
        lw = esc(&b.leitweg_id),
        name = esc(&b.name),
        street = esc(&a.strasse),
    );
    if !a.zusatz.is_empty() {
        let _ = write!(
            x,
            "<cbc:AdditionalStreetName>{}</cbc:AdditionalStreetName>",
            esc(&a.zusatz)
        );
    }
    let _ = writeln!(
        x,
        "<cbc:CityName>{city}</cbc:CityName><cbc:PostalZone>{zip}</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress><cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>",
        city = esc(&a.ort),
        zip = esc(&a.plz),
        name = esc(&b.name),
    );
    // Credit transfer (58, SEPA) to the cooperative's account.
    let _ = write!(
        x,
        "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cbc:PaymentID>{}</cbc:PaymentID><cac:PayeeFinancialAccount><cbc:ID>{}</cbc:ID><cbc:Name>{}</cbc:Name>",
        invoice.number(),
        esc(&seller.iban_compact()),
        esc(&seller.name)
    );
    if !seller.bic.is_empty() {
        let _ = write!(
            x,
            "<cac:FinancialInstitutionBranch><cbc:ID>{}</cbc:ID></cac:FinancialInstitutionBranch>",
            esc(&seller.bic)
        );
    }
    x.push_str("</cac:PayeeFinancialAccount></cac:PaymentMeans>\n");
    let terms = if r.credit_note {
        "Der Betrag wird Ihnen erstattet oder mit der nächsten Rechnung verrechnet.".to_string()
    } else {
        format!(
            "Zahlbar ohne Abzug innerhalb von {} Tagen bis {}.",
            seller.zahlungsziel_tage,
            due.format("%d.%m.%Y")
        )
    };
    let _ = writeln!(
        x,
        "<cac:PaymentTerms><cbc:Note>{}</cbc:Note></cac:PaymentTerms>",
        esc(&terms)
    );
    // VAT breakdown per rate (BG-23), the sums of the rounded lines.
    let rates = per_rate(&invoice.lines);
    x.push_str("<cac:TaxTotal>");
    amount(&mut x, "TaxAmount", r.vat_cents);
    for (rate, net, vat, _) in &rates {
        x.push_str("<cac:TaxSubtotal>");
        amount(&mut x, "TaxableAmount", *net);
        amount(&mut x, "TaxAmount", *vat);
        tax_category(&mut x, "TaxCategory", *rate);
        x.push_str("</cac:TaxSubtotal>");
    }
    x.push_str("</cac:TaxTotal>\n<cac:LegalMonetaryTotal>");
    amount(&mut x, "LineExtensionAmount", r.net_cents);
    amount(&mut x, "TaxExclusiveAmount", r.net_cents);
    amount(&mut x, "TaxInclusiveAmount", r.gross_cents);
    amount(&mut x, "PayableAmount", r.gross_cents);
    x.push_str("</cac:LegalMonetaryTotal>\n");
    for (i, l) in invoice.lines.iter().enumerate() {
        let _ = write!(
            x,
            "<cac:{line_tag}><cbc:ID>{}</cbc:ID><cbc:{quantity} unitCode=\"C62\">1</cbc:{quantity}>",
            i + 1
        );
        amount(&mut x, "LineExtensionAmount", l.net_cents);
        // The day of the service, if inside the invoice period (the yearly
        // fee is for the whole year: its line names the year instead).
        if *l.service_date >= *r.period_from && *l.service_date <= *r.period_to {
            let _ = write!(
                x,
                "<cac:InvoicePeriod><cbc:StartDate>{d}</cbc:StartDate><cbc:EndDate>{d}</cbc:EndDate></cac:InvoicePeriod>",
                d = l.service_date
            );
        }
        let _ = write!(x, "<cac:Item><cbc:Name>{}</cbc:Name>", esc(&l.description));
        tax_category(&mut x, "ClassifiedTaxCategory", l.vat_percent);
        x.push_str("</cac:Item><cac:Price>");
        amount(&mut x, "PriceAmount", l.net_cents);
        let _ = writeln!(x, "</cac:Price></cac:{line_tag}>");
    }
    let _ = writeln!(x, "</ubl:{doc}>");
    x
}
