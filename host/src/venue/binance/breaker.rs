//! A circuit breaker per venue endpoint group.
//!
//! Closed → open after `failures_to_open` consecutive failures (3 by
//! default); open for `open_for_ms` (60 s); then half-open, where one probe
//! goes through: its success closes the breaker, its failure opens it
//! again. An authentication failure opens it at once — retrying a bad key
//! only earns a ban. Every change of state is returned to the caller, which
//! publishes it on the bus and counts it.

use serde::Serialize;

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Requests are refused until the given time (ms).
    Open {
        /// When it half-opens.
        until_ms: u64,
    },
    /// One probe may go through.
    HalfOpen {
        /// The probe is out.
        probing: bool,
    },
}

/// What went wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A 5xx, a timeout, a dropped connection.
    Transient,
    /// The venue refused the credentials (-2014, -2015, -1022).
    Auth,
}

/// A change of state, to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// Before.
    pub from: BreakerState,
    /// After.
    pub to: BreakerState,
}

/// The breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    failures_to_open: u32,
    open_for_ms: u64,
    consecutive: u32,
    state: BreakerState,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::new(3, 60_000)
    }
}

impl Breaker {
    /// A closed breaker.
    pub fn new(failures_to_open: u32, open_for_ms: u64) -> Breaker {
        Breaker {
            failures_to_open: failures_to_open.max(1),
            open_for_ms,
            consecutive: 0,
            state: BreakerState::Closed,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    fn go(&mut self, to: BreakerState) -> Option<Transition> {
        let from = self.state;
        self.state = to;
        (from != to).then_some(Transition { from, to })
    }

    /// May a request go now? `Err` carries how long until it may (ms).
    /// A transition to half-open is returned with the permission.
    pub fn allow(&mut self, now_ms: u64) -> Result<Option<Transition>, u64> {
        match self.state {
            BreakerState::Closed => Ok(None),
            BreakerState::Open { until_ms } if now_ms < until_ms => Err(until_ms - now_ms),
            BreakerState::Open { .. } => Ok(self.go(BreakerState::HalfOpen { probing: true })),
            BreakerState::HalfOpen { probing: true } => Err(1),
            BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                Ok(None)
            }
        }
    }

    /// The request succeeded.
    pub fn success(&mut self) -> Option<Transition> {
        self.consecutive = 0;
        self.go(BreakerState::Closed)
    }

    /// The request failed.
    pub fn failure(&mut self, failure: Failure, now_ms: u64) -> Option<Transition> {
        self.consecutive += 1;
        let open = BreakerState::Open {
            until_ms: now_ms + self.open_for_ms,
        };
        match (failure, self.state) {
            (Failure::Auth, _) | (_, BreakerState::HalfOpen { .. }) => self.go(open),
            (Failure::Transient, BreakerState::Closed)
                if self.consecutive >= self.failures_to_open =>
            {
                self.go(open)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_three_half_opens_after_the_wait_and_closes_on_a_good_probe() {
        let mut b = Breaker::default();
        assert_eq!(b.failure(Failure::Transient, 0), None);
        assert_eq!(b.failure(Failure::Transient, 1), None);
        let t = b.failure(Failure::Transient, 2).unwrap();
        assert_eq!(t.to, BreakerState::Open { until_ms: 60_002 });
        assert_eq!(b.allow(30_000), Err(30_002));
        let t = b.allow(60_002).unwrap().unwrap();
        assert_eq!(t.to, BreakerState::HalfOpen { probing: true });
        assert_eq!(b.allow(60_003), Err(1), "one probe at a time");
        assert_eq!(b.success().unwrap().to, BreakerState::Closed);
        assert_eq!(b.allow(60_004), Ok(None));
    }

    #[test]
    fn a_failed_probe_opens_again_and_success_resets_the_count() {
        let mut b = Breaker::new(2, 1_000);
        b.failure(Failure::Transient, 0);
        b.success();
        assert_eq!(
            b.failure(Failure::Transient, 1),
            None,
            "the count restarted"
        );
        b.failure(Failure::Transient, 2);
        b.allow(1_002).unwrap();
        let t = b.failure(Failure::Transient, 1_003).unwrap();
        assert_eq!(t.to, BreakerState::Open { until_ms: 2_003 });
    }

    #[test]
    fn an_auth_failure_opens_at_once() {
        let mut b = Breaker::default();
        let t = b.failure(Failure::Auth, 5).unwrap();
        assert_eq!(
            (t.from, t.to),
            (
                BreakerState::Closed,
                BreakerState::Open { until_ms: 60_005 }
            )
        );
    }
}
