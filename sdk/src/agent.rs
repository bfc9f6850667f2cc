//! The [`Agent`] trait and the [`export_agent!`](crate::export_agent) macro.
//!
//! The macro keeps one instance of the agent type per component instance
//! (WebAssembly is single-threaded, so a thread-local is the whole story)
//! and routes the four exports of the `agent` interface to the trait.

use crate::bindings::exports::floor::agent::market::MarketEvent;
use crate::bindings::floor::agent::types::Output;
use crate::{Config, Envelope, Error, Outputs};
use std::cell::RefCell;
use std::thread::LocalKey;

/// A trading agent. Implement [`Agent::on_message`]; the rest has defaults.
pub trait Agent: Default + 'static {
    /// Called once before any message with the agent's configuration.
    ///
    /// # Errors
    /// Return an error when the configuration is unusable; the host then
    /// refuses to start the agent and reports the message.
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Handle one message; push what should happen into `out`.
    ///
    /// # Errors
    /// A returned error discards `out` and sends the message to the host's
    /// dead-letter queue with reason `agent_error`.
    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error>;

    /// The agent's state as bytes (see [`crate::state`]). Stateless agents
    /// keep the default.
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Load state written by [`Agent::snapshot`].
    ///
    /// # Errors
    /// Return an error if the bytes cannot be read; the host keeps the old
    /// version running.
    fn restore(&mut self, state: &[u8]) -> Result<(), Error> {
        let _ = state;
        Ok(())
    }
}

/// Glue used by [`export_agent!`](crate::export_agent); not for agent code.
pub mod dispatch {
    use super::*;

    /// `init` export.
    pub fn init<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        config: Vec<(String, String)>,
    ) -> Result<(), Error> {
        let mut agent = A::default();
        agent.init(&Config::new(config))?;
        cell.with(|c| *c.borrow_mut() = Some(agent));
        Ok(())
    }

    /// `on-message` export.
    pub fn on_message<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        msg: Envelope,
    ) -> Result<Vec<Output>, Error> {
        handle(cell, &msg)
    }

    /// A quote or trade as numbers: the agent gets the envelope
    /// `on_message` would have had.
    pub fn on_market<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        event: MarketEvent,
    ) -> Result<Vec<Output>, Error> {
        crate::market::with_envelope(&event, |msg| handle(cell, msg))
    }

    /// An order event as numbers: the agent gets the envelope
    /// `on_message` would have had.
    pub fn on_order_event<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        event: crate::bindings::exports::floor::agent::orders::OrderValues,
    ) -> Result<Vec<Output>, Error> {
        crate::orders::with_envelope(event, |msg| handle(cell, msg))
    }

    /// An order intent as numbers: the agent gets the envelope
    /// `on_message` would have had.
    pub fn on_intent<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        intent: crate::bindings::exports::floor::agent::intents::IntentValues,
    ) -> Result<Vec<Output>, Error> {
        crate::intents::with_envelope(intent, |msg| handle(cell, msg))
    }

    /// A signal as numbers: the agent gets the envelope `on_message` would
    /// have had.
    pub fn on_signal<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        signal: crate::bindings::exports::floor::agent::signals::SignalValues,
    ) -> Result<Vec<Output>, Error> {
        crate::signals::with_envelope(signal, |msg| handle(cell, msg))
    }

    /// A run of quotes and trades: each as [`on_market`] would take it,
    /// until one has outputs.
    pub fn on_market_run<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        words: Vec<u64>,
    ) -> Result<Vec<Output>, Error> {
        crate::market::each_in_run(&words, |event| {
            crate::market::with_envelope(event, |msg| handle(cell, msg))
        })
    }

    fn handle<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        msg: &Envelope,
    ) -> Result<Vec<Output>, Error> {
        cell.with(|c| {
            let mut slot = c.borrow_mut();
            let agent = slot.get_or_insert_with(A::default);
            let mut out = Outputs::default();
            agent.on_message(msg, &mut out)?;
            Ok(out.into_inner())
        })
    }

    /// `snapshot` export.
    pub fn snapshot<A: Agent>(cell: &'static LocalKey<RefCell<Option<A>>>) -> Vec<u8> {
        cell.with(|c| c.borrow().as_ref().map(A::snapshot).unwrap_or_default())
    }

    /// `restore` export.
    pub fn restore<A: Agent>(
        cell: &'static LocalKey<RefCell<Option<A>>>,
        state: Vec<u8>,
    ) -> Result<(), Error> {
        cell.with(|c| {
            let mut slot = c.borrow_mut();
            slot.get_or_insert_with(A::default).restore(&state)
        })
    }
}

/// Export a type implementing [`Agent`] as the component's `agent` interface.
/// Use it once per agent crate.
#[macro_export]
macro_rules! export_agent {
    ($ty:ty) => {
        #[allow(unsafe_code)]
        const _: () = {
            ::std::thread_local! {
                static FLOOR_AGENT: ::std::cell::RefCell<::std::option::Option<$ty>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            struct FloorAgentExport;
            impl $crate::bindings::exports::floor::agent::agent::Guest for FloorAgentExport {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::Error> {
                    $crate::__private::dispatch::init(&FLOOR_AGENT, config)
                }
                fn on_message(
                    message: $crate::Envelope,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::exports::floor::agent::agent::Output>,
                    $crate::Error,
                > {
                    $crate::__private::dispatch::on_message(&FLOOR_AGENT, message)
                }
                fn snapshot() -> ::std::vec::Vec<u8> {
                    $crate::__private::dispatch::snapshot(&FLOOR_AGENT)
                }
                fn restore(state: ::std::vec::Vec<u8>) -> ::std::result::Result<(), $crate::Error> {
                    $crate::__private::dispatch::restore(&FLOOR_AGENT, state)
                }
            }
            impl $crate::bindings::exports::floor::agent::market::Guest for FloorAgentExport {
                fn on_market(
                    event: $crate::bindings::exports::floor::agent::market::MarketEvent,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::exports::floor::agent::agent::Output>,
                    $crate::Error,
                > {
                    $crate::__private::dispatch::on_market(&FLOOR_AGENT, event)
                }
                fn on_market_run(
                    events: ::std::vec::Vec<u64>,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::exports::floor::agent::agent::Output>,
                    $crate::Error,
                > {
                    $crate::__private::dispatch::on_market_run(&FLOOR_AGENT, events)
                }
            }
            impl $crate::bindings::exports::floor::agent::orders::Guest for FloorAgentExport {
                fn on_order_event(
                    event: $crate::bindings::exports::floor::agent::orders::OrderValues,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::exports::floor::agent::agent::Output>,
                    $crate::Error,
                > {
                    $crate::__private::dispatch::on_order_event(&FLOOR_AGENT, event)
                }
            }
            impl $crate::bindings::exports::floor::agent::intents::Guest for FloorAgentExport {
                fn on_intent(
                    intent: $crate::bindings::exports::floor::agent::intents::IntentValues,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::exports::floor::agent::agent::Output>,
                    $crate::Error,
                > {
                    $crate::__private::dispatch::on_intent(&FLOOR_AGENT, intent)
                }
            }
            impl $crate::bindings::exports::floor::agent::signals::Guest for FloorAgentExport {
                fn on_signal(
                    signal: $crate::bindings::exports::floor::agent::signals::SignalValues,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::bindings::exports::floor::agent::agent::Output>,
                    $crate::Error,
                > {
                    $crate::__private::dispatch::on_signal(&FLOOR_AGENT, signal)
                }
            }
            $crate::bindings::__export_agent_world!(FloorAgentExport with_types_in $crate::bindings);
        };
    };
}
