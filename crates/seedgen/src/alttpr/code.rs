//! The file-select code ("hash") of an ALTTPR seed, read from the patch in the alttpr.com
//! response (spec §3.3).

use serde_json::Value as Json;

use crate::constants::{ALTTPR_CODE_NAMES, ALTTPR_CODE_PATCH_OFFSET, ALTTPR_DEFAULT_CODE};

/// Up to `n` bytes at `offset` of an alttpr.com patch: a list of single-entry maps
/// `{"<decimal offset>": [bytes]}`. The bytes come from the block starting at `offset`, or
/// from the last block starting before it. `None` when no block starts at or before `offset`.
pub fn seek_patch_data(patch: &Json, offset: u64, n: usize) -> Option<Vec<u8>> {
    let mut blocks: Vec<(u64, &Vec<Json>)> = patch
        .as_array()?
        .iter()
        .filter_map(Json::as_object)
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_array()?)))
        .collect();
    blocks.sort_by_key(|(start, _)| *start);
    let (start, bytes) = blocks.iter().rev().find(|(start, _)| *start <= offset)?;
    let skip = usize::try_from(offset - start).ok()?;
    Some(
        bytes
            .iter()
            .skip(skip)
            .take(n)
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()).unwrap_or(0))
            .collect(),
    )
}

/// The five file-select icons of an alttpr.com response; the default code when the patch
/// does not hold five bytes there.
pub fn file_select_code(response: &Json) -> Vec<String> {
    match seek_patch_data(&response["patch"], ALTTPR_CODE_PATCH_OFFSET, 5) {
        Some(bytes) if bytes.len() == 5 => bytes
            .iter()
            .map(|b| {
                ALTTPR_CODE_NAMES
                    .get(usize::from(*b))
                    .cloned()
                    .unwrap_or_else(|| format!("Unknown {b}"))
            })
            .collect(),
        _ => ALTTPR_DEFAULT_CODE.iter().map(|s| s.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn exact_block_and_inner_block_and_short_block() {
        let patch = json!([{"1573397": [25, 22, 3, 0, 1]}, {"982421": [14]}]);
        assert_eq!(
            file_select_code(&json!({"patch": patch})),
            ["Moon Pearl", "Boots", "Bombs", "Bow", "Boomerang"]
        );
        let inner = json!([{"1573395": [0, 0, 31, 30, 29, 28, 27, 26]}]);
        assert_eq!(
            file_select_code(&json!({"patch": inner})),
            ["Big Key", "Compass", "Map", "Heart", "Tunic"]
        );
        let short = json!([{"1573395": [0, 0, 31]}]);
        assert_eq!(
            file_select_code(&json!({"patch": short})),
            ALTTPR_DEFAULT_CODE
        );
        let before_all = json!([{"1573400": [1, 2, 3, 4, 5]}]);
        assert_eq!(seek_patch_data(&before_all, 1_573_397, 5), None);
        assert_eq!(
            file_select_code(&json!({"patch": before_all})),
            ALTTPR_DEFAULT_CODE
        );
    }
}
