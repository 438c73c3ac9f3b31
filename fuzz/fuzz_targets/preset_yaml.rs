//! An uploaded preset document → a preset of every randomizer that has YAML presets.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for randomizer in seedgen::preset::PRESET_RANDOMIZERS {
        let _ = seedgen::preset::parse_body(randomizer, text);
    }
});
