//! Headlines from outside, into the node: the admin API's webhook (`POST /v1/news`,
//! `floor news`) and the news file of `[news]` both become an
//! [`Operation::News`](super::operator::Operation::News), so a headline is
//! journaled as an input in the one total order and replays where it came.
//! The node publishes it as `news.headline.<source>` with the event time
//! it arrived at; agents subscribe to `news.#` or `news.headline.*`.

use serde_json::{Value, json};

use super::Node;
use super::operator::OperationError;
use crate::model::{News, Payload};

impl Node {
    /// A headline at event time `at` (a backtest's news file, merged with
    /// its market data by time): the clock moves to `at`, timers due by
    /// then fire, and the headline is published.
    ///
    /// # Errors
    /// A headline [`crate::news::check`] refuses.
    pub fn headline_at(
        &mut self,
        news: News,
        at: crate::model::Nanos,
    ) -> Result<Value, OperationError> {
        self.now = self.now.max(at);
        self.fire_timers();
        self.operate(super::operator::Operation::News(news))
    }

    /// Publish a headline as `news.headline.<source>` at the node's event
    /// time; what was published.
    pub(super) fn news(&mut self, news: News) -> Result<Value, OperationError> {
        crate::news::check(&news)
            .map_err(|why| OperationError(format!("the headline was refused: {why}")))?;
        let topic = format!("news.headline.{}", news.source);
        super::Stats::bump(&self.stats.news);
        self.publish(&topic, Payload::News(Box::new(news)));
        Ok(json!({"topic": topic, "event_time_ns": self.now}))
    }
}

#[cfg(test)]
mod tests {
    use super::super::operator::Operation;
    use crate::model::News;

    /// A journaled headline is the command's JSON; replay reads it back.
    #[test]
    fn a_headline_command_reads_back_as_it_was_written() {
        let news = News {
            headline: "$BTC breaks 100k".into(),
            source: "wire".into(),
            symbols: vec!["BTCUSDT".into()],
        };
        let json = serde_json::to_value(Operation::News(news.clone())).unwrap();
        assert_eq!(json["command"], "news");
        let Operation::News(back) = serde_json::from_value(json).unwrap() else {
            panic!("not a news command");
        };
        assert_eq!(back, news);
    }
}
