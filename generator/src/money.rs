//! Money in euro cents, formatted the German way.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// An amount in euro cents. Integer arithmetic avoids rounding drift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cents(pub i64);

impl Cents {
    pub fn from_euros(euros: i64) -> Self {
        Cents(euros * 100)
    }

    /// Adds `percent` per cent, rounded half up to the cent.
    pub fn plus_percent(self, percent: i64) -> Self {
        Cents(self.0 + div_round(self.0 * percent, 100))
    }

    /// The VAT contained in this gross amount at `rate` per cent.
    pub fn vat_included(self, rate: i64) -> Self {
        Cents(div_round(self.0 * rate, 100 + rate))
    }

    pub fn percent_of(self, percent: i64) -> Self {
        Cents(div_round(self.0 * percent, 100))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

fn div_round(n: i64, d: i64) -> i64 {
    (n + d / 2).div_euclid(d)
}

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, rhs: Cents) -> Cents {
        Cents(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Cents {
    type Output = Cents;
    fn sub(self, rhs: Cents) -> Cents {
        Cents(self.0 - rhs.0)
    }
}

impl std::ops::Mul<i64> for Cents {
    type Output = Cents;
    fn mul(self, rhs: i64) -> Cents {
        Cents(self.0 * rhs)
    }
}

impl std::iter::Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        Cents(iter.map(|c| c.0).sum())
    }
}

/// German format: `1.999,00 €`, `58,80 €`.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(
            f,
            "{sign}{},{:02}\u{a0}€",
            group_thousands(abs / 100),
            abs % 100
        )
    }
}

/// `12345` → `12.345`
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// Reads euros written by editors (`199`, `58.8`, `58.80`) into cents, exactly.
impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The build's cache keeps amounts as they serialize: in cents.
        if crate::content::cache_form() {
            return i64::deserialize(d).map(Cents);
        }
        let value = f64::deserialize(d)?;
        let cents = (value * 100.0).round();
        if !value.is_finite() || value < 0.0 || (value * 100.0 - cents).abs() > 1e-6 {
            return Err(serde::de::Error::custom(format!(
                "{value} ist kein gültiger Euro-Betrag (höchstens zwei Nachkommastellen, nicht negativ)"
            )));
        }
        Ok(Cents(cents as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_german_currency() {
        assert_eq!(Cents(199_900).to_string(), "1.999,00\u{a0}€");
        assert_eq!(Cents(5880).to_string(), "58,80\u{a0}€");
        assert_eq!(Cents(0).to_string(), "0,00\u{a0}€");
        assert_eq!(group_thousands(1_234_567), "1.234.567");
    }

    #[test]
    fn non_member_surcharge_and_vat() {
        let member = Cents::from_euros(199);
        assert_eq!(member.plus_percent(20), Cents(23_880));
        // 199 € gross at 19 % contains 31,77 € VAT.
        assert_eq!(member.vat_included(19), Cents(3177));
        assert_eq!(Cents::from_euros(49).plus_percent(20), Cents(5880));
    }
}
