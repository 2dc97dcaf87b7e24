//! The close codes pairlink sends, each defined once with its reason; docs/protocol.md
//! lists when each is used and whether a client should reconnect.

/// A close code and the reason sent with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

/// The server is shutting down.
pub const GOING_AWAY: Close = Close {
    code: 1001,
    reason: "going away",
};
/// The client broke RFC 6455 framing.
pub const PROTOCOL_ERROR: Close = Close {
    code: 1002,
    reason: "protocol error",
};
/// A text message was not valid UTF-8.
pub const INVALID_PAYLOAD: Close = Close {
    code: 1007,
    reason: "invalid UTF-8 in text message",
};
/// A message exceeded `--max-message-bytes`.
pub const MESSAGE_TOO_BIG: Close = Close {
    code: 1009,
    reason: "message too big",
};
/// A single frame exceeded `--max-message-bytes`.
pub const FRAME_TOO_BIG: Close = Close {
    code: 1009,
    reason: "frame too big",
};
/// With `--redis-url`: the node lost Redis for a while, so a group member may have
/// missed messages; it should reconnect (a room member with `?since=`).
pub const SERVICE_RESTART: Close = Close {
    code: 1012,
    reason: "reconnect: messages may have been missed",
};
/// The client stopped reading and its outbound queue filled up.
pub const SLOW_CONSUMER: Close = Close {
    code: 1013,
    reason: "slow consumer: outbound queue full",
};
/// A newer connection took this connection's place (same UUID and role).
pub const REPLACED: Close = Close {
    code: 4001,
    reason: "replaced",
};
/// The client sent nothing, not even a pong, for `--idle-timeout`.
pub const IDLE_TIMEOUT: Close = Close {
    code: 4002,
    reason: "idle timeout",
};

/// Every code above, once each (for metrics).
pub const CODES: [u16; 8] = [
    GOING_AWAY.code,
    SERVICE_RESTART.code,
    PROTOCOL_ERROR.code,
    INVALID_PAYLOAD.code,
    MESSAGE_TOO_BIG.code,
    SLOW_CONSUMER.code,
    REPLACED.code,
    IDLE_TIMEOUT.code,
];
