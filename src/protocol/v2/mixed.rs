//! Mixed versions: each side speaks the version it negotiated, and pairlink translates
//! draws and relay data between a v1 peer and a v2 peer.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::Draw;
use crate::protocol::pairing;

impl Draw {
    /// The v2 form of a v1 draw for `difficulty`.
    pub fn from_v1(draw: pairing::Draw, difficulty: i64) -> Self {
        Self {
            quiz_id: draw.quiz_id,
            action_id: draw.action_id,
            difficulty,
            held: false,
            sent_at: None,
        }
    }

    /// What a v1 display receives for this draw.
    pub fn to_v1(&self) -> pairing::Draw {
        pairing::Draw {
            quiz_id: self.quiz_id.clone(),
            action_id: self.action_id,
        }
    }
}

/// What a v1 peer receives for relay `data`: the JSON text of `data` alone.
pub fn relay_to_v1(data: &RawValue) -> &str {
    data.get()
}

/// The relay `data` a v2 peer receives for text a v1 display sent: the text's JSON value
/// when it is JSON, otherwise the text as a JSON string.
pub fn data_from_v1_text(text: &str) -> Cow<'_, RawValue> {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => Cow::Borrowed(raw),
        Err(_) => {
            let quoted = serde_json::to_string(text).expect("a string always serialises");
            Cow::Owned(RawValue::from_string(quoted).expect("a JSON string is JSON"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::v2::relay_json;

    #[test]
    fn v1_text_becomes_relay_data_as_json_or_as_a_string() {
        for (text, data) in [
            (r#"{"score":120}"#, r#"{"score":120}"#),
            (" 42 ", "42"),
            ("null", "null"),
            ("hello", r#""hello""#),
            (r#"{"score":"#, r#""{\"score\":""#),
            ("", r#""""#),
            ("{} {}", r#""{} {}""#),
        ] {
            let converted = data_from_v1_text(text);
            assert_eq!(converted.get(), data, "{text:?}");
            let frame: serde_json::Value = serde_json::from_str(&relay_json(&converted)).unwrap();
            assert_eq!(frame["type"], "relay");
        }
    }

    #[test]
    fn v2_relay_data_reaches_a_v1_peer_as_its_json_text() {
        let data = RawValue::from_string(r#"{"button":"A","pressed":true}"#.to_owned()).unwrap();
        assert_eq!(relay_to_v1(&data), r#"{"button":"A","pressed":true}"#);
    }

    #[test]
    fn draws_translate_both_ways() {
        let v1 = pairing::Draw {
            quiz_id: vec![4, 1, 3],
            action_id: 2,
        };
        let v2 = Draw::from_v1(v1.clone(), 2);
        assert_eq!(
            serde_json::to_string(&v2).unwrap(),
            r#"{"type":"draw","quiz_id":[4,1,3],"action_id":2,"difficulty":2}"#
        );
        assert_eq!(v2.to_v1(), v1);
        let held = v2.held_since(std::time::SystemTime::now());
        assert_eq!(held.to_v1().to_json(), r#"{"quiz_id":[4,1,3],"action_id":2}"#);
    }
}
