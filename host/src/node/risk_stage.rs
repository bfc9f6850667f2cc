//! The risk stage: every order intent asks the risk agents before the
//! host's hard limits see it.
//!
//! The threat is a strategy that sends what it should not — too big, too
//! concentrated, at the wrong time. Each risk agent answers a
//! `risk.check.request` (request/reply, under that agent's own deadline)
//! with approve, resize (down only) or reject.
//!
//! - *Required* risk agents vote on every intent, and every one must
//!   approve. The smallest resize wins.
//! - *Consensus* risk agents vote only on intents whose notional is over
//!   `[risk] consensus_notional`; at least k of the n must approve
//!   (`quorum`: majority, unanimous or a number). The smallest approved
//!   resize wins.
//!
//! Fail safe, never open: a risk agent that faults, misses its deadline or
//! answers without a verdict votes *reject* (`risk_unavailable`); when that
//! agent is a *required* one, the host can no longer trust its risk layer
//! and switches trading to HALTED until an operator resumes it. With no
//! risk agent at all nothing is sent.

use super::Node;
use crate::config::Quorum;
use crate::model::{OrderIntent, Output, Payload, ReasonCode, RiskVerdict, Side};
use crate::risk::{Refusal, TradingMode};

/// One risk agent's answer, as the stage counts it.
#[derive(Debug, Clone, PartialEq)]
enum Vote {
    Approve(Option<f64>),
    Reject(Refusal),
}

impl Node {
    /// Ask risk agent `r` about `intent`.
    fn vote(&mut self, r: usize, intent: &OrderIntent, trace: u64) -> Vote {
        let mut req = self.stamper.stamp(
            super::HOST,
            "risk.check.request",
            Payload::OrderIntent(Box::new(intent.clone())),
            self.now,
            trace,
            None,
        );
        req.correlation_id = Some(req.id);
        let req = std::sync::Arc::new(req);
        let name = self.agents[r].agent.name().to_string();
        self.agents[r].counts.handled += 1;
        let outputs = match self.call_agent(r, &req, true, None) {
            Ok(o) => o,
            Err(fault) => {
                let why = format!("faulted ({}): {}", fault.reason, fault.detail);
                self.fault(r, fault, &req);
                return Vote::Reject(Refusal::agent(ReasonCode::RiskUnavailable, &name, why));
            }
        };
        let mut verdict = None;
        let mut rest = Vec::new();
        for o in outputs {
            match o {
                Output::Reply {
                    payload: Payload::RiskVerdict(v),
                } if verdict.is_none() => verdict = Some(v),
                other => rest.push(other),
            }
        }
        self.act(r, &req, rest);
        match verdict {
            None => Vote::Reject(Refusal::agent(
                ReasonCode::RiskUnavailable,
                &name,
                "did not answer with a verdict",
            )),
            Some(RiskVerdict::Approve) => Vote::Approve(None),
            Some(RiskVerdict::Resize { quantity })
                if quantity > 0.0 && quantity <= intent.quantity =>
            {
                Vote::Approve(Some(quantity))
            }
            Some(RiskVerdict::Resize { quantity }) => Vote::Reject(Refusal::agent(
                ReasonCode::RiskRejected,
                &name,
                format!(
                    "resize: {} to {quantity}; only a smaller positive quantity is accepted",
                    intent.quantity
                ),
            )),
            Some(RiskVerdict::Reject { reason }) => {
                Vote::Reject(Refusal::agent(ReasonCode::RiskRejected, &name, reason))
            }
        }
    }

    /// Notional of `intent` at the current touch (its limit price if it has one).
    pub(super) fn notional(&self, intent: &OrderIntent) -> Option<f64> {
        let reference = intent.limit_price.or_else(|| {
            crate::agent::View::quote(&*self.view, &intent.symbol).map(|q| match intent.side {
                Side::Buy => q.ask,
                Side::Sell => q.bid,
            })
        })?;
        Some(intent.quantity * reference)
    }

    /// Run the stage; on approval `intent` may have been resized, and `Err`
    /// carries the refusal.
    pub(super) fn risk_stage(
        &mut self,
        intent: &mut OrderIntent,
        trace: u64,
    ) -> Result<(), Refusal> {
        if self.required_risk.is_empty() && self.consensus_risk.is_empty() {
            return Err(Refusal::host(
                ReasonCode::RiskUnavailable,
                "no risk agent is configured; orders never skip the risk stage",
            ));
        }
        for k in 0..self.required_risk.len() {
            match self.vote(self.required_risk[k], intent, trace) {
                Vote::Approve(Some(q)) => intent.quantity = q,
                Vote::Approve(None) => {}
                Vote::Reject(why) => {
                    if why.code == ReasonCode::RiskUnavailable {
                        let reason = format!("required {} is unavailable: {}", why.by, why.detail);
                        self.tighten_trading(TradingMode::Halted, &reason);
                    }
                    return Err(why);
                }
            }
        }
        let Some(threshold) = self.risk_policy.consensus_notional else {
            return Ok(());
        };
        // Unknown notional (no price yet) is treated as large: fail safe.
        if self.notional(intent).is_some_and(|n| n <= threshold) || self.consensus_risk.is_empty() {
            return Ok(());
        }
        let n = self.consensus_risk.len();
        let needed = match self.risk_policy.quorum {
            Quorum::Majority => n / 2 + 1,
            Quorum::Unanimous => n,
            Quorum::Count(k) => k.min(n),
        };
        let mut approvals = 0;
        let mut smallest: Option<f64> = None;
        let mut ballots = Vec::with_capacity(n);
        for k in 0..n {
            let r = self.consensus_risk[k];
            let name = self.agents[r].agent.name().to_string();
            match self.vote(r, intent, trace) {
                Vote::Approve(q) => {
                    approvals += 1;
                    if let Some(q) = q {
                        smallest = Some(smallest.map_or(q, |s: f64| s.min(q)));
                    }
                    ballots.push(format!("{name} approves"));
                }
                Vote::Reject(why) => ballots.push(why.to_string()),
            }
        }
        if approvals < needed {
            return Err(Refusal::host(
                ReasonCode::ConsensusFailed,
                format!(
                    "{approvals} of {n} approved, {needed} needed ({})",
                    ballots.join("; ")
                ),
            ));
        }
        if let Some(q) = smallest {
            intent.quantity = q;
        }
        Ok(())
    }
}
