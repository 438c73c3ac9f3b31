//! A racetime.gg websocket text frame → a typed server message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = racetime_client::ServerMessage::decode(text);
});
