//! What the guest keeps between calls so that turning numbers back into
//! an envelope allocates nothing: the names behind the host's numbers,
//! and envelopes written over in place (`market`, `orders`, `intents`,
//! `signals`).

use std::cell::{Cell, RefCell};

use crate::bindings::floor::agent::streams::{self, StreamNames};
use crate::{Envelope, Payload, Position};

/// Names kept per kind (orders, tags): an order's events come close
/// together, an agent's orders have few tags, and the host names any
/// recent one again if asked.
const KEPT: usize = 8;

thread_local! {
    /// Names of the streams met, by number.
    static STREAMS: RefCell<Vec<Option<StreamNames>>> = const { RefCell::new(Vec::new()) };
    /// The position sent along with the call being handled
    /// ([`carrying`]), kept between calls so its symbol's buffer is reused.
    static CARRIED: RefCell<Position> = const {
        RefCell::new(Position {
            symbol: String::new(),
            quantity: 0.0,
            average_price: 0.0,
            realized_pnl: 0.0,
        })
    };
    /// True while a call that came with a position is being handled.
    static CARRYING: Cell<bool> = const { Cell::new(false) };
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

/// A blank envelope around `payload`, to be written over.
pub(crate) const fn blank(payload: Payload) -> Envelope {
    Envelope {
        id: 0,
        topic: String::new(),
        source: String::new(),
        sequence: 0,
        event_time: 0,
        trace_id: 0,
        correlation_id: None,
        attempt: 1,
        payload,
    }
}

/// Write into envelope `$env` the numbers every `*-values` record `$v`
/// carries (id, sequence, event time, trace id, attempt) and the
/// correlation id `$correlation` (none for records without one).
macro_rules! stamp {
    ($env:expr, $v:expr) => {
        stamp!($env, $v, None)
    };
    ($env:expr, $v:expr, $correlation:expr) => {{
        let env: &mut $crate::Envelope = $env;
        env.id = $v.id;
        env.sequence = $v.sequence;
        env.event_time = $v.event_time;
        env.trace_id = $v.trace_id;
        env.correlation_id = $correlation;
        env.attempt = $v.attempt;
    }};
}
pub(crate) use stamp;

/// Run `f` with `position` (in `symbol`, sent along with the call being
/// handled) as the host's answer for that symbol: nothing changes a
/// position while an agent is called, so [`carried_position`] answers
/// `position-of` without a call into the host.
pub(crate) fn carrying<R>(symbol: &str, position: [f64; 3], f: impl FnOnce() -> R) -> R {
    let [quantity, average, pnl] = position;
    CARRIED.with_borrow_mut(|p| {
        set(&mut p.symbol, symbol);
        p.quantity = quantity;
        p.average_price = average;
        p.realized_pnl = pnl;
    });
    CARRYING.set(true);
    let result = f();
    CARRYING.set(false);
    result
}

/// Whether the call being handled came with what the host knows of
/// `symbol` ([`carrying`]).
pub(crate) fn carries(symbol: &str) -> bool {
    CARRYING.get() && CARRIED.with_borrow(|p| p.symbol == symbol)
}

/// The position in `symbol`, if the call being handled came with it.
pub(crate) fn carried_position(symbol: &str) -> Option<Position> {
    carries(symbol).then(|| CARRIED.with_borrow(Position::clone))
}

/// [`carried_position`]'s quantity, without copying the position.
pub(crate) fn carried_quantity(symbol: &str) -> Option<f64> {
    carries(symbol).then(|| CARRIED.with_borrow(|p| p.quantity))
}
