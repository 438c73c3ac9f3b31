//! Small helpers the load benchmarks share: quantiles, and the HTTP load generator (one
//! keep-alive HTTP/1.1 connection per worker on loopback, each sending its next request when
//! the last answer arrived).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// The `p` quantile (0..=1) of sorted samples, nearest rank; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
    sorted[index]
}

/// A duration as milliseconds with two decimals, e.g. `1.35 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `p50 1.20 ms p99 3.40 ms` for sorted samples.
pub fn p50_p99(sorted: &[Duration]) -> String {
    format!(
        "p50 {} p99 {}",
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.99))
    )
}

/// One load run's shape: concurrent connections, measured time, warm-up before it.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// How long requests are measured.
    pub duration: Duration,
    /// How long requests run before the measurement starts.
    pub warmup: Duration,
}

/// What a load run measured.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Measured latencies, sorted.
    pub samples: Vec<Duration>,
    /// Answers other than 200.
    pub errors: u64,
    /// Measured requests per second.
    pub rate: f64,
}

/// One worker: a connection, requests back to back until `until`; latencies of the requests
/// started after `measure_from`.
async fn worker(
    addr: SocketAddr,
    path: String,
    auth: Option<String>,
    measure_from: Instant,
    until: Instant,
) -> (Vec<Duration>, u64) {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the server accepts connections");
    stream.set_nodelay(true).ok();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(connection);
    let mut samples = Vec::with_capacity(100_000);
    let mut errors = 0;
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let mut request = hyper::Request::get(path.as_str()).header("host", addr.to_string());
        if let Some(key) = &auth {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let Ok(request) = request.body(Empty::<Bytes>::new()) else {
            errors += 1;
            break;
        };
        let Ok(response) = sender.send_request(request).await else {
            errors += 1;
            break;
        };
        let ok = response.status() == 200;
        let _ = response.into_body().collect().await;
        if !ok {
            errors += 1;
        }
        if started >= measure_from {
            samples.push(started.elapsed());
        }
    }
    (samples, errors)
}

/// Loads `GET path` on `addr` (with `Authorization: Bearer auth` when given) as `load` says,
/// prints `label: N req/s, p50 … p99 …` and returns the figures.
pub async fn load_http(
    addr: SocketAddr,
    label: &str,
    path: &str,
    auth: Option<String>,
    load: Load,
) -> LoadReport {
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let until = measure_from + load.duration;
    let workers: Vec<_> = (0..load.connections)
        .map(|_| {
            tokio::spawn(worker(
                addr,
                path.to_owned(),
                auth.clone(),
                measure_from,
                until,
            ))
        })
        .collect();
    let mut samples = Vec::new();
    let mut errors = 0;
    for w in workers {
        if let Ok((s, e)) = w.await {
            samples.extend(s);
            errors += e;
        }
    }
    samples.sort();
    let rate = samples.len() as f64 / load.duration.as_secs_f64();
    println!(
        "{label}: {rate:.0} req/s, {} ({} requests, {errors} not 200, {} connections)",
        p50_p99(&samples),
        samples.len(),
        load.connections
    );
    LoadReport {
        samples,
        errors,
        rate,
    }
}
