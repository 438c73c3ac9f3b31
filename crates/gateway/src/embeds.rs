//! Seed embeds (spec §1.2): the standard ALTTPR embed with its settings fields, the tournament
//! variant without permalink, the mystery embed, and the SM/SMZ3 embed. The file-select code
//! is shown with the configured item emoji, and always as text too.

use std::collections::{BTreeMap, HashMap};

use proto::seedgen::v1::GenerateReply;
use twilight_model::channel::message::Embed;
use twilight_model::channel::message::embed::{EmbedField, EmbedFooter};
use twilight_model::util::Timestamp;

/// Discord's "dark red" (upstream's ALTTPR colour).
pub const DARK_RED: u32 = 0x992D22;
/// Discord's "dark gold" (tournament seeds).
pub const DARK_GOLD: u32 = 0xC27C0E;

/// A field; an empty value shows as "—" and a value over Discord's 1,024 characters is cut.
pub fn field(name: &str, value: impl Into<String>, inline: bool) -> EmbedField {
    let mut value = value.into();
    if value.is_empty() {
        value = "—".into();
    }
    // Discord refuses field values over 1024 characters.
    if value.chars().count() > 1024 {
        value = value.chars().take(1021).collect::<String>() + "...";
    }
    EmbedField {
        inline,
        name: name.to_owned(),
        value,
    }
}

/// An empty rich embed; every embed the gateway sends starts here.
pub fn blank(title: Option<String>, description: Option<String>, color: Option<u32>) -> Embed {
    Embed {
        author: None,
        color,
        description,
        fields: Vec::new(),
        flags: None,
        footer: None,
        image: None,
        kind: "rich".to_owned(),
        provider: None,
        thumbnail: None,
        timestamp: None,
        title,
        url: None,
        video: None,
    }
}

fn embed(title: &str, description: Option<String>, color: u32) -> Embed {
    blank(Some(title.to_owned()), description, Some(color))
}

/// `"Bow/Boots/..."` with emoji where configured: `<:Bow:1> <:GoFast:2> (Bow/Boots)`.
pub fn file_select_code(code: &[String], emoji: &BTreeMap<String, String>) -> String {
    if code.is_empty() {
        return String::new();
    }
    let text = code.join("/");
    let icons: Vec<&str> = code
        .iter()
        // Environment variables arrive lower-cased; YAML keeps the item's case.
        .filter_map(|item| {
            emoji
                .get(item)
                .or_else(|| emoji.get(&item.to_lowercase()))
                .map(String::as_str)
        })
        .collect();
    if icons.len() == code.len() {
        format!("{} ({text})", icons.join(" "))
    } else {
        text
    }
}

