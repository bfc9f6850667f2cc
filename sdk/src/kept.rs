//! What the guest keeps between calls so that turning numbers back into
//! an envelope allocates nothing: the names behind the host's numbers,
//! and envelopes written over in place (`market`, `orders`, `intents`).

use std::cell::RefCell;

use crate::bindings::floor::agent::streams::{self, StreamNames};
use crate::{Envelope, Position};

/// Names kept per kind (orders, tags): an order's events come close
/// together, an agent's orders have few tags, and the host names any
/// recent one again if asked.
const KEPT: usize = 8;

thread_local! {
    /// Names of the streams met, by number.
    static STREAMS: RefCell<Vec<Option<StreamNames>>> = const { RefCell::new(Vec::new()) };
}

/// Make `to` hold `from`, in the buffer it has when that is large enough.
pub(crate) fn set(to: &mut String, from: &str) {
    if to != from {
        to.clear();
        to.push_str(from);
    }
}

/// `f` of the topic, source and symbol of stream `number`, asked of the
/// host the first time.
pub(crate) fn with_stream<R>(number: u32, f: impl FnOnce(&StreamNames) -> R) -> R {
    STREAMS.with_borrow_mut(|all| {
        let i = number as usize;
        if all.len() <= i {
            all.resize_with(i + 1, || None);
        }
        f(all[i].get_or_insert_with(|| streams::stream_of(number)))
    })
}

/// Write stream `number`'s names into an envelope's topic and source and
/// its payload's symbol.
pub(crate) fn name_stream(
    number: u32,
    topic: &mut String,
    source: &mut String,
    symbol: &mut String,
) {
    with_stream(number, |s| {
        set(topic, &s.topic);
        set(source, &s.source);
        set(symbol, &s.symbol);
    });
}

/// `f` of what `number` names, from the last [`KEPT`] met (newest last),
/// asked of the host with `ask` the first time.
pub(crate) fn with_remembered<T, R>(
    kept: &mut Vec<(u64, T)>,
    number: u64,
    ask: impl FnOnce(u64) -> T,
    f: impl FnOnce(&T) -> R,
) -> R {
    let i = match kept.iter().rposition(|(n, _)| *n == number) {
        Some(i) => i,
        None => {
            if kept.len() == KEPT {
                kept.remove(0);
            }
            kept.push((number, ask(number)));
            kept.len() - 1
        }
    };
    f(&kept[i].1)
}

/// An envelope's numbers, as every `*-values` record carries them.
pub(crate) struct Head {
    pub id: u64,
    pub sequence: u64,
    pub event_time: u64,
    pub trace_id: u64,
    pub correlation_id: Option<u64>,
    pub attempt: u32,
}

/// Write `head` into `env`.
pub(crate) fn stamp(env: &mut Envelope, head: Head) {
    env.id = head.id;
    env.sequence = head.sequence;
    env.event_time = head.event_time;
    env.trace_id = head.trace_id;
    env.correlation_id = head.correlation_id;
    env.attempt = head.attempt;
}

/// A position before the first written into it.
pub(crate) const FLAT: Position = Position {
    symbol: String::new(),
    quantity: 0.0,
    average_price: 0.0,
    realized_pnl: 0.0,
};

/// Write a position in `symbol` sent along with a call into `p`.
pub(crate) fn set_position(p: &mut Position, symbol: &str, [quantity, average, pnl]: [f64; 3]) {
    set(&mut p.symbol, symbol);
    p.quantity = quantity;
    p.average_price = average;
    p.realized_pnl = pnl;
}
