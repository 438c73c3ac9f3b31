//! A mystery weightset → compiled weights → a few rolls (rules, subweights, doors, customizer).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(map) = seedgen::preset::parse_document(text) else {
        return;
    };
    let Ok(weights) = seedgen::mystery::Weights::compile(&map) else {
        return;
    };
    if seedgen::mystery::check_required(&weights).is_err() {
        return;
    }
    for seed in 0..4 {
        let _ = seedgen::mystery::roll(&weights, "mystery", seed);
    }
});
