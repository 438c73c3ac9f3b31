//! Local randomizers that only need a seed number: Zelda 1 (Z1R), Zelda 2 (Z2R and its "MRB"
//! flag roulette), SMB3R, Final Fantasy (FF1R), Aria of Sorrow (AoSR) and SRL Super Metroid
//! bingo (spec §2.11). No network; every draw comes from the caller's RNG.

use rand::RngExt;
use url::Url;

use crate::constants::flag_presets;

/// A locally rolled seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSeed {
    /// The seed number.
    pub seed: String,
    /// The flag string.
    pub flags: String,
    /// A URL that opens the seed, when the randomizer has one.
    pub url: Option<String>,
    /// Human description (Z2R MRB: which flag set was drawn).
    pub description: Option<String>,
}

/// Why a local roll cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RollerError {
    /// One short sentence: the closest names and how many there are, never the whole list.
    #[error("unknown {randomizer} preset `{name}`{hint} (the help lists all {count})")]
    UnknownPreset {
        /// The randomizer.
        randomizer: &'static str,
        /// The preset asked for.
        name: String,
        /// "; did you mean `a` or `b`?", or empty when no name is close.
        hint: String,
        /// How many presets there are.
        count: usize,
    },
    /// `ff1r` needs a finalfantasyrandomizer.com URL.
    #[error("`{0}` is not a URL with a scheme and host")]
    BadUrl(String),
    /// The randomizer needs flags.
    #[error("{0} needs flags")]
    NoFlags(&'static str),
}

fn lookup(table: &str, randomizer: &'static str, name: &str) -> Result<String, RollerError> {
    let presets = flag_presets(table);
    presets
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| f.to_string())
        .ok_or_else(|| {
            let hint = crate::suggest::did_you_mean(name, presets.iter().map(|(n, _)| *n));
            RollerError::UnknownPreset {
                randomizer,
                name: name.to_string(),
                hint: if hint.is_empty() {
                    hint
                } else {
                    format!("; {hint}")
                },
                count: presets.len(),
            }
        })
}

/// Z1R: a named preset's flags, or raw flags with `flags:` prefix; seed in 0..=8999999999999999999.
pub fn z1r(preset_or_flags: &str, rng: &mut impl rand::Rng) -> Result<LocalSeed, RollerError> {
    let flags = match preset_or_flags.strip_prefix("flags:") {
        Some(flags) if !flags.trim().is_empty() => flags.trim().to_string(),
        Some(_) => return Err(RollerError::NoFlags("z1r")),
        None => lookup("Z1R_PRESETS", "z1r", preset_or_flags)?,
    };
    let seed = rng.random_range(0..=8_999_999_999_999_999_999u64);
    Ok(LocalSeed {
        seed: seed.to_string(),
        flags,
        url: None,
        description: None,
    })
}

/// Z2R: a named preset (or `mrb`, a random community flag set) or raw `flags:`; seed in
/// 0..=1000000000.
pub fn z2r(preset_or_flags: &str, rng: &mut impl rand::Rng) -> Result<LocalSeed, RollerError> {
    let seed = rng.random_range(0..=1_000_000_000u64).to_string();
    if preset_or_flags.eq_ignore_ascii_case("mrb") {
        let choices = flag_presets("Z2R_MRB_FLAG_CHOICES");
        let (description, flags) = choices[rng.random_range(0..choices.len())];
        return Ok(LocalSeed {
            seed,
            flags: flags.to_string(),
            url: None,
            description: Some(description.to_string()),
        });
    }
    let flags = match preset_or_flags.strip_prefix("flags:") {
        Some(flags) if !flags.trim().is_empty() => flags.trim().to_string(),
        Some(_) => return Err(RollerError::NoFlags("z2r")),
        None => lookup("Z2R_PRESETS", "z2r", preset_or_flags)?,
    };
    Ok(LocalSeed {
        seed,
        flags,
        url: None,
        description: None,
    })
}

/// SMB3R: the given flags with a seed in 0..999999999999 (exclusive).
pub fn smb3r(flags: &str, rng: &mut impl rand::Rng) -> Result<LocalSeed, RollerError> {
    if flags.trim().is_empty() {
        return Err(RollerError::NoFlags("smb3r"));
    }
    Ok(LocalSeed {
        seed: rng.random_range(0..999_999_999_999u64).to_string(),
        flags: flags.trim().to_string(),
        url: None,
        description: None,
    })
}

