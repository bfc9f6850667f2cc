//! Bindings generated from `wit/` by wit-bindgen. Agent code uses the
//! re-exports in [`crate::types`] and the wrappers in [`crate::host`] instead.
#![allow(missing_docs, unsafe_code, clippy::all)]

wit_bindgen::generate!({
    path: "../wit",
    // `agent-world` plus market data as numbers (`wit/market.wit`).
    world: "market-agent-world",
    pub_export_macro: true,
    export_macro_name: "__export_agent_world",
    default_bindings_module: "floor_sdk::bindings",
    generate_all,
    // Agents compare verdicts, intents and quotes in their unit tests.
    additional_derives: [PartialEq],
});
