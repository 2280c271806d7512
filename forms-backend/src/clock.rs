//! The backend's time. In production the system clock; tests use a manual
//! clock and move it instead of sleeping, so form timestamps, rate limits,
//! link and offer expiry and retention are checked at exact moments.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Cheap to clone; clones of a manual clock share its time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds since the Unix epoch; `None` = the system clock.
    manual: Option<Arc<AtomicU64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `unix_secs` until it is moved.
    pub fn manual_at(unix_secs: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicU64::new(unix_secs.max(0) as u64 * 1000))),
        }
    }

    /// A manual clock starting at the current system time.
    pub fn manual() -> Clock {
        let now = Clock::system().now_millis();
        Clock {
            manual: Some(Arc::new(AtomicU64::new(now))),
        }
    }

    /// Moves a manual clock forward. Panics on the system clock (a test bug).
    pub fn advance(&self, by: Duration) {
        let manual = self
            .manual
            .as_ref()
            .expect("only a manual clock can be moved");
        manual.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn now_millis(&self) -> u64 {
        match &self.manual {
            Some(millis) => millis.load(Ordering::SeqCst),
            None => crate::sign::now_millis(),
        }
    }

    /// Unix seconds (the unit of every time in the store).
    pub fn now(&self) -> i64 {
        (self.now_millis() / 1000) as i64
    }

    /// The current time in Berlin (validation of dates people choose).
    pub fn berlin_now(&self) -> chrono::NaiveDateTime {
        let utc = chrono::DateTime::from_timestamp_millis(self.now_millis() as i64)
            .unwrap_or_default()
            .naive_utc();
        utc + chrono::Duration::hours(campus_generator::time::berlin_offset_hours_at_utc(utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = Clock::manual_at(1_000);
        let other = c.clone();
        assert_eq!(c.now(), 1_000);
        c.advance(Duration::from_millis(1_500));
        assert_eq!(other.now_millis(), 1_001_500);
        assert_eq!(other.now(), 1_001);
        let system = Clock::system().now();
        assert!((system - crate::store::now()).abs() <= 1);
    }
}
