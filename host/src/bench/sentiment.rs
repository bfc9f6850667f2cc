//! The sentiment model agent classifying headlines inside the sandbox,
//! with its manifest's fuel and memory: `sentiment_infer_us_p50`.
//!
//! The headlines below are written in the style of the model's data set
//! (financial news and tweets, 4 to 40 word-pieces; the data set's median
//! is 19). Each call is one headline, so the percentiles are over this
//! mix of lengths, as a news feed would bring them.

use std::path::Path;
use std::sync::Arc;

use super::agent_path;
use crate::agent::{AgentInstance, AgentLinker, AgentSpec, Rights};
use crate::model::{Envelope, News, Output, Payload};
use crate::node::SharedView;
use crate::runtime::{ComponentCache, Limits, Runtime, RuntimeConfig};

const HEADLINES: &[&str] = &[
    "$AAPL beats on earnings, raises dividend",
    "Stocks slide as bond yields jump",
    "Oil rises after OPEC+ extends output cuts into next year",
    "$TSLA deliveries miss estimates for the second quarter in a row; shares fall 6% premarket",
    "Fed's Powell says rate cuts are not yet on the table",
    "Bitcoin tops $70,000 for the first time since March",
    "European shares open flat ahead of ECB decision",
    "Goldman Sachs downgrades $NKE to neutral, cuts price target to $95 https://t.co/abc",
    "Retail sales unexpectedly fell 0.8% in May, the Commerce Department said",
    "$NVDA hits record high as AI chip demand keeps surging",
    "Boeing shares drop after FAA orders more inspections of 737 MAX jets",
    "Treasury yields steady ahead of jobs report",
    "Moody's cuts outlook on U.S. regional banks to negative, citing deposit outflows and commercial real estate exposure",
    "$AMZN announces $10 billion buyback",
    "China's factory activity contracts for a third month",
    "JPMorgan profit jumps 25% on higher interest income, tops Wall Street forecasts",
    "Gold slips as dollar firms",
    "$META to cut 10,000 more jobs in second round of layoffs",
    "Netflix subscriber growth beats expectations; stock jumps after hours",
    "Ethereum falls 8% as SEC delays decision on spot ETF applications",
    "Walmart reiterates full-year guidance",
    "Coinbase shares tumble after exchange reports wider-than-expected loss and lower trading volumes",
    "$MSFT and $GOOGL lead tech rally",
    "Housing starts rise more than expected in April",
];

/// The sentiment agent, started as a host starts it, fed one headline a
/// call.
pub struct SentimentProbe {
    _runtime: Runtime,
    agent: AgentInstance,
    envelopes: Vec<Envelope>,
    n: usize,
}

impl SentimentProbe {
    /// Load `sentiment.wasm` from `agents_dir` and start it with the fuel
    /// and memory its signed manifest asks for (the host's defaults where
    /// it asks for none).
    ///
    /// # Errors
    /// When the agent is missing, its manifest unreadable, or it does not
    /// start.
    pub fn new(agents_dir: &Path) -> anyhow::Result<Self> {
        let runtime = Runtime::new(RuntimeConfig {
            pool_instances: 4,
            ..RuntimeConfig::default()
        })?;
        let path = agent_path(agents_dir, "sentiment")?;
        let asked = crate::signing::artifact::manifest(&std::fs::read(&path)?)?
            .and_then(|m| m.limits)
            .unwrap_or_default();
        let defaults = Limits::default();
        let loaded = ComponentCache::new(runtime.engine(), None).load(runtime.engine(), &path)?;
        let linker = AgentLinker::new(runtime.engine())?;
        let spec = AgentSpec {
            name: "sentiment".into(),
            component: loaded.component,
            limits: Limits {
                fuel: asked.fuel.unwrap_or(defaults.fuel),
                memory_bytes: asked
                    .memory_mb
                    .map_or(defaults.memory_bytes, |mb| (mb as usize) << 20),
                ..defaults
            },
            rights: Rights::all(),
            config: vec![("default_symbol".into(), "SPY".into())],
            seed: 1,
            read_dirs: Vec::new(),
        };
        let agent = AgentInstance::start(&runtime, &linker, spec, Arc::new(SharedView::default()))?;
        let envelopes = HEADLINES
            .iter()
            .zip(1..)
            .map(|(h, n)| Envelope {
                id: n,
                topic: "news.headline.bench".into(),
                source: "host".into(),
                sequence: n,
                event_time: n,
                trace_id: n,
                correlation_id: None,
                attempt: 1,
                payload: Payload::News(Box::new(News {
                    headline: (*h).to_string(),
                    source: "bench".into(),
                    symbols: Vec::new(),
                })),
            })
            .collect();
        Ok(Self {
            _runtime: runtime,
            agent,
            envelopes,
            n: 0,
        })
    }

    /// Classify the next headline; panics unless the agent published its
    /// signals (a probe that silently did nothing would measure nothing).
    pub fn infer(&mut self) {
        let msg = &self.envelopes[self.n % self.envelopes.len()];
        self.n += 1;
        let out = self
            .agent
            .handle(msg, false)
            .expect("the sentiment agent faulted in the benchmark");
        assert!(
            !out.is_empty() && out.iter().all(|o| matches!(o, Output::Publish { .. })),
            "the sentiment agent gave {out:?} for a headline, expected its signals"
        );
    }
}
