// The domain's event types: the one list of names written to and read from the log.
//
// Contract: a published (type, v) never changes meaning; a new shape is added as v+1 and the folds
// read both. The `data` fields of each type are documented beside it.
//
// Thread-safety: constants only.
#pragma once

namespace voxlog::event_type {

// Every webhook as received, first event of its batch: {route, content_type, params (raw), call_sid?,
// execution_sid?, idempotency_token?}. The audit trail's ground truth.
inline constexpr const char* webhook_received = "WebhookReceived";
// {status, previous, call_sid?, sequence_number?, duration?, answered_by?, direction?}
inline constexpr const char* call_status_changed = "CallStatusChanged";
// {digits}
inline constexpr const char* digits_pressed = "DigitsPressed";
// {digits, action}
inline constexpr const char* appointment_confirmed = "AppointmentConfirmed";
inline constexpr const char* appointment_cancelled = "AppointmentCancelled";
inline constexpr const char* voicemail_requested = "VoicemailRequested";
// {recording_url, recording_sid?}
inline constexpr const char* recording_available = "RecordingAvailable";
// {event, widget}
inline constexpr const char* flow_event_received = "FlowEventReceived";

// Dialer. CallRequested/ExecutionRejected live in the request's stream (dial-<request_id>);
// ExecutionCreated opens the call's stream (call-<execution_sid>).
// {request_id, to, from, batch_id?}
inline constexpr const char* call_requested = "CallRequested";
// {request_id, execution_sid, to, from, batch_id?}
inline constexpr const char* execution_created = "ExecutionCreated";
// {request_id, to, code, http_status, message, batch_id?}
inline constexpr const char* execution_rejected = "ExecutionRejected";

// Batches and campaigns (batch-<id> streams).
inline constexpr const char* campaign_created = "CampaignCreated";
inline constexpr const char* call_queued = "CallQueued";
inline constexpr const char* call_deferred = "CallDeferred";
inline constexpr const char* retry_scheduled = "RetryScheduled";
inline constexpr const char* campaign_paused = "CampaignPaused";
inline constexpr const char* campaign_resumed = "CampaignResumed";
inline constexpr const char* campaign_completed = "CampaignCompleted";

}  // namespace voxlog::event_type

namespace voxlog::stream_prefix {
inline constexpr const char* call = "call-";
inline constexpr const char* dial = "dial-";
inline constexpr const char* batch = "batch-";
}  // namespace voxlog::stream_prefix
