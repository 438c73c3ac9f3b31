//! `seedgen roll` as a person runs it: the real binary, its exit codes and what it prints.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};

fn seedgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seedgen"))
        .args(args)
        .env_remove("SEEDGEN_CONFIG")
        .output()
        .unwrap()
}

/// `seedgen roll <args> --file F` with `contents` written to a temporary F.
fn roll_with_file(args: &[&str], contents: &str) -> Output {
    let path = std::env::temp_dir().join(format!(
        "preset-{}-{}.yaml",
        std::process::id(),
        contents.len()
    ));
    std::fs::write(&path, contents).unwrap();
    let mut all = vec!["roll"];
    all.extend_from_slice(args);
    all.extend(["--file", path.to_str().unwrap()]);
    let output = seedgen(&all);
    std::fs::remove_file(&path).ok();
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_local_roll_prints_the_seed() {
    let output = seedgen(&["roll", "z1r", "rr2024", "--seed", "7"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("RNG seed: 7"), "{stdout}");
}

/// `seedgen roll … | head -0`: the reader is gone before the seed is printed.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seedgen"))
        .args(["roll", "z1r", "rr2024"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
    assert!(output.status.success(), "{:?}: {err}", output.status);
}

#[test]
fn an_empty_file_is_refused_not_ignored() {
    let output = roll_with_file(&["alttpr", "open", "--dry-run"], "\n");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("is empty; give a preset YAML file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unknown_branch_is_refused() {
    let output = seedgen(&["roll", "alttpr", "open", "--dry-run", "--branch", "nightly"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("nightly") && err.contains("beeta"), "{err}");
}

#[test]
fn an_oversized_file_says_so_instead_of_invalid_yaml() {
    let mut text = String::from("settings:\n");
    while text.len() <= 300 * 1024 {
        text.push_str("  # padding padding padding padding padding padding padding padding\n");
    }
    let output = roll_with_file(&["alttpr", "--dry-run"], &text);
    let err = stderr(&output);
    assert!(!output.status.success());
    assert!(err.contains("the limit is 262144 bytes"), "{err}");
    assert!(!err.contains("not valid YAML"), "{err}");
}
