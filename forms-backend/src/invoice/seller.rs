//! The cooperative as its invoices name it: `[rechnungssteller]` in
//! campus.toml, checked before an invoice is made (IBAN check digits, VAT
//! id form, every field the XRechnung needs).

use campus_generator::config::Config;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    pub name: String,
    pub strasse: String,
    pub plz: String,
    pub ort: String,
    /// Umsatzsteuer-Identifikationsnummer, `DE` and nine digits.
    pub ust_id: String,
    pub iban: String,
    #[serde(default)]
    pub bic: String,
    pub bank: String,
    /// Who answers questions about an invoice (XRechnung BR-DE-5).
    pub ansprechperson: String,
    pub telefon: String,
    pub email: String,
    #[serde(default)]
    pub registergericht: String,
    #[serde(default = "thirty")]
    pub zahlungsziel_tage: u32,
}

fn thirty() -> u32 {
    30
}

impl Seller {
    /// Reads and checks the table; a German message names what is wrong.
    pub fn from_config(config: &Config) -> Result<Seller, String> {
        let value = config.rest.get("rechnungssteller").ok_or(
            "campus.toml hat keine Tabelle [rechnungssteller] (Name, Anschrift, USt-IdNr. und Bankverbindung der Genossenschaft); siehe docs/rechnungen.md.",
        )?;
        let seller: Seller = value.clone().try_into().map_err(|e: toml::de::Error| {
            format!("campus.toml, Tabelle [rechnungssteller]: {}", e.message())
        })?;
        seller.check()?;
        Ok(seller)
    }

    fn check(&self) -> Result<(), String> {
        let bad = |field: &str, why: String| {
            Err(format!("campus.toml, [rechnungssteller] {field}: {why}"))
        };
        for (field, v) in [
            ("name", &self.name),
            ("strasse", &self.strasse),
            ("ort", &self.ort),
            ("bank", &self.bank),
            ("ansprechperson", &self.ansprechperson),
            ("telefon", &self.telefon),
        ] {
            if v.trim().is_empty() {
                return bad(field, "darf nicht leer sein.".into());
            }
        }
        if !(self.plz.len() == 5 && self.plz.bytes().all(|b| b.is_ascii_digit())) {
            return bad(
                "plz",
                format!("„{}“ ist keine Postleitzahl (fünf Ziffern).", self.plz),
            );
        }
        let vat = &self.ust_id;
        if !(vat.len() == 11
            && vat.starts_with("DE")
            && vat[2..].bytes().all(|b| b.is_ascii_digit()))
        {
            return bad(
                "ust_id",
                format!("„{vat}“ ist keine deutsche USt-IdNr. (DE und neun Ziffern)."),
            );
        }
        if !iban_ok(&self.iban) {
            return bad(
                "iban",
                format!("„{}“ ist keine gültige IBAN (Prüfziffer).", self.iban),
            );
        }
        if !crate::validate::email_ok(&self.email) {
            return bad(
                "email",
                format!("„{}“ ist keine E-Mail-Adresse.", self.email),
            );
        }
        if self.zahlungsziel_tage == 0 || self.zahlungsziel_tage > 90 {
            return bad("zahlungsziel_tage", "1 bis 90 Tage.".into());
        }
        Ok(())
    }

    /// The IBAN without spaces.
    pub fn iban_compact(&self) -> String {
        self.iban.chars().filter(|c| !c.is_whitespace()).collect()
    }
}

/// ISO 13616 check: letters to numbers, the first four characters moved to
/// the end, the number mod 97 is 1.
pub fn iban_ok(iban: &str) -> bool {
    let s: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() < 15 || s.len() > 34 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let rotated = format!("{}{}", &s[4..], &s[..4]);
    let mut rest = 0u32;
    for c in rotated.chars() {
        let Some(v) = c.to_ascii_uppercase().to_digit(36) else {
            return false;
        };
        rest = if v >= 10 {
            (rest * 100 + v) % 97
        } else {
            (rest * 10 + v) % 97
        };
    }
    rest == 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn iban_check_digits() {
        assert!(super::iban_ok("DE02 1203 0000 0000 2020 51"));
        assert!(!super::iban_ok("DE03120300000000202051"));
        assert!(!super::iban_ok("DE02"));
    }
}
