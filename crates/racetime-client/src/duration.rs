//! Django's `duration_iso_string`, as racetime.gg sends `start_delay`, `time_limit`,
//! `chat_message_delay` and `finish_time`: `[-]P{days}DT{HH}H{MM}M{SS}[.ffffff]S`.

use std::time::Duration;

/// The text is not a Django duration string.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a Django duration: `{0}`")]
pub struct DurationError(pub String);

/// Parses `P0DT01H37M12.345678S` (the fraction is microseconds; a negative duration is an
/// error, racetime.gg never sends one for these fields).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError(text.to_string());
    let rest = text.strip_prefix('P').ok_or_else(bad)?;
    let (days, rest) = rest.split_once("DT").ok_or_else(bad)?;
    let (hours, rest) = rest.split_once('H').ok_or_else(bad)?;
    let (minutes, rest) = rest.split_once('M').ok_or_else(bad)?;
    let seconds = rest.strip_suffix('S').ok_or_else(bad)?;
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let number = |s: &str| -> Result<u64, DurationError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let micros = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().chain("000000".chars()).take(6).collect();
        number(&digits)?
    };
    let secs =
        number(days)? * 86_400 + number(hours)? * 3_600 + number(minutes)? * 60 + number(whole)?;
    Ok(Duration::from_secs(secs) + Duration::from_micros(micros))
}

/// Formats like Django: `P1DT00H00M00S`, `P0DT01H02M03.456789S`.
pub fn format(duration: Duration) -> String {
    let total = duration.as_secs();
    let (days, rem) = (total / 86_400, total % 86_400);
    let (hours, rem) = (rem / 3_600, rem % 3_600);
    let (minutes, seconds) = (rem / 60, rem % 60);
    let micros = duration.subsec_micros();
    if micros == 0 {
        format!("P{days}DT{hours:02}H{minutes:02}M{seconds:02}S")
    } else {
        format!("P{days}DT{hours:02}H{minutes:02}M{seconds:02}.{micros:06}S")
    }
}

/// `1:02:03.4` style for chat and events (hours not padded, tenths kept).
pub fn display(duration: Duration) -> String {
    let total = duration.as_secs();
    format!(
        "{}:{:02}:{:02}.{}",
        total / 3600,
        (total % 3600) / 60,
        total % 60,
        duration.subsec_millis() / 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_documented_examples() {
        assert_eq!(parse("P0DT00H00M15S"), Ok(Duration::from_secs(15)));
        assert_eq!(parse("P1DT00H00M00S"), Ok(Duration::from_secs(86_400)));
        let finish = parse("P0DT01H37M12.345678S").unwrap();
        assert_eq!(
            finish,
            Duration::from_secs(5832) + Duration::from_micros(345_678)
        );
        assert_eq!(format(finish), "P0DT01H37M12.345678S");
        assert_eq!(format(Duration::from_secs(86_400)), "P1DT00H00M00S");
        assert_eq!(parse("P0DT00H00M01.5S"), Ok(Duration::from_millis(1500)));
        assert_eq!(display(finish), "1:37:12.3");
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "15",
            "PT15S",
            "P0DT00H00M-1S",
            "-P0DT00H00M15S",
            "P0DT00H00MxS",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
