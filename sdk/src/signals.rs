//! Signals as numbers (`wit/market.wit`, interface `signals`): the guest
//! side.
//!
//! The host calls `signals.on-signal` with a signal's numbers instead of
//! `agent.on-message` with its three strings, and sends the position in
//! its symbol along: an agent that trades on other agents' signals (an
//! ensemble judge) then needs no allocation made from the host and no
//! call back into it for its position. This module turns the numbers back
//! into the envelope `on-message` would have had, so an
//! [`Agent`](crate::Agent) cannot tell the difference: per stream it asks
//! the host for the topic, source and symbol once (`streams.stream-of`);
//! while the call lasts, [`host::position`](crate::host::position)
//! answers for the signal's symbol from what came with it. One envelope is
//! kept and written over for each signal, its strings copied into the
//! buffers it already has: a signal costs the guest no allocation.

use std::cell::RefCell;

use crate::bindings::exports::floor::agent::signals::SignalValues;
use crate::kept::{blank, carrying, name_stream, stamp};
use crate::{Envelope, Payload, Signal};

thread_local! {
    /// The envelope written over for each signal.
    static ENVELOPE: RefCell<Envelope> = const {
        RefCell::new(blank(Payload::Signal(Signal {
            symbol: String::new(),
            score: 0.0,
            confidence: 0.0,
            horizon_ns: 0,
        })))
    };
}

/// Run `f` on the envelope `signal` stands for, with its position
/// answering [`crate::host::position`] for its symbol.
pub fn with_envelope<R>(signal: SignalValues, f: impl FnOnce(&Envelope) -> R) -> R {
    ENVELOPE.with(|cell| {
        let mut env = cell.borrow_mut();
        let env = &mut *env;
        let Payload::Signal(s) = &mut env.payload else {
            unreachable!("the kept envelope holds a signal")
        };
        name_stream(
            signal.stream_number,
            &mut env.topic,
            &mut env.source,
            &mut s.symbol,
        );
        s.score = signal.score;
        s.confidence = signal.confidence;
        s.horizon_ns = signal.horizon_ns;
        stamp!(env, signal, signal.correlation_id);
        let held = &signal.position;
        let position = [held.quantity, held.average_price, held.realized_pnl];
        let env = &*env;
        let Payload::Signal(s) = &env.payload else {
            unreachable!("the kept envelope holds a signal")
        };
        carrying(&s.symbol, position, || f(env))
    })
}
