//! The moderation rules (spec `discord-and-web.md` §2, cog `moderation`): what in a message
//! breaks them, and what the bot says when it removes it. One violation per message (the
//! first found), so a message is deleted and answered once (upstream could delete it several
//! times).

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// Why a message is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A `discord.gg` invite from a member who joined less than a day ago.
    NewMemberInvite,
    /// An executable attachment from a member who joined less than a day ago.
    NewMemberExecutable,
    /// A link to a host on Discord's phishing list (the member is also timed out).
    Phishing,
    /// A ROM attachment (`.sfc` / `.smc`).
    Rom,
    /// A ROM inside a zip attachment.
    ZippedRom,
}

impl Violation {
    /// What the bot posts in the channel after removing the message (spec §2 wording).
    pub fn notice(self, user: u64) -> String {
        match self {
            Violation::NewMemberInvite => format!(
                "<@{user}>, you must be on this server for longer than 24 hours before posting discord invite links.  Please contact a moderator if you need to post an invite link."
            ),
            Violation::NewMemberExecutable => format!(
                "<@{user}>, please do not upload executable files.  Please contact a moderator if you need to share one."
            ),
            Violation::Phishing => format!(
                "<@{user}>, your message seemed a bit... phishy.  🐟  It was removed and you were timed out; please contact a moderator if this was a mistake."
            ),
            Violation::Rom => format!("<@{user}>, please do not post ROMs.  They were removed."),
            Violation::ZippedRom => format!(
                "<@{user}>, a ROM was detected in the zip archive posted, so it was removed.  Please do not post ROMs."
            ),
        }
    }
}

/// File endings treated as executables (upstream: `.bat .exe .sh .py`; the other Windows
/// script and installer types are as dangerous).
const EXECUTABLES: [&str; 10] = [
    ".bat", ".exe", ".sh", ".py", ".cmd", ".scr", ".msi", ".ps1", ".vbs", ".jar",
];
/// File endings of SNES ROMs.
const ROMS: [&str; 2] = [".sfc", ".smc"];

/// Whether `name` ends with one of `endings` (case-insensitive).
fn ends_with_any(name: &str, endings: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    endings.iter().any(|e| lower.ends_with(e))
}

/// Whether a file name is a ROM.
pub fn is_rom(name: &str) -> bool {
    ends_with_any(name, &ROMS)
}

/// Whether a file name is a zip archive.
pub fn is_zip(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".zip")
}

/// The hosts of the links in a message: `scheme://host…` anywhere, and bare `discord.gg/…`.
pub fn link_hosts(content: &str) -> Vec<String> {
    content
        .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '"' | '\''))
        .filter_map(|word| {
            let word = word.trim_matches(|c: char| matches!(c, '*' | '_' | '`' | '|' | '~'));
            let lower = word.to_ascii_lowercase();
            if let Some(at) = lower.find("http://").or_else(|| lower.find("https://")) {
                url::Url::parse(&lower[at..])
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
            } else {
                lower
                    .starts_with("discord.gg/")
                    .then(|| "discord.gg".to_owned())
            }
        })
        .collect()
}

/// Discord's phishing list: SHA-256 hex digests of host names
/// (`https://cdn.discordapp.com/bad-domains/hashes.json`).
#[derive(Clone, Debug, Default)]
pub struct PhishingList(HashSet<String>);

impl PhishingList {
    /// The list from its JSON (an array of hex digests).
    ///
    /// Errors: not a JSON array of strings.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        let hashes: Vec<String> = serde_json::from_slice(body)?;
        Ok(Self(
            hashes.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
        ))
    }

    /// How many hosts it lists.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it lists nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `host` or one of its parent domains is listed (`login.evil.example` is caught by
    /// `evil.example`).
    pub fn lists(&self, host: &str) -> bool {
        let mut rest = host.trim_end_matches('.');
        loop {
            if self
                .0
                .contains(&hex::encode(Sha256::digest(rest.as_bytes())))
            {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if parent.contains('.') => rest = parent,
                _ => return false,
            }
        }
    }
}

