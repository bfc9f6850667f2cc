//! `[news]`: a file of headlines fed into a run (and, by time, into a
//! backtest). See [`crate::news`] for the file's format.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `[news]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewsSection {
    /// The news file (JSON lines, or CSV by its `.csv` extension),
    /// relative to the config's directory.
    pub file: PathBuf,
    /// How fast `floor run` replays it: 1 keeps the file's spacing, 60
    /// plays a minute of headlines per second. The first headline comes
    /// at the start of the run.
    #[serde(default = "one")]
    pub speed: f64,
}

fn one() -> f64 {
    1.0
}

/// `[news]`, resolved and read.
#[derive(Debug, Clone, PartialEq)]
pub struct NewsConfig {
    /// The file (absolute).
    pub file: PathBuf,
    /// Replay speed.
    pub speed: f64,
    /// Its headlines, checked, in time order.
    pub headlines: Vec<crate::news::Timed>,
}

impl NewsSection {
    /// Check, resolve against the config's directory and read the file.
    pub fn resolve(self, base: &Path, problems: &mut Vec<String>) -> Option<NewsConfig> {
        if !(self.speed.is_finite() && self.speed > 0.0) {
            problems.push(format!(
                "news.speed = {}: write a positive number (1 keeps the file's spacing)",
                self.speed
            ));
        }
        let file = if self.file.is_absolute() {
            self.file
        } else {
            base.join(self.file)
        };
        match crate::news::read_file(&file) {
            Ok(headlines) => Some(NewsConfig {
                file,
                speed: self.speed,
                headlines,
            }),
            Err(why) => {
                problems.push(why);
                None
            }
        }
    }
}
