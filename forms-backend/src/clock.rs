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
    /// Added to the system clock (only [`Clock::from_test_env`] sets it).
    shift_ms: i64,
}

/// The variable that starts a debug build's clock on another day.
pub const TEST_DAY_VAR: &str = "CAMPUS_TEST_HEUTE";

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `unix_secs` until it is moved.
    pub fn manual_at(unix_secs: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicU64::new(unix_secs.max(0) as u64 * 1000))),
            shift_ms: 0,
        }
    }

    /// A manual clock starting at the current system time.
    pub fn manual() -> Clock {
        let now = Clock::system().now_millis();
        Clock {
            manual: Some(Arc::new(AtomicU64::new(now))),
            shift_ms: 0,
        }
    }

    /// The system clock, or in a debug build with `CAMPUS_TEST_HEUTE=YYYY-MM-DD`
    /// a running clock that starts at 09:00 Berlin time on that day: the
    /// quality gate's browser journey restarts `campus serve` on the live
    /// date and two weeks later. Release builds ignore the variable, so
    /// production always runs on the system clock.
    pub fn from_test_env(
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Clock, crate::config::ConfigError> {
        let Some(day) = env(TEST_DAY_VAR).filter(|d| !d.trim().is_empty()) else {
            return Ok(Clock::system());
        };
        if !cfg!(debug_assertions) {
            tracing::warn!("{TEST_DAY_VAR} gilt nur in Test-Builds und wird ignoriert");
            return Ok(Clock::system());
        }
        let date = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").map_err(|_| {
            crate::config::ConfigError::Env {
                name: TEST_DAY_VAR,
                message: format!("„{day}“ ist kein Datum (JJJJ-MM-TT)"),
            }
        })?;
        let nine = date.and_hms_opt(9, 0, 0).unwrap_or_default();
        let utc = nine
            - chrono::Duration::hours(campus_generator::time::berlin_offset_hours_at_utc(nine));
        let target = utc.and_utc().timestamp_millis();
        tracing::warn!(%date, "Testuhr: die Zeit des Backends beginnt an diesem Tag");
        Ok(Clock {
            manual: None,
            shift_ms: target - crate::sign::now_millis() as i64,
        })
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
            None => (crate::sign::now_millis() as i64 + self.shift_ms).max(0) as u64,
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

    #[test]
    fn the_test_day_starts_a_running_clock_in_debug_builds_only() {
        let env = |k: &str| (k == TEST_DAY_VAR).then(|| "2027-03-24".to_string());
        let c = Clock::from_test_env(&env).unwrap();
        if cfg!(debug_assertions) {
            let at = c.berlin_now();
            assert_eq!(at.date().to_string(), "2027-03-24");
            assert_eq!(at.format("%H").to_string(), "09");
        } else {
            assert!((c.now() - crate::store::now()).abs() <= 1);
        }
        let none = |_: &str| None;
        assert!((Clock::from_test_env(&none).unwrap().now() - crate::store::now()).abs() <= 1);
        let bad = |_: &str| Some("morgen".to_string());
        assert_eq!(Clock::from_test_env(&bad).is_err(), cfg!(debug_assertions));
    }
}