/// What a message shows the rules: its text, attachment names, and whether the author joined
/// within the last day.
#[derive(Clone, Debug)]
pub struct Inspected<'a> {
    /// The message text.
    pub content: &'a str,
    /// Attachment file names.
    pub attachments: Vec<&'a str>,
    /// The author joined less than a day ago.
    pub new_member: bool,
}

/// The first rule the message breaks, before any zip is opened (zips are checked by the
/// caller with [`zip_has_rom`]).
pub fn check(message: &Inspected<'_>, phishing: &PhishingList) -> Option<Violation> {
    let hosts = link_hosts(message.content);
    if message.new_member {
        if hosts.iter().any(|h| h == "discord.gg") {
            return Some(Violation::NewMemberInvite);
        }
        if message
            .attachments
            .iter()
            .any(|a| ends_with_any(a, &EXECUTABLES))
        {
            return Some(Violation::NewMemberExecutable);
        }
    }
    if hosts.iter().any(|h| phishing.lists(h)) {
        return Some(Violation::Phishing);
    }
    if message.attachments.iter().any(|a| is_rom(a)) {
        return Some(Violation::Rom);
    }
    None
}

/// Whether a zip archive lists a ROM (by entry name; nothing is decompressed).
///
/// Errors: not a zip archive.
pub fn zip_has_rom(bytes: &[u8]) -> Result<bool, zip::result::ZipError> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    Ok(archive.file_names().any(is_rom))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(hosts: &[&str]) -> PhishingList {
        let json = serde_json::to_vec(
            &hosts
                .iter()
                .map(|h| hex::encode(Sha256::digest(h.as_bytes())))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        PhishingList::from_json(&json).unwrap()
    }

    fn message<'a>(content: &'a str, attachments: &[&'a str], new: bool) -> Inspected<'a> {
        Inspected {
            content,
            attachments: attachments.to_vec(),
            new_member: new,
        }
    }

    #[test]
    fn hosts_are_found_in_text() {
        assert_eq!(
            link_hosts("see <https://Discord.gg/abc> and (http://a.b.example/x) or discord.gg/zz"),
            ["discord.gg", "a.b.example", "discord.gg"]
        );
        assert!(link_hosts("no links here: discord dot gg").is_empty());
    }

    #[test]
    fn rules_in_order() {
        let phish = list(&["evil.example"]);
        assert_eq!(
            check(&message("join discord.gg/abc", &[], true), &phish),
            Some(Violation::NewMemberInvite)
        );
        assert_eq!(
            check(&message("join discord.gg/abc", &[], false), &phish),
            None
        );
        assert_eq!(
            check(&message("", &["Setup.EXE"], true), &phish),
            Some(Violation::NewMemberExecutable)
        );
        assert_eq!(check(&message("", &["setup.exe"], false), &phish), None);
        assert_eq!(
            check(
                &message("free nitro https://login.evil.example/x", &[], false),
                &phish
            ),
            Some(Violation::Phishing)
        );
        assert_eq!(
            check(&message("", &["z3.SFC"], false), &phish),
            Some(Violation::Rom)
        );
        assert_eq!(
            check(&message("https://example.com", &["a.zip"], false), &phish),
            None
        );
        // A listed parent domain does not catch an unrelated top-level domain.
        assert!(!phish.lists("example"));
    }

    #[test]
    fn zipped_roms_are_found_by_name() {
        use std::io::Write;
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut bytes);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        writer.start_file("readme.txt", options).unwrap();
        writer.write_all(b"hi").unwrap();
        writer.start_file("game/Zelda.smc", options).unwrap();
        writer.write_all(b"rom").unwrap();
        writer.finish().unwrap();
        assert!(zip_has_rom(bytes.get_ref()).unwrap());
        assert!(zip_has_rom(b"not a zip").is_err());
    }
}
