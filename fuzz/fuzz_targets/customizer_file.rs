//! An alttpr.com customizer save file → preset settings and the preset YAML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = seedgen::convert::customizer_settings(text);
    let _ = seedgen::convert::customizer_preset_yaml(text);
});
