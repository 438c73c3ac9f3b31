//! What a member (or a role, or `@everyone`) may do in a channel, computed from the guild's
//! roles and the channel's overwrites the way Discord does (twilight-util's permission
//! calculator). Guild roles and channels are read over REST and kept for five minutes, so the
//! moderation listener does not ask Discord for every message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use twilight_model::channel::ChannelType;
use twilight_model::channel::permission_overwrite::PermissionOverwrite;
use twilight_model::guild::Permissions;
use twilight_model::id::Id;
use twilight_util::permission_calculator::PermissionCalculator;

use crate::discord::Discord;

const TTL: Duration = Duration::from_secs(300);

/// A guild's roles: `@everyone`'s permissions and every other role's.
#[derive(Clone, Debug)]
pub struct GuildRoles {
    /// The `@everyone` role (its id is the guild's).
    pub everyone: Permissions,
    /// Other roles by id.
    pub roles: HashMap<u64, Permissions>,
}

/// A channel's kind and overwrites.
#[derive(Clone, Debug)]
pub struct ChannelRules {
    /// Text, forum, …
    pub kind: ChannelType,
    /// Its permission overwrites.
    pub overwrites: Vec<PermissionOverwrite>,
}

type Timed<T> = HashMap<u64, (Instant, Arc<T>)>;

/// Roles and channels read from Discord, cached; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct PermissionCache {
    roles: Arc<Mutex<Timed<GuildRoles>>>,
    channels: Arc<Mutex<Timed<ChannelRules>>>,
}

fn fresh<T>(map: &Mutex<Timed<T>>, id: u64) -> Option<Arc<T>> {
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .filter(|(at, _)| at.elapsed() < TTL)
        .map(|(_, v)| v.clone())
}

fn keep<T>(map: &Mutex<Timed<T>>, id: u64, value: T) -> Arc<T> {
    let value = Arc::new(value);
    map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, (Instant::now(), value.clone()));
    value
}

impl PermissionCache {
    /// A guild's roles (`GET /guilds/{id}/roles`).
    ///
    /// Errors: Discord refused or is unreachable.
    pub async fn guild_roles(
        &self,
        discord: &Discord,
        guild: u64,
    ) -> anyhow::Result<Arc<GuildRoles>> {
        if let Some(found) = fresh(&self.roles, guild) {
            return Ok(found);
        }
        let Some(guild_id) = Id::new_checked(guild) else {
            return Ok(Arc::new(GuildRoles {
                everyone: Permissions::empty(),
                roles: HashMap::new(),
            }));
        };
        let roles = discord.http.roles(guild_id).await?.models().await?;
        let mut out = GuildRoles {
            everyone: Permissions::empty(),
            roles: HashMap::new(),
        };
        for role in roles {
            if role.id.get() == guild {
                out.everyone = role.permissions;
            } else {
                out.roles.insert(role.id.get(), role.permissions);
            }
        }
        Ok(keep(&self.roles, guild, out))
    }

    /// A channel's kind and overwrites (`GET /channels/{id}`).
    ///
    /// Errors: Discord refused or is unreachable.
    pub async fn channel(
        &self,
        discord: &Discord,
        channel: u64,
    ) -> anyhow::Result<Arc<ChannelRules>> {
        if let Some(found) = fresh(&self.channels, channel) {
            return Ok(found);
        }
        let Some(channel_id) = Id::new_checked(channel) else {
            return Ok(Arc::new(ChannelRules {
                kind: ChannelType::GuildText,
                overwrites: Vec::new(),
            }));
        };
        let model = discord.http.channel(channel_id).await?.model().await?;
        Ok(keep(
            &self.channels,
            channel,
            ChannelRules {
                kind: model.kind,
                overwrites: model.permission_overwrites.unwrap_or_default(),
            },
        ))
    }
}

/// What a holder of `holder_roles` (and `@everyone`) may do across the guild (no channel
/// overwrites): roles unknown to `guild` add nothing.
pub fn in_guild(guild: u64, roles: &GuildRoles, holder_roles: &[u64]) -> Permissions {
    calculator_roles(roles, holder_roles, |member_roles| {
        calculator(guild, 0, roles, member_roles).root()
    })
}

/// What a holder of `holder_roles` may do in `channel`; `holder_roles` empty: `@everyone`.
pub fn in_channel(
    guild: u64,
    roles: &GuildRoles,
    channel: &ChannelRules,
    holder_roles: &[u64],
) -> Permissions {
    calculator_roles(roles, holder_roles, |member_roles| {
        calculator(guild, 0, roles, member_roles).in_channel(channel.kind, &channel.overwrites)
    })
}

fn calculator_roles<R>(
    roles: &GuildRoles,
    holder_roles: &[u64],
    f: impl FnOnce(&[(Id<twilight_model::id::marker::RoleMarker>, Permissions)]) -> R,
) -> R {
    let member_roles: Vec<_> = holder_roles
        .iter()
        .filter_map(|r| Some((Id::new_checked(*r)?, *roles.roles.get(r)?)))
        .collect();
    f(&member_roles)
}

fn calculator<'a>(
    guild: u64,
    user: u64,
    roles: &GuildRoles,
    member_roles: &'a [(Id<twilight_model::id::marker::RoleMarker>, Permissions)],
) -> PermissionCalculator<'a> {
    // A user id no member has: the calculation is about roles, never the owner's bypass.
    let user = Id::new_checked(user).unwrap_or(Id::new(1));
    PermissionCalculator::new(
        Id::new_checked(guild).unwrap_or(Id::new(1)),
        user,
        roles.everyone,
        member_roles,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use twilight_model::channel::permission_overwrite::PermissionOverwriteType;

    fn roles() -> GuildRoles {
        GuildRoles {
            everyone: Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES,
            roles: HashMap::from([
                (5, Permissions::MANAGE_GUILD),
                (6, Permissions::ADMINISTRATOR),
            ]),
        }
    }

    #[test]
    fn overwrites_apply_to_everyone_then_roles() {
        let channel = ChannelRules {
            kind: ChannelType::GuildText,
            overwrites: vec![
                PermissionOverwrite {
                    id: Id::<twilight_model::id::marker::RoleMarker>::new(1).cast(),
                    kind: PermissionOverwriteType::Role,
                    allow: Permissions::empty(),
                    deny: Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES,
                },
                PermissionOverwrite {
                    id: Id::<twilight_model::id::marker::RoleMarker>::new(5).cast(),
                    kind: PermissionOverwriteType::Role,
                    allow: Permissions::VIEW_CHANNEL,
                    deny: Permissions::empty(),
                },
            ],
        };
        let r = roles();
        let everyone = in_channel(1, &r, &channel, &[]);
        assert!(!everyone.contains(Permissions::VIEW_CHANNEL));
        let staff = in_channel(1, &r, &channel, &[5]);
        assert!(staff.contains(Permissions::VIEW_CHANNEL));
        assert!(!staff.contains(Permissions::SEND_MESSAGES));
        // Administrator overrides every overwrite.
        assert_eq!(in_channel(1, &r, &channel, &[6]), Permissions::all());
        assert!(in_guild(1, &r, &[5]).contains(Permissions::MANAGE_GUILD));
        assert!(!in_guild(1, &r, &[42]).contains(Permissions::MANAGE_GUILD));
    }
}
