//! Mean reversion on RSI.
//!
//! Updates Wilder's RSI of the mid price on every quote of its symbol. Below
//! `oversold` it targets a long of `quantity`, above `overbought` a short of
//! `quantity`, and between the two bands it keeps what it has.
//!
//! Config: `symbol` (required), `period` (14), `oversold` (30),
//! `overbought` (70), `quantity` (0.01).

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Default, Serialize, Deserialize)]
struct MeanRev {
    symbol: String,
    quantity: f64,
    oversold: f64,
    overbought: f64,
    rsi: Option<Rsi>,
    targeter: Option<Targeter>,
}

impl Agent for MeanRev {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        self.symbol = config.require("symbol")?.to_string();
        self.quantity = config.parse_or("quantity", 0.01)?;
        self.oversold = config.parse_or("oversold", 30.0)?;
        self.overbought = config.parse_or("overbought", 70.0)?;
        if !(0.0..self.overbought).contains(&self.oversold) || self.overbought > 100.0 {
            return Err(error(
                "bad_config",
                format!(
                    "need 0 <= oversold < overbought <= 100, got {} and {}",
                    self.oversold, self.overbought
                ),
            ));
        }
        self.rsi = Some(Rsi::new(config.parse_or("period", 14)?));
        self.targeter = Some(Targeter::new(
            &self.symbol,
            "meanrev",
            self.quantity / 100.0,
        ));
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        let (Some(rsi), Some(targeter)) = (self.rsi.as_mut(), self.targeter.as_mut()) else {
            return Err(error("not_initialised", "init was not called"));
        };
        match &msg.payload {
            Payload::OrderEvent(event) => targeter.on_order_event(event),
            Payload::Quote(q) if q.symbol == self.symbol => {
                let Some(value) = rsi.update((q.bid + q.ask) / 2.0) else {
                    return Ok(());
                };
                if value < self.oversold {
                    targeter.move_to(self.quantity, out);
                } else if value > self.overbought {
                    targeter.move_to(-self.quantity, out);
                }
            }
            _ => {}
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(MeanRev);