/// FF1R: sets the `s` query parameter of a finalfantasyrandomizer.com URL to 8 upper-case hex
/// digits, keeping the other parameters in order (blank ones dropped, as upstream).
pub fn ff1r(url: &str, rng: &mut impl rand::Rng) -> Result<LocalSeed, RollerError> {
    let mut parsed = Url::parse(url.trim()).map_err(|_| RollerError::BadUrl(url.to_string()))?;
    if parsed.host_str().is_none() {
        return Err(RollerError::BadUrl(url.to_string()));
    }
    let seed = format!("{:08X}", rng.random::<u32>());
    let mut pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match pairs.iter_mut().find(|(k, _)| k == "s") {
        Some(pair) => pair.1 = seed.clone(),
        None => pairs.push(("s".into(), seed.clone())),
    }
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(LocalSeed {
        seed,
        flags: String::new(),
        url: Some(parsed.to_string()),
        description: None,
    })
}

/// AoSR: `https://aosrando.surge.sh/?seed={int32}&{flags}`; `flags` is `k=v&k=v`.
pub fn aosr(flags: &str, rng: &mut impl rand::Rng) -> Result<LocalSeed, RollerError> {
    let seed = rng.random::<i32>().to_string();
    let flags = flags.trim().trim_start_matches('?').trim_start_matches('&');
    let url = if flags.is_empty() {
        format!("https://aosrando.surge.sh/?seed={seed}")
    } else {
        format!("https://aosrando.surge.sh/?seed={seed}&{flags}")
    };
    Ok(LocalSeed {
        seed,
        flags: flags.to_string(),
        url: Some(url),
        description: None,
    })
}

/// SRL Super Metroid bingo card with a seed in 0..=899999.
pub fn sm_bingo(rng: &mut impl rand::Rng) -> LocalSeed {
    let seed = rng.random_range(0..=899_999u32).to_string();
    LocalSeed {
        url: Some(format!(
            "https://www.speedrunslive.com/tools/supermetroid-bingo/?seed={seed}"
        )),
        seed,
        flags: String::new(),
        description: None,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn z1r_presets_and_ranges() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let seed = z1r("rr2024", &mut rng).unwrap();
        assert_eq!(seed.flags, "oIbq2JttN3ae9PzaCJOsVpXedaDD1C2B1yAt8");
        assert!(seed.seed.parse::<u64>().unwrap() <= 8_999_999_999_999_999_999);
        // One short sentence with the closest names, not the 27-name catalogue.
        let error = z1r("rr2042", &mut rng).unwrap_err().to_string();
        assert!(
            error.starts_with("unknown z1r preset `rr2042`; did you mean `rr2024`"),
            "{error}"
        );
        assert!(error.ends_with("(the help lists all 27)"), "{error}");
        assert!(error.len() < 140, "{} characters: {error}", error.len());
        assert!(!error.contains("abns22_swiss"), "{error}");
        assert_eq!(z1r("flags:ABC", &mut rng).unwrap().flags, "ABC");
    }

    #[test]
    fn z2r_mrb_draws_a_described_flag_set() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let seed = z2r("mrb", &mut rng).unwrap();
        let description = seed.description.unwrap();
        assert!(
            flag_presets("Z2R_MRB_FLAG_CHOICES")
                .iter()
                .any(|(d, f)| *d == description && *f == seed.flags)
        );
        assert!(seed.seed.parse::<u64>().unwrap() <= 1_000_000_000);
        assert_eq!(
            z2r("maxrando", &mut rng).unwrap().flags,
            "iyhqh$j9g7@$ZqTBT!BhOAdES$vA"
        );
    }

    #[test]
    fn ff1r_replaces_or_appends_s() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let seed = ff1r(
            "https://finalfantasyrandomizer.com/Randomize?s=00000000&f=ABC&x=#frag",
            &mut rng,
        )
        .unwrap();
        let url = seed.url.unwrap();
        assert_eq!(seed.seed.len(), 8);
        assert!(
            seed.seed
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(
            url,
            format!(
                "https://finalfantasyrandomizer.com/Randomize?s={}&f=ABC#frag",
                seed.seed
            )
        );
        let appended = ff1r("https://example.com/r?f=1", &mut rng).unwrap();
        assert!(
            appended
                .url
                .unwrap()
                .ends_with(&format!("?f=1&s={}", appended.seed))
        );
        assert!(ff1r("not a url", &mut rng).is_err());
    }

    #[test]
    fn smb3r_aosr_and_bingo() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert!(smb3r("", &mut rng).is_err());
        assert!(
            smb3r("17BA0A1", &mut rng)
                .unwrap()
                .seed
                .parse::<u64>()
                .unwrap()
                < 999_999_999_999
        );
        let a = aosr("logic=AreaTechTiers&nodupes=false", &mut rng).unwrap();
        assert_eq!(
            a.url.unwrap(),
            format!(
                "https://aosrando.surge.sh/?seed={}&logic=AreaTechTiers&nodupes=false",
                a.seed
            )
        );
        assert!(sm_bingo(&mut rng).seed.parse::<u32>().unwrap() <= 899_999);
    }
}
