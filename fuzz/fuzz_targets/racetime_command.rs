//! Chat text → a typed command → the plan of every category's handler, as a monitor and as a
//! plain racer, in a team race and not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use racetime::commands::{Context, HandlerKind, parse, plan};

const HANDLERS: [&str; 14] = [
    "alttpr",
    "test",
    "smz3",
    "smr",
    "sm",
    "z1r",
    "z2r",
    "smb3r",
    "ff1r",
    "ct-jets",
    "twwr",
    "contra",
    "smw-hacks",
    "sgl",
];

fuzz_target!(|text: &str| {
    let Some(invocation) = parse(text, "!") else {
        return;
    };
    for name in HANDLERS {
        let Some(kind) = HandlerKind::from_name(name) else {
            panic!("unknown handler {name}");
        };
        for monitor in [false, true] {
            let context = Context {
                is_monitor: monitor,
                team_race: monitor,
                sender_name: "Fuzzer".into(),
                teams: [("a".to_owned(), vec!["Fuzzer".to_owned()])].into(),
                ..Context::default()
            };
            let mut n = 0;
            let _ = plan(kind, &invocation, &context, &mut |len| {
                n += 1;
                n % len.max(1)
            });
        }
    }
});
