//! Saying things: a race room message through racetime and a Discord post or DM through the
//! gateway, each once per idempotency key (both services deduplicate by it). The opener, the
//! seed delivery and the result announcements all go through here.

use platform::grpc::Peers;
use proto::discord::v1 as discord;
use proto::discord::v1::discord_client::DiscordClient;
use proto::racetime::v1 as rt;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use tonic::Status;

/// Whether a refused send is an outage worth retrying (the peer or Discord is unavailable,
/// rate limited or timed out) rather than a refusal (DMs closed, no access, bad request).
pub fn is_outage(status: &Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::ResourceExhausted
            | tonic::Code::Unknown
            | tonic::Code::Aborted
    )
}

/// A plain room message (no pin, no whisper, no buttons).
pub fn message(key: String, room: &str, text: &str) -> rt::SendMessageRequest {
    rt::SendMessageRequest {
        idempotency_key: key,
        room: room.to_owned(),
        text: text.to_owned(),
        pinned: false,
        direct_to: String::new(),
        actions: Vec::new(),
    }
}

/// Sends `request` to its race room (retried while racetime is unavailable: the key makes a
/// retry harmless).
///
/// Errors: racetime is not configured or refused.
pub async fn say(peers: &Peers, request: rt::SendMessageRequest) -> Result<(), Status> {
    let racetime = peers.get("racetime")?;
    racetime
        .call(|| {
            let mut client = RaceRoomsClient::new(racetime.channel());
            let request = request.clone();
            async move { client.send_message(request).await }
        })
        .await?;
    Ok(())
}

/// A client of the gateway's Discord RPCs.
///
/// Errors: the gateway is not configured.
pub fn discord_client(
    peers: &Peers,
) -> Result<DiscordClient<platform::grpc::TracedChannel>, Status> {
    Ok(DiscordClient::new(peers.get("gateway")?.channel()))
}

/// Posts `content` and `embeds` to Discord channel `channel` (at most 2,000 characters of
/// content).
///
/// Errors: the gateway is not configured, or Discord refused.
pub async fn post(
    peers: &Peers,
    key: String,
    channel: u64,
    content: &str,
    embeds: Vec<discord::Embed>,
) -> Result<(), Status> {
    discord_client(peers)?
        .send_message(discord::SendMessageRequest {
            idempotency_key: key,
            channel_id: channel,
            content: content.chars().take(2000).collect(),
            embeds,
        })
        .await?;
    Ok(())
}

/// Sends Discord user `user` a DM with `embed`.
///
/// Errors: the gateway is not configured, or Discord refused (DMs closed, no shared server).
pub async fn dm(
    peers: &Peers,
    key: String,
    user: u64,
    embed: discord::Embed,
) -> Result<(), Status> {
    discord_client(peers)?
        .send_direct_message(discord::SendDirectMessageRequest {
            idempotency_key: key,
            user_id: user,
            content: String::new(),
            embeds: vec![embed],
        })
        .await?;
    Ok(())
}
