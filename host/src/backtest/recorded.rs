//! A host's journal as backtest data: the market a `floor run` saw, fed to
//! other agents (or the same ones with other parameters).
//!
//! Every market record — from the venue's feed and injected from outside —
//! of every session, in the order the host took them. Orders, reports and
//! operator commands are the recorded host's and are left out: the
//! backtest's own simulator fills the backtest's own orders.

use std::path::Path;

use anyhow::Context as _;

use crate::journal::reader;
use crate::model::{MarketEvent, Nanos};
use crate::node::record::{decode_market_named, kind};

/// Whether `path` is a host's data directory (it has a journal).
pub fn is_data_dir(path: &Path) -> bool {
    path.join("journal").is_dir()
}

/// The market events of the journal in `data_dir`, in journal order; an
/// event earlier than the one before it (a later session's clock behind
/// an earlier one's) is taken at the time reached, so time never goes
/// back.
///
/// # Errors
/// When the journal cannot be read, or a market record does not decode
/// (the message names its seq).
pub fn read(data_dir: &Path) -> anyhow::Result<Vec<(Nanos, MarketEvent)>> {
    let dir = data_dir.join("journal");
    let scan = reader::read_all(&dir, 1)
        .with_context(|| format!("cannot read the journal in `{}`", data_dir.display()))?;
    if let Some(t) = &scan.torn {
        tracing::warn!(
            "the journal's last {} bytes are torn ({}): using what precedes them",
            t.torn_bytes,
            t.damage
        );
    }
    let mut events = Vec::new();
    let mut last = 0;
    // One name per symbol, not one per record.
    let mut symbols = crate::model::Interner::default();
    for e in scan.entries {
        if e.kind != kind::MARKET && e.kind != kind::INJECTED {
            continue;
        }
        let m = decode_market_named(&e.payload, &mut symbols).with_context(|| {
            format!(
                "journal record {} in `{}` is not market data",
                e.seq,
                dir.display()
            )
        })?;
        last = last.max(e.time);
        events.push((last, m));
    }
    Ok(events)
}
