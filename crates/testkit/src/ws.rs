//! Serving the fakes: HTTP with TCP_NODELAY, and the server side of a websocket handshake as a
//! raw hyper upgrade, so the fakes use the one tungstenite the workspace already has.

use std::future::Future;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// The upgraded connection a fake serves.
pub(crate) type ServerSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Answers `101 Switching Protocols` and runs `serve` on the upgraded connection, or answers
/// 400 when the request is not a websocket handshake.
pub(crate) fn accept<F, Fut>(request: &mut Request<Body>, serve: F) -> Response<Body>
where
    F: FnOnce(ServerSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
        let mut response = Response::new(Body::from("not a websocket handshake"));
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        // Small buffers like the bots' own sockets, so a fake does not inflate a benchmark's
        // memory figures (tungstenite's defaults are 128 KiB each way).
        let config = WebSocketConfig::default()
            .read_buffer_size(16 * 1024)
            .write_buffer_size(0);
        let ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        serve(ws).await;
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, "websocket".parse().expect("header"));
    headers.insert(header::CONNECTION, "Upgrade".parse().expect("header"));
    headers.insert("sec-websocket-accept", accept.parse().expect("header"));
    response
}

/// Serves `app` until the runtime ends. Small frames go out at once: with Nagle on, a second
/// small write waits for the peer's delayed ACK (~40 ms), which is not how the real servers
/// behave behind their proxies.
pub(crate) async fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let _ = axum::serve(listener, app).await;
}
