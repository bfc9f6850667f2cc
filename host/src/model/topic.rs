//! Topic names and subscription patterns.
//!
//! A topic is dot-separated segments, `<domain>.<action>.<status>` by
//! convention (`md.tick.BTCUSDT`, `order.filled.ETHUSDT`). Segments are
//! non-empty and use `A-Z a-z 0-9 _ -`.
//!
//! A pattern is a topic whose segments may also be:
//! - `*`: exactly one segment (`md.tick.*` matches `md.tick.BTCUSDT`);
//! - `#`: zero or more segments, only as the last segment (`order.#`
//!   matches `order`, `order.filled` and `order.filled.BTCUSDT`).

use std::fmt;

/// Why a topic or pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid topic `{topic}`: {why}")]
pub struct TopicError {
    /// The text that was given.
    pub topic: String,
    /// What is wrong with it.
    pub why: &'static str,
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Check a concrete topic (no wildcards).
///
/// # Errors
/// [`TopicError`] saying what is wrong.
pub fn validate_topic(topic: &str) -> Result<(), TopicError> {
    let err = |why| TopicError {
        topic: topic.to_string(),
        why,
    };
    if topic.is_empty() {
        return Err(err("it is empty"));
    }
    if topic.len() > 255 {
        return Err(err("it is longer than 255 bytes"));
    }
    if !topic.split('.').all(valid_segment) {
        return Err(err(
            "segments must be non-empty and use only letters, digits, `_` and `-`",
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One,
    Rest,
}

/// A compiled subscription or rights pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPattern {
    text: String,
    segments: Vec<Segment>,
}

impl TopicPattern {
    /// Parse a pattern.
    ///
    /// # Errors
    /// [`TopicError`] when a segment is empty or malformed, or `#` is not last.
    pub fn parse(text: &str) -> Result<Self, TopicError> {
        let err = |why| TopicError {
            topic: text.to_string(),
            why,
        };
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "*" => Segment::One,
                "#" if i + 1 == parts.len() => Segment::Rest,
                "#" => return Err(err("`#` may only be the last segment")),
                s if valid_segment(s) => Segment::Literal(s.to_string()),
                _ => {
                    return Err(err(
                        "segments must be `*`, `#`, or non-empty letters, digits, `_` and `-`",
                    ));
                }
            });
        }
        Ok(Self {
            text: text.to_string(),
            segments,
        })
    }

    /// True if `topic` matches.
    pub fn matches(&self, topic: &str) -> bool {
        let mut parts = topic.split('.');
        for seg in &self.segments {
            match seg {
                Segment::Rest => return true,
                Segment::One => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
                Segment::Literal(lit) => {
                    if parts.next() != Some(lit.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// True if every topic `other` matches, this pattern matches too
    /// (`order.#` covers `order.filled.*`; `md.tick.*` does not cover `md.#`).
    pub fn covers(&self, other: &TopicPattern) -> bool {
        let mut theirs = other.segments.iter();
        for mine in &self.segments {
            match (mine, theirs.next()) {
                (Segment::Rest, _) => return true,
                (_, None | Some(Segment::Rest)) => return false,
                (Segment::One, Some(_)) => {}
                (Segment::Literal(a), Some(Segment::Literal(b))) if a == b => {}
                (Segment::Literal(_), Some(_)) => return false,
            }
        }
        theirs.next().is_none()
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pattern_covers_the_narrower_ones() {
        let p = |t: &str| TopicPattern::parse(t).unwrap();
        for (wide, narrow) in [
            ("order.#", "order.filled.*"),
            ("order.#", "order"),
            ("#", "md.tick.BTCUSDT"),
            ("md.tick.*", "md.tick.BTCUSDT"),
            ("md.*.*", "md.tick.*"),
            ("signal.trend.*", "signal.trend.*"),
        ] {
            assert!(p(wide).covers(&p(narrow)), "{wide} covers {narrow}");
        }
        for (a, b) in [
            ("md.tick.*", "md.#"),
            ("md.tick.*", "md.tick"),
            ("md.tick.BTCUSDT", "md.tick.*"),
            ("order.filled", "order.filled.BTCUSDT"),
            ("signal.trend.*", "signal.mean.*"),
        ] {
            assert!(!p(a).covers(&p(b)), "{a} does not cover {b}");
        }
    }

    use super::*;

    fn p(s: &str) -> TopicPattern {
        TopicPattern::parse(s).unwrap()
    }

    #[test]
    fn star_matches_exactly_one_segment() {
        assert!(p("md.tick.*").matches("md.tick.BTCUSDT"));
        assert!(!p("md.tick.*").matches("md.tick"));
        assert!(!p("md.tick.*").matches("md.tick.BTCUSDT.x"));
        assert!(p("md.*.BTCUSDT").matches("md.trade.BTCUSDT"));
    }

    #[test]
    fn hash_matches_zero_or_more_trailing_segments() {
        assert!(p("order.#").matches("order"));
        assert!(p("order.#").matches("order.filled.BTCUSDT"));
        assert!(!p("order.#").matches("orders.filled"));
        assert!(p("#").matches("anything.at.all"));
    }

    #[test]
    fn literals_must_match_whole_segments() {
        assert!(p("md.tick.BTCUSDT").matches("md.tick.BTCUSDT"));
        assert!(!p("md.tick.BTC").matches("md.tick.BTCUSDT"));
    }

    #[test]
    fn malformed_patterns_say_why() {
        assert_eq!(
            TopicPattern::parse("order.#.x").unwrap_err().why,
            "`#` may only be the last segment"
        );
        assert!(TopicPattern::parse("md..tick").is_err());
        assert!(TopicPattern::parse("").is_err());
        assert!(validate_topic("md.tick.*").is_err());
        assert!(validate_topic("md.tick.BTC-USDT").is_ok());
    }
}
