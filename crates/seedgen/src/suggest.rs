//! "Did you mean …?" for names a user typed: the closest few of a known list, so an unknown
//! preset is answered in one short sentence instead of the whole catalogue.

/// Up to `limit` of `known` closest to `typed` (case-insensitive Jaro–Winkler similarity,
/// best first, ties by name); names that share nothing recognisable (similarity < 0.7) are
/// left out, so the answer can be empty.
pub fn closest<'a>(
    typed: &str,
    known: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<&'a str> {
    let typed = typed.trim().to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|name| (strsim::jaro_winkler(&typed, &name.to_lowercase()), name))
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, name)| name)
        .collect()
}

/// `typed`'s closest names as a short clause: "did you mean `a`, `b` or `c`?" (empty when
/// nothing is close).
pub fn did_you_mean<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = closest(typed, known, 3)
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean {one}?"),
        [init @ .., last] => format!("did you mean {} or {last}?", init.join(", ")),
    }
}

/// [`did_you_mean`] as a sentence of its own: "Did you mean `a`?" (empty when nothing is close).
pub fn did_you_mean_sentence<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let clause = did_you_mean(typed, known);
    match clause.strip_prefix('d') {
        Some(rest) => format!("D{rest}"),
        None => clause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names_come_first_and_strangers_are_left_out() {
        let known = ["rr2024", "rr2023", "standard", "swiss", "abns22_swiss"];
        assert_eq!(closest("rr2042", known, 2), ["rr2024", "rr2023"]);
        assert_eq!(closest("SWISS", known, 1), ["swiss"]);
        assert!(closest("zzzzzzzz", known, 3).is_empty());
        assert!(closest("nope", ["groups1", "groups2", "maxrando"], 3).is_empty());
    }

    #[test]
    fn the_clause_reads_as_one_sentence() {
        assert_eq!(did_you_mean("swis", ["swiss"]), "did you mean `swiss`?");
        assert_eq!(
            did_you_mean("rr20", ["rr2024", "rr2023", "rr2022", "standard"]),
            "did you mean `rr2022`, `rr2023` or `rr2024`?"
        );
        assert_eq!(did_you_mean("qqqq", ["rr2024"]), "");
        assert_eq!(
            did_you_mean_sentence("opne", ["open", "standard"]),
            "Did you mean `open`?"
        );
        assert_eq!(did_you_mean_sentence("qqqq", ["open"]), "");
    }
}
