// The domain's event types: the one list of names written to and read from the log.
//
// Contract: a published (type, v) never changes meaning; a new shape is added as v+1 and the folds
// read both. The `data` fields of each type are documented beside it.
//
// Thread-safety: constants only.
#pragma once

namespace voxlog::event_type {

// Every webhook as received, first event of its batch: {route, content_type, params (raw), call_sid?,
// execution_sid?, idempotency_token?, account? (the Twilio account whose token verified it)}. The audit
// trail's ground truth.
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
// ExecutionCreated opens the call's stream (call-<execution_sid>). A campaign's calls also carry
// campaign_id, phone (E.164) and attempt (1, 2, ...); CallRequested says dnc_checked: true once the number
// was found off the do-not-call list.
// `account` (and `region`, when it has one) name the Twilio account the call goes through; events written
// before there were several accounts have none: theirs was the default account.
// {request_id, to, from, by, account?, region?, batch_id?, campaign_id?, phone?, attempt?, dnc_checked}
inline constexpr const char* call_requested = "CallRequested";
// {request_id, execution_sid, to, from, flow_sid?, account?, region?, adopted, batch_id?, campaign_id?,
// phone?, attempt?}
inline constexpr const char* execution_created = "ExecutionCreated";
// {request_id, to, code, http_status, message, account?, region?, batch_id?, campaign_id?, phone?, attempt?}
inline constexpr const char* execution_rejected = "ExecutionRejected";
// The callee pressed 9 ("do not call me again"), in the call's stream: {digits, action, to}.
inline constexpr const char* opt_out_requested = "OptOutRequested";

// Campaigns (campaign-<id> streams; start-bulk batches are campaigns too, source "start-bulk"). The data
// of each is documented in projections/campaign_row.hpp, beside the fold that reads it. `i` names a
// contact by its index in the campaign (0-based, in import order).
inline constexpr const char* campaign_created = "CampaignCreated";
inline constexpr const char* contacts_added = "ContactsAdded";
inline constexpr const char* contacts_rejected = "ContactsRejected";
inline constexpr const char* call_queued = "CallQueued";
inline constexpr const char* call_placed = "CallPlaced";
inline constexpr const char* call_deferred = "CallDeferred";
inline constexpr const char* retry_scheduled = "RetryScheduled";
inline constexpr const char* attempt_ended = "AttemptEnded";
inline constexpr const char* contact_skipped = "ContactSkipped";
inline constexpr const char* campaign_paused = "CampaignPaused";
inline constexpr const char* campaign_resumed = "CampaignResumed";
inline constexpr const char* campaign_cancelled = "CampaignCancelled";
inline constexpr const char* campaign_completed = "CampaignCompleted";
// A start-bulk campaign has placed (or failed to place) every call: the Node app's bulkCallComplete,
// {batch_id, total, success, failed, results, errors}.
inline constexpr const char* batch_dialled = "BatchDialled";

// Contact lists (list-<id> streams): a named set of contacts imported once and called as often as wanted
// (the Node app's "call a list"). ListCreated {list_id, name, by, accepted, rejected}, then ContactsAdded in
// chunks as for a campaign; ListDeleted {by}.
inline constexpr const char* list_created = "ListCreated";
inline constexpr const char* list_deleted = "ListDeleted";

// The do-not-call list (stream "dnc"): {phone, by, source ("api", "csv")}. OptOutRequested adds too.
inline constexpr const char* dnc_added = "DncAdded";
inline constexpr const char* dnc_removed = "DncRemoved";

}  // namespace voxlog::event_type

namespace voxlog::stream_prefix {
inline constexpr const char* call = "call-";
inline constexpr const char* dial = "dial-";
inline constexpr const char* batch = "batch-";  // batches of voxlog before campaigns (read, never resumed)
inline constexpr const char* campaign = "campaign-";
inline constexpr const char* list = "list-";
inline constexpr const char* dnc = "dnc";  // the one stream of the do-not-call list
}  // namespace voxlog::stream_prefix
