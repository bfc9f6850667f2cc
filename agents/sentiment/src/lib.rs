//! Sentiment: a small int8 transformer that reads headlines and says how
//! bullish or bearish each is for the symbols it names.
//!
//! For every `news` message it classifies the headline (bearish, bullish,
//! neutral; see [`model`]) and publishes, for each symbol the headline is
//! about ([`symbols`]), a signal on `signal.sentiment.<symbol>`:
//! `score = 10 · (P(bullish) − P(bearish))`, from −10 to +10, and
//! `confidence` the probability of the winning class. The model and its
//! vocabulary are embedded in the component (`model/`), so the signature
//! covers them and a hot swap changes model and code together.
//!
//! Config: `symbols` (`KEY=SYMBOL` pairs, comma-separated: cashtags
//! `$BTC=BTCUSDT`, words `bitcoin=BTCUSDT`, feed tags), `cashtags` (true:
//! unmapped cashtags are published as symbols), `default_symbol` (for
//! headlines naming nothing; unset: they publish nothing),
//! `min_confidence` (0: below it nothing is published), `horizon_s`
//! (3600: how long a signal is meant to hold).

pub mod kernel;
pub mod model;
pub mod symbols;
pub mod tokenizer;
pub mod vector;

#[cfg(test)]
mod parity;

use floor_sdk::prelude::*;
use model::Model;
use symbols::Symbols;

/// The model the agent runs (`train/quantize.py` writes it; its SHA-256 is
/// beside it).
pub static MODEL_FILE: &[u8] = include_bytes!("../model/sentiment-v1.safetensors");

/// `MODEL_FILE`'s SHA-256 as `sha256sum` writes it (a test checks that it
/// is the embedded file's): logged at start, so a run's log names the
/// exact weights without hashing 16 MB inside the sandbox.
pub static MODEL_SHA256: &str = include_str!("../model/sentiment-v1.safetensors.sha256");

/// A signal's score and confidence from class probabilities.
pub fn signal_of(p: model::Probabilities) -> (f64, f64) {
    let [bear, bull, neutral] = p.map(f64::from);
    (10.0 * (bull - bear), bear.max(bull).max(neutral))
}

#[derive(Default)]
struct Sentiment {
    model: Option<Model<'static>>,
    symbols: Symbols,
    min_confidence: f64,
    horizon_ns: u64,
}

impl Agent for Sentiment {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let model = Model::parse(MODEL_FILE).map_err(|e| error("bad_model", e))?;
        let cashtags = config.parse_or("cashtags", true)?;
        let default = config.get("default_symbol").map(str::to_string);
        self.symbols = Symbols::new(&config.list("symbols"), cashtags, default)
            .map_err(|e| error("bad_config", format!("config key `symbols`: {e}")))?;
        self.min_confidence = config.parse_or("min_confidence", 0.0)?;
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return Err(error(
                "bad_config",
                format!("min_confidence = {} is outside 0..1", self.min_confidence),
            ));
        }
        let horizon_s: f64 = config.parse_or("horizon_s", 3600.0)?;
        if !(horizon_s.is_finite() && horizon_s > 0.0) {
            return Err(error(
                "bad_config",
                format!("horizon_s = {horizon_s} must be positive"),
            ));
        }
        self.horizon_ns = (horizon_s * 1e9) as u64;
        host::log(
            LogLevel::Info,
            &format!(
                "sentiment model v{} loaded (sha256 {})",
                model.meta.version,
                MODEL_SHA256.split_whitespace().next().unwrap_or("?")
            ),
        );
        self.model = Some(model);
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        let Some(model) = &self.model else {
            return Err(error("not_initialised", "init was not called"));
        };
        let Payload::News(news) = &msg.payload else {
            return Ok(());
        };
        let targets = self.symbols.of(&news.headline, &news.symbols);
        if targets.is_empty() {
            return Ok(());
        }
        let (score, confidence) = signal_of(model.classify(&news.headline));
        if confidence < self.min_confidence {
            return Ok(());
        }
        for symbol in targets {
            out.publish(
                format!("signal.sentiment.{symbol}"),
                Payload::Signal(Signal {
                    symbol,
                    score,
                    confidence,
                    horizon_ns: self.horizon_ns,
                }),
            );
        }
        Ok(())
    }
}

floor_sdk::export_agent!(Sentiment);
