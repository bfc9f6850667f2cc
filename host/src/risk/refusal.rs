//! Why an order intent was not sent.
//!
//! Every refusal carries a [`ReasonCode`] from the closed set, who refused
//! (the host or a named risk agent) and a sentence for people that names
//! the setting to change. The node counts refusals by [`Refusal::key`],
//! publishes them as `order.rejected.*` and files them in the dead-letter
//! queue.

use std::fmt;

use crate::model::ReasonCode;

/// One refusal.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What kind of refusal.
    pub code: ReasonCode,
    /// Who refused: `host`, or ``risk agent `NAME` ``.
    pub by: String,
    /// What was wrong and what to change.
    pub detail: String,
}

impl Refusal {
    /// A refusal by the host itself.
    pub fn host(code: ReasonCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            by: "host".into(),
            detail: detail.into(),
        }
    }

    /// A refusal by risk agent `agent`.
    pub fn agent(code: ReasonCode, agent: &str, detail: impl Into<String>) -> Self {
        Self {
            code,
            by: format!("risk agent `{agent}`"),
            detail: detail.into(),
        }
    }

    /// The counter this refusal adds to in summaries: who and the code, or
    /// for a risk agent's own rejection, who and the agent's rule (the text
    /// before its first `:`), so `risk agent `risk`: max_order_notional`.
    pub fn key(&self) -> String {
        match self.code {
            ReasonCode::RiskRejected => {
                let rule = self.detail.split(':').next().unwrap_or_default().trim();
                format!("{}: {rule}", self.by)
            }
            code => format!("{}: {code}", self.by),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.by, self.code, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_group_by_who_and_rule() {
        let own = Refusal::agent(
            ReasonCode::RiskRejected,
            "risk",
            "max_order_notional: 5 > 1",
        );
        assert_eq!(own.key(), "risk agent `risk`: max_order_notional");
        let host = Refusal::host(ReasonCode::LimitPosition, "position would be 11");
        assert_eq!(host.key(), "host: limit_position");
        assert_eq!(
            host.to_string(),
            "host: limit_position: position would be 11"
        );
    }
}
