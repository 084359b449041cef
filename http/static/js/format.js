// How the dashboard words and colours calls: the one place that maps Twilio statuses and our outcomes
// to labels, so the table, the cards, the chart and the timeline agree.

export const STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled'];
export const OUTCOMES = ['confirmed', 'cancelled', 'voicemail', 'no-answer', 'busy', 'failed', 'canceled', 'machine'];

const OUTCOME_LABELS = {
  confirmed: 'Confirmed',
  cancelled: 'Cancelled',
  voicemail: 'Voicemail',
  'no-answer': 'No answer',
  busy: 'Busy',
  failed: 'Failed',
  canceled: 'Hung up early',
  machine: 'Answering machine',
};

const STATUS_LABELS = {
  queued: 'Queued',
  initiated: 'Dialling',
  ringing: 'Ringing',
  'in-progress': 'In progress',
  completed: 'Completed',
  busy: 'Busy',
  'no-answer': 'No answer',
  failed: 'Failed',
  canceled: 'Canceled',
};

// The outcomes that mean "we did not reach the person", counted together on the summary card.
export const UNREACHABLE = new Set(['no-answer', 'busy', 'failed', 'canceled', 'machine']);

export function outcomeLabel(outcome) {
  return outcome ? OUTCOME_LABELS[outcome] || outcome : '';
}

export function statusLabel(status) {
  return status ? STATUS_LABELS[status] || status : 'Unknown';
}

// The CSS tone of a status or outcome: ok, bad, warn, info, live, muted.
export function tone(word) {
  switch (word) {
    case 'confirmed':
    case 'completed':
      return 'ok';
    case 'cancelled':
      return 'bad';
    case 'voicemail':
    case 'machine':
      return 'info';
    case 'busy':
    case 'no-answer':
    case 'failed':
    case 'canceled':
      return 'warn';
    case 'ringing':
    case 'in-progress':
    case 'initiated':
      return 'live';
    default:
      return 'muted';
  }
}

export function duration(seconds) {
  if (!seconds) return '';
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

// "14:03:07" today, "Mar 21, 14:03:07" on other days.
export function when(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  return localDay(d) === localDay(new Date()) ? timeFormat.format(d) : dateTimeFormat.format(d);
}

// Millisecond precision for the audit timeline: "2024-03-21 14:03:07.123" in local time.
export function preciseTime(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${localDay(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// "2024-03-21" in local time: the key of the per-day chart.
export function localDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function rowTime(row, field) {
  return row[field + 'Ms'] || Date.parse(row[field + 'At']) || 0;
}

// ---- campaigns ----

// A campaign contact's states, in the order the dashboard lists them, with their words and tones.
export const CONTACT_STATES = [
  { key: 'pending', label: 'Pending', tone: 'muted' },
  { key: 'deferred', label: 'Deferred', tone: 'warn' },
  { key: 'in_flight', label: 'In a call', tone: 'live' },
  { key: 'retry_scheduled', label: 'Retry due', tone: 'warn' },
  { key: 'confirmed', label: 'Confirmed', tone: 'ok' },
  { key: 'cancelled', label: 'Cancelled', tone: 'bad' },
  { key: 'voicemail', label: 'Voicemail', tone: 'info' },
  { key: 'opted_out', label: 'Opted out', tone: 'bad' },
  { key: 'no_outcome', label: 'No outcome', tone: 'muted' },
  { key: 'unreachable', label: 'Unreachable', tone: 'warn' },
  { key: 'skipped', label: 'Skipped', tone: 'muted' },
];

// The states a contact never leaves: what the campaign's progress counts.
export const FINAL_CONTACT_STATES = new Set(['confirmed', 'cancelled', 'voicemail', 'opted_out', 'no_outcome', 'unreachable', 'skipped']);

const CONTACT_STATE = Object.fromEntries(CONTACT_STATES.map((s) => [s.key, s]));

export function contactStateLabel(state) {
  return CONTACT_STATE[state]?.label || state || '';
}

export function contactStateTone(state) {
  return CONTACT_STATE[state]?.tone || 'muted';
}

const CAMPAIGN_TONES = { scheduled: 'info', running: 'live', paused: 'warn', cancelled: 'bad', completed: 'ok' };

export function campaignStateTone(state) {
  return CAMPAIGN_TONES[state] || 'muted';
}

export function campaignStateLabel(state) {
  return state ? state[0].toUpperCase() + state.slice(1) : '';
}

// Why a contact waits (the server's reason code), in words.
const WAIT_REASONS = {
  window: 'outside its calling window',
  in_flight: 'the number is in another call',
  twilio: 'Twilio is unavailable; trying again',
  restart: 'checked again after a restart',
  do_not_call: 'on the do-not-call list',
};

export function waitReason(reason) {
  if (!reason) return '';
  return WAIT_REASONS[reason] || reason;
}

// "in 5 min", "in 2 h 10 min", "now" for a time `ms` from `now`.
export function fromNow(ms, now = Date.now()) {
  const minutes = Math.round((ms - now) / 60000);
  if (minutes <= 0) return 'now';
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `in ${Math.round(hours / 24)} days`;
}
