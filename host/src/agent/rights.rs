//! Per-agent publish and order rights.
//!
//! Every output of a call passes here before the host acts on any of them.
//! The threat is an agent that publishes where others trust the source of a
//! topic (a forged `order.filled`), or trades a symbol it was not given.
//! Rights are per agent, from the config; subscriptions are checked when
//! the node wires the bus. A call with one forbidden output is aborted as a
//! whole, so an agent never half-acts.

use crate::model::{Output, ReasonCode, TopicPattern, validate_topic};

/// What an agent may do with its outputs.
#[derive(Debug, Clone, Default)]
pub struct Rights {
    /// Topics it may publish on.
    pub publish: Vec<TopicPattern>,
    /// Symbols it may send orders for; `*` means any.
    pub order_symbols: Vec<String>,
}

impl Rights {
    /// Everything: for `floor call` and tests.
    pub fn all() -> Self {
        Self {
            publish: vec![TopicPattern::parse("#").expect("`#` is a valid pattern")],
            order_symbols: vec!["*".into()],
        }
    }

    /// May the agent trade `symbol`?
    pub fn may_order(&self, symbol: &str) -> bool {
        self.order_symbols.iter().any(|s| s == "*" || s == symbol)
    }

    /// Check one output; the reason code and a message saying what to do.
    pub fn check(&self, agent: &str, output: &Output) -> Result<(), (ReasonCode, String)> {
        match output {
            Output::Publish { topic, .. } | Output::Request { topic, .. } => {
                if let Err(e) = validate_topic(topic) {
                    return Err((ReasonCode::PublishDenied, e.to_string()));
                }
                if !self.publish.iter().any(|p| p.matches(topic)) {
                    return Err((
                        ReasonCode::PublishDenied,
                        format!(
                            "agent `{agent}` published on `{topic}` but may publish only on [{}]; \
                             add the topic to the agent's `publish` list in the config",
                            self.publish
                                .iter()
                                .map(|p| p.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            Output::Order { intent } if !self.may_order(&intent.symbol) => {
                return Err((
                    ReasonCode::OrderDenied,
                    format!(
                        "agent `{agent}` sent an order for `{}` but may trade only [{}]; \
                         add the symbol to the agent's `order_symbols` in the config",
                        intent.symbol,
                        self.order_symbols.join(", ")
                    ),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}
