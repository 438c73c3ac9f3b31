//! A Discord interaction payload (JSON, as the gateway receives it) → the command call the
//! handlers see, with every option read the ways the commands read them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twilight_model::application::interaction::Interaction;

fuzz_target!(|text: &str| {
    let Ok(interaction) = serde_json::from_str::<Interaction>(text) else {
        return;
    };
    let Some(call) = gateway::context::Call::from_interaction(&interaction) else {
        return;
    };
    let _ = call.name();
    let _ = call.focused();
    let names: Vec<String> = call.option_names().map(str::to_owned).collect();
    for name in &names {
        let _ = call.string(name);
        let _ = call.yes(name, false);
        let _ = call.boolean(name);
        let _ = call.integer(name);
        let _ = call.attachment(name);
    }
});