/// The flattened settings as "Label: value" lines for the given keys (missing keys skipped).
fn lines(settings: &HashMap<String, String>, keys: &[(&str, &str)]) -> String {
    keys.iter()
        .filter_map(|(label, key)| settings.get(*key).map(|v| format!("**{label}:** {v}")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn timestamp(reply: &GenerateReply) -> Option<Timestamp> {
    reply
        .generated_at
        .as_ref()
        .and_then(|t| Timestamp::from_secs(t.seconds).ok())
}

/// The ALTTPR embed. `tournament` hides the permalink; a masked mystery reply (no settings)
/// says so instead of the settings fields.
pub fn alttpr(reply: &GenerateReply, emoji: &BTreeMap<String, String>, tournament: bool) -> Embed {
    let title = if reply.title.is_empty() {
        "Requested Seed"
    } else {
        &reply.title
    };
    let description = (!reply.description.is_empty()).then(|| reply.description.clone());
    let mut e = embed(
        title,
        description,
        if tournament { DARK_GOLD } else { DARK_RED },
    );
    e.timestamp = timestamp(reply);
    let s = &reply.settings;
    if s.is_empty() {
        e.fields.push(field(
            "Mystery Game",
            "No meta information is available for this game.",
            false,
        ));
    } else {
        e.fields.push(field(
            "Item Placement",
            lines(
                s,
                &[
                    ("Glitches Required", "glitches"),
                    ("Item Placement", "item_placement"),
                    ("Dungeon Items", "dungeon_items"),
                    ("Accessibility", "accessibility"),
                ],
            ),
            true,
        ));
        e.fields.push(field(
            "Goal",
            lines(
                s,
                &[
                    ("Goal", "goal"),
                    ("Open Tower", "crystals.tower"),
                    ("Ganon Vulnerable", "crystals.ganon"),
                ],
            ),
            true,
        ));
        e.fields.push(field(
            "Gameplay",
            lines(
                s,
                &[
                    ("World State", "mode"),
                    ("Entrance Shuffle", "entrances"),
                    ("Boss Shuffle", "enemizer.boss_shuffle"),
                    ("Enemy Shuffle", "enemizer.enemy_shuffle"),
                    ("Pot Shuffle", "enemizer.pot_shuffle"),
                    ("Hints", "hints"),
                ],
            ),
            true,
        ));
        e.fields.push(field(
            "Difficulty",
            lines(
                s,
                &[
                    ("Swords", "weapons"),
                    ("Item Pool", "item.pool"),
                    ("Item Functionality", "item.functionality"),
                    ("Enemy Damage", "enemizer.enemy_damage"),
                    ("Enemy Health", "enemizer.enemy_health"),
                ],
            ),
            true,
        ));
    }
    e.fields.push(field(
        "File Select Code",
        file_select_code(&reply.file_select_code, emoji),
        false,
    ));
    if !tournament {
        e.fields
            .push(field("Permalink", reply.permalink.clone(), false));
    }
    if !reply.spoiler_url.is_empty() {
        e.fields.insert(
            0,
            field("Spoiler Log URL", reply.spoiler_url.clone(), false),
        );
    }
    e.footer = Some(EmbedFooter {
        icon_url: None,
        proxy_icon_url: None,
        text: "Generated".into(),
    });
    e
}

/// The SM / SMZ3 embed.
pub fn samus(reply: &GenerateReply, game: &str) -> Embed {
    let mut e = embed(
        "Requested Seed",
        Some(format!("Requested {game} Randomizer Game.")),
        DARK_RED,
    );
    e.timestamp = timestamp(reply);
    e.fields.push(field(
        "File Select Code",
        reply.file_select_code.join(" "),
        false,
    ));
    e.fields
        .push(field("Permalink", reply.permalink.clone(), false));
    if !reply.spoiler_url.is_empty() {
        e.fields
            .push(field("Race Spoiler Log", reply.spoiler_url.clone(), false));
    }
    e.footer = Some(EmbedFooter {
        icon_url: None,
        proxy_icon_url: None,
        text: "Generated by SahasrahBot".into(),
    });
    e
}

/// Puts a field at the top (upstream's "Preset", "Weightset", ... fields).
pub fn with_top_field(mut e: Embed, name: &str, value: impl Into<String>) -> Embed {
    e.fields.insert(0, field(name, value, false));
    e
}

/// Adds a field at the bottom.
pub fn with_field(mut e: Embed, name: &str, value: impl Into<String>) -> Embed {
    e.fields.push(field(name, value, false));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> GenerateReply {
        GenerateReply {
            permalink: "https://alttpr.com/h/abc".into(),
            file_select_code: vec!["Bow".into(), "Boots".into()],
            settings: [("goal".to_string(), "ganon".to_string())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn tournament_embeds_hide_the_permalink() {
        let open = alttpr(&reply(), &BTreeMap::new(), false);
        assert!(open.fields.iter().any(|f| f.name == "Permalink"));
        let tournament = alttpr(&reply(), &BTreeMap::new(), true);
        assert!(!tournament.fields.iter().any(|f| f.name == "Permalink"));
        assert_eq!(tournament.color, Some(DARK_GOLD));
    }

    #[test]
    fn masked_mystery_shows_no_settings() {
        let mut r = reply();
        r.settings.clear();
        let e = alttpr(&r, &BTreeMap::new(), true);
        assert_eq!(e.fields[0].name, "Mystery Game");
        assert!(!e.fields.iter().any(|f| f.name == "Goal"));
    }

    #[test]
    fn file_select_code_uses_emoji_only_when_every_item_has_one() {
        let code = vec!["Bow".to_string(), "Boots".to_string()];
        let mut emoji = BTreeMap::new();
        emoji.insert("Bow".to_string(), "<:Bow:1>".to_string());
        assert_eq!(file_select_code(&code, &emoji), "Bow/Boots");
        emoji.insert("Boots".to_string(), "<:GoFast:2>".to_string());
        assert_eq!(
            file_select_code(&code, &emoji),
            "<:Bow:1> <:GoFast:2> (Bow/Boots)"
        );
    }
}
