//! Prices, VAT and the membership shares and fees.

use super::*;

#[derive(Debug, Clone, Copy)]
pub struct PriceRules {
    pub vat_percent: i64,
    pub non_member_surcharge_percent: i64,
}

/// The price of one offer for members and non-members, both gross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Price {
    pub member: Cents,
    pub non_member: Cents,
}

impl PriceRules {
    pub fn price(&self, member: Cents) -> Price {
        Price {
            member,
            non_member: member.plus_percent(self.non_member_surcharge_percent),
        }
    }

    pub fn for_staff_of(&self, price: Price, member_authority: bool) -> Cents {
        if member_authority {
            price.member
        } else {
            price.non_member
        }
    }
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub share_value: Cents,
    /// (upper bound of employees inclusive, shares); the last bound is `None`.
    pub brackets: Vec<(Option<u32>, u32)>,
    pub annual_fee_factor: i64,
    pub reduction_percent_of_bookings: i64,
    pub reduction_max_percent: i64,
}

/// What an authority of a given size pays to join and per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MembershipQuote {
    pub shares: u32,
    pub deposit: Cents,
    pub annual_fee: Cents,
}

/// A yearly fee before and after the reduction by bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct YearlyFee {
    pub fee: Cents,
    pub reduction: Cents,
    pub reduced: Cents,
}

impl Membership {
    pub fn shares_for(&self, employees: u32) -> u32 {
        self.brackets
            .iter()
            .find(|(upper, _)| upper.is_none_or(|u| employees <= u))
            .map_or(0, |(_, shares)| *shares)
    }

    pub fn quote(&self, employees: u32) -> MembershipQuote {
        let shares = self.shares_for(employees);
        let deposit = self.share_value * shares as i64;
        MembershipQuote {
            shares,
            deposit,
            annual_fee: deposit * self.annual_fee_factor,
        }
    }

    /// The annual fee after crediting a share of last year's bookings.
    pub fn reduced_fee(&self, annual_fee: Cents, bookings: Cents) -> Cents {
        annual_fee - self.reduction(annual_fee, bookings)
    }

    fn reduction(&self, annual_fee: Cents, bookings: Cents) -> Cents {
        let credit = bookings
            .max(Cents(0))
            .percent_of(self.reduction_percent_of_bookings);
        let cap = annual_fee.percent_of(self.reduction_max_percent);
        credit.min(cap)
    }

    /// The yearly fee of an authority with `employees` staff (twice the
    /// deposit by the rule in `data/mitgliedschaft.yaml`), the reduction its
    /// `bookings` (gross, last year) earn, and what remains to pay.
    pub fn yearly_fee(&self, employees: u32, bookings: Cents) -> YearlyFee {
        let fee = self.quote(employees).annual_fee;
        let reduction = self.reduction(fee, bookings);
        YearlyFee {
            fee,
            reduction,
            reduced: fee - reduction,
        }
    }

    /// Rows of the share table: (from, to, shares, deposit, annual fee).
    pub fn table(&self) -> Vec<(u32, Option<u32>, MembershipQuote)> {
        let mut from = 1;
        self.brackets
            .iter()
            .map(|(upper, _)| {
                let row = (from, *upper, self.quote(from));
                from = upper.map_or(from, |u| u + 1);
                row
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership() -> Membership {
        Membership {
            share_value: Cents::from_euros(1000),
            brackets: vec![
                (Some(50), 1),
                (Some(250), 2),
                (Some(500), 3),
                (Some(1000), 4),
                (Some(2000), 5),
                (None, 6),
            ],
            annual_fee_factor: 2,
            reduction_percent_of_bookings: 50,
            reduction_max_percent: 100,
        }
    }

    #[test]
    fn shares_follow_the_brackets() {
        let m = membership();
        let cases = [
            (1, 1),
            (50, 1),
            (51, 2),
            (250, 2),
            (251, 3),
            (500, 3),
            (501, 4),
            (1000, 4),
            (1001, 5),
            (2000, 5),
            (2001, 6),
            (40_000, 6),
        ];
        for (employees, shares) in cases {
            assert_eq!(m.shares_for(employees), shares, "{employees} employees");
        }
        // Landkreis Bad Dürkheim: 501-1000 employees, 4 shares, 4.000 EUR.
        let q = m.quote(730);
        assert_eq!(q.deposit, Cents::from_euros(4000));
        assert_eq!(q.annual_fee, Cents::from_euros(8000));
    }

    #[test]
    fn share_table_covers_all_sizes() {
        let rows = membership().table();
        assert_eq!(rows.len(), 6);
        assert_eq!((rows[0].0, rows[0].1), (1, Some(50)));
        assert_eq!((rows[5].0, rows[5].1), (2001, None));
        assert_eq!(rows[5].2.deposit, Cents::from_euros(6000));
    }

    #[test]
    fn yearly_fee_is_twice_the_deposit_less_half_the_bookings() {
        let m = membership();
        // 730 employees: 4 shares, 4,000 EUR deposit, 8,000 EUR fee.
        let none = m.yearly_fee(730, Cents(0));
        assert_eq!(
            none,
            YearlyFee {
                fee: Cents::from_euros(8000),
                reduction: Cents(0),
                reduced: Cents::from_euros(8000)
            }
        );
        let some = m.yearly_fee(730, Cents::from_euros(3000));
        assert_eq!(some.reduction, Cents::from_euros(1500));
        assert_eq!(some.reduced, Cents::from_euros(6500));
        // Cents are halved exactly where they can be.
        assert_eq!(m.yearly_fee(40, Cents(19_900)).reduction, Cents(9_950));
        // Never below zero, and a rule with a lower cap stops there.
        assert_eq!(
            m.yearly_fee(40, Cents::from_euros(10_000)).reduced,
            Cents(0)
        );
        let capped = Membership {
            reduction_max_percent: 25,
            ..membership()
        };
        let f = capped.yearly_fee(730, Cents::from_euros(100_000));
        assert_eq!(
            (f.reduction, f.reduced),
            (Cents::from_euros(2000), Cents::from_euros(6000))
        );
        // Negative bookings (a credit note larger than the year) reduce nothing.
        assert_eq!(m.yearly_fee(730, Cents(-500)).reduction, Cents(0));
    }

    #[test]
    fn fee_reduction_is_capped() {
        let m = membership();
        assert_eq!(
            m.reduced_fee(Cents::from_euros(8000), Cents::from_euros(2000)),
            Cents::from_euros(7000)
        );
        assert_eq!(
            m.reduced_fee(Cents::from_euros(8000), Cents::from_euros(100_000)),
            Cents(0)
        );
    }
}
