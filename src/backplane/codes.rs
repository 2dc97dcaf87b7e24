//! The pairing codes of a server alone: which live code stands for which display's UUID.
//!
//! A code lives until its time-to-live ends or its display disconnects, whichever comes
//! first. Expired codes are dropped when next looked at, and every code of a display is
//! dropped when the display leaves, so the table never holds more codes than there are
//! connected displays.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::protocol::DeviceId;
use crate::protocol::pairing::PairingCode;

/// A live code, as the display's app shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuedCode {
    pub code: PairingCode,
    pub device: DeviceId,
    /// Wall-clock end of validity, for people and other machines.
    pub expires_at: SystemTime,
}

#[derive(Debug, Default)]
pub struct CodeTable {
    by_code: HashMap<PairingCode, Entry>,
    by_device: HashMap<DeviceId, PairingCode>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    issued: IssuedCode,
    /// Monotonic end of validity: what expiry is decided on.
    expires: Instant,
}

impl CodeTable {
    /// The live code of `device`, or a new one valid for `ttl`, unique among live codes.
    pub fn issue(&mut self, device: DeviceId, ttl: Duration) -> IssuedCode {
        let now = Instant::now();
        if let Some(code) = self.by_device.get(&device).copied() {
            match self.by_code.get(&code) {
                Some(entry) if entry.expires > now => return entry.issued,
                _ => self.forget(code),
            }
        }
        let code = loop {
            let code = PairingCode::random();
            match self.by_code.get(&code) {
                Some(entry) if entry.expires > now => continue,
                Some(_) => {
                    self.forget(code);
                    break code;
                }
                None => break code,
            }
        };
        let issued = IssuedCode {
            code,
            device,
            expires_at: SystemTime::now() + ttl,
        };
        self.by_code.insert(
            code,
            Entry {
                issued,
                expires: now + ttl,
            },
        );
        self.by_device.insert(device, code);
        issued
    }

    /// The UUID that `code` stands for, if it is live.
    pub fn resolve(&mut self, code: PairingCode) -> Option<DeviceId> {
        let entry = *self.by_code.get(&code)?;
        if entry.expires > Instant::now() {
            Some(entry.issued.device)
        } else {
            self.forget(code);
            None
        }
    }

    /// Ends the code of `device` (its display disconnected).
    pub fn revoke(&mut self, device: DeviceId) {
        if let Some(code) = self.by_device.get(&device).copied() {
            self.forget(code);
        }
    }

    fn forget(&mut self, code: PairingCode) {
        if let Some(entry) = self.by_code.remove(&code) {
            self.by_device.remove(&entry.issued.device);
        }
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: u128) -> DeviceId {
        DeviceId::new(uuid::Uuid::from_u128(n))
    }

    #[tokio::test(start_paused = true)]
    async fn a_device_keeps_its_code_until_it_expires() {
        let mut codes = CodeTable::default();
        let ttl = Duration::from_secs(600);
        let first = codes.issue(device(1), ttl);
        assert_eq!(codes.issue(device(1), ttl), first, "asking again returns the live code");
        assert_eq!(codes.resolve(first.code), Some(device(1)));
        tokio::time::advance(ttl).await;
        assert_eq!(codes.resolve(first.code), None);
        assert!(codes.is_empty());
        let second = codes.issue(device(1), ttl);
        assert_eq!(codes.resolve(second.code), Some(device(1)));
    }

    #[test]
    fn codes_are_unique_and_revoked_with_their_display() {
        let mut codes = CodeTable::default();
        let ttl = Duration::from_secs(600);
        let issued: Vec<IssuedCode> = (0..2000).map(|n| codes.issue(device(n), ttl)).collect();
        let distinct: std::collections::HashSet<_> = issued.iter().map(|i| i.code).collect();
        assert_eq!(distinct.len(), 2000);
        codes.revoke(device(7));
        assert_eq!(codes.resolve(issued[7].code), None);
        assert_eq!(codes.resolve(issued[8].code), Some(device(8)));
        assert_eq!(codes.len(), 1999);
    }
}
